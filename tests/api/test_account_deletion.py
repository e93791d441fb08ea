"""Deleting an account: at once nobody logs in as it and its images are gone from every
read; then every blob and row of it is removed (the edges purged first), and the username is
free again. Admins may delete any account."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from shutterbox.config import Settings
from shutterbox.entrypoints.http.app import create_app
from tests.support.app import with_services
from tests.support.clients import register, upload_ready
from tests.support.recording_edge import RecordingEdge
from tests.support.settings import make_settings

PASSWORD = "correct horse"


@pytest.fixture
def edge() -> Iterator[RecordingEdge]:
    recording = RecordingEdge()
    yield recording
    recording.close()


@pytest.fixture
def app(tmp_path: Path, edge: RecordingEdge) -> Iterator[tuple[TestClient, Settings]]:
    # with a replica: the account's originals are kept twice, and both copies must go
    replica = (tmp_path / "data" / "blobs-replica").as_uri()
    settings = make_settings(tmp_path / "data", cdn_purge_urls=edge.url, replica_url=replica)
    with TestClient(create_app(settings)) as client:
        yield client, settings


async def _left_of(services, username: str) -> tuple[bool, list[str]]:  # type: ignore[no-untyped-def]
    async with services.metadata.read() as tx:
        user = await tx.users.by_name(username)
        return user is not None, (await tx.images.ids_of_owner(user.id)) if user else []


def _wait_until_gone(client: TestClient, username: str) -> None:
    deadline = time.monotonic() + 30
    while with_services(client, _left_of, username)[0]:
        assert time.monotonic() < deadline, f"{username}'s account is still there"
        time.sleep(0.1)


def _files_of(settings: Settings, image_ids: list[str]) -> list[Path]:
    roots = [p for p in settings.data_dir.iterdir() if p.name.startswith("blobs")]
    return [p for root in roots for p in root.rglob("*") if any(i in p.name for i in image_ids)]


def test_deleting_your_account(app: tuple[TestClient, Settings], edge: RecordingEdge):
    client, settings = app
    alice, bob = register(client, "alice", PASSWORD), register(client, "bob")
    shown = upload_ready(client, alice, caption="mine")
    trashed = upload_ready(client, alice)
    assert client.delete(f"/api/v1/images/{trashed['id']}", headers=alice).status_code == 204
    assert client.put("/api/v1/users/alice/follow", headers=bob).status_code in (200, 204)
    assert client.put("/api/v1/users/bob/follow", headers=alice).status_code in (200, 204)
    thumb = urlparse(shown["variants"]["thumb"]["url"]).path
    assert client.get(thumb).status_code == 200
    image_ids = [shown["id"], trashed["id"]]
    assert {p.relative_to(settings.data_dir).parts[0] for p in _files_of(settings, image_ids)} >= {
        "blobs",
        "blobs-replica",
    }
    purged_before = len(edge.purged)

    wrong = client.request("DELETE", "/api/v1/users/me", headers=alice, json={"password": "no"})
    assert wrong.status_code == 401
    gone = client.request("DELETE", "/api/v1/users/me", headers=alice, json={"password": PASSWORD})
    assert gone.status_code == 204, gone.text

    # At once: no way in, nothing to see, no follows.
    assert client.get("/api/v1/users/me", headers=alice).status_code == 401
    login = client.post("/api/v1/auth/token", data={"username": "alice", "password": PASSWORD})
    assert login.status_code == 401
    assert client.get(f"/api/v1/images/{shown['id']}").status_code == 404
    assert client.get(thumb).status_code == 404
    assert shown["id"] not in {i["id"] for i in client.get("/api/v1/feed").json()["items"]}
    assert client.get("/api/v1/users/bob/followers", headers=bob).json()["items"] == []

    # Then every blob and row of it, the edges purged first; the name is free again.
    _wait_until_gone(client, "alice")
    assert _files_of(settings, image_ids) == []
    assert thumb in edge.purged[purged_before:]
    assert (
        client.post(
            "/api/v1/users", json={"username": "alice", "password": "a new password"}
        ).status_code
        == 201
    )


def test_an_account_without_images_goes_at_once(app: tuple[TestClient, Settings]):
    client, _settings = app
    auth = register(client, "carol", PASSWORD)
    answer = client.request("DELETE", "/api/v1/users/me", headers=auth, json={"password": PASSWORD})
    assert answer.status_code == 204
    assert with_services(client, _left_of, "carol") == (False, [])


def test_admins_may_delete_any_account(app: tuple[TestClient, Settings]):
    client, _settings = app
    dave, erin = register(client, "dave"), register(client, "erin")
    assert client.delete("/api/v1/users/dave", headers=erin).status_code == 403

    async def make_admin(services, name: str) -> None:  # type: ignore[no-untyped-def]
        from shutterbox.services.people import accounts

        await accounts.register(services.metadata, name, PASSWORD, is_admin=True)

    with_services(client, make_admin, "root_admin")
    token = client.post(
        "/api/v1/auth/token", data={"username": "root_admin", "password": PASSWORD}
    ).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/users/nobody_here", headers=admin).status_code == 404
    assert client.delete("/api/v1/users/dave", headers=admin).status_code == 204
    assert client.get("/api/v1/users/me", headers=dave).status_code == 401
