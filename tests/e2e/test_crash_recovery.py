"""SIGKILL the serving process while uploads are being processed; nothing is lost or doubled."""

from __future__ import annotations

import hashlib
import sqlite3
import time

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import register

pytestmark = pytest.mark.e2e


def _statuses(client: httpx.Client, auth: dict, ids: list[str]) -> dict[str, str]:
    return {i: client.get(f"/api/v1/images/{i}", headers=auth).json()["status"] for i in ids}


def test_killed_server_finishes_every_upload_exactly_once_after_restart(server_factory):
    env = {"SHUTTERBOX_WORKERS": "1", "SHUTTERBOX_JOB_LEASE_SECONDS": "3"}
    server = server_factory(**env)
    server.start()
    photos = [jpeg_bytes(3000 + n, 2000, noise=True) for n in range(20)]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        auth = register(client, "alice")
        ids = []
        for photo in photos:
            response = client.post(
                "/api/v1/images", headers=auth, files={"file": ("p.jpg", photo, "image/jpeg")}
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        # kill while work is in progress: at least one done, most still waiting
        deadline = time.monotonic() + 60
        while "ready" not in _statuses(client, auth, ids).values():
            assert time.monotonic() < deadline, "nothing was processed"
            time.sleep(0.05)
    server.kill()
    before = _count_ready(server.data_dir)
    assert before < 20, "everything finished before the kill; the test proves nothing"

    restarted = server_factory(**env)
    restarted.start()
    with httpx.Client(base_url=restarted.url, timeout=30) as client:
        deadline = time.monotonic() + 180
        while set(_statuses(client, auth, ids).values()) != {"ready"}:
            assert time.monotonic() < deadline, _statuses(client, auth, ids)
            time.sleep(0.5)
        listed = []
        cursor = None
        while True:
            page = client.get(
                "/api/v1/users/alice/images",
                params={"limit": 7, **({"cursor": cursor} if cursor else {})},
                headers=auth,
            ).json()
            listed += [item["id"] for item in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert sorted(listed) == sorted(ids)  # each image exactly once
        for image_id, photo in zip(ids, photos, strict=True):
            image = client.get(f"/api/v1/images/{image_id}", headers=auth).json()
            assert image["original"]["sha256"] == hashlib.sha256(photo).hexdigest()
            for variant in image["variants"].values():
                body = client.get(variant["url"]).content
                assert client.get(variant["url"]).headers["etag"] == (
                    f'"{hashlib.sha256(body).hexdigest()}"'
                )

    blobs = server.data_dir / "blobs"
    assert len(list((blobs / "originals").rglob("*.jpg"))) == 20
    assert len(list((blobs / "variants").rglob("*.jpg"))) == 60
    assert len(list((blobs / "variants").rglob("*.webp"))) == 60
    db = sqlite3.connect(server.data_dir / "shutterbox.db")
    try:
        assert db.execute("select count(*) from images").fetchone() == (20,)
        assert db.execute("select count(*) from variants").fetchone() == (120,)  # JPEG + WebP
        assert db.execute(
            "select count(*) from jobs where kind != 'lifecycle_pass'"
        ).fetchone() == (0,)
    finally:
        db.close()


def _count_ready(data_dir) -> int:
    db = sqlite3.connect(data_dir / "shutterbox.db")
    try:
        (count,) = db.execute("select count(*) from images where status='ready'").fetchone()
        return int(count)
    finally:
        db.close()
