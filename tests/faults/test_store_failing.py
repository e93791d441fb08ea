"""The blob store fails under a running server (a local directory that cannot be written; an
S3 endpoint that cannot be reached): uploads answer 503 with Retry-After and a clear message,
nothing half-written is left, and uploads work again once the store is back."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from shutterbox.services.images.multipart_uploads import MIN_PART_BYTES
from tests.faults.conftest import ProxiedBucket
from tests.support.clients import register, wait_for_status
from tests.support.faults import assert_scrub_clean, assert_unavailable, upload_noisy

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


def test_unreachable_s3_endpoint_answers_503_and_recovers(
    server_factory, proxied_bucket: ProxiedBucket
):
    proxy = proxied_bucket.proxy
    env = {
        **proxied_bucket.env,
        "SHUTTERBOX_STORAGE_URL": f"s3://{proxied_bucket.bucket}/faults",
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


def test_uploads_in_parts_to_an_unreachable_bucket_answer_503_and_recover(
    server_factory, proxied_bucket: ProxiedBucket
):
    """The control-plane calls (boto3: starting a multipart upload, listing its parts) meet
    the same outage as the data plane: 503 with Retry-After, then the breaker opens; once the
    endpoint is back, the same upload starts and resumes."""
    proxy = proxied_bucket.proxy
    env = {
        **proxied_bucket.env,
        "SHUTTERBOX_STORAGE_URL": f"s3://{proxied_bucket.bucket}/faults",
        "SHUTTERBOX_WORKERS": "0",
        "SHUTTERBOX_BREAKER_FAILURES": "2",
        "SHUTTERBOX_BREAKER_COOLDOWN_SECONDS": "2",
    }
    server = server_factory(**env)
    server.start()
    size = 3 * MIN_PART_BYTES
    upload = {
        "filename": "big.png",
        "content_type": "image/png",
        "size": size,
        "multipart": True,
        "sha256": "ab" * 32,
    }
    with httpx.Client(base_url=server.url, timeout=60) as client:
        auth = register(client, "alice")
        proxy.stop()
        for _ in range(3):  # the last one meets the open breaker
            assert_unavailable(client.post("/api/v1/uploads", headers=auth, json=upload))
        assert 'shutterbox_breaker_state{dependency="store"} 2.0' in client.get("/metrics").text
        proxy.start()
        time.sleep(2.5)  # the cool-down: the next call is the trial
        started = client.post("/api/v1/uploads", headers=auth, json=upload)
        assert started.status_code == 201, started.text
        ticket = started.json()
        assert len(ticket["parts"]["to_send"]) == 3
        proxy.stop()
        assert_unavailable(client.get(f"/api/v1/uploads/{ticket['id']}", headers=auth))
        proxy.start()  # one failure: the breaker is still closed
        resumed = client.get(f"/api/v1/uploads/{ticket['id']}", headers=auth)
        assert resumed.status_code == 200, resumed.text
        assert len(resumed.json()["parts"]["to_send"]) == 3
