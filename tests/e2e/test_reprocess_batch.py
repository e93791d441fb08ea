"""`shutterbox reprocess` through the queue: the batch is bulk work any worker takes; a worker
killed mid-run loses nothing, and the same command run again resumes the batch instead of
starting over."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.imagegen import jpeg_bytes
from tests.support.cli import invoke, sqlite_rows
from tests.support.server import WorkerProcess

pytestmark = pytest.mark.e2e

PHOTOS = 12


def test_a_reprocess_batch_survives_a_killed_worker_and_resumes(tmp_path: Path, env):
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in range(PHOTOS):
        (folder / f"{n}.jpg").write_bytes(jpeg_bytes(1600 + n, 1200, noise=True))
    assert invoke(env, "users", "create", "dora", stdin="password1\npassword1\n").exit_code == 0
    result = invoke(env, "import", str(folder), "--user", "dora")
    assert result.exit_code == 0, result.output
    before = dict(sqlite_rows(env, "select image_id || name || format, sha256 from variants"))

    lower = {**env, "SHUTTERBOX_JPEG_QUALITY": "55", "SHUTTERBOX_JOB_LEASE_SECONDS": "2"}
    result = invoke(lower, "reprocess", "--all", "--no-wait")
    assert result.exit_code == 0, result.output
    assert f"{PHOTOS} images enqueued, {PHOTOS} in the batch" in result.output
    assert sqlite_rows(env, "select count(*), min(lane) from jobs") == [(PHOTOS, 2)]  # bulk lane

    worker = WorkerProcess(Path(env["SHUTTERBOX_DATA_DIR"]), **{**lower, "SHUTTERBOX_WORKERS": "1"})
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while sqlite_rows(env, "select count(*) from jobs")[0][0] > PHOTOS - 3:
            assert time.monotonic() < deadline, worker.log_path.read_text()[-2000:]
            time.sleep(0.05)
    finally:
        worker.kill()  # SIGKILL, mid-batch
    left = sqlite_rows(env, "select count(*) from jobs")[0][0]
    assert 0 < left < PHOTOS

    result = invoke(lower, "reprocess", "--all", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "resuming the unfinished batch" in result.output
    # Nothing enqueued twice: the images done before the kill were processed since the batch
    # began, the others still had their jobs (the killed worker's one came back with its lease).
    assert f"0 images enqueued (resuming the unfinished batch), {PHOTOS} in the batch" in (
        result.output
    )
    assert sqlite_rows(env, "select count(*) from jobs") == [(0,)]
    assert sqlite_rows(env, "select count(*) from batches where finished_at is null") == [(0,)]
    assert sqlite_rows(env, "select status, count(*) from images group by status") == [
        ("ready", PHOTOS)
    ]
    after = dict(sqlite_rows(env, "select image_id || name || format, sha256 from variants"))
    assert after.keys() == before.keys()
    jpegs = [k for k in after if k.endswith("jpeg")]
    assert len(jpegs) == PHOTOS * 3
    assert all(after[k] != before[k] for k in jpegs)  # every JPEG remade at quality 55


def test_an_import_survives_a_killed_worker_and_resumes(tmp_path: Path, env):
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in range(PHOTOS):
        (folder / f"{n}.jpg").write_bytes(jpeg_bytes(1500 + n, 1100, noise=True))
    assert invoke(env, "users", "create", "erin", stdin="password1\npassword1\n").exit_code == 0
    result = invoke(env, "import", str(folder), "--user", "erin", "--no-process")
    assert result.exit_code == 0, result.output
    assert f"{PHOTOS} imported" in result.output
    assert sqlite_rows(env, "select count(*), min(lane), max(lane) from jobs") == [(PHOTOS, 2, 2)]

    short_lease = {**env, "SHUTTERBOX_JOB_LEASE_SECONDS": "2"}
    worker = WorkerProcess(
        Path(env["SHUTTERBOX_DATA_DIR"]), **{**short_lease, "SHUTTERBOX_WORKERS": "1"}
    )
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while sqlite_rows(env, "select count(*) from images where status = 'ready'")[0][0] < 3:
            assert time.monotonic() < deadline, worker.log_path.read_text()[-2000:]
            time.sleep(0.05)
    finally:
        worker.kill()  # SIGKILL, mid-import
    left = sqlite_rows(env, "select count(*) from images where status = 'processing'")[0][0]
    assert 0 < left < PHOTOS

    # The same command again: nothing imported twice, and it waits for the rest.
    result = invoke(short_lease, "import", str(folder), "--user", "erin", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert f"0 imported ({left} ready, 0 failed), {PHOTOS} duplicates skipped" in result.output
    assert f"counting {left} photos of an earlier import still processing" in result.output
    assert sqlite_rows(env, "select status, count(*) from images group by status") == [
        ("ready", PHOTOS)
    ]
    assert sqlite_rows(env, "select count(*) from jobs") == [(0,)]
