"""Lifecycle rules with a controlled clock, on the embedded setup: originals move to colder
classes as they age, archived originals are restored on demand, the trash keeps deleted
images for the retention and then the bytes really go, failed uploads expire."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shutterbox import clock
from shutterbox.config import Settings
from shutterbox.domain.jobs import JobKind
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.storage import lifecycle
from tests.imagegen import jpeg_bytes
from tests.support.app import with_services
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # An archive on a local disk only where the operator gave it a location of its own.
    return make_settings(
        tmp_path / "data",
        original_transitions="STANDARD_IA:30,GLACIER:90",
        storage_class_urls=f"GLACIER={(tmp_path / 'data' / 'blobs-glacier').as_uri()}",
        restore_days=3,
        restore_check_seconds=60,
        token_ttl_days=365,  # the clock travels months ahead
    )


def run_lifecycle(client: TestClient) -> lifecycle.LifecycleReport:
    """One lifecycle pass, on the application's own event loop and services."""
    return with_services(client, lifecycle.run_lifecycle)  # type: ignore[no-any-return]


def blob_files(settings: Settings, image_id: str) -> list[Path]:
    """Every file of this image in any class location (blobs, blobs-glacier, ...)."""
    return [
        p
        for root in settings.data_dir.glob("blobs*")
        for p in root.rglob(f"{image_id}*")
        if p.is_file()
    ]


def days(n: float) -> timedelta:
    return timedelta(days=n)


def wait_until(check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_originals_move_to_colder_classes_and_come_back_on_demand(
    client: TestClient, settings: Settings
):
    auth = register(client, "alice")
    data = jpeg_bytes(900, 600)
    image = wait_for_status(client, upload(client, auth, data).json()["id"], auth)
    image_id, original_url = image["id"], image["original"]["url"]
    assert image["original"]["storage_class"] == "STANDARD"

    def original() -> dict[str, Any]:
        return client.get(f"/api/v1/images/{image_id}", headers=auth).json()["original"]

    with clock.travel(days(29)):
        report = run_lifecycle(client)
        assert sum(report.transitioned.values()) == 0
        assert original()["storage_class"] == "STANDARD"

    with clock.travel(days(31)):
        report = run_lifecycle(client)
        assert report.transitioned == {"STANDARD_IA": 1}
        assert original()["storage_class"] == "STANDARD_IA"
        ia_files = list((settings.data_dir / "blobs-standard_ia").rglob(f"{image_id}.jpg"))
        assert len(ia_files) == 1
        assert client.get(original_url, headers=auth).content == data  # still readable

    with clock.travel(days(91)):
        report = run_lifecycle(client)
        assert report.transitioned == {"GLACIER": 1}
        assert original() | {"url": None} == original() | {
            "url": None,
            "storage_class": "GLACIER",
            "downloadable": False,
        }
        for variant in image["variants"].values():  # variants stay hot
            assert client.get(variant["url"]).status_code == 200

        answer = client.get(original_url, headers=auth)
        assert answer.status_code == 202, answer.text
        assert answer.json()["code"] == "restoring"
        assert int(answer.headers["retry-after"]) > 0
        assert "GLACIER" in answer.json()["detail"]

        wait_until(lambda: original()["downloadable"])
        restored = client.get(original_url, headers=auth)
        assert restored.status_code == 200 and restored.content == data
        assert original()["storage_class"] == "GLACIER"  # a restored copy, not a move back

    with clock.travel(days(91 + 3 + 1)):  # the restored copy's days are up
        report = run_lifecycle(client)
        assert report.restores_ended == 1
        assert original()["downloadable"] is False
        assert client.get(original_url, headers=auth).status_code == 202


def test_an_archived_original_is_only_restored_for_its_owner(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    image = wait_for_status(client, upload(client, alice, jpeg_bytes()).json()["id"], alice)
    path = image["original"]["url"].split("?")[0]  # without the signature it hands out
    with clock.travel(days(100)):
        run_lifecycle(client)
        assert client.get(path, headers=bob).status_code == 404
        assert client.get(path).status_code == 404
        assert client.get(path, headers=alice).status_code == 202


def test_the_trash_keeps_a_deleted_image_until_the_retention_passes(
    client: TestClient, settings: Settings
):
    alice, bob = register(client, "alice"), register(client, "bob")
    kept = wait_for_status(client, upload(client, alice, jpeg_bytes(), tags="sea").json()["id"])
    gone = wait_for_status(client, upload(client, alice, jpeg_bytes(), tags="sea").json()["id"])
    thumb_url = gone["variants"]["thumb"]["url"]
    files_before = blob_files(settings, gone["id"])
    assert len(files_before) == 5  # the original, thumb and medium in JPEG and WebP (no full)

    def feed_ids() -> list[str]:
        return [i["id"] for i in client.get("/api/v1/feed").json()["items"]]

    assert client.delete(f"/api/v1/images/{gone['id']}", headers=alice).status_code == 204
    assert feed_ids() == [kept["id"]]
    assert client.get(thumb_url).status_code == 404
    assert client.get(f"/api/v1/images/{gone['id']}", headers=alice).status_code == 404
    trash = client.get("/api/v1/trash", headers=alice).json()["items"]
    assert [t["id"] for t in trash] == [gone["id"]]
    assert trash[0]["purge_at"] > trash[0]["deleted_at"]
    assert client.get("/api/v1/trash", headers=bob).json()["items"] == []
    assert client.get("/api/v1/trash").status_code == 401
    assert client.post(f"/api/v1/images/{gone['id']}/restore", headers=bob).status_code == 404

    restored = client.post(f"/api/v1/images/{gone['id']}/restore", headers=alice)
    assert restored.status_code == 200, restored.text
    assert restored.json()["status"] == "ready"
    assert sorted(feed_ids()) == sorted([kept["id"], gone["id"]])
    assert client.get(thumb_url).status_code == 200
    assert client.get("/api/v1/trash", headers=alice).json()["items"] == []

    assert client.delete(f"/api/v1/images/{gone['id']}", headers=alice).status_code == 204
    with clock.travel(days(29)):
        assert run_lifecycle(client).trash_purged == 0
        assert blob_files(settings, gone["id"]) == files_before
    with clock.travel(days(31)):
        late = client.post(f"/api/v1/images/{gone['id']}/restore", headers=alice)
        assert late.status_code == 410 and "30 days" in late.json()["detail"]
        assert run_lifecycle(client).trash_purged == 1
        assert blob_files(settings, gone["id"]) == []  # the bytes are really gone
        assert len(blob_files(settings, kept["id"])) == 5
        assert client.post(f"/api/v1/images/{gone['id']}/restore", headers=alice).status_code == 404
        assert client.get("/api/v1/trash", headers=alice).json()["items"] == []


def test_failed_uploads_are_removed_after_their_retention(client: TestClient, settings: Settings):
    auth = register(client, "alice")
    whole = jpeg_bytes(1600, 1200, noise=True)
    failed = wait_for_status(client, upload(client, auth, whole[: len(whole) // 2]).json()["id"])
    assert failed["status"] == "failed"
    assert len(blob_files(settings, failed["id"])) == 1  # the original, kept for a retry
    with clock.travel(days(6)):
        assert run_lifecycle(client).failed_purged == 0
    with clock.travel(days(8)):
        assert run_lifecycle(client).failed_purged == 1
    assert blob_files(settings, failed["id"]) == []
    assert client.get(f"/api/v1/images/{failed['id']}", headers=auth).status_code == 404


def test_the_workers_keep_one_lifecycle_pass_scheduled(client: TestClient):
    services = app_state(client.app).services
    assert client.portal is not None
    first = client.portal.call(lifecycle.schedule_pass, services)
    second = client.portal.call(lifecycle.schedule_pass, services)
    assert [first, second] in ([True, False], [False, False])  # a worker may have been first

    async def scheduled() -> bool:
        async with services.metadata.db.reader.connect() as conn:
            return bool(
                await services.queue.scheduled(conn, JobKind.LIFECYCLE_PASS, lifecycle.PASS_SUBJECT)
            )

    assert client.portal.call(scheduled)
