"""SIGKILL the API while a large upload is streaming in: the client sees an error, nothing
half-written is published under a real key, no row points at a missing blob, the staging
leftover is removed at the next start, and the scrub finds nothing wrong."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import register
from tests.support.faults import assert_scrub_clean

pytestmark = pytest.mark.e2e

BOUNDARY = "shutterbox-fault-boundary"


def multipart(photo: bytes) -> tuple[bytes, bytes]:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + photo, f"\r\n--{BOUNDARY}--\r\n".encode()


def test_killed_api_mid_upload_leaves_nothing_half_written(server_factory):
    server = server_factory(SHUTTERBOX_WORKERS="1")
    server.start()
    photo = jpeg_bytes(3000, 2000, noise=True)
    body, tail = multipart(photo)
    assert len(body) > 1_000_000
    with httpx.Client(base_url=server.url, timeout=30) as client:
        auth = register(client, "alice")

    def slow_body() -> Iterator[bytes]:
        chunk = 64 * 1024
        for offset in range(0, len(body), chunk):
            if offset >= len(body) // 2 and server.process and server.process.poll() is None:
                time.sleep(0.3)  # the server has read and staged the first half
                server.kill()
            yield body[offset : offset + chunk]
            time.sleep(0.005)
        yield tail

    headers = {**auth, "content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    with (
        httpx.Client(base_url=server.url, timeout=30) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.post("/api/v1/images", headers=headers, content=slow_body())
    assert server.process is not None and server.process.poll() is not None

    blobs = server.data_dir / "blobs"
    leftovers = [p for p in (blobs / ".tmp").iterdir() if p.is_file()]
    assert leftovers, "no staged half-upload: the kill came too late to prove anything"
    assert 0 < sum(p.stat().st_size for p in leftovers) < len(photo)
    assert not [p for p in blobs.rglob("*") if p.is_file() and ".tmp" not in p.parts]
    db = sqlite3.connect(server.data_dir / "shutterbox.db")
    try:
        assert db.execute("select count(*) from images").fetchone() == (0,)
    finally:
        db.close()

    # a process that died an hour ago left them: the next start removes them
    old = time.time() - 2 * 3600
    for path in leftovers:
        os.utime(path, (old, old))
    restarted = server_factory(SHUTTERBOX_WORKERS="1")
    restarted.start()
    assert not [p for p in leftovers if p.exists()]
    with httpx.Client(base_url=restarted.url, timeout=30) as client:
        created = client.post(
            "/api/v1/images", headers=auth, files={"file": ("big.jpg", photo, "image/jpeg")}
        )
        assert created.status_code == 201, created.text  # the same bytes, this time whole
        deadline = time.monotonic() + 60
        while client.get(created.headers["location"], headers=auth).json()["status"] != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.2)
    restarted.stop()
    assert_scrub_clean(server.data_dir)
