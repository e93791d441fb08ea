"""Where likes, comments, their counts and notifications may show: exactly where the image
does. One table of image states (public, private from the start, made private after others
liked and commented, in the trash, removed for good) by caller (anonymous, another user who
liked and commented while they could, an admin, the owner)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.images import deletion
from shutterbox.services.people import accounts
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload
from tests.support.settings import make_settings

PASSWORD = "correct horse"
CALLERS = ("anonymous", "other", "admin", "owner")
# image state → whether each caller may see it (and so its likes, comments and counts)
TABLE = {
    "public": (True, True, True, True),
    "private": (False, False, False, True),
    "made private": (False, False, False, True),
    "trashed": (False, False, False, False),
    "removed": (False, False, False, False),
}


class World:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.auth: dict[str, dict[str, str]] = {
            "anonymous": {},
            "owner": register(client, "alice"),
            "other": register(client, "bob"),
        }
        services: Any = app_state(client.app).services
        client.portal.call(  # type: ignore[attr-defined]
            lambda: accounts.register(services.metadata, "boss", PASSWORD, is_admin=True)
        )
        token = client.post("/api/v1/auth/token", data={"username": "boss", "password": PASSWORD})
        self.auth["admin"] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        self.images = {state: self._image(state) for state in TABLE}

    def _image(self, state: str) -> str:
        owner, other = self.auth["owner"], self.auth["other"]
        visibility = "private" if state == "private" else "public"
        created = upload(self.client, owner, jpeg_bytes(90, 60), visibility=visibility)
        assert created.status_code == 201, created.text
        image_id = str(created.json()["id"])
        for auth in (owner, other):
            if state != "private" or auth is owner:
                assert self.client.put(f"/api/v1/images/{image_id}/like", headers=auth).is_success
                said = self.client.post(
                    f"/api/v1/images/{image_id}/comments", headers=auth, json={"text": state}
                )
                assert said.status_code == 201, said.text
        if state == "made private":
            changed = self.client.patch(
                f"/api/v1/images/{image_id}", headers=owner, json={"visibility": "private"}
            )
            assert changed.status_code == 200
        if state in ("trashed", "removed"):
            assert self.client.delete(f"/api/v1/images/{image_id}", headers=owner).is_success
        if state == "removed":  # emptied from the trash: the row is gone, and what hung on it
            services: Any = app_state(self.client.app).services
            image = self.client.portal.call(  # type: ignore[attr-defined]
                lambda: _get(services, image_id)
            )
            self.client.portal.call(  # type: ignore[attr-defined]
                lambda: deletion.remove_for_good(services, image)
            )
        return image_id


async def _get(services: Any, image_id: str) -> Any:
    async with services.metadata.read() as tx:
        return await tx.images.get(image_id)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = make_settings(Path(tmp_path_factory.mktemp("social")) / "data", workers=0)
    with TestClient(create_app(settings)) as client:
        yield World(client)


CASES = [
    pytest.param(state, caller, allowed, id=f"{state}-{caller}")
    for state, row in TABLE.items()
    for caller, allowed in zip(CALLERS, row, strict=True)
]


@pytest.mark.parametrize(("state", "caller", "allowed"), CASES)
def test_likes_comments_and_counts_show_only_where_the_image_does(
    world: World, state: str, caller: str, allowed: bool
) -> None:
    client, image_id, auth = world.client, world.images[state], world.auth[caller]
    image = client.get(f"/api/v1/images/{image_id}", headers=auth)
    listed = client.get(f"/api/v1/images/{image_id}/comments", headers=auth)
    if not allowed:
        assert image.status_code == 404 and listed.status_code == 404
        assert state not in listed.text and "likes" not in image.text
        if caller != "anonymous":  # nor can they act on it
            like = client.put(f"/api/v1/images/{image_id}/like", headers=auth)
            assert like.status_code == 404 and "likes" not in like.text
        return
    expected = 1 if state == "private" else 2
    assert (image.json()["likes"], image.json()["comments"]) == (expected, expected)
    assert [c["text"] for c in listed.json()["items"]] == [state] * expected


@pytest.mark.parametrize("state", list(TABLE))
def test_the_owners_notifications_follow_what_she_can_see(world: World, state: str) -> None:
    items = world.client.get("/api/v1/notifications?limit=100", headers=world.auth["owner"]).json()[
        "items"
    ]
    about = [n for n in items if n["image_id"] == world.images[state]]
    expected = {"public": 2, "private": 0, "made private": 2, "trashed": 0, "removed": 0}
    assert len(about) == expected[state]  # a like and a comment from bob, none from herself
    unread = world.client.get("/api/v1/notifications/unread-count", headers=world.auth["owner"])
    assert unread.json()["unread"] == 4


def test_nobody_else_is_notified_of_anything(world: World) -> None:
    for caller in ("other", "admin"):
        items = world.client.get("/api/v1/notifications", headers=world.auth[caller]).json()
        assert items["items"] == []
