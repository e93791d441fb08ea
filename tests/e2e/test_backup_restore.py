"""A backup taken while uploads go on, restored into an empty data directory: every image
acknowledged before the backup began is there, bytes intact, and the scrub is clean; a
second backup copies only what changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, wait_for_status
from tests.support.processes import shutterbox_command
from tests.support.server import ServerProcess


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHUTTERBOX_DATA_DIR": str(data_dir)}
    return subprocess.run(
        shutterbox_command(*args), env=env, capture_output=True, text=True, timeout=120
    )


def test_backup_while_uploading_then_restore(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
):
    server = server_factory(("--workers", "1"))
    server.start()
    backup_dir = tmp_path / "backup"
    with httpx.Client(base_url=server.url, timeout=30) as http:
        auth = register(http, "alice")
        before: dict[str, bytes] = {}
        for _ in range(4):
            photo = jpeg_bytes(800, 600, noise=True)
            created = http.post(
                "/api/v1/images", headers=auth, files={"file": ("p.jpg", photo, "image/jpeg")}
            )
            assert created.status_code == 201
            before[created.json()["id"]] = photo
        stop = threading.Event()

        def keep_uploading() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as own:
                n = 100
                while not stop.is_set():
                    photo = jpeg_bytes(640, 480, noise=True)
                    own.post(
                        "/api/v1/images",
                        headers=auth,
                        files={"file": ("q.jpg", photo, "image/jpeg")},
                    )
                    n += 1

        uploader = threading.Thread(target=keep_uploading)
        uploader.start()
        try:
            done = _cli(server.data_dir, "backup", str(backup_dir))
        finally:
            stop.set()
            uploader.join()
        assert done.returncode == 0, done.stderr
        again = _cli(server.data_dir, "backup", str(backup_dir))  # nothing much changed
        assert again.returncode == 0, again.stderr
        assert "0 blobs copied" in again.stdout or "unchanged" in again.stdout
    server.stop()

    restored_dir = tmp_path / "restored" / "data"
    restored = _cli(restored_dir, "restore", str(backup_dir))
    assert restored.returncode == 0, restored.stderr
    assert _cli(restored_dir, "restore", str(backup_dir)).returncode == 2  # not into a used one

    second = ServerProcess(restored_dir, serve_args=("--workers", "1"))
    second.start()
    try:
        with httpx.Client(base_url=second.url, timeout=30) as http:
            token = http.post(
                "/api/v1/auth/token", data={"username": "alice", "password": "correct horse"}
            )
            assert token.status_code == 200  # the account came along
            auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for image_id, photo in before.items():
                image = wait_for_status(http, image_id, auth, timeout=60)
                assert image["status"] == "ready"
                original = http.get(image["original"]["url"], headers=auth).content
                assert hashlib.sha256(original).digest() == hashlib.sha256(photo).digest()
        scrub = _cli(restored_dir, "scrub")
        assert scrub.returncode == 0, scrub.stdout + scrub.stderr
    finally:
        second.stop()
