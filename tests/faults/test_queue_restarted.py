"""NATS JetStream is killed (SIGKILL) while jobs are in flight and restarted on the same port
and store directory: every image still ends ready exactly once, because the jobs table is the
source of truth and the sweeper republishes what the queue lost."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import register
from tests.support.faults import assert_scrub_clean
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess, port_open
from tests.support.servers import unavailable

pytestmark = pytest.mark.e2e


class PrivateNats(ManagedProcess):
    """A nats-server of this test's own, with JetStream storing in ``store_dir``; ``kill``
    (SIGKILL) and ``start`` again keep its port and its store."""

    def __init__(self, store_dir: Path) -> None:
        self.port = free_port()
        self.store_dir = store_dir
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        super().__init__(
            "nats-server",
            [binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(store_dir)],
            log_path=None,
            ready=port_open(self.url),
            ready_interval=0.05,
        )

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        super().start(timeout)


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[PrivateNats]:
    if not (shutil.which("nats-server") or Path("/usr/sbin/nats-server").exists()):
        unavailable("nats-server")
    server = PrivateNats(tmp_path / "jetstream")
    server.start()
    yield server
    server.kill()


def test_queue_killed_and_restarted_mid_stream_loses_no_job(server_factory, nats):
    env = {
        "SHUTTERBOX_QUEUE_URL": nats.url,
        "SHUTTERBOX_WORKERS": "1",
        "SHUTTERBOX_QUEUE_SWEEP_SECONDS": "1",
        "SHUTTERBOX_JOB_LEASE_SECONDS": "3",
    }
    server = server_factory(**env)
    server.start()
    count = 12
    photos = [jpeg_bytes(2400 + n, 1600, noise=True) for n in range(count)]
    with httpx.Client(base_url=server.url, timeout=60) as client:
        auth = register(client, "alice")
        ids = []
        for n, photo in enumerate(photos):
            if n == count // 2:
                nats.kill()  # half uploaded and queued, some being processed
            if n == count // 2 + 1:
                nats.start()  # one upload was accepted while the queue was down
            created = client.post(
                "/api/v1/images", headers=auth, files={"file": ("p.jpg", photo, "image/jpeg")}
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        deadline = time.monotonic() + 120
        while True:
            statuses = [
                client.get(f"/api/v1/images/{i}", headers=auth).json()["status"] for i in ids
            ]
            if set(statuses) == {"ready"}:
                break
            assert "failed" not in statuses, statuses
            assert time.monotonic() < deadline, (statuses, server.log_path.read_text()[-3000:])
            time.sleep(0.5)
    server.stop()

    db = sqlite3.connect(server.data_dir / "shutterbox.db")
    try:
        assert db.execute("select count(*) from images").fetchone() == (count,)
        assert db.execute("select count(*) from variants").fetchone() == (count * 6,)
        assert db.execute("select count(*) from jobs where kind = 'process_image'").fetchone() == (
            0,
        )
    finally:
        db.close()
    assert len(list((server.data_dir / "blobs" / "originals").rglob("*.jpg"))) == count
    assert_scrub_clean(server.data_dir, **env)
