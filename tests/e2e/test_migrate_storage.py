"""`shutterbox migrate-storage` on a served installation: killed halfway and run again, every
blob ends in the target with the source's SHA-256; the service switched to the target serves
every image and the scrub is clean. Originals keep their storage class, a damaged source
original is reported and not copied, and what the service writes or removes meanwhile is
caught by the next run."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from shutterbox.adapters.migration_record import record_path, verified_keys
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, wait_for_status
from tests.support.ports import free_port
from tests.support.processes import shutterbox_command
from tests.support.server import ServerProcess
from tests.support.servers import S3Endpoint

pytestmark = pytest.mark.e2e


def _cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        shutterbox_command(*args),
        env={**os.environ, "SHUTTERBOX_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _upload(http: httpx.Client, auth: dict[str, str], *, private: bool = False) -> str:
    photo = jpeg_bytes(640, 480, noise=True)
    fields = {"visibility": "private"} if private else {}
    created = http.post(
        "/api/v1/images",
        headers=auth,
        files={"file": ("p.jpg", photo, "image/jpeg")},
        data=fields,
    )
    assert created.status_code == 201, created.text
    image_id: str = created.json()["id"]
    assert wait_for_status(http, image_id, auth, timeout=60)["status"] == "ready"
    return image_id


def _local_hashes(root: Path) -> dict[str, str]:
    """Every blob of a local store directory (not its temporary files) and its SHA-256."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).parts[0] != ".tmp"
    }


def _bucket_hashes(endpoint: S3Endpoint, bucket: str, prefix: str) -> dict[str, str]:
    client = endpoint.client()
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            found[entry["Key"].removeprefix(prefix)] = hashlib.sha256(body).hexdigest()
    return found


def _verified_keys(data_dir: Path, target: str) -> int:
    return verified_keys(record_path(data_dir / "migrations", target))


def _switch_and_check(
    server_factory: Callable[..., ServerProcess],
    target: str,
    auth: dict[str, str],
    ids: list[str],
    hashes: set[str],
) -> None:
    """The service started on the target serves every image's variants and original with
    bytes the source held, and the scrub on the target is clean."""
    switched = server_factory(("--workers", "1"), SHUTTERBOX_STORAGE_URL=target)
    switched.start()
    with httpx.Client(base_url=switched.url, timeout=30, follow_redirects=True) as http:
        for image_id in ids:
            image: dict[str, Any] = http.get(f"/api/v1/images/{image_id}", headers=auth).json()
            assert image["status"] == "ready", image
            urls = [v["url"] for v in image["variants"].values()] + [image["original"]["url"]]
            for url in urls:
                got = http.get(url, headers=auth)
                assert got.status_code == 200, (url, got.status_code)
                assert hashlib.sha256(got.content).hexdigest() in hashes, url
    switched.stop()
    scrub = _cli(switched.data_dir, "scrub", SHUTTERBOX_STORAGE_URL=target)
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr


def test_killed_migration_to_s3_resumes_and_the_switched_service_serves_everything(
    tmp_path: Path, server_factory: Callable[..., ServerProcess], s3_endpoint: S3Endpoint
):
    server = server_factory(("--workers", "1"))
    server.start()
    data_dir = server.data_dir
    bucket = s3_endpoint.create_bucket()
    target = f"s3://{bucket}/moved"
    with httpx.Client(base_url=server.url, timeout=30) as http:
        auth = register(http, "alice")
        ids = [_upload(http, auth, private=n % 3 == 0) for n in range(8)]
        total = len(_local_hashes(data_dir / "blobs"))

        first = subprocess.Popen(
            shutterbox_command("migrate-storage", "--to", target, "--jobs", "1"),
            env={**os.environ, "SHUTTERBOX_DATA_DIR": str(data_dir)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while _verified_keys(data_dir, target) < 5 and time.monotonic() < deadline:
            assert first.poll() is None, "the migration ended before it could be killed"
            time.sleep(0.005)
        assert first.poll() is None, "the migration ended before it could be killed"
        os.killpg(first.pid, 9)
        first.wait(timeout=15)
        done_before_kill = _verified_keys(data_dir, target)
        assert 5 <= done_before_kill < total

        ids.append(_upload(http, auth))  # written by the service between the two runs
        second = _cli(data_dir, "migrate-storage", "--to", target)
        assert second.returncode == 0, second.stdout + second.stderr
        assert f"{done_before_kill} already there" in second.stdout, second.stdout
    server.stop()

    last = _cli(data_dir, "migrate-storage", "--to", target)  # with the writers stopped
    assert last.returncode == 0, last.stdout + last.stderr
    assert "0 blobs copied" in last.stdout, last.stdout
    source = _local_hashes(data_dir / "blobs")
    assert _bucket_hashes(s3_endpoint, bucket, "moved/") == source

    _switch_and_check(server_factory, target, auth, ids, set(source.values()))


def _set_class(data_dir: Path, image_id: str, storage_class: str) -> str:
    """Move an image's original into another class location of the local store, as the
    lifecycle pass does; its key."""
    db = sqlite3.connect(data_dir / "shutterbox.db")
    try:
        (key,) = db.execute("SELECT original_key FROM images WHERE id = ?", (image_id,)).fetchone()
        db.execute(
            "UPDATE images SET original_storage_class = ? WHERE id = ?", (storage_class, image_id)
        )
        db.commit()
    finally:
        db.close()
    moved = data_dir / f"blobs-{storage_class.lower()}" / key
    moved.parent.mkdir(parents=True, exist_ok=True)
    (data_dir / "blobs" / key).rename(moved)
    return str(key)


def _original_key(data_dir: Path, image_id: str) -> str:
    db = sqlite3.connect(data_dir / "shutterbox.db")
    try:
        row = db.execute("SELECT original_key FROM images WHERE id = ?", (image_id,)).fetchone()
    finally:
        db.close()
    return str(row[0])


def test_local_to_local_keeps_classes_refuses_damage_and_catches_up(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
):
    server = server_factory(("--workers", "1"), SHUTTERBOX_TRASH_RETENTION_DAYS="0")
    server.start()
    data_dir = server.data_dir
    target_dir = tmp_path / "elsewhere" / "blobs"
    target = target_dir.as_uri()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        auth = register(http, "bob")
        ids = [_upload(http, auth, private=n == 0) for n in range(3)]
        infrequent = _set_class(data_dir, ids[1], "STANDARD_IA")
        damaged = data_dir / "blobs" / _original_key(data_dir, ids[2])
        good = damaged.read_bytes()
        damaged.write_bytes(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:])

        first = _cli(data_dir, "migrate-storage", "--to", target, "--jobs", "2")
        assert first.returncode == 1, first.stdout + first.stderr
        assert "1 problems" in first.stdout
        assert f"damaged: {_original_key(data_dir, ids[2])}" in first.stderr, first.stderr
        assert not (target_dir / _original_key(data_dir, ids[2])).exists()
        assert (target_dir.parent / "blobs-standard_ia" / infrequent).is_file()
        assert not (target_dir / infrequent).exists()

        damaged.write_bytes(good)  # restored from a backup
        ids.append(_upload(http, auth))  # a new upload while the first pass ran
        gone = ids.pop(0)
        gone_key = _original_key(data_dir, gone)
        assert http.delete(f"/api/v1/images/{gone}", headers=auth).status_code == 204
        deadline = time.monotonic() + 30
        while (data_dir / "blobs" / gone_key).exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # its bytes are removed in the background
        second = _cli(data_dir, "migrate-storage", "--to", target, "--delete")
        assert second.returncode == 0, second.stdout + second.stderr
        # the repaired one + 5 new (a 640 px photo: its original, thumb and medium in two
        # formats), and the 5 of the deleted one removed
        assert "6 blobs copied" in second.stdout, second.stdout
        assert "5 removed" in second.stdout, second.stdout
    server.stop()

    source = _local_hashes(data_dir / "blobs")
    source.update(_local_hashes(data_dir / "blobs-standard_ia"))
    copied = _local_hashes(target_dir)
    copied.update(_local_hashes(target_dir.parent / "blobs-standard_ia"))
    assert copied == source

    _switch_and_check(server_factory, target, auth, ids, set(source.values()))


def test_bad_targets_are_refused_in_one_line(tmp_path: Path):
    data_dir = tmp_path / "data"
    own = (data_dir / "blobs").resolve().as_uri()
    for target, why in [
        (own, "own store"),
        (f"{own}/inside", "one inside the other"),
        ("ftp://example.com/x", "unsupported storage URL"),
        ("s3://no-such-endpoint/x", "cannot reach s3://no-such-endpoint/x"),
    ]:
        closed = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "AWS_ALLOW_HTTP": "true"}
        refused = _cli(data_dir, "migrate-storage", "--to", target, **closed)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert refused.stderr.count("\n") == 1 and why in refused.stderr, refused.stderr
