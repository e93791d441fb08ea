"""A user's photos taken out of one installation and brought into another: exported with the
CLI and over HTTP (the same bytes, resumable with Range), imported into a fresh data
directory, where the same originals arrive with the same details and are processed."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, wait_for_status
from tests.support.processes import shutterbox_command
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e

EXPORT = "/api/v1/users/me/export"
COMPARED = ("caption", "tags", "alt_text", "location", "visibility", "created_at", "taken_at")


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHUTTERBOX_DATA_DIR": str(data_dir), "SHUTTERBOX_WORKERS": "1"}
    return subprocess.run(
        shutterbox_command(*args), env=env, capture_output=True, text=True, timeout=300
    )


def _library(http: httpx.Client, auth: dict[str, str], username: str) -> dict[str, Any]:
    """The user's images as they see them (private ones too), by the SHA-256 of the original."""
    listed = http.get(f"/api/v1/users/{username}/images?limit=100", headers=auth)
    assert listed.status_code == 200, listed.text
    return {image["original"]["sha256"]: image for image in listed.json()["items"]}


def _upload_varied(http: httpx.Client, auth: dict[str, str]) -> None:
    forms: list[dict[str, str]] = [
        {"caption": "harbour at dawn", "tags": "sea, boats", "location": "Bergen"},
        {"visibility": "private", "alt_text": "a cat asleep on a chair", "tags": "cat"},
        {"caption": "summit", "location": "Galdhøpiggen", "lat": "61.6364", "lon": "8.3124"},
        {},
    ]
    for n, form in enumerate(forms):
        photo = jpeg_bytes(640 + n * 16, 480, noise=True)
        created = http.post(
            "/api/v1/images",
            headers=auth,
            files={"file": ("p.jpg", photo, "image/jpeg")},
            data=form,
        )
        assert created.status_code == 201, created.text
        assert wait_for_status(http, created.json()["id"], auth, timeout=60)["status"] == "ready"
    trashed = http.post(
        "/api/v1/images",
        headers=auth,
        files={"file": ("t.jpg", jpeg_bytes(300, 200, noise=True), "image/jpeg")},
    )
    assert http.delete(f"/api/v1/images/{trashed.json()['id']}", headers=auth).status_code == 204


def _check_http_export(http: httpx.Client, auth: dict[str, str], from_cli: bytes) -> None:
    whole = http.get(EXPORT, headers=auth)
    assert whole.status_code == 200, whole.text
    assert whole.content == from_cli  # one layout, one set of bytes
    assert int(whole.headers["content-length"]) == len(from_cli)
    assert whole.headers["content-disposition"] == (
        'attachment; filename="shutterbox-export-alice.tar"'
    )
    etag = whole.headers["etag"]
    cut = len(from_cli) * 3 // 7 + 5  # anywhere: inside a header, a sidecar or a photo
    first = http.get(EXPORT, headers={**auth, "range": f"bytes=0-{cut - 1}", "if-range": etag})
    rest = http.get(EXPORT, headers={**auth, "range": f"bytes={cut}-", "if-range": etag})
    assert (first.status_code, rest.status_code) == (206, 206)
    assert rest.headers["content-range"] == f"bytes {cut}-{len(from_cli) - 1}/{len(from_cli)}"
    assert first.content + rest.content == from_cli
    stale = http.get(EXPORT, headers={**auth, "range": f"bytes={cut}-", "if-range": '"old"'})
    assert stale.status_code == 200 and stale.content == from_cli
    beyond = http.get(EXPORT, headers={**auth, "range": f"bytes={len(from_cli)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(from_cli)}"
    head = http.head(EXPORT, headers=auth)
    assert head.headers["content-length"] == str(len(from_cli)) and head.headers["etag"] == etag


def _manifest(archive: bytes) -> dict[str, Any]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        found = opened.extractfile("shutterbox-export.json")
        assert found is not None
        loaded: dict[str, Any] = json.loads(found.read())
        return loaded


def test_export_then_import_into_a_fresh_installation(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
):
    source = server_factory(("--workers", "1"))
    source.start()
    exported = tmp_path / "alice.tar"
    with httpx.Client(base_url=source.url, timeout=60) as http:
        alice = register(http, "alice")
        bob = register(http, "bob")
        _upload_varied(http, alice)
        http.post(
            "/api/v1/images",
            headers=bob,
            files={"file": ("b.jpg", jpeg_bytes(200, 200, noise=True), "image/jpeg")},
        )
        before = _library(http, alice, "alice")
        assert len(before) == 4

        done = _cli(source.data_dir, "export", "--user", "alice", "--output", str(exported))
        assert done.returncode == 0, done.stderr
        assert "exported 4 images" in done.stdout
        from_cli = exported.read_bytes()
        assert _manifest(from_cli)["images"] == 4
        _check_http_export(http, alice, from_cli)

        bobs = http.get(EXPORT, headers=bob)
        assert bobs.status_code == 200
        assert (_manifest(bobs.content)["username"], _manifest(bobs.content)["images"]) == (
            "bob",
            1,
        )
        assert http.get(EXPORT).status_code == 401
    source.stop()

    fresh = tmp_path / "fresh" / "data"
    created = _cli(fresh, "users", "create", "alice", "--password", "correct horse")
    assert created.returncode == 0, created.stderr
    imported = _cli(fresh, "import", str(exported), "--user", "alice")
    assert imported.returncode == 0, imported.stderr
    assert "4 imported (4 ready, 0 failed), 0 duplicates skipped, 0 refused" in imported.stdout
    again = _cli(fresh, "import", str(exported), "--user", "alice")
    assert "0 imported" in again.stdout and "4 duplicates skipped" in again.stdout

    second = ServerProcess(fresh, serve_args=("--workers", "1"))
    second.start()
    try:
        with httpx.Client(base_url=second.url, timeout=60) as http:
            token = http.post(
                "/api/v1/auth/token", data={"username": "alice", "password": "correct horse"}
            )
            auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
            after = _library(http, auth, "alice")
            assert after.keys() == before.keys()  # the same originals, by SHA-256
            for sha256, image in after.items():
                assert image["status"] == "ready"
                assert {f: image[f] for f in COMPARED} == {f: before[sha256][f] for f in COMPARED}
                original = http.get(image["original"]["url"], headers=auth)
                assert original.status_code == 200
                assert hashlib.sha256(original.content).hexdigest() == sha256
            assert list(after) == list(before)  # the profile in the same order
    finally:
        second.stop()
