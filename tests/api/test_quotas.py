"""The per-user storage quota: refused before the bytes are stored, trash included, freed by
the purge."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shutterbox.adapters.db.tables import direct_uploads, images
from shutterbox.clock import travel
from shutterbox.entrypoints.http.app import create_app
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.storage import lifecycle
from tests.imagegen import jpeg_bytes
from tests.support.blob_files import blob_files
from tests.support.clients import register, upload
from tests.support.settings import make_settings


def _count(client: TestClient, table: Any) -> int:
    services: Any = app_state(client.app).services
    portal: Any = client.portal  # type: ignore[attr-defined]

    async def count() -> int:
        async with services.metadata.db.reader.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(table)) or 0)

    return int(portal.call(count))


def _me(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/users/me", headers=auth)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _refused(response: Any, used: int, quota: int) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["code"] == "quota_exceeded"
    assert f"used {used} of {quota} bytes" in body["detail"]


def test_an_upload_over_the_quota_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    first, second = jpeg_bytes(200, 150), jpeg_bytes(200, 150)
    quota = len(first) + len(second) - 1
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir, workers=0, user_quota_bytes=quota)
    with TestClient(create_app(settings)) as client:
        alice, bob = register(client, "alice"), register(client, "bob")
        assert _me(client, alice)["storage_used_bytes"] == 0
        assert _me(client, alice)["storage_quota_bytes"] == quota
        assert upload(client, alice, first).status_code == 201
        assert _me(client, alice)["storage_used_bytes"] == len(first)
        blobs, rows = blob_files(data_dir), _count(client, images)

        _refused(upload(client, alice, second), len(first), quota)
        assert blob_files(data_dir) == blobs
        assert _count(client, images) == rows
        services: Any = app_state(client.app).services
        assert not list(services.staging_dir.iterdir())  # nor a staged copy
        # the same bytes again are no new bytes: the existing image, not a refusal
        assert upload(client, alice, first).status_code == 200
        # another user has a quota of their own
        assert upload(client, bob, second).status_code == 201
        assert _me(client, alice)["storage_used_bytes"] == len(first)


def test_deleted_images_count_until_the_trash_is_purged(tmp_path: Path) -> None:
    first, second = jpeg_bytes(200, 150), jpeg_bytes(200, 150)
    quota = len(first) + len(second) - 1
    settings = make_settings(tmp_path / "data", workers=0, user_quota_bytes=quota)
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")
        image_id = upload(client, alice, first).json()["id"]
        assert client.delete(f"/api/v1/images/{image_id}", headers=alice).status_code == 204
        # in the trash its bytes are still stored
        assert _me(client, alice)["storage_used_bytes"] == len(first)
        _refused(upload(client, alice, second), len(first), quota)
        services: Any = app_state(client.app).services
        portal: Any = client.portal  # type: ignore[attr-defined]
        with travel(timedelta(days=settings.trash_retention_days + 1)):
            portal.call(lifecycle.run_lifecycle, services)
        assert _me(client, alice)["storage_used_bytes"] == 0
        assert upload(client, alice, second).status_code == 201


def test_an_image_deleted_without_a_trash_frees_its_bytes(tmp_path: Path) -> None:
    first, second = jpeg_bytes(200, 150), jpeg_bytes(200, 150)
    quota = len(first) + len(second) - 1
    settings = make_settings(
        tmp_path / "data", workers=1, user_quota_bytes=quota, trash_retention_days=0
    )
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")
        image_id = upload(client, alice, first).json()["id"]
        assert client.delete(f"/api/v1/images/{image_id}", headers=alice).status_code == 204
        for _ in range(300):  # the reclaim job runs in the background
            if _me(client, alice)["storage_used_bytes"] == 0:
                break
            time.sleep(0.05)
        assert _me(client, alice)["storage_used_bytes"] == 0
        assert upload(client, alice, second).status_code == 201


def test_direct_uploads_are_refused_at_start_from_the_declared_size(tmp_path: Path) -> None:
    quota = 10_000
    settings = make_settings(tmp_path / "data", workers=0, user_quota_bytes=quota)
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")

        def start(size: int) -> Any:
            ticket = {"filename": "a.jpg", "content_type": "image/jpeg", "size": size}
            return client.post("/api/v1/uploads", headers=alice, json=ticket)

        _refused(start(quota + 1), 0, quota)
        assert _count(client, direct_uploads) == 0
        assert start(6_000).status_code == 201
        # uploads under way count: two of them cannot share the same room
        _refused(start(6_000), 6_000, quota)
        assert _count(client, direct_uploads) == 1
        assert start(4_000).status_code == 201


def test_a_direct_upload_completed_over_the_quota_leaves_nothing(tmp_path: Path) -> None:
    picture, other = jpeg_bytes(200, 150), jpeg_bytes(200, 150)
    quota = len(picture) + len(other) - 1
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir, workers=0, user_quota_bytes=quota)
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")
        ticket = client.post(
            "/api/v1/uploads",
            headers=alice,
            json={"filename": "a.jpg", "content_type": "image/jpeg", "size": len(picture)},
        ).json()
        assert client.put(ticket["url"], content=picture).status_code == 204
        # meanwhile a multipart upload takes the room (uploads under way are not checked there)
        assert upload(client, alice, other).status_code == 201
        blobs_before = blob_files(data_dir)
        completed = client.post(f"/api/v1/uploads/{ticket['id']}/complete", headers=alice)
        _refused(completed, len(other), quota)
        incoming = {b for b in blob_files(data_dir) if b.startswith("incoming/")}
        assert incoming == set()
        assert blob_files(data_dir) <= blobs_before
        assert _count(client, direct_uploads) == 0
        assert _count(client, images) == 1


def test_no_quota(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", workers=0, user_quota_bytes=0)
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")
        picture = jpeg_bytes(64, 48)
        assert upload(client, alice, picture).status_code == 201
        me = _me(client, alice)
        assert me["storage_quota_bytes"] is None
        assert me["storage_used_bytes"] == len(picture)


def test_the_default_quota_is_ten_gibibytes(tmp_path: Path) -> None:
    assert make_settings(tmp_path).user_quota_bytes == 10 * 1024**3
