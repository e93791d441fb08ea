"""The access matrix's two more callers, a suspended user and a user the owner blocked, and
where hidden images and suspended people's images must never show (and show again)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api.test_access_matrix import PASSWORD, ROWS, World, world  # noqa: F401
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status


def _admin_post(w: World, path: str) -> None:
    response = w.client.post(path, headers=w.auth["admin"], json={"reason": "a test"})
    assert response.status_code == 204, response.text


def test_a_suspended_user_is_refused_by_every_authenticated_endpoint(world: World) -> None:  # noqa: F811
    client = world.client
    suspended = register(client, "suzy", PASSWORD)
    _admin_post(world, "/api/v1/admin/users/suzy/suspend")
    for row in ROWS:
        if row.expect[0] != 401 or row.data is not None:  # not authenticated: nothing to refuse
            continue
        path = row.path(world) if callable(row.path) else row.path
        if path.startswith("/api/v1/shared/"):
            continue  # a share link's 401 asks for its password, whoever holds the link
        body = row.json(world) if callable(row.json) else row.json
        kwargs: dict[str, Any] = {"headers": suspended}
        if body is not None:
            kwargs["json"] = body
        response = client.request(row.method, path, **kwargs)
        assert response.status_code == 401, (row.name, response.text)
    login = client.post("/api/v1/auth/token", data={"username": "suzy", "password": PASSWORD})
    assert login.status_code == 403
    session = client.post("/api/v1/session", json={"username": "suzy", "password": PASSWORD})
    assert session.status_code == 403
    client.cookies.clear()


def test_a_blocked_user_cannot_follow_nor_see_the_owners_images(world: World) -> None:  # noqa: F811
    client, public_id = world.client, world.public["id"]
    blocked = register(client, "blocky", PASSWORD)
    assert client.put("/api/v1/users/alice/follow", headers=blocked).status_code == 204
    assert client.put("/api/v1/users/blocky/block", headers=world.auth["owner"]).status_code == 204
    try:
        assert client.put("/api/v1/users/alice/follow", headers=blocked).status_code == 403
        for path in (
            "/api/v1/feed?limit=100",
            "/api/v1/tags/sea/images?limit=100",
            "/api/v1/users/alice/images?limit=100",
            "/api/v1/search?q=sea&limit=100",
            "/api/v1/home?limit=100",
        ):
            response = client.get(path, headers=blocked)
            assert response.status_code == 200, path
            assert public_id not in {item["id"] for item in response.json()["items"]}, path
        assert client.get(f"/api/v1/images/{public_id}", headers=blocked).status_code == 404
        body = {"subject": "image", "id": public_id, "reason": "spam"}
        assert client.post("/api/v1/reports", headers=blocked, json=body).status_code == 404
        # everyone else still sees it
        assert public_id in {
            item["id"] for item in client.get("/api/v1/feed?limit=100").json()["items"]
        }
    finally:
        client.delete("/api/v1/users/blocky/block", headers=world.auth["owner"])


def _ids(w: World, path: str, auth: dict[str, str]) -> set[str]:
    response = w.client.get(path, headers=auth)
    assert response.status_code == 200, (path, response.text)
    return {item["id"] for item in response.json()["items"]}


PLACES: dict[str, Callable[[World, str, dict[str, str], str], bool]] = {
    "feed": lambda w, i, a, _t: i in _ids(w, "/api/v1/feed?limit=100", a),
    "home": lambda w, i, a, _t: bool(a) and i in _ids(w, "/api/v1/home?limit=100", a),
    "tag": lambda w, i, a, _t: i in _ids(w, "/api/v1/tags/moss/images?limit=100", a),
    "search": lambda w, i, a, _t: i in _ids(w, "/api/v1/search?q=moss&limit=100", a),
    "profile": lambda w, i, a, _t: i in _ids(w, "/api/v1/users/dora/images?limit=100", a),
    "image": lambda w, i, a, _t: w.client.get(f"/api/v1/images/{i}", headers=a).status_code == 200,
    "media": lambda w, _i, a, thumb: w.client.get(thumb, headers=a).status_code == 200,
}


@pytest.mark.parametrize("condition", ["hidden", "suspended"])
def test_held_images_show_to_their_owner_alone_until_released(
    world: World,  # noqa: F811
    condition: str,
) -> None:
    client = world.client
    known = client.get("/api/v1/users/dora").status_code == 200
    dora = world.login("dora") if known else register(client, "dora", PASSWORD)
    created = upload(client, dora, jpeg_bytes(120, 90), visibility="public", tags="moss")
    image = wait_for_status(client, created.json()["id"], dora)
    image_id, thumb = image["id"], urlsplit(image["variants"]["thumb"]["url"]).path
    client.put("/api/v1/users/dora/follow", headers=world.auth["other"])
    viewers = {
        "anonymous": {},
        "other": world.auth["other"],
        "admin": world.auth["admin"],
    }

    def seen(auth: dict[str, str]) -> dict[str, bool]:
        return {place: check(world, image_id, auth, thumb) for place, check in PLACES.items()}

    everywhere = {place: True for place in PLACES}
    for name, auth in viewers.items():
        assert seen(auth) == {**everywhere, "home": name == "other"}, name
    if condition == "hidden":
        _admin_post(world, f"/api/v1/admin/images/{image_id}/hide")
        owner = dora
    else:
        _admin_post(world, "/api/v1/admin/users/dora/suspend")
        owner = {}
    for name, auth in viewers.items():
        assert not any(seen(auth).values()), (name, seen(auth))
    if condition == "hidden":  # a suspended owner cannot look; a hidden image's owner can
        assert seen(owner) == {**everywhere, "feed": False, "tag": False}
        _admin_post(world, f"/api/v1/admin/images/{image_id}/unhide")
    else:
        _admin_post(world, "/api/v1/admin/users/dora/unsuspend")
    for name, auth in viewers.items():
        assert seen(auth) == {**everywhere, "home": name == "other"}, name
