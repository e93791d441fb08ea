"""Rate limits hold across API nodes: two `shutterbox serve` nodes on one PostgreSQL database
(counting in the database, the default there, or in Redis) let a client have its limit once
in all, not once per node; and `serve --api-processes 2` on SQLite counts in the database
file that its processes share."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.cli import sqlite_rows
from tests.support.clients import register, upload
from tests.support.cluster import Backends, Cluster
from tests.support.servers import S3Endpoint, require_redis

pytestmark = pytest.mark.e2e

LIMIT = 4


def _wrong_password(username: str) -> dict[str, str]:
    return {"username": username, "password": "wrong horse"}


def _clear_of_the_hours_end() -> None:
    """The limits count per clock hour: start the test's requests well inside one."""
    left = 3600 - time.time() % 3600
    if left < 60:
        time.sleep(left + 1)


def _assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 3600


@pytest.fixture(params=["database", "redis"])
def cluster(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str, s3_endpoint: S3Endpoint
) -> Iterator[Cluster]:
    counted_in = {}
    if request.param == "redis":  # keys of this test's own: Redis outlives it
        redis = f"{require_redis()}?prefix=test-{uuid.uuid4().hex}:"
        counted_in["SHUTTERBOX_RATE_LIMIT_URL"] = redis
    backends = Backends(postgres_url, s3_endpoint, s3_endpoint.create_bucket())
    with Cluster(
        tmp_path / "run",
        backends,
        SHUTTERBOX_LOGIN_RATE=f"{LIMIT}/hour",
        SHUTTERBOX_UPLOAD_RATE=f"{LIMIT}/hour",
        **counted_in,
    ) as running:
        yield running


def test_the_limits_hold_across_two_api_nodes(cluster: Cluster):
    first, second = cluster.start_apis(2)  # both migrate the fresh database, one at a time
    with (
        httpx.Client(base_url=first.url, timeout=30) as one,
        httpx.Client(base_url=second.url, timeout=30) as other,
    ):
        nodes = [one, other]
        alice = register(one, "alice")
        _clear_of_the_hours_end()

        for n in range(LIMIT):  # failed logins, taking turns between the nodes
            assert (
                nodes[n % 2].post("/api/v1/auth/token", data=_wrong_password("alice")).status_code
                == 401
            )
        _assert_limited(one.post("/api/v1/auth/token", data=_wrong_password("alice")))
        _assert_limited(other.post("/api/v1/auth/token", data=_wrong_password("alice")))

        for n in range(LIMIT):
            assert upload(nodes[n % 2], alice, jpeg_bytes(64, 48)).status_code == 201
        _assert_limited(upload(other, alice, jpeg_bytes(64, 48)))
        _assert_limited(upload(one, alice, jpeg_bytes(64, 48)))


def test_api_processes_on_sqlite_count_in_the_shared_file(server_factory, tmp_path: Path):
    server = server_factory(
        serve_args=("--api-processes", "2", "--workers", "0"),
        SHUTTERBOX_LOGIN_RATE=f"{LIMIT}/hour",
    )
    server.start()
    _clear_of_the_hours_end()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(LIMIT):
            assert (
                client.post("/api/v1/auth/token", data=_wrong_password("alice")).status_code == 401
            )
        _assert_limited(client.post("/api/v1/auth/token", data=_wrong_password("alice")))
    rows = sqlite_rows(
        {"SHUTTERBOX_DATA_DIR": str(server.data_dir)},
        "SELECT key, hits FROM rate_limit_counters",
    )
    assert rows == [("login:alice|127.0.0.1", LIMIT)]
