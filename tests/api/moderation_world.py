"""A small world for the moderation tests: an app with an edge recording purges, alice (with
a public and a private photo), bob, and boss the admin."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.people import accounts
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.recording_edge import RecordingEdge
from tests.support.settings import make_settings

PASSWORD = "correct horse"


class Moderated:
    def __init__(self, client: TestClient, edge: RecordingEdge) -> None:
        self.client, self.edge = client, edge
        self.alice = register(client, "alice")
        self.bob = register(client, "bob")
        services: Any = app_state(client.app).services
        portal: Any = client.portal  # type: ignore[attr-defined]
        portal.call(partial(accounts.register, services.metadata, "boss", PASSWORD, is_admin=True))
        self.admin = self.login("boss")

    def login(self, username: str) -> dict[str, str]:
        response = self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def photo(self, auth: dict[str, str], **fields: str) -> dict[str, Any]:
        created = upload(self.client, auth, jpeg_bytes(160, 120), **fields)
        assert created.status_code == 201, created.text
        image = wait_for_status(self.client, created.json()["id"], auth)
        assert image["status"] == "ready", image
        return image

    def ids(self, url: str, auth: dict[str, str] | None = None) -> set[str]:
        response = self.client.get(url, headers=auth or {})
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    def report(self, auth: dict[str, str], subject: str, subject_id: str, **more: str) -> Any:
        body = {"subject": subject, "id": subject_id, "reason": "spam", **more}
        return self.client.post("/api/v1/reports", headers=auth, json=body)

    def admin_post(self, path: str, **body: str) -> Any:
        return self.client.post(path, headers=self.admin, json=body)


def thumb_path(image: dict[str, Any]) -> str:
    return urlsplit(image["variants"]["thumb"]["url"]).path


@contextmanager
def moderated_world(tmp_path: Path, **settings: Any) -> Iterator[Moderated]:
    edge = RecordingEdge()
    try:
        config = make_settings(tmp_path / "data", cdn_purge_urls=edge.url, **settings)
        with TestClient(create_app(config)) as client:
            yield Moderated(client, edge)
    finally:
        edge.close()
