"""An API-only server and a separate `shutterbox worker` process share the work."""

from __future__ import annotations

import time

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import register
from tests.support.server import WorkerProcess

pytestmark = pytest.mark.e2e


def test_api_only_server_and_separate_worker(server_factory):
    server = server_factory(serve_args=("--no-workers",), SHUTTERBOX_JOB_POLL_SECONDS="0.2")
    server.start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        auth = register(client, "alice")
        image_id = client.post(
            "/api/v1/images", headers=auth, files={"file": ("a.jpg", jpeg_bytes(1000, 800))}
        ).json()["id"]
        time.sleep(1.0)
        body = client.get(f"/api/v1/images/{image_id}", headers=auth).json()
        assert body["status"] == "processing"  # nobody is working yet

        worker = WorkerProcess(
            server.data_dir, SHUTTERBOX_WORKERS="1", SHUTTERBOX_JOB_POLL_SECONDS="0.2"
        )
        worker.start()
        try:
            deadline = time.monotonic() + 60
            while body["status"] == "processing":
                assert time.monotonic() < deadline, worker.log_path.read_text()[-2000:]
                time.sleep(0.2)
                body = client.get(f"/api/v1/images/{image_id}", headers=auth).json()
        finally:
            exit_code = worker.stop()
        assert body["status"] == "ready"
        assert exit_code == 0  # stops cleanly on SIGTERM
