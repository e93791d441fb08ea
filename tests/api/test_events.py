"""What a live-status stream reports, poll by poll, against the real database (the stream
itself, over HTTP from a real server, is in tests/e2e/test_events.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shutterbox.adapters.db.repositories.images import SqlImages
from shutterbox.clock import travel, utcnow
from shutterbox.config import Settings
from shutterbox.domain.users import User
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.images import processing
from shutterbox.services.images.events import ImageStatus, StatusWatch
from shutterbox.services.people import accounts
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload
from tests.support.settings import make_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """No workers: images stay processing until a test moves them on. On both databases:
    the query picks its indexes by hand."""
    database: dict[str, Any] = {}
    if request.param == "postgresql":
        database["database_url"] = request.getfixturevalue("postgres_url")
    return make_settings(tmp_path / "data", workers=0, **database)


class World:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.services: Any = app_state(client.app).services
        self.portal: Any = client.portal  # type: ignore[attr-defined]

    def user(self, name: str) -> tuple[User, dict[str, str]]:
        auth = register(self.client, name)
        token = auth["Authorization"].removeprefix("Bearer ")
        user = self.portal.call(accounts.user_for_token, self.services.metadata, token)
        return user, auth

    def upload(self, auth: dict[str, str], seed: int) -> str:
        response = upload(self.client, auth, jpeg_bytes(320 + seed, 240))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def poll(self, watch: StatusWatch) -> list[ImageStatus]:
        return list(self.portal.call(watch.poll))

    def process(self, image_id: str) -> None:
        self.portal.call(processing.process_image, self.services, image_id)

    async def _fail(self, image_id: str, reason: str) -> None:
        async with self.services.metadata.db.writer.begin() as conn:
            await SqlImages(conn).mark_failed(image_id, reason, utcnow())

    def fail(self, image_id: str, reason: str) -> None:
        self.portal.call(self._fail, image_id, reason)

    async def _processing_again(self, image_id: str) -> None:
        async with self.services.metadata.db.writer.begin() as conn:
            await SqlImages(conn).mark_processing_again(image_id)

    def processing_again(self, image_id: str) -> None:
        self.portal.call(self._processing_again, image_id)


@pytest.fixture
def world(client: TestClient) -> World:
    return World(client)


def test_a_watch_reports_each_change_once(world: World):
    alice, auth = world.user("alice")
    _bob, bob_auth = world.user("bob")
    first, second = world.upload(auth, 1), world.upload(auth, 2)
    world.upload(bob_auth, 3)
    watch = StatusWatch(world.services, alice.id)

    assert world.poll(watch) == [
        ImageStatus(first, "processing", None, None),
        ImageStatus(second, "processing", None, None),
    ]
    assert world.poll(watch) == []

    world.process(first)
    [ready] = world.poll(watch)
    thumb = world.client.get(f"/api/v1/images/{first}").json()["variants"]["thumb"]["url"]
    assert ready == ImageStatus(first, "ready", None, thumb)
    assert world.client.get(thumb).status_code == 200
    assert world.poll(watch) == []

    world.fail(second, "the file is cut off")
    assert world.poll(watch) == [ImageStatus(second, "failed", "the file is cut off", None)]

    # Retried and failed again between two polls: still reported, with the new reason.
    world.processing_again(second)
    world.fail(second, "still cut off")
    assert world.poll(watch) == [ImageStatus(second, "failed", "still cut off", None)]

    third = world.upload(auth, 4)
    assert world.poll(watch) == [ImageStatus(third, "processing", None, None)]
    assert world.poll(watch) == []


def test_an_image_made_between_two_polls_is_reported_ready(world: World):
    alice, auth = world.user("alice")
    watch = StatusWatch(world.services, alice.id)
    assert world.poll(watch) == []
    image_id = world.upload(auth, 1)
    world.process(image_id)
    [event] = world.poll(watch)
    assert (event.id, event.status) == (image_id, "ready") and event.thumb_url


def test_a_late_watch_is_told_only_what_is_pending_or_recent(world: World):
    alice, auth = world.user("alice")
    done, failed, pending = world.upload(auth, 1), world.upload(auth, 2), world.upload(auth, 3)
    world.process(done)
    world.fail(failed, "the file is cut off")

    late = world.poll(StatusWatch(world.services, alice.id))
    assert [(e.id, e.status) for e in late] == [
        (done, "ready"),
        (failed, "failed"),
        (pending, "processing"),
    ]

    with travel(timedelta(minutes=30)):
        watch = StatusWatch(world.services, alice.id)
        assert world.poll(watch) == [ImageStatus(pending, "processing", None, None)]
        # An old failed image, retried and made between two polls, is still reported.
        world.processing_again(failed)
        world.process(failed)
        [event] = world.poll(watch)
        assert (event.id, event.status, event.failure_reason) == (failed, "ready", None)
        world.process(pending)
        assert [(e.id, e.status) for e in world.poll(watch)] == [(pending, "ready")]
        assert world.poll(watch) == []


def test_deleted_images_are_not_reported(world: World):
    alice, auth = world.user("alice")
    image_id = world.upload(auth, 1)
    assert world.client.delete(f"/api/v1/images/{image_id}", headers=auth).status_code == 204
    assert world.poll(StatusWatch(world.services, alice.id)) == []


def test_the_events_endpoint_needs_a_user(client: TestClient):
    response = client.get("/api/v1/events")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    bad = client.get("/api/v1/events", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
