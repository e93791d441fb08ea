"""GET /api/v1/search: ranked, paged, private to whom it belongs, right after every change,
and never a 500 whatever is typed."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shutterbox.domain.search import MAX_QUERY_CHARS, MAX_TERMS
from tests.contract.test_search import HOSTILE
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status

_sizes = itertools.count(40)


def _ready(client: TestClient, auth: dict[str, str], **fields: str) -> str:
    width = next(_sizes)  # other bytes each time: never a duplicate
    created = upload(client, auth, jpeg_bytes(width, 30), **fields)
    assert created.status_code == 201, created.text
    image = wait_for_status(client, created.json()["id"], auth)
    assert image["status"] == "ready", image
    return str(image["id"])


def _search(
    client: TestClient, q: str, auth: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    response = client.get("/api/v1/search", params={"q": q, **params}, headers=auth or {})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _ids(client: TestClient, q: str, auth: dict[str, str] | None = None) -> list[str]:
    return [item["id"] for item in _search(client, q, auth, limit=100)["items"]]


def test_hits_come_best_first_in_the_feeds_shape_with_people(client: TestClient):
    alice = register(client, "alice")
    register(client, "alicia")
    in_caption = _ready(client, alice, caption="Harbour at dusk")
    tagged = _ready(client, alice, tags="harbour,boats")
    in_place = _ready(client, alice, location="Harbour Street")
    other = _ready(client, alice, caption="nothing to see")
    found = _search(client, "harbour")
    assert [item["id"] for item in found["items"]] == [tagged, in_caption, in_place]
    feed_item = client.get("/api/v1/feed", params={"limit": 1}).json()["items"][0]
    assert set(found["items"][0]) == set(feed_item)  # the feed's JSON, variants and all
    assert found["users"] == [] and found["next_cursor"] is None
    people = _search(client, "ali")
    assert people["users"] == [{"username": "alice"}, {"username": "alicia"}]
    # and alice's images, by her username: all four, equal in score, newest first
    assert [item["id"] for item in people["items"]] == [other, in_place, tagged, in_caption]
    # as one types: the last word is the start of a word
    assert _ids(client, "harbour bo") == [tagged]
    assert _ids(client, "Harbour, at DUSK!") == [in_caption]


def test_pages_have_no_repeats_or_gaps_and_a_cursor_belongs_to_its_query(client: TestClient):
    alice = register(client, "alice")
    made = {
        _ready(client, alice, caption=f"pier {n}", tags="pier" if n % 2 else "") for n in range(7)
    }
    seen: list[str] = []
    cursor = None
    while True:
        page = _search(client, "pier", limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2
        assert page["users"] == []  # people on the first page only... and none is called pier
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        last = cursor
    assert len(seen) == len(set(seen)) == 7 and set(seen) == made
    assert seen == _ids(client, "pier")
    other = client.get("/api/v1/search", params={"q": "dock", "cursor": last})
    assert other.status_code == 422 and "another search" in other.json()["detail"]
    for bad in ("garbage", "e30", "W10"):
        answer = client.get("/api/v1/search", params={"q": "pier", "cursor": bad})
        assert answer.status_code == 422, bad


def test_private_images_are_found_by_their_owner_alone(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    public = _ready(client, alice, caption="lighthouse")
    private = _ready(client, alice, caption="lighthouse", visibility="private")
    assert _ids(client, "lighthouse") == [public]
    assert _ids(client, "lighthouse", bob) == [public]
    assert _ids(client, "lighthouse", alice) == [private, public]


def test_a_change_to_an_image_shows_in_the_next_search(client: TestClient):
    alice = register(client, "alice")
    image_id = _ready(client, alice, caption="old pier", tags="wood")
    edited = client.patch(
        f"/api/v1/images/{image_id}", headers=alice, json={"caption": "new jetty", "tags": "stone"}
    )
    assert edited.status_code == 200, edited.text
    assert _ids(client, "old") == [] and _ids(client, "wood") == []
    assert _ids(client, "jetty") == [image_id] and _ids(client, "stone") == [image_id]
    hidden = client.patch(
        f"/api/v1/images/{image_id}", headers=alice, json={"visibility": "private"}
    )
    assert hidden.status_code == 200
    assert _ids(client, "jetty") == [] and _ids(client, "jetty", alice) == [image_id]
    assert client.delete(f"/api/v1/images/{image_id}", headers=alice).status_code == 204
    assert _ids(client, "jetty", alice) == []
    restored = client.post(f"/api/v1/images/{image_id}/restore", headers=alice)
    assert restored.status_code == 200
    assert _ids(client, "jetty", alice) == [image_id]


def test_a_deleted_account_is_found_no_more(client: TestClient):
    carol = register(client, "carol")
    _ready(client, carol, caption="volcano")
    assert _search(client, "carol")["users"] == [{"username": "carol"}]
    gone = client.request(
        "DELETE", "/api/v1/users/me", headers=carol, json={"password": "correct horse"}
    )
    assert gone.status_code in (202, 204), gone.text
    assert _ids(client, "volcano") == []
    assert _search(client, "carol")["users"] == []


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "at least one word"),
        ("   ", "at least one word"),
        ("*** ::: ---", "at least one word"),
        ("x" * (MAX_QUERY_CHARS + 1), ""),
        (" ".join(f"w{n}" for n in range(MAX_TERMS + 1)), "at most"),
        ("a" * 65, "at most 64"),
    ],
)
def test_a_query_with_nothing_or_too_much_to_search_for_is_refused(
    client: TestClient, q: str, message: str
):
    answer = client.get("/api/v1/search", params={"q": q})
    assert answer.status_code == 422, answer.text
    assert message in answer.text
    assert client.get("/api/v1/search").status_code == 422  # no q at all


@pytest.mark.parametrize("q", [*HOSTILE, "' OR 1=1 --", "%", "a\tb\nc", "\ufffd", "Robert'); DROP"])
def test_hostile_queries_never_fail(client: TestClient, q: str):
    answer = client.get("/api/v1/search", params={"q": q})
    assert answer.status_code in (200, 422), answer.text


def test_a_hit_says_whether_the_viewer_likes_it(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    liked, other = (
        _ready(client, alice, caption="lighthouse"),
        _ready(client, alice, caption="lighthouse"),
    )
    assert client.put(f"/api/v1/images/{liked}/like", headers=bob).status_code == 200
    hits = {i["id"]: i for i in _search(client, "lighthouse", bob)["items"]}
    assert hits[liked]["liked_by_me"] is True and hits[liked]["likes"] == 1
    assert hits[other]["liked_by_me"] is False
    anonymous = {i["id"]: i for i in _search(client, "lighthouse")["items"]}
    assert anonymous[liked]["liked_by_me"] is False and anonymous[liked]["likes"] == 1
