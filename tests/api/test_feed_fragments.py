"""The feeds' next pages as HTML fragments (``/fragments`` + the API listing's path): the
same cards as the pages render, the same order and cursors as the JSON API, and the page
headers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status

CARD_ID = re.compile(r'data-testid="card" data-image-id="([^"]+)"')


def _upload_ready(client: TestClient, auth: dict, **fields: str) -> str:
    image_id = upload(client, auth, jpeg_bytes(200, 150), **fields).json()["id"]
    assert wait_for_status(client, image_id, auth)["status"] == "ready"
    return image_id


def _all_fragments(client: TestClient, url: str, limit: int) -> tuple[list[str], int]:
    ids: list[str] = []
    pages = 0
    cursor = None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, params=params)
        assert response.status_code == 200, response.text
        ids.extend(CARD_ID.findall(response.text))
        pages += 1
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            return ids, pages


def test_the_public_feed_pages_as_cards_in_the_apis_order(client: TestClient):
    auth = register(client, "alice")
    ids = [_upload_ready(client, auth, caption=f"photo {i}", tags="sea") for i in range(5)]
    _upload_ready(client, auth, visibility="private")
    fragment_ids, pages = _all_fragments(client, "/fragments/api/v1/feed", limit=2)
    assert fragment_ids == list(reversed(ids))  # each once, newest first
    assert pages == 3
    first_json = client.get("/api/v1/feed", params={"limit": 2}).json()
    first = client.get("/fragments/api/v1/feed", params={"limit": 2})
    assert first.headers["x-next-cursor"] == first_json["next_cursor"]
    assert first.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in first.headers["content-security-policy"]
    assert first.headers["x-content-type-options"] == "nosniff"
    assert "<html" not in first.text and "<body" not in first.text  # the cards only
    assert first.text.count('data-testid="card"') == 2
    assert first.text.count('loading="lazy"') == 2  # never the first cards in view
    assert 'data-testid="card-caption">photo 4<' in first.text
    assert 'href="/tags/sea"' in first.text


def test_the_cards_are_the_same_markup_as_the_pages(client: TestClient):
    auth = register(client, "alice")
    image_id = _upload_ready(client, auth, caption="harbour")
    page = client.get("/users/alice")
    fragment = client.get("/fragments/api/v1/users/alice/images")
    assert fragment.status_code == 200 and "x-next-cursor" not in fragment.headers

    def card(html: str) -> str:
        found = re.search(r'<article class="card".*?</article>', html, re.S)
        assert found is not None
        return re.sub(r"\s+", " ", found.group(0)).replace('loading="eager"', 'loading="lazy"')

    assert card(fragment.text) == card(page.text)
    assert image_id in fragment.text


def test_each_feed_has_its_fragments(client: TestClient):
    alice = register(client, "alice")
    bob = register(client, "bob")
    mine = _upload_ready(client, alice, tags="harbour")
    theirs = _upload_ready(client, bob)
    assert client.put("/api/v1/users/bob/follow", headers=alice).status_code == 204

    profile = client.get("/fragments/api/v1/users/Bob/images")
    assert CARD_ID.findall(profile.text) == [theirs]
    tag = client.get("/fragments/api/v1/tags/harbour/images")
    assert CARD_ID.findall(tag.text) == [mine]
    assert CARD_ID.findall(client.get("/fragments/api/v1/tags/Harbour/images").text) == [mine]

    anonymous_home = client.get("/fragments/api/v1/home")
    assert anonymous_home.status_code == 401
    logged_in = client.post(
        "/api/v1/session", json={"username": "alice", "password": "correct horse"}
    )
    assert logged_in.status_code == 200
    home, pages = _all_fragments(client, "/fragments/api/v1/home", limit=1)
    assert home == [theirs, mine] and pages == 2


def test_a_bad_cursor_or_nobody_is_refused(client: TestClient):
    register(client, "alice")
    assert client.get("/fragments/api/v1/feed", params={"cursor": "nope"}).status_code == 400
    assert client.get("/fragments/api/v1/feed", params={"cursor": "x" * 201}).status_code == 400
    assert client.get("/fragments/api/v1/users/nobody/images").status_code == 404
    assert client.get("/fragments/api/v1/tags/%20/images").status_code == 404
    assert "/fragments/api/v1/feed" not in client.get("/openapi.json").json()["paths"]


def test_the_modules_a_script_imports_are_revalidated_on_every_use(client: TestClient):
    """The page scripts import ``./lib/api.js`` without a fingerprint: a new ``feed.js`` must
    never run beside an old cached copy of what it imports."""
    page = client.get("/")
    feed_js = re.search(r'<script type="module" src="(/static/feed\.js\?v=[0-9a-f]+)"', page.text)
    assert feed_js is not None
    assert client.get(feed_js.group(1)).headers["cache-control"].endswith("immutable")
    imported = client.get("/static/lib/api.js")
    assert imported.status_code == 200 and "export function apiFetch" in imported.text
    assert imported.headers["cache-control"] == "public, no-cache"
    assert client.get("/static/lab/chart.js").headers["cache-control"] == "public, no-cache"
    assert "no-cache" not in client.get("/static/app.css").headers["cache-control"]
