"""`shutterbox serve --api-processes N`: several API processes share one SQLite file and one
port, with the jobs in a worker process of their own."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status

pytestmark = pytest.mark.e2e

UPLOADS = 48


def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``: their command lines by process id."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:
            found[int(stat.parent.name)] = cmdline.replace(b"\0", b" ").decode()
    return found


def test_several_api_processes_take_concurrent_uploads_on_one_sqlite_file(server_factory):
    server = server_factory(
        serve_args=("--api-processes", "3", "--workers", "2"),
        SHUTTERBOX_JOB_POLL_SECONDS="0.2",
        SHUTTERBOX_UPLOAD_RATE="100000/minute",
    )
    server.start()
    assert server.process is not None
    children = _children(server.process.pid)
    commands = list(children.values())
    assert sum("spawn_main" in c for c in commands) == 3, commands  # the API processes
    assert sum(" worker " in c for c in commands) == 1, commands  # and one for the jobs

    with httpx.Client(base_url=server.url, timeout=60) as client:
        auth = register(client, "alice")

        def send(n: int) -> httpx.Response:
            return upload(client, auth, jpeg_bytes(400 + n, 300, noise=True), name=f"{n}.jpg")

        with ThreadPoolExecutor(12) as pool:
            responses = list(pool.map(send, range(UPLOADS)))
        assert [r.status_code for r in responses] == [201] * UPLOADS, [
            r.text for r in responses if r.status_code != 201
        ]
        ids = {r.json()["id"] for r in responses}
        assert len(ids) == UPLOADS
        for image_id in ids:
            assert wait_for_status(client, image_id, auth, timeout=120)["status"] == "ready"

        mine = client.get("/api/v1/users/alice/images", headers=auth, params={"limit": 100})
        assert {image["id"] for image in mine.json()["items"]} == ids

        # The metrics of every process, summed: each upload counted once, wherever it landed.
        text = client.get("/metrics").text
        counted = re.search(r"^shutterbox_uploads_total (\S+)$", text, re.MULTILINE)
        assert counted is not None, text[:2000]
        assert float(counted.group(1)) == UPLOADS

    assert server.stop() == 0
    log = server.log_path.read_text()
    assert "database is locked" not in log
    assert "Traceback" not in log
    deadline = time.monotonic() + 10
    while (alive := [pid for pid in children if _running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive, "a child process outlived the server"


def _running(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
