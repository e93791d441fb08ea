"""Deleting an image purges its URLs from the configured edges before the DELETE answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.recording_edge import RecordingEdge
from tests.support.settings import make_settings


@pytest.fixture
def edge() -> Iterator[RecordingEdge]:
    recording = RecordingEdge()
    yield recording
    recording.close()


def _paths(image: dict, auth: dict) -> set[str]:
    urls = [v["url"] for v in image["variants"].values()] + [image["original"]["url"]]
    urls += [u for v in image["variants"].values() for u in v["formats"].values()]
    return {urlparse(u).path for u in urls}


def test_delete_purges_every_url_before_answering(tmp_path, edge: RecordingEdge):
    settings = make_settings(tmp_path / "data", cdn_purge_urls=f"{edge.url}, ")
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        image = wait_for_status(
            client, upload(client, auth, jpeg_bytes(1600, 1200)).json()["id"], auth
        )
        assert edge.purged == []
        assert client.delete(f"/api/v1/images/{image['id']}", headers=auth).status_code == 204
        assert set(edge.purged) == _paths(image, auth)
        assert len(edge.purged) == 10  # negotiated, JPEG and WebP URLs of 3 sizes; the original


def test_a_failed_purge_is_retried_by_a_job(tmp_path, edge: RecordingEdge):
    settings = make_settings(tmp_path / "data", cdn_purge_urls=edge.url)
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        image = wait_for_status(
            client, upload(client, auth, jpeg_bytes(1600, 1200)).json()["id"], auth
        )
        edge.status = 503
        assert client.delete(f"/api/v1/images/{image['id']}", headers=auth).status_code == 204
        assert len(edge.purged) == 10
        edge.status = 200  # the edge recovers; the purge job's next attempt goes through
        deadline = time.monotonic() + 15
        while len(edge.purged) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert set(edge.purged[10:]) == _paths(image, auth)
        metrics = client.get("/metrics").text
        (line,) = [
            x for x in metrics.splitlines() if x.startswith("shutterbox_purge_failures_total ")
        ]
        failures = float(line.split()[1])
        assert failures >= 10
