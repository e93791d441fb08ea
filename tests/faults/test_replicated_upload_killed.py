"""SIGKILL the API while uploads stream in with a replica configured: every upload that was
acknowledged has both copies, byte for byte; after a restart every one is there, and the scrub
finds nothing but the orphans of uploads the kill cut short."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import register
from tests.support.faults import assert_scrub_clean, scrub
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e

UPLOADERS = 4
KILL_AFTER = 24  # acknowledged uploads


def _copy(root: Path, image_id: str) -> Path | None:
    found = list(root.glob(f"originals/*/*/*/{image_id}.*"))
    return found[0] if found else None


def test_no_acknowledged_upload_has_fewer_than_two_copies(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
):
    replica = tmp_path / "replica"
    server = server_factory(SHUTTERBOX_WORKERS="0", SHUTTERBOX_REPLICA_URL=replica.as_uri())
    server.start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        auth = register(client, "alice")
    photos = [jpeg_bytes(1400, 1000, noise=True) for _ in range(8)]
    acknowledged: dict[str, str] = {}  # image id -> SHA-256 of what was sent
    cut_short: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def upload(worker: int) -> None:
        n = 0
        with httpx.Client(base_url=server.url, timeout=30) as own:
            while True:
                # fresh bytes every time: a duplicate would be answered with the first image
                photo = photos[(worker + n) % len(photos)] + worker.to_bytes(2) + n.to_bytes(4)
                n += 1
                try:
                    answer = own.post(
                        "/api/v1/images",
                        headers=auth,
                        files={"file": ("p.jpg", photo, "image/jpeg")},
                    )
                except httpx.TransportError as cut:
                    with lock:
                        cut_short.append(type(cut).__name__)
                    return
                if answer.status_code != 201:
                    continue
                with lock:
                    acknowledged[answer.json()["id"]] = hashlib.sha256(photo).hexdigest()
                    if len(acknowledged) >= KILL_AFTER:
                        enough.set()

    threads = [threading.Thread(target=upload, args=(w,)) for w in range(UPLOADERS)]
    for thread in threads:
        thread.start()
    assert enough.wait(120), "the uploads did not get going"
    server.kill()
    for thread in threads:
        thread.join(60)

    assert cut_short, "the kill should have cut uploads short"
    first = tmp_path / "data" / "blobs"
    with lock:
        checked = dict(acknowledged)
    for image_id, sha256 in checked.items():
        for root in (first, replica):
            copy = _copy(root, image_id)
            assert copy is not None, (image_id, root.name)
            assert hashlib.sha256(copy.read_bytes()).hexdigest() == sha256, (image_id, root.name)

    restarted = server_factory(SHUTTERBOX_WORKERS="0", SHUTTERBOX_REPLICA_URL=replica.as_uri())
    restarted.start()
    with httpx.Client(base_url=restarted.url, timeout=30) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "alice", "password": "correct horse"}
        ).json()["access_token"]
        for image_id in checked:
            got = client.get(
                f"/api/v1/images/{image_id}", headers={"Authorization": f"Bearer {token}"}
            )
            assert got.status_code == 200, (image_id, got.text)
    restarted.stop()
    # A copy stored for an upload the kill cut short is only an orphan, never a loss.
    code, report = scrub(
        tmp_path / "data", "--repair", "--grace-hours", "0", SHUTTERBOX_REPLICA_URL=replica.as_uri()
    )
    assert code in (0, 1), report
    assert {p["kind"] for p in report["problems"]} <= {"orphan", "stale_temporary"}, report
    assert all(p["repaired"] for p in report["problems"]), report
    assert_scrub_clean(tmp_path / "data", SHUTTERBOX_REPLICA_URL=replica.as_uri())
