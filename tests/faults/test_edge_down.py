"""The Varnish edge goes away: the origin still serves every variant itself, and deleting an
image still answers at once; the purge the edge could not confirm is left to a job."""

from __future__ import annotations

import sqlite3
import time

import httpx2 as httpx
import pytest

from tests.support.clients import cached_at_edge
from tests.support.faults import assert_scrub_clean
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e


def test_edge_down_origin_serves_and_delete_answers(origin_factory, edge_factory):
    edge_port = free_port()
    origin = origin_factory(SHUTTERBOX_CDN_PURGE_URLS=f"http://127.0.0.1:{edge_port}")
    origin.start()
    edge = edge_factory(origin.port, port=edge_port)
    edge.start()
    with (
        httpx.Client(base_url=origin.url, timeout=30) as api,
        httpx.Client(base_url=edge.url, timeout=30) as cdn,
    ):
        auth, image, paths = cached_at_edge(api, cdn)

        edge.stop()
        for path in paths.values():
            direct = api.get(path)
            assert direct.status_code == 200 and direct.content
        started = time.monotonic()
        assert api.delete(f"/api/v1/images/{image['id']}", headers=auth).status_code == 204
        assert time.monotonic() - started < 10  # a bounded wait, not a hang
        for path in paths.values():
            assert api.get(path).status_code == 404
    db = sqlite3.connect(origin.data_dir / "shutterbox.db")
    try:
        pending = db.execute("select count(*) from jobs where kind = 'purge_media'").fetchone()
    finally:
        db.close()
    assert pending == (1,)  # the unconfirmed purge is retried later, by a job
    origin.stop()
    assert_scrub_clean(origin.data_dir)
