"""Who may call what: every API endpoint against four callers (anonymous, another user, the
owner of what the endpoint touches, an admin), and where private images must never show."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.http.middleware.stream_closing import StreamCloser
from shutterbox.services.people import accounts
from tests.api.access_moderation import moderation_rows
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings

CALLERS = ("anonymous", "other", "owner", "admin")
PASSWORD = "correct horse"
_serial = itertools.count()


class World:
    """alice owns a public and a private image; bob is another user; boss is an admin."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        services: Any = app_state(client.app).services
        self.services = services
        self.portal: Any = client.portal  # type: ignore[attr-defined]
        self.auth = {
            "anonymous": {},
            "owner": register(client, "alice"),
            "other": register(client, "bob"),
        }
        self.portal.call(
            partial(accounts.register, services.metadata, "boss", PASSWORD, is_admin=True)
        )
        self.auth["admin"] = self.login("boss")
        self.public = self.image(visibility="public", tags="sea")
        self.private = self.image(visibility="private", tags="sea")
        ticket = client.post(
            "/api/v1/uploads",
            headers=self.auth["owner"],
            json={"filename": "a.jpg", "content_type": "image/jpeg", "size": 1000},
        )
        assert ticket.status_code == 201, ticket.text
        self.upload_id = ticket.json()["id"]

    def login(self, username: str) -> dict[str, str]:
        response = self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def image(self, **fields: str) -> dict[str, Any]:
        created = upload(self.client, self.auth["owner"], jpeg_bytes(160, 120), **fields)
        assert created.status_code == 201, created.text
        return wait_for_status(self.client, created.json()["id"], self.auth["owner"])

    def fresh(self, visibility: str = "public", *, deleted: bool = False) -> str:
        """A new image of alice's (left processing: enough for what is done to it)."""
        created = upload(self.client, self.auth["owner"], jpeg_bytes(96, 64), visibility=visibility)
        assert created.status_code == 201, created.text
        image_id = str(created.json()["id"])
        if deleted:
            gone = self.client.delete(f"/api/v1/images/{image_id}", headers=self.auth["owner"])
            assert gone.status_code == 204
        return image_id

    def comment(self, image: dict[str, Any]) -> str:
        """A new comment of alice's on one of her images: its id."""
        path = f"/api/v1/images/{image['id']}/comments"
        made = self.client.post(path, headers=self.auth["owner"], json={"text": "mine"})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    def media(self, image: dict[str, Any], name: str, *, signed: bool = False) -> str:
        url = image["original"]["url"] if name == "original" else image["variants"][name]["url"]
        return url if signed else urlsplit(url).path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = make_settings(Path(tmp_path_factory.mktemp("matrix")) / "data")
    with TestClient(create_app(settings)) as client:
        yield World(client)


@dataclass
class Row:
    name: str
    method: str
    path: Callable[[World], str] | str
    expect: tuple[int, int, int, int]  # anonymous, other, owner, admin
    json: Callable[[World], Any] | Any = None
    data: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _new_user(_world: World) -> dict[str, str]:
    return {"username": f"newcomer{next(_serial)}", "password": PASSWORD}


def _ticket(_world: World) -> dict[str, Any]:
    return {"filename": "b.jpg", "content_type": "image/jpeg", "size": 2000}


ROWS = [
    # accounts, tokens, sessions
    Row("register", "POST", "/api/v1/users", (201, 201, 201, 201), json=_new_user),
    Row(
        "token-login",
        "POST",
        "/api/v1/auth/token",
        (200, 200, 200, 200),
        data={"username": "alice", "password": PASSWORD},
    ),
    Row(
        "token-wrong-password",
        "POST",
        "/api/v1/auth/token",
        (401, 401, 401, 401),
        data={"username": "alice", "password": "wrong horse"},
    ),
    Row("token-revoke", "DELETE", "/api/v1/auth/token", (401, 204, 204, 204)),
    Row("me", "GET", "/api/v1/users/me", (401, 200, 200, 200)),
    Row(
        "session-login",
        "POST",
        "/api/v1/session",
        (200, 200, 200, 200),
        json={"username": "alice", "password": PASSWORD},
    ),
    # the session endpoints read the cookie only: a bearer token is no session
    Row("session-read", "GET", "/api/v1/session", (401, 401, 401, 401)),
    Row("session-logout", "DELETE", "/api/v1/session", (204, 204, 204, 204)),
    Row("events", "GET", "/api/v1/events", (401, 200, 200, 200)),
    # images
    Row("upload", "POST", "/api/v1/images", (401, 201, 201, 201)),
    Row("direct-start", "POST", "/api/v1/uploads", (401, 201, 201, 201), json=_ticket),
    Row(
        "direct-complete-nothing-arrived",
        "POST",
        lambda w: f"/api/v1/uploads/{w.upload_id}/complete",
        (401, 404, 409, 404),
    ),
    Row(
        "direct-data-bad-signature",
        "PUT",
        lambda w: f"/api/v1/uploads/{w.upload_id}/data?expires=9999999999&signature={'0' * 64}",
        (403, 403, 403, 403),
    ),
    Row("read-public", "GET", lambda w: f"/api/v1/images/{w.public['id']}", (200,) * 4),
    Row(
        "read-private",
        "GET",
        lambda w: f"/api/v1/images/{w.private['id']}",
        (404, 404, 200, 404),
    ),
    Row(
        "patch-public",
        "PATCH",
        lambda w: f"/api/v1/images/{w.public['id']}",
        (401, 403, 200, 403),
        json={"caption": "edited"},
    ),
    Row(
        "patch-private",
        "PATCH",
        lambda w: f"/api/v1/images/{w.private['id']}",
        (401, 404, 200, 404),
        json={"caption": "edited"},
    ),
    Row(
        "retry-public-ready",
        "POST",
        lambda w: f"/api/v1/images/{w.public['id']}/retry",
        (401, 403, 409, 403),
    ),
    Row(
        "retry-private-ready",
        "POST",
        lambda w: f"/api/v1/images/{w.private['id']}/retry",
        (401, 404, 409, 404),
    ),
    Row(
        "delete-public",
        "DELETE",
        lambda w: f"/api/v1/images/{w.fresh('public')}",
        (401, 403, 204, 403),
    ),
    Row(
        "delete-private",
        "DELETE",
        lambda w: f"/api/v1/images/{w.fresh('private')}",
        (401, 404, 204, 404),
    ),
    Row(
        "restore-trashed",
        "POST",
        lambda w: f"/api/v1/images/{w.fresh(deleted=True)}/restore",
        (401, 404, 200, 404),
    ),
    Row("trash", "GET", "/api/v1/trash", (401, 200, 200, 200)),
    # media
    Row("media-public-variant", "GET", lambda w: w.media(w.public, "thumb"), (200,) * 4),
    Row(
        "media-public-original-unsigned",
        "GET",
        lambda w: w.media(w.public, "original"),
        (404, 404, 200, 404),
    ),
    Row(
        "media-public-original-signed",
        "GET",
        lambda w: w.media(w.public, "original", signed=True),
        (200,) * 4,
    ),
    Row(
        "media-private-variant-unsigned",
        "GET",
        lambda w: w.media(w.private, "thumb"),
        (404, 404, 200, 404),
    ),
    Row(
        "media-private-variant-signed",
        "GET",
        lambda w: w.media(w.private, "thumb", signed=True),
        (200,) * 4,
    ),
    Row(
        "media-private-original-unsigned",
        "GET",
        lambda w: w.media(w.private, "original"),
        (404, 404, 200, 404),
    ),
    # feeds and people
    Row("feed", "GET", "/api/v1/feed", (200,) * 4),
    Row("tag", "GET", "/api/v1/tags/sea/images", (200,) * 4),
    Row("user-images", "GET", "/api/v1/users/alice/images", (200,) * 4),
    Row("profile", "GET", "/api/v1/users/alice", (200,) * 4),
    Row("followers", "GET", "/api/v1/users/alice/followers", (200,) * 4),
    Row("following", "GET", "/api/v1/users/alice/following", (200,) * 4),
    # following oneself is refused; the owner here is alice herself
    Row("follow", "PUT", "/api/v1/users/alice/follow", (401, 204, 422, 204)),
    Row("unfollow", "DELETE", "/api/v1/users/alice/follow", (401, 204, 204, 204)),
    Row("home", "GET", "/api/v1/home", (401, 200, 200, 200)),
    Row("search", "GET", "/api/v1/search?q=sea", (200,) * 4),
    Row("search-empty", "GET", "/api/v1/search?q=%20", (422,) * 4),
    # likes, comments and notifications
    Row(
        "like-public", "PUT", lambda w: f"/api/v1/images/{w.public['id']}/like", (401,) + (200,) * 3
    ),
    Row(
        "unlike-public",
        "DELETE",
        lambda w: f"/api/v1/images/{w.public['id']}/like",
        (401,) + (200,) * 3,
    ),
    Row(
        "like-private",
        "PUT",
        lambda w: f"/api/v1/images/{w.private['id']}/like",
        (401, 404, 200, 404),
    ),
    Row(
        "unlike-private",
        "DELETE",
        lambda w: f"/api/v1/images/{w.private['id']}/like",
        (401, 404, 200, 404),
    ),
    Row(
        "comment-public",
        "POST",
        lambda w: f"/api/v1/images/{w.public['id']}/comments",
        (401, 201, 201, 201),
        json={"text": "nice"},
    ),
    Row(
        "comment-private",
        "POST",
        lambda w: f"/api/v1/images/{w.private['id']}/comments",
        (401, 404, 201, 404),
        json={"text": "nice"},
    ),
    Row(
        "comments-public", "GET", lambda w: f"/api/v1/images/{w.public['id']}/comments", (200,) * 4
    ),
    Row(
        "comments-private",
        "GET",
        lambda w: f"/api/v1/images/{w.private['id']}/comments",
        (404, 404, 200, 404),
    ),
    # alice's own comment on her image: others may not delete it, an admin may
    Row(
        "delete-comment-public",
        "DELETE",
        lambda w: f"/api/v1/comments/{w.comment(w.public)}",
        (401, 403, 204, 204),
    ),
    Row(
        "delete-comment-private",
        "DELETE",
        lambda w: f"/api/v1/comments/{w.comment(w.private)}",
        (401, 404, 204, 404),
    ),
    Row("notifications", "GET", "/api/v1/notifications", (401, 200, 200, 200)),
    Row("notifications-unread", "GET", "/api/v1/notifications/unread-count", (401, 200, 200, 200)),
    Row("notifications-read", "POST", "/api/v1/notifications/read", (401, 204, 204, 204)),
    # cost and admin
    Row("cost-estimate", "GET", "/api/v1/cost/estimate", (200,) * 4),
    Row("admin-bill", "GET", "/api/v1/admin/bill", (401, 403, 403, 200)),
    Row(
        "admin-egress",
        "POST",
        "/api/v1/admin/egress",
        (401, 403, 403, 200),
        json={"bytes": 0, "requests": 0},
    ),
]


# --- albums and share links: alice's, made once per world and kept on it --------------------


def _album(world: World, name: str, visibility: str = "public", *, fresh: bool = False) -> str:
    """One of alice's albums; ``public``/``private`` hold her public and private image."""
    kept: dict[str, str] = world.__dict__.setdefault("albums", {})
    if name in kept and not fresh:
        return kept[name]
    owner = world.auth["owner"]
    made = world.client.post(
        "/api/v1/albums", headers=owner, json={"title": name, "visibility": visibility}
    )
    assert made.status_code == 201, made.text
    album_id = str(made.json()["id"])
    for image in (world.public, world.private):
        added = world.client.put(f"/api/v1/albums/{album_id}/images/{image['id']}", headers=owner)
        assert added.status_code == 204
    kept[name] = album_id
    return album_id


def _link(world: World, name: str, *, fresh: bool = False, **fields: Any) -> dict[str, Any]:
    """One of alice's share links (of her public album unless ``fields`` say otherwise)."""
    kept: dict[str, dict[str, Any]] = world.__dict__.setdefault("links", {})
    if name in kept and not fresh:
        return kept[name]
    body = fields or {"album_id": _album(world, "public")}
    made = world.client.post("/api/v1/shares", headers=world.auth["owner"], json=body)
    assert made.status_code == 201, made.text
    kept[name] = made.json()
    return kept[name]


def _revoked(world: World) -> dict[str, Any]:
    link = _link(world, "revoked", image_id=world.private["id"])
    world.client.delete(f"/api/v1/shares/{link['id']}", headers=world.auth["owner"])
    return link


def _shared_media(world: World, link: dict[str, Any]) -> str:
    """The private image's thumbnail URL as the link hands it out (read before revoking)."""
    kept: dict[str, str] = world.__dict__.setdefault("shared_media", {})
    if link["id"] not in kept:
        body = world.client.get(f"/api/v1/shared/{link['token']}").json()
        url = urlsplit(body["image"]["variants"]["thumb"]["url"])
        kept[link["id"]] = f"{url.path}?{url.query}"
    return kept[link["id"]]


def _revoked_media(world: World) -> str:
    link = _link(world, "to-revoke", image_id=world.private["id"])
    url = _shared_media(world, link)
    world.client.delete(f"/api/v1/shares/{link['id']}", headers=world.auth["owner"])
    return url


def _pub(world: World) -> str:
    return f"/api/v1/albums/{_album(world, 'public')}"


def _priv(world: World) -> str:
    return f"/api/v1/albums/{_album(world, 'private', 'private')}"


ALBUM_ROWS = [
    Row("album-create", "POST", "/api/v1/albums", (401, 201, 201, 201), json={"title": "x"}),
    Row("album-read-public", "GET", _pub, (200,) * 4),
    Row("album-read-private", "GET", _priv, (404, 404, 200, 404)),
    Row("album-patch-public", "PATCH", _pub, (401, 403, 200, 403), json={"description": "d"}),
    Row("album-patch-private", "PATCH", _priv, (401, 404, 200, 404), json={"description": "d"}),
    Row(
        "album-delete-public",
        "DELETE",
        lambda w: f"/api/v1/albums/{_album(w, 'gone', fresh=True)}",
        (401, 403, 204, 403),
    ),
    Row(
        "album-delete-private",
        "DELETE",
        lambda w: f"/api/v1/albums/{_album(w, 'gone', 'private', fresh=True)}",
        (401, 404, 204, 404),
    ),
    Row("user-albums", "GET", "/api/v1/users/alice/albums", (200,) * 4),
    Row(
        "album-add-image",
        "PUT",
        lambda w: f"{_pub(w)}/images/{w.public['id']}",
        (401, 403, 204, 403),
    ),
    Row(
        "album-add-image-private-album",
        "PUT",
        lambda w: f"{_priv(w)}/images/{w.public['id']}",
        (401, 404, 204, 404),
    ),
    Row(
        "album-remove-image",
        "DELETE",
        lambda w: f"/api/v1/albums/{_album(w, 'scratch')}/images/{w.public['id']}",
        (401, 403, 204, 403),
    ),
    Row(
        "album-order",
        "PUT",
        lambda w: f"{_pub(w)}/order",
        (401, 403, 204, 403),
        json=lambda w: {"move": w.public["id"]},
    ),
    Row("album-images", "GET", lambda w: f"{_pub(w)}/images", (200,) * 4),
    Row("album-images-private-album", "GET", lambda w: f"{_priv(w)}/images", (404, 404, 200, 404)),
    Row(
        "share-album",
        "POST",
        "/api/v1/shares",
        (401, 403, 201, 403),
        json=lambda w: {"album_id": _album(w, "public")},
    ),
    Row(
        "share-private-image",
        "POST",
        "/api/v1/shares",
        (401, 404, 201, 404),
        json=lambda w: {"image_id": w.private["id"]},
    ),
    Row("shares-list", "GET", "/api/v1/shares", (401, 200, 200, 200)),
    Row(
        "share-revoke",
        "DELETE",
        lambda w: f"/api/v1/shares/{_link(w, 'revoke-me', fresh=True)['id']}",
        (401, 404, 204, 404),
    ),
    Row("shared-read", "GET", lambda w: f"/api/v1/shared/{_link(w, 'album')['token']}", (200,) * 4),
    Row(
        "shared-unlock-wrong",
        "POST",
        lambda w: (
            f"/api/v1/shared/{_link(w, 'pw', image_id=w.public['id'], password='pw')['token']}"
            "/unlock"
        ),
        (403,) * 4,
        json={"password": "not it"},
    ),
    Row("shared-locked", "GET", lambda w: f"/api/v1/shared/{_link(w, 'pw')['token']}", (401,) * 4),
    Row("shared-revoked", "GET", lambda w: f"/api/v1/shared/{_revoked(w)['token']}", (410,) * 4),
    Row(
        "shared-media-private",
        "GET",
        lambda w: _shared_media(w, _link(w, "image", image_id=w.private["id"])),
        (200,) * 4,
    ),
    Row("shared-media-revoked", "GET", _revoked_media, (410,) * 4),
    Row("shared-page", "GET", lambda w: _link(w, "album")["url"], (200,) * 4),
    Row("shared-page-revoked", "GET", lambda w: _revoked(w)["url"], (410,) * 4),
]
ROWS += ALBUM_ROWS
ROWS += moderation_rows(Row)

CASES = [
    pytest.param(row, caller, expected, id=f"{row.name}-{caller}")
    for row in ROWS
    for caller, expected in zip(CALLERS, row.expect, strict=True)
]


def _call(world: World, row: Row, caller: str) -> Any:
    headers = dict(world.auth[caller])
    if row.name == "token-revoke" and caller != "anonymous":
        # a token of its own to revoke, so that the caller's usual one keeps working
        name = {"owner": "alice", "other": "bob", "admin": "boss"}[caller]
        headers = world.login(name)
    path = row.path(world) if callable(row.path) else row.path
    body = row.json(world) if callable(row.json) else row.json
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    if row.data is not None:
        kwargs["data"] = row.data
    if row.name == "upload":
        kwargs["files"] = {"file": ("p.jpg", jpeg_bytes(64, 48), "image/jpeg")}
    try:
        if row.name == "events":
            # a stream that ends at once: only the answer to the credentials is of interest
            state = app_state(world.client.app)
            saved = state.stream_closer
            closed = StreamCloser()
            closed.closing.set()
            state.stream_closer = closed
            try:
                return world.client.request(row.method, path, **kwargs)
            finally:
                state.stream_closer = saved
        return world.client.request(row.method, path, **kwargs)
    finally:
        world.client.cookies.clear()  # a login row must not make later callers logged in


@pytest.mark.parametrize(("row", "caller", "expected"), CASES)
def test_access(world: World, row: Row, caller: str, expected: int) -> None:
    response = _call(world, row, caller)
    assert response.status_code == expected, f"{row.method} {row.name}: {response.text[:300]}"
    assert response.status_code < 500
    if response.status_code == 401:
        assert response.headers.get("content-type", "").startswith("application/json")


def test_an_invalid_bearer_token_is_refused_even_where_anonymous_is_welcome(world: World) -> None:
    bad = {"Authorization": "Bearer not-a-token"}
    for path in ("/api/v1/feed", f"/api/v1/images/{world.public['id']}", "/api/v1/users/alice"):
        response = world.client.get(path, headers=bad)
        assert response.status_code == 401, path
        assert response.json()["code"] == "unauthorized"


# --- private images stay private ------------------------------------------------------------


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_private_images_are_absent_from_every_listing_of_others(world: World) -> None:
    client, private_id, public_id = world.client, world.private["id"], world.public["id"]
    bob = world.auth["other"]
    assert client.put("/api/v1/users/alice/follow", headers=bob).status_code == 204
    for caller in ("anonymous", "other", "admin"):
        headers = world.auth[caller]
        for path in ("/api/v1/feed?limit=100", "/api/v1/tags/sea/images?limit=100"):
            ids = _ids(client.get(path, headers=headers))
            assert private_id not in ids and public_id in ids, (caller, path)
        ids = _ids(client.get("/api/v1/users/alice/images?limit=100", headers=headers))
        assert private_id not in ids and public_id in ids, caller
    home = _ids(client.get("/api/v1/home?limit=100", headers=bob))
    assert public_id in home and private_id not in home
    # the profile's count differs between alice and the others by her private images
    counted = {
        caller: client.get("/api/v1/users/alice", headers=world.auth[caller]).json()["images"]
        for caller in CALLERS
    }
    private_ready = sum(
        1
        for item in client.get(
            "/api/v1/users/alice/images?limit=100", headers=world.auth["owner"]
        ).json()["items"]
        if item["visibility"] == "private" and item["status"] == "ready"
    )
    assert private_ready >= 1
    assert counted["anonymous"] == counted["other"] == counted["admin"]
    assert counted["owner"] == counted["other"] + private_ready
    # the owner sees her private image everywhere that is hers
    assert private_id in _ids(
        client.get("/api/v1/users/alice/images?limit=100", headers=world.auth["owner"])
    )
    assert private_id in _ids(client.get("/api/v1/home?limit=100", headers=world.auth["owner"]))


def test_search_finds_a_private_image_for_its_owner_alone(world: World) -> None:
    private_id, public_id = world.private["id"], world.public["id"]
    for caller in CALLERS:
        ids = _ids(world.client.get("/api/v1/search?q=sea&limit=100", headers=world.auth[caller]))
        assert public_id in ids, caller
        assert (private_id in ids) == (caller == "owner"), caller


def test_public_media_are_cached_publicly_and_private_media_never(world: World) -> None:
    client = world.client
    public = client.get(world.media(world.public, "thumb"))
    assert public.status_code == 200
    assert "public" in public.headers["cache-control"]
    assert "immutable" in public.headers["cache-control"]
    private_answers = [
        client.get(world.media(world.private, "thumb"), headers=world.auth["owner"]),
        client.get(world.media(world.private, "thumb", signed=True)),
        client.get(world.media(world.private, "original"), headers=world.auth["owner"]),
        client.get(world.media(world.public, "original"), headers=world.auth["owner"]),
        client.get(world.media(world.public, "original", signed=True)),
    ]
    for response in private_answers:
        assert response.status_code == 200
        assert "public" not in response.headers["cache-control"], response.url
        assert "immutable" not in response.headers["cache-control"], response.url
    for caller in ("anonymous", "other", "admin"):
        refused = client.get(world.media(world.private, "thumb"), headers=world.auth[caller])
        assert refused.status_code == 404
        assert "public" not in refused.headers.get("cache-control", "")


# --- revoked tokens -------------------------------------------------------------------------


def test_a_revoked_bearer_token_gets_401(world: World) -> None:
    client = world.client
    token = world.login("alice")
    assert client.get("/api/v1/users/me", headers=token).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=token).status_code == 204
    for method, path in (("GET", "/api/v1/users/me"), ("GET", "/api/v1/feed")):
        response = client.request(method, path, headers=token)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.delete("/api/v1/auth/token", headers=token).status_code == 401
    assert client.get("/api/v1/users/me", headers=world.auth["owner"]).status_code == 200


def test_logging_out_revokes_the_session_token(world: World) -> None:
    client = world.client
    login = client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
    assert login.status_code == 200
    cookie = client.cookies.get("shutterbox_session")
    assert cookie
    csrf = login.json()["csrf_token"]
    as_bearer = {"Authorization": f"Bearer {cookie}"}
    assert client.get("/api/v1/users/me", headers=as_bearer).status_code == 200
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/users/me", headers=as_bearer).status_code == 401
    client.cookies.set("shutterbox_session", cookie)
    try:
        assert client.get("/api/v1/session").status_code == 401
        assert client.get("/api/v1/users/me").status_code == 401  # the old cookie: anonymous
    finally:
        client.cookies.clear()


# --- albums and share links never show private content to anyone not allowed ---------------


def test_private_images_never_show_through_albums_or_links_of_anyone_not_allowed(
    world: World,
) -> None:
    client, private_id, public_id = world.client, world.private["id"], world.public["id"]
    public_album, private_album = _album(world, "public"), _album(world, "private", "private")
    bob = world.auth["other"]
    bobs = client.post("/api/v1/albums", headers=bob, json={"title": "bob's"}).json()["id"]
    for image_id in (private_id, public_id):  # nobody puts alice's images in their album
        answer = client.put(f"/api/v1/albums/{bobs}/images/{image_id}", headers=bob)
        assert answer.status_code == 404
    cover = client.patch(
        f"/api/v1/albums/{public_album}",
        headers=world.auth["owner"],
        json={"cover_image_id": private_id},
    )
    assert cover.status_code == 200
    for caller in ("anonymous", "other", "admin"):
        headers = world.auth[caller]
        shown = _ids(client.get(f"/api/v1/albums/{public_album}/images?limit=100", headers=headers))
        assert private_id not in shown and public_id in shown, caller
        album = client.get(f"/api/v1/albums/{public_album}", headers=headers).json()
        assert album["cover"] is None, caller
        listed = client.get("/api/v1/users/alice/albums?limit=100", headers=headers).json()
        assert private_album not in {a["id"] for a in listed["items"]}, caller
        assert private_id not in str(listed), caller
        page = client.get(f"/albums/{public_album}", headers=headers)
        assert page.status_code == 200 and private_id not in page.text, caller
        assert client.get(f"/albums/{private_album}", headers=headers).status_code == 404
        shared = client.get(f"/api/v1/shared/{_link(world, 'album')['token']}", headers=headers)
        assert shared.json()["images"] is not None
        assert all(i["original"] is None for i in shared.json()["images"]), caller
    owner = _ids(
        client.get(f"/api/v1/albums/{public_album}/images?limit=100", headers=world.auth["owner"])
    )
    assert private_id in owner
    # a revoked link shows nothing, and the media it handed out stop working
    media = _revoked_media(world)
    for caller in CALLERS:
        assert client.get(media, headers=world.auth[caller]).status_code in (403, 404, 410)
        revoked = client.get(
            f"/api/v1/shared/{_revoked(world)['token']}", headers=world.auth[caller]
        )
        assert revoked.status_code == 410 and private_id not in revoked.text
