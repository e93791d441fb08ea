"""Following people: profiles, follower lists and the home feed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status


def _ready(client: TestClient, auth: dict[str, str], **fields: str) -> str:
    created = upload(client, auth, jpeg_bytes(200, 150), **fields)
    assert created.status_code == 201, created.text
    image = wait_for_status(client, created.json()["id"], auth)
    assert image["status"] == "ready", image
    return str(image["id"])


def _profile(client: TestClient, username: str, auth: dict[str, str] | None = None) -> Any:
    response = client.get(f"/api/v1/users/{username}", headers=auth or {})
    assert response.status_code == 200, response.text
    return response.json()


def _follow(client: TestClient, username: str, auth: dict[str, str]) -> int:
    return client.put(f"/api/v1/users/{username}/follow", headers=auth).status_code


def _unfollow(client: TestClient, username: str, auth: dict[str, str]) -> int:
    return client.delete(f"/api/v1/users/{username}/follow", headers=auth).status_code


def _all_pages(
    client: TestClient, url: str, limit: int, auth: dict[str, str] | None = None
) -> list[str]:
    """Every page of ``url``: image ids, or usernames for people lists."""
    found: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, params=params, headers=auth or {})
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        found.extend(item.get("id") or item["username"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def test_follow_and_unfollow_are_idempotent_and_counted(client: TestClient):
    alice = register(client, "alice")
    bob = register(client, "bob")
    carol = register(client, "carol")

    assert _follow(client, "bob", alice) == 204
    assert _follow(client, "BOB", alice) == 204  # again, and names are case-insensitive
    assert _follow(client, "bob", carol) == 204
    assert _follow(client, "alice", bob) == 204

    seen_by_alice = _profile(client, "bob", alice)
    assert seen_by_alice["username"] == "bob" and seen_by_alice["created_at"]
    assert (seen_by_alice["followers"], seen_by_alice["following"]) == (2, 1)
    assert seen_by_alice["followed_by_you"] is True
    assert _profile(client, "bob")["followed_by_you"] is None  # anonymous
    assert _profile(client, "bob", bob)["followed_by_you"] is None  # yourself
    assert _profile(client, "alice", carol)["followed_by_you"] is False
    alice_profile = _profile(client, "alice")
    assert (alice_profile["followers"], alice_profile["following"]) == (1, 1)

    assert _unfollow(client, "bob", alice) == 204
    assert _unfollow(client, "bob", alice) == 204  # not following: nothing to do
    after = _profile(client, "bob", alice)
    assert (after["followers"], after["followed_by_you"]) == (1, False)
    assert _profile(client, "alice")["following"] == 0


def test_profile_counts_the_images_the_viewer_can_see(client: TestClient):
    alice = register(client, "alice")
    bob = register(client, "bob")
    _ready(client, bob)
    _ready(client, bob)
    _ready(client, bob, visibility="private")
    deleted = _ready(client, bob)
    assert client.delete(f"/api/v1/images/{deleted}", headers=bob).status_code == 204
    whole = jpeg_bytes(800, 600, noise=True)
    broken = upload(client, bob, whole[: len(whole) // 2]).json()["id"]
    assert wait_for_status(client, broken, bob)["status"] == "failed"

    assert _profile(client, "bob")["images"] == 2
    assert _profile(client, "bob", alice)["images"] == 2
    assert _profile(client, "bob", bob)["images"] == 3  # your private ones count for you
    assert _profile(client, "alice", alice)["images"] == 0


def test_you_cannot_follow_yourself(client: TestClient):
    alice = register(client, "alice")
    response = client.put("/api/v1/users/alice/follow", headers=alice)
    assert response.status_code == 422
    assert response.json()["detail"] == "you cannot follow yourself"
    assert _profile(client, "alice")["followers"] == 0


def test_unknown_users_are_404_and_strangers_401(client: TestClient):
    alice = register(client, "alice")
    for method, path in (
        ("GET", "/api/v1/users/nobody"),
        ("PUT", "/api/v1/users/nobody/follow"),
        ("DELETE", "/api/v1/users/nobody/follow"),
        ("GET", "/api/v1/users/nobody/followers"),
        ("GET", "/api/v1/users/nobody/following"),
    ):
        response = client.request(method, path, headers=alice)
        assert response.status_code == 404, (method, path)
        assert response.json()["detail"] == "no user called 'nobody'"
    assert client.put("/api/v1/users/alice/follow").status_code == 401
    assert client.delete("/api/v1/users/alice/follow").status_code == 401
    assert client.get("/api/v1/home").status_code == 401


def test_users_me_is_still_the_current_user(client: TestClient):
    alice = register(client, "alice")
    me = client.get("/api/v1/users/me", headers=alice)
    assert me.status_code == 200
    assert me.json()["username"] == "alice" and "id" in me.json()
    assert client.get("/api/v1/users/me").status_code == 401


def test_followers_and_following_page_by_username(client: TestClient):
    names = ["dora", "bob", "erin", "carol", "fred"]
    auths = {name: register(client, name) for name in names}
    alice = register(client, "alice")
    for name in names:
        assert _follow(client, "alice", auths[name]) == 204
        assert _follow(client, name, alice) == 204
    assert _follow(client, "bob", auths["carol"]) == 204

    assert _all_pages(client, "/api/v1/users/alice/followers", limit=2) == sorted(names)
    assert _all_pages(client, "/api/v1/users/alice/following", limit=3) == sorted(names)
    assert _all_pages(client, "/api/v1/users/carol/following", limit=5) == ["alice", "bob"]
    assert _all_pages(client, "/api/v1/users/bob/followers", limit=10) == ["alice", "carol"]
    one = client.get("/api/v1/users/alice/followers", params={"limit": 5}).json()
    assert one == {"items": [{"username": n} for n in sorted(names)], "next_cursor": None}
    assert client.get("/api/v1/users/alice/followers", params={"limit": 0}).status_code == 422


def test_home_feed_shows_those_you_follow_and_yourself(client: TestClient):
    alice = register(client, "alice")
    bob = register(client, "bob")
    carol = register(client, "carol")
    assert _follow(client, "bob", alice) == 204

    expected = [
        _ready(client, bob),
        _ready(client, alice),
        _ready(client, bob),
        _ready(client, alice, visibility="private"),
        _ready(client, bob),
    ]
    bob_private = _ready(client, bob, visibility="private")
    carol_public = _ready(client, carol)
    newest_first = list(reversed(expected))

    assert _all_pages(client, "/api/v1/home", limit=2, auth=alice) == newest_first
    page = client.get("/api/v1/home", headers=alice).json()
    assert [item["id"] for item in page["items"]] == newest_first
    assert page["next_cursor"] is None
    assert bob_private not in newest_first and carol_public not in newest_first
    own_private = next(i for i in page["items"] if i["visibility"] == "private")
    assert own_private["owner"] == "alice" and own_private["original"] is not None

    # Only your own images until you follow someone; the public feed is untouched.
    assert _all_pages(client, "/api/v1/home", limit=10, auth=carol) == [carol_public]
    assert _unfollow(client, "bob", alice) == 204
    assert _all_pages(client, "/api/v1/home", limit=10, auth=alice) == [
        expected[3],
        expected[1],
    ]
    bad = client.get("/api/v1/home", params={"cursor": "not-a-cursor"}, headers=alice)
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]


def test_home_feed_is_stable_while_new_images_arrive(client: TestClient):
    alice = register(client, "alice")
    bob = register(client, "bob")
    assert _follow(client, "bob", alice) == 204
    ids = [_ready(client, bob) for _ in range(4)]
    first = client.get("/api/v1/home", params={"limit": 2}, headers=alice).json()
    newcomer = _ready(client, bob)
    second = client.get(
        "/api/v1/home", params={"limit": 2, "cursor": first["next_cursor"]}, headers=alice
    ).json()
    seen = [i["id"] for i in first["items"] + second["items"]]
    assert seen == list(reversed(ids)) and newcomer not in seen
    assert second["next_cursor"] is None
