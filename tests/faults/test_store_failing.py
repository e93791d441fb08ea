"""The blob store fails under a running server (a local directory that cannot be written; an
S3 endpoint that cannot be reached): uploads answer 503 with Retry-After and a clear message,
nothing half-written is left, and uploads work again once the store is back."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support.clients import register, wait_for_status
from tests.support.faults import assert_scrub_clean, assert_unavailable, upload_noisy
from tests.support.servers import S3Endpoint

pytestmark = pytest.mark.e2e


def image_rows(data_dir: Path) -> int:
    db = sqlite3.connect(data_dir / "shutterbox.db")
    try:
        return int(db.execute("select count(*) from images").fetchone()[0])
    finally:
        db.close()


def test_local_store_that_cannot_be_written_answers_503_and_recovers(server_factory):
    """chmod does not stop root, so the store is broken the way a failed mount looks: a file
    where a directory should be (writes fail with ENOTDIR/EEXIST for any user)."""
    server = server_factory(SHUTTERBOX_WORKERS="1")
    server.start()
    blobs = server.data_dir / "blobs"
    with httpx.Client(base_url=server.url, timeout=30) as client:
        auth = register(client, "alice")

        # the originals directory cannot be created: staged, then refused at publishing
        (blobs / "originals").write_text("not a directory")
        assert_unavailable(upload_noisy(client, auth, 1))
        assert not [p for p in (blobs / ".tmp").iterdir()]  # the staged copy is gone
        (blobs / "originals").unlink()

        # the whole store is gone: refused before a byte is staged
        away = blobs.with_name("blobs.away")
        blobs.rename(away)
        blobs.write_text("not a directory")
        assert_unavailable(upload_noisy(client, auth, 2))
        assert client.get("/readyz").status_code == 503
        blobs.unlink()
        away.rename(blobs)

        assert image_rows(server.data_dir) == 0
        created = upload_noisy(client, auth, 3)
        assert created.status_code == 201, created.text
        assert wait_for_status(client, created.json()["id"], auth)["status"] == "ready"
        assert client.get("/readyz").status_code == 200
    server.stop()
    assert_scrub_clean(server.data_dir)


def test_unreachable_s3_endpoint_answers_503_and_recovers(server_factory, proxies):
    endpoint = S3Endpoint()
    endpoint.start()
    try:
        bucket = endpoint.create_bucket()
        proxy = proxies("127.0.0.1", endpoint.port)
        env = {
            **endpoint.env,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}",
            "SHUTTERBOX_STORAGE_URL": f"s3://{bucket}/faults",
            "SHUTTERBOX_WORKERS": "1",
        }
        server = server_factory(**env)
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            auth = register(client, "alice")
            proxy.stop()
            started = time.monotonic()
            assert_unavailable(upload_noisy(client, auth, 1))
            assert time.monotonic() - started < 45  # refused, not hung
            assert image_rows(server.data_dir) == 0
            proxy.start()
            created = upload_noisy(client, auth, 2)
            assert created.status_code == 201, created.text
            assert wait_for_status(client, created.json()["id"], auth)["status"] == "ready"
        server.stop()
        assert_scrub_clean(server.data_dir, **env)
    finally:
        endpoint.stop()
