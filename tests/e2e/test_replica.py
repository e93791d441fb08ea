"""A served installation with a replica directory: an original deleted and another
bit-flipped in the first store are still downloaded intact (from the replica, counted in the
metrics), `shutterbox scrub --repair` puts them back, and a lost replica is rebuilt."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, wait_for_status
from tests.support.faults import scrub
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e


def _scrub(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    return scrub(Path(env["SHUTTERBOX_DATA_DIR"]), *args, **env)


def _copy(root: Path, image_id: str) -> Path:
    (found,) = root.glob(f"originals/*/*/*/{image_id}.*")
    return found


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _replica_reads(http: httpx.Client) -> dict[str, float]:
    counts = {}
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("shutterbox_replica_reads_total{"):
            name, value = line.rsplit(" ", 1)
            counts[name.split('reason="')[1].split('"')[0]] = float(value)
    return counts


def test_replica_serves_repairs_and_is_rebuilt(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
):
    replica = tmp_path / "replica"
    env = {
        "SHUTTERBOX_DATA_DIR": str(tmp_path / "data"),
        "SHUTTERBOX_REPLICA_URL": replica.as_uri(),
    }
    server = server_factory(("--workers", "1"), SHUTTERBOX_REPLICA_URL=replica.as_uri())
    server.start()
    first = tmp_path / "data" / "blobs"
    with httpx.Client(base_url=server.url, timeout=30) as http:
        auth = register(http, "alice")
        photos: dict[str, bytes] = {}
        for _ in range(3):
            photo = jpeg_bytes(900, 700, noise=True)
            created = http.post(
                "/api/v1/images", headers=auth, files={"file": ("p.jpg", photo, "image/jpeg")}
            )
            assert created.status_code == 201, created.text
            photos[created.json()["id"]] = photo
            # acknowledged: both copies are there already
            assert _copy(first, created.json()["id"]).read_bytes() == photo
            assert _copy(replica, created.json()["id"]).read_bytes() == photo
        images = {i: wait_for_status(http, i, auth) for i in photos}
        assert all(image["status"] == "ready" for image in images.values())

        lost, damaged, _ = list(photos)  # the third stays intact
        _copy(first, lost).unlink()
        broken = bytearray(photos[damaged])
        broken[len(broken) // 2] ^= 0x55
        _copy(first, damaged).write_bytes(bytes(broken))

        before = _replica_reads(http)
        for image_id, image in images.items():
            got = http.get(image["original"]["url"], headers=auth)
            assert got.status_code == 200, got.text
            assert _sha(got.content) == _sha(photos[image_id]), image_id
        after = _replica_reads(http)
        assert after.get("missing", 0) - before.get("missing", 0) >= 1
        assert after.get("damaged", 0) - before.get("damaged", 0) >= 1

    code, report = _scrub(env)
    assert code == 1, report
    assert sorted(
        (p["kind"], p["image_id"], p["repairable"]) for p in report["problems"]
    ) == sorted([("missing_original", lost, True), ("original_mismatch", damaged, True)])
    code, report = _scrub(env, "--repair")
    assert code == 1 and all(p["repaired"] for p in report["problems"]), report
    for image_id, photo in photos.items():
        assert _copy(first, image_id).read_bytes() == photo
    assert _scrub(env)[0] == 0

    shutil.rmtree(replica / "originals")  # the replica's disk is lost
    code, report = _scrub(env)
    assert code == 1 and {p["kind"] for p in report["problems"]} == {"missing_replica"}
    assert _scrub(env, "--repair")[0] == 1
    for image_id, photo in photos.items():
        assert _copy(replica, image_id).read_bytes() == photo
    assert _scrub(env)[0] == 0
