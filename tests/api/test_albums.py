"""Albums through the API: making, reading, changing and deleting them, their images (only
one's own, in order, each caller seeing only what they may), and what deleting an image or an
account does to them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status


def _ready(client: TestClient, auth: dict[str, str], **fields: str) -> str:
    created = upload(client, auth, jpeg_bytes(120, 90), **fields)
    assert created.status_code == 201, created.text
    image = wait_for_status(client, created.json()["id"], auth)
    assert image["status"] == "ready", image
    return str(image["id"])


def _album(client: TestClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    created = client.post("/api/v1/albums", headers=auth, json={"title": "Sea", **fields})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/api/v1/albums/{created.json()['id']}"
    return dict(created.json())


def _ids(client: TestClient, path: str, auth: dict[str, str] | None = None) -> list[str]:
    found: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=params, headers=auth or {})
        assert response.status_code == 200, response.text
        found += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return found


def test_an_album_is_made_read_changed_and_deleted(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    album = _album(client, alice, description="summer", visibility="public")
    assert album["title"] == "Sea" and album["owner"] == "alice" and album["cover"] is None
    path = f"/api/v1/albums/{album['id']}"
    assert client.get(path).json()["description"] == "summer"
    for bad in ({"title": ""}, {"title": "x" * 201}, {"visibility": "friends"}, {}):
        response = client.post("/api/v1/albums", headers=alice, json=bad)
        assert response.status_code == 422, bad
        assert response.json()["code"] == "invalid_input"
    assert client.post("/api/v1/albums", headers=alice, json={"title": "   "}).status_code == 422
    assert client.post("/api/v1/albums", json={"title": "x"}).status_code == 401
    changed = client.patch(path, headers=alice, json={"title": "Sea 2024", "visibility": "private"})
    assert changed.status_code == 200 and changed.json()["title"] == "Sea 2024"
    assert client.get(path).status_code == 404  # private: not there for anyone else
    assert client.get(path, headers=bob).status_code == 404
    assert client.patch(path, headers=bob, json={"title": "mine"}).status_code == 404
    assert client.patch(path, headers=alice, json={"visibility": "public"}).status_code == 200
    assert client.patch(path, headers=bob, json={"title": "mine"}).status_code == 403
    assert client.delete(path, headers=bob).status_code == 403
    assert client.patch(path, headers=alice, json={"title": ""}).status_code == 422
    image_id = _ready(client, alice)
    assert client.put(f"{path}/images/{image_id}", headers=alice).status_code == 204
    assert client.delete(path, headers=alice).status_code == 204
    assert client.get(path, headers=alice).status_code == 404
    assert client.get(f"/api/v1/images/{image_id}").status_code == 200  # the image stays


def test_only_ones_own_images_go_in_and_each_caller_sees_what_they_may(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    public_1 = _ready(client, alice)
    private = _ready(client, alice, visibility="private")
    public_2 = _ready(client, alice)
    bobs = _ready(client, bob)
    album = _album(client, alice)
    path = f"/api/v1/albums/{album['id']}"
    for image_id in (public_1, private, public_2, public_1):  # again: no change
        assert client.put(f"{path}/images/{image_id}", headers=alice).status_code == 204
    assert client.put(f"{path}/images/{bobs}", headers=alice).status_code == 404
    assert client.put(f"{path}/images/nothing", headers=alice).status_code == 404
    assert client.put(f"{path}/images/{public_1}", headers=bob).status_code == 403
    assert client.put(f"{path}/images/{public_1}").status_code == 401
    bobs_album = _album(client, bob)
    bobs_path = f"/api/v1/albums/{bobs_album['id']}"
    for image_id in (public_1, private):  # alice's images in bob's album: never
        assert client.put(f"{bobs_path}/images/{image_id}", headers=bob).status_code == 404
    assert _ids(client, f"{path}/images", alice) == [public_1, private, public_2]
    for caller in (None, bob):
        assert _ids(client, f"{path}/images", caller) == [public_1, public_2]
    # the cover: one of the album's images, seen only by who may see it
    assert client.patch(path, headers=alice, json={"cover_image_id": bobs}).status_code == 422
    cover = client.patch(path, headers=alice, json={"cover_image_id": private})
    assert cover.status_code == 200 and cover.json()["cover"]["id"] == private
    assert client.get(path, headers=bob).json()["cover"] is None
    listed = client.get("/api/v1/users/alice/albums", headers=bob).json()["items"]
    assert [a["cover"] for a in listed] == [None]
    assert client.patch(path, headers=alice, json={"cover_image_id": None}).json()["cover"] is None
    # deleting an image takes it out of every album at once; restoring brings it back
    assert client.delete(f"/api/v1/images/{public_1}", headers=alice).status_code == 204
    assert _ids(client, f"{path}/images", alice) == [private, public_2]
    assert _ids(client, f"{path}/images") == [public_2]
    assert client.post(f"/api/v1/images/{public_1}/restore", headers=alice).status_code == 200
    assert _ids(client, f"{path}/images") == [public_1, public_2]
    # taking one out leaves the image as it was
    assert client.delete(f"{path}/images/{public_2}", headers=alice).status_code == 204
    assert client.delete(f"{path}/images/{public_2}", headers=alice).status_code == 204
    assert client.delete(f"{path}/images/{public_1}", headers=bob).status_code == 403
    assert _ids(client, f"{path}/images") == [public_1]
    assert client.get(f"/api/v1/images/{public_2}").status_code == 200


def test_ordering_an_album(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    images = [_ready(client, alice) for _ in range(4)]
    a, b, c, d = images
    path = f"/api/v1/albums/{_album(client, alice)['id']}"
    for image_id in images:
        client.put(f"{path}/images/{image_id}", headers=alice)
    order = f"{path}/order"
    assert client.put(order, headers=alice, json={"move": d, "before": a}).status_code == 204
    assert _ids(client, f"{path}/images", alice) == [d, a, b, c]
    assert client.put(order, headers=alice, json={"move": d}).status_code == 204  # to the end
    assert _ids(client, f"{path}/images", alice) == [a, b, c, d]
    for _ in range(30):  # the same gap halved again and again: renumbered when it runs out
        assert client.put(order, headers=alice, json={"move": c, "before": b}).status_code == 204
        assert client.put(order, headers=alice, json={"move": b, "before": c}).status_code == 204
    assert _ids(client, f"{path}/images", alice) == [a, b, c, d]
    whole = {"image_ids": [c, a, d, b]}
    assert client.put(order, headers=alice, json=whole).status_code == 204
    assert _ids(client, f"{path}/images", alice) == [c, a, d, b]
    for bad in (
        {"image_ids": [a, b]},
        {"image_ids": [a, a, b, c, d]},
        {},
        {"move": a, "image_ids": [a]},
    ):
        response = client.put(order, headers=alice, json=bad)
        assert response.status_code == 422, (bad, response.text)
    assert client.put(order, headers=alice, json={"move": "nothing"}).status_code == 404
    assert (
        client.put(order, headers=alice, json={"move": a, "before": "nothing"}).status_code == 404
    )
    assert client.put(order, headers=bob, json={"move": a}).status_code == 403
    assert client.put(order, json={"move": a}).status_code == 401


def test_a_users_albums_page_by_page_private_ones_only_for_them(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    made = [_album(client, alice, visibility="private" if n % 2 else "public") for n in range(5)]
    newest_first = [a["id"] for a in reversed(made)]
    assert _ids(client, "/api/v1/users/alice/albums", alice) == newest_first
    public = [a["id"] for a in reversed(made) if a["visibility"] == "public"]
    assert _ids(client, "/api/v1/users/alice/albums", bob) == public
    assert _ids(client, "/api/v1/users/alice/albums") == public
    assert client.get("/api/v1/users/nobody/albums").status_code == 404
    assert client.get("/api/v1/users/alice/albums?cursor=@@@").status_code == 422


def test_closing_an_account_removes_its_albums_and_links(client: TestClient):
    alice = register(client, "alice")
    image_id = _ready(client, alice)
    album = _album(client, alice)
    client.put(f"/api/v1/albums/{album['id']}/images/{image_id}", headers=alice)
    link = client.post("/api/v1/shares", headers=alice, json={"album_id": album["id"]}).json()
    gone = client.request(
        "DELETE", "/api/v1/users/me", headers=alice, json={"password": "correct horse"}
    )
    assert gone.status_code == 204, gone.text
    assert client.get(f"/api/v1/albums/{album['id']}").status_code == 404
    assert client.get(f"/api/v1/shared/{link['token']}").status_code == 404
