"""PostgreSQL goes away under a running server (a proxy in front of it is stopped): the API
answers 503 with Retry-After, /readyz says not ready, and everything works again when the
database is back; nothing acknowledged is lost."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import httpx2 as httpx
import pytest

from tests.support.clients import register, wait_for_status
from tests.support.faults import assert_scrub_clean, assert_unavailable, upload_noisy
from tests.support.servers import postgres_database

pytestmark = pytest.mark.e2e


def test_unreachable_database_answers_503_and_recovers(server_factory, proxies):
    with postgres_database() as url:
        parsed = urlparse(url)
        assert parsed.hostname and parsed.port
        proxy = proxies(parsed.hostname, parsed.port)
        proxied = url.replace(f"{parsed.hostname}:{parsed.port}", f"127.0.0.1:{proxy.port}")
        env = {"SHUTTERBOX_DATABASE_URL": proxied, "SHUTTERBOX_WORKERS": "1"}
        server = server_factory(**env)
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            auth = register(client, "alice")
            before = upload_noisy(client, auth, 1)
            assert before.status_code == 201, before.text

            proxy.stop()
            for _ in range(2):  # the pooled connections were cut, then new ones are refused
                assert_unavailable(client.get("/api/v1/feed"))
            assert_unavailable(client.get(f"/api/v1/images/{before.json()['id']}", headers=auth))
            assert_unavailable(upload_noisy(client, auth, 2))
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"].startswith("error")
            assert client.get("/healthz").status_code == 200  # the process itself is fine

            proxy.start()
            # the database's breaker opened: it lets a trial through after its cool-down
            deadline = time.monotonic() + 60
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, client.get("/readyz").text
                time.sleep(0.25)
            assert client.get("/readyz").json()["breakers"] == {"database": "closed"}
            assert wait_for_status(client, before.json()["id"], auth)["status"] == "ready"
            again = upload_noisy(client, auth, 2)
            assert again.status_code == 201, again.text
            assert wait_for_status(client, again.json()["id"], auth)["status"] == "ready"
            feed = client.get("/api/v1/feed").json()["items"]
            assert {item["id"] for item in feed} == {before.json()["id"], again.json()["id"]}
        server.stop()
        assert_scrub_clean(server.data_dir, **env)
