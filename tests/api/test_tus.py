"""The tus protocol on the origin, request by request: creation, parts, offsets, checksums,
limits, termination and expiry. (A real tus client resuming a cut upload against a running
server: tests/e2e/test_resumable_uploads.py.)"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shutterbox import clock
from shutterbox.config import Settings
from shutterbox.entrypoints.http.app import create_app
from shutterbox.services.images import direct_uploads
from shutterbox.services.storage import scrub
from tests.imagegen import jpeg_bytes
from tests.support.app import with_services
from tests.support.clients import register, wait_for_status
from tests.support.settings import make_settings

TUS = {"Tus-Resumable": "1.0.0"}
PART = {**TUS, "Content-Type": "application/offset+octet-stream"}


def _metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


def _create(client: TestClient, auth: dict, length: int, **fields: str):
    headers = {**auth, **TUS, "Upload-Length": str(length)}
    if fields:
        headers["Upload-Metadata"] = _metadata(**fields)
    return client.post("/api/v1/tus/", headers=headers)


def _patch(client: TestClient, auth: dict, url: str, offset: int, data: bytes, **headers: str):
    return client.patch(
        url, headers={**auth, **PART, "Upload-Offset": str(offset), **headers}, content=data
    )


def _checksum(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def _parts_on_disk(settings: Settings) -> list[Path]:
    return [p for p in (settings.data_dir / "blobs" / "incoming").rglob("part-*") if p.is_file()]


@pytest.fixture
def photo() -> bytes:
    return jpeg_bytes(1200, 900, noise=True)


def test_options_advertise_the_protocol(client: TestClient, settings: Settings):
    answer = client.options("/api/v1/tus/")
    assert answer.status_code == 204
    assert answer.headers["tus-version"] == "1.0.0"
    assert answer.headers["tus-resumable"] == "1.0.0"
    assert set(answer.headers["tus-extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    }
    assert answer.headers["tus-checksum-algorithm"] == "sha256"
    assert answer.headers["tus-max-size"] == str(settings.max_upload_bytes)


def test_an_upload_in_parts_becomes_one_image(client: TestClient, settings: Settings, photo: bytes):
    auth = register(client, "alice")
    created = _create(
        client, auth, len(photo), filename="IMG_1.JPG", caption="in parts", tags="tus"
    )
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    assert created.headers["upload-offset"] == "0" and "upload-expires" in created.headers
    third = len(photo) // 3
    for offset in (0, third):
        part = photo[offset : offset + third]
        answer = _patch(client, auth, url, offset, part, **{"Upload-Checksum": _checksum(part)})
        assert answer.status_code == 204, answer.text
        assert answer.headers["upload-offset"] == str(offset + third)
    head = client.head(url, headers={**auth, **TUS})
    assert head.status_code == 200 and head.headers["upload-offset"] == str(2 * third)
    assert head.headers["upload-length"] == str(len(photo))
    assert head.headers["upload-metadata"] == _metadata(
        filename="IMG_1.JPG", caption="in parts", tags="tus"
    )
    assert head.headers["cache-control"] == "no-store"

    last = _patch(client, auth, url, 2 * third, photo[2 * third :])
    assert last.status_code == 204, last.text
    image_url = last.headers["shutterbox-image"]
    image = wait_for_status(client, image_url.rsplit("/", 1)[1], auth)
    assert image["status"] == "ready" and image["caption"] == "in parts"
    assert image["tags"] == ["tus"]
    assert client.get(image["original"]["url"], headers=auth).content == photo
    assert not _parts_on_disk(settings)  # the parts went once the image was made

    again = client.get(url, headers=auth)  # finishing again: the same image, not another
    assert again.status_code == 200 and again.json()["image"]["id"] == image["id"]
    assert _patch(client, auth, url, len(photo), b"").status_code == 409
    mine = client.get("/api/v1/users/alice/images", headers=auth).json()["items"]
    assert [i["id"] for i in mine] == [image["id"]]


def test_creation_with_upload(client: TestClient, photo: bytes):
    auth = register(client, "alice")
    headers = {**auth, **PART, "Upload-Length": str(len(photo))}
    created = client.post("/api/v1/tus/", headers=headers, content=photo)
    assert created.status_code == 201, created.text
    assert created.headers["upload-offset"] == str(len(photo))
    assert created.headers["shutterbox-image"].startswith("/api/v1/images/")


def test_a_wrong_checksum_keeps_nothing(client: TestClient, settings: Settings, photo: bytes):
    auth = register(client, "alice")
    url = _create(client, auth, len(photo)).headers["location"]
    answer = _patch(client, auth, url, 0, photo[:1000], **{"Upload-Checksum": _checksum(b"x")})
    assert answer.status_code == 460 and answer.json()["code"] == "checksum_mismatch"
    assert answer.headers["tus-resumable"] == "1.0.0"
    assert client.head(url, headers={**auth, **TUS}).headers["upload-offset"] == "0"
    assert not _parts_on_disk(settings)
    unknown = _patch(client, auth, url, 0, photo[:10], **{"Upload-Checksum": "md5 AAAA"})
    assert unknown.status_code == 400 or unknown.status_code == 422


def test_an_offset_that_is_not_the_uploads_is_a_conflict(client: TestClient, photo: bytes):
    auth = register(client, "alice")
    url = _create(client, auth, len(photo)).headers["location"]
    assert _patch(client, auth, url, 0, photo[:500]).status_code == 204
    stale = _patch(client, auth, url, 0, photo[:500])  # a retry of a part that did arrive
    assert stale.status_code == 409
    assert "offset 500" in stale.json()["detail"]
    assert client.head(url, headers={**auth, **TUS}).headers["upload-offset"] == "500"


def test_limits(client: TestClient, settings: Settings, photo: bytes):
    auth = register(client, "alice")
    too_big = _create(client, auth, settings.max_upload_bytes + 1)
    assert too_big.status_code == 413
    url = _create(client, auth, 100).headers["location"]
    past_the_end = _patch(client, auth, url, 0, photo[:101])
    assert past_the_end.status_code == 413
    assert client.head(url, headers={**auth, **TUS}).headers["upload-offset"] == "0"
    assert client.post("/api/v1/tus/", headers={**auth, **TUS}).status_code == 422  # no length
    no_version = client.post("/api/v1/tus/", headers={**auth, "Upload-Length": "10"})
    assert no_version.status_code == 412 and no_version.headers["tus-version"] == "1.0.0"
    wrong_type = client.patch(url, headers={**auth, **TUS, "Upload-Offset": "0"}, content=b"x")
    assert wrong_type.status_code == 415
    bad_details = _create(client, auth, 100, visibility="everyone")
    assert bad_details.status_code == 422
    assert client.post("/api/v1/tus/", headers={**TUS, "Upload-Length": "10"}).status_code == 401


def test_someone_elses_upload_is_not_found(client: TestClient, photo: bytes):
    alice, bob = register(client, "alice"), register(client, "bob")
    url = _create(client, alice, len(photo)).headers["location"]
    assert client.head(url, headers={**bob, **TUS}).status_code == 404
    assert _patch(client, bob, url, 0, photo).status_code == 404
    assert client.delete(url, headers={**bob, **TUS}).status_code == 404


def test_not_a_picture_is_refused_at_the_end_and_nothing_stays(
    client: TestClient, settings: Settings
):
    auth = register(client, "alice")
    data = b"%PDF-1.7 not a picture" * 100
    url = _create(client, auth, len(data)).headers["location"]
    assert _patch(client, auth, url, 0, data[:1000]).status_code == 204
    refused = _patch(client, auth, url, 1000, data[1000:])
    assert refused.status_code == 415
    assert client.head(url, headers={**auth, **TUS}).status_code == 404
    assert not _parts_on_disk(settings)


def test_termination_removes_the_bytes(client: TestClient, settings: Settings, photo: bytes):
    auth = register(client, "alice")
    url = _create(client, auth, len(photo)).headers["location"]
    assert _patch(client, auth, url, 0, photo[:2000]).status_code == 204
    assert _parts_on_disk(settings)
    gone = client.delete(url, headers={**auth, **TUS})
    assert gone.status_code == 204
    assert not _parts_on_disk(settings)
    assert client.head(url, headers={**auth, **TUS}).status_code == 404


@pytest.fixture
def short_lived(tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    settings = make_settings(
        tmp_path / "data", resumable_upload_expiry_seconds=60, direct_upload_grace_seconds=0
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client, settings


def test_an_expired_upload_is_gone_and_its_parts_removed(
    short_lived: tuple[TestClient, Settings], photo: bytes, monkeypatch: pytest.MonkeyPatch
):
    client, settings = short_lived
    auth = register(client, "alice")
    url = _create(client, auth, len(photo)).headers["location"]
    assert _patch(client, auth, url, 0, photo[:2000]).status_code == 204
    monkeypatch.setattr(clock, "_offset", timedelta(minutes=2))  # the upload's time is up
    assert client.head(url, headers={**auth, **TUS}).status_code == 410
    assert _patch(client, auth, url, 2000, photo[2000:]).status_code == 410
    assert with_services(client, direct_uploads.clean_up_abandoned) == 1
    assert not _parts_on_disk(settings)
    assert client.head(url, headers={**auth, **TUS}).status_code == 404


def test_the_scrub_leaves_the_parts_of_an_upload_under_way(
    short_lived: tuple[TestClient, Settings], photo: bytes
):
    client, settings = short_lived
    auth = register(client, "alice")
    url = _create(client, auth, len(photo)).headers["location"]
    assert _patch(client, auth, url, 0, photo[:2000]).status_code == 204

    async def scrub_now(services):  # type: ignore[no-untyped-def]
        return await scrub.scrub(services, repair=True, grace=timedelta(0))

    report = with_services(client, scrub_now)
    assert [p for p in report.problems if "incoming" in str(p)] == []
    assert _parts_on_disk(settings)
    assert client.head(url, headers={**auth, **TUS}).headers["upload-offset"] == "2000"
