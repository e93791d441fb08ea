"""Blocking hides both ways: feeds, profiles, tag pages, search, image pages and follows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.moderation_world import Moderated, moderated_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Moderated]:
    with moderated_world(tmp_path) as moderated:
        yield moderated


def _sees(world: Moderated, auth: dict[str, str], photo_id: str, owner: str) -> dict[str, bool]:
    return {
        "feed": photo_id in world.ids("/api/v1/feed", auth),
        "tag": photo_id in world.ids("/api/v1/tags/sea/images", auth),
        "profile": photo_id in world.ids(f"/api/v1/users/{owner}/images", auth),
        "search": photo_id in world.ids("/api/v1/search?q=sea", auth),
        "home": bool(auth) and photo_id in world.ids("/api/v1/home", auth),
        "image": world.client.get(f"/api/v1/images/{photo_id}", headers=auth).status_code == 200,
    }


def test_blocking_hides_both_ways_and_ends_follows(world: Moderated) -> None:
    alices = world.photo(world.alice, visibility="public", tags="sea")
    bobs = world.photo(world.bob, visibility="public", tags="sea")
    client = world.client
    assert client.put("/api/v1/users/alice/follow", headers=world.bob).status_code == 204
    assert client.put("/api/v1/users/bob/follow", headers=world.alice).status_code == 204
    assert all(_sees(world, world.bob, alices["id"], "alice").values())
    assert client.put("/api/v1/users/bob/block", headers=world.alice).status_code == 204
    assert client.put("/api/v1/users/bob/block", headers=world.alice).status_code == 204  # again
    assert not any(_sees(world, world.bob, alices["id"], "alice").values())
    assert not any(_sees(world, world.alice, bobs["id"], "bob").values())
    assert client.get("/api/v1/users/alice", headers=world.bob).json()["images"] == 0
    assert client.get("/api/v1/users/alice", headers=world.bob).json()["followers"] == 0
    refused = client.put("/api/v1/users/alice/follow", headers=world.bob)
    assert refused.status_code == 403 and "blocked" in refused.json()["detail"]
    assert client.put("/api/v1/users/bob/follow", headers=world.alice).status_code == 403
    # others are not affected
    assert _sees(world, world.admin, alices["id"], "alice")["feed"]
    assert _sees(world, {}, bobs["id"], "bob")["search"]
    blocked = client.get("/api/v1/users/me/blocks", headers=world.alice).json()
    assert blocked == {"items": [{"username": "bob"}], "next_cursor": None}
    assert client.get("/api/v1/users/me/blocks", headers=world.bob).json()["items"] == []
    assert client.delete("/api/v1/users/bob/block", headers=world.alice).status_code == 204
    seen = _sees(world, world.bob, alices["id"], "alice")
    assert seen == {**{k: True for k in seen}, "home": False}  # the follow did not come back


def test_block_refusals(world: Moderated) -> None:
    client = world.client
    assert client.put("/api/v1/users/bob/block").status_code == 401
    assert client.put("/api/v1/users/nobody/block", headers=world.alice).status_code == 404
    assert client.put("/api/v1/users/alice/block", headers=world.alice).status_code == 422
    assert client.get("/api/v1/users/me/blocks").status_code == 401


def test_blocked_lists_page_by_name(world: Moderated) -> None:
    from tests.support.clients import register

    for name in ("carol", "dave", "erin"):
        register(world.client, name)
        world.client.put(f"/api/v1/users/{name}/block", headers=world.alice)
    first = world.client.get("/api/v1/users/me/blocks?limit=2", headers=world.alice).json()
    assert [u["username"] for u in first["items"]] == ["carol", "dave"]
    rest = world.client.get(
        f"/api/v1/users/me/blocks?limit=2&cursor={first['next_cursor']}", headers=world.alice
    ).json()
    assert rest == {"items": [{"username": "erin"}], "next_cursor": None}


def test_a_block_stops_likes_and_comments_both_ways(world: Moderated) -> None:
    alices = world.photo(world.alice, visibility="public", tags="sea")
    client = world.client
    said = client.post(
        f"/api/v1/images/{alices['id']}/comments", headers=world.bob, json={"text": "hi"}
    )
    assert said.status_code == 201
    assert client.put("/api/v1/users/bob/block", headers=world.alice).status_code == 204
    for method, path, body in (
        ("PUT", f"/api/v1/images/{alices['id']}/like", None),
        ("POST", f"/api/v1/images/{alices['id']}/comments", {"text": "again"}),
        ("GET", f"/api/v1/images/{alices['id']}/comments", None),
    ):
        answer = client.request(method, path, headers=world.bob, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    # the owner still reads (and may delete) what was said before the block
    listed = client.get(f"/api/v1/images/{alices['id']}/comments", headers=world.alice).json()
    assert [c["id"] for c in listed["items"]] == [said.json()["id"]]


def test_a_comment_can_be_reported_by_whoever_sees_it(world: Moderated) -> None:
    alices = world.photo(world.alice, visibility="public", tags="sea")
    said = world.client.post(
        f"/api/v1/images/{alices['id']}/comments", headers=world.bob, json={"text": "spam spam"}
    ).json()
    report = {"subject": "comment", "id": said["id"], "reason": "spam"}
    assert world.client.post("/api/v1/reports", headers=world.alice, json=report).status_code == 201
    hidden = world.photo(world.alice, visibility="private", tags="sea")
    mine = world.client.post(
        f"/api/v1/images/{hidden['id']}/comments", headers=world.alice, json={"text": "note"}
    ).json()
    other = {"subject": "comment", "id": mine["id"], "reason": "spam"}
    assert world.client.post("/api/v1/reports", headers=world.bob, json=other).status_code == 404
