"""New notifications on the live event stream: told once each, from the poll the stream
already makes (the stream over HTTP is the same as for image status, tests/e2e/test_events.py)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from shutterbox.entrypoints.api.routers.events import _event
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.people import accounts
from shutterbox.services.social.live import NewNotification, NotificationWatch
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload


def _poll(client: TestClient, watch: NotificationWatch) -> list[NewNotification]:
    services: Any = app_state(client.app).services

    async def poll() -> list[NewNotification]:
        async with services.metadata.read() as tx:
            return await watch.poll_in(tx)

    return list(client.portal.call(poll))  # type: ignore[attr-defined]


def test_each_new_notification_is_told_once_with_the_unread_count(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    services: Any = app_state(client.app).services
    token = alice["Authorization"].removeprefix("Bearer ")
    user = client.portal.call(accounts.user_for_token, services.metadata, token)  # type: ignore[attr-defined]
    image_id = upload(client, alice, jpeg_bytes(80, 60)).json()["id"]
    client.put("/api/v1/users/alice/follow", headers=bob)  # before the stream: not told
    watch = NotificationWatch(user.id)
    assert _poll(client, watch) == []
    assert client.put(f"/api/v1/images/{image_id}/like", headers=bob).status_code == 200
    client.post(f"/api/v1/images/{image_id}/comments", headers=bob, json={"text": "hi"})
    told = _poll(client, watch)
    assert [n.notification.kind.value for n in told] == ["like", "comment"]
    assert [n.unread for n in told] == [3, 3]
    assert _poll(client, watch) == []
    sent = _event(told[1], 7)
    assert sent.startswith("event: notification\nid: 7\ndata: ")
    data = json.loads(sent.split("data: ", 1)[1])
    assert data["unread"] == 3 and data["notification"]["actor"] == "bob"
    assert data["notification"]["image_id"] == image_id
