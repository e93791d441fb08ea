"""A dependency that stops answering (a TCP proxy in front of it that accepts connections and
never answers, not one that refuses them): the calls wait for their deadline and fail, the
dependency's circuit breaker opens, and from then on a request that needs it is answered 503
with Retry-After at once; `/readyz` and `/metrics` show the breaker open. When the proxy
forwards again the breaker lets a trial call through, closes, and everything works: the
uploads acknowledged before and after are all there, and the scrub is clean.

The deadlines and the cool-down are set short here so that the test is quick; their defaults
are in docs/configuration.md."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import httpx2 as httpx
import pytest

from tests.faults.conftest import ProxiedBucket
from tests.support.clients import register, wait_for_status
from tests.support.faults import TcpProxy, assert_scrub_clean, assert_unavailable, upload_noisy
from tests.support.server import ServerProcess
from tests.support.servers import (
    NATS_URL,
    KafkaBroker,
    free_port,
    postgres_database,
    require_nats,
)

pytestmark = pytest.mark.e2e

FAST = {
    "SHUTTERBOX_WORKERS": "1",
    "SHUTTERBOX_BREAKER_FAILURES": "2",
    "SHUTTERBOX_BREAKER_COOLDOWN_SECONDS": "3",
}
PATIENCE = 120.0  # the longest any wait below may take before the test fails
QUEUE_PATIENCE = 10.0  # an upload while the queue is silent: its deadline, and the upload


def breaker_state(client: httpx.Client, dependency: str) -> tuple[int, str, float]:
    """(status of /readyz, the breaker's state there, its gauge in /metrics)."""
    ready = client.get("/readyz")
    exported = client.get("/metrics").text
    gauge = re.search(
        rf'^shutterbox_breaker_state\{{dependency="{dependency}"\}} (\S+)$', exported, re.M
    )
    assert gauge, exported[-2000:]
    return ready.status_code, ready.json()["breakers"][dependency], float(gauge.group(1))


def openings(client: httpx.Client, dependency: str) -> float:
    exported = client.get("/metrics").text
    found = re.search(
        rf'^shutterbox_breaker_openings_total\{{dependency="{dependency}"\}} (\S+)$',
        exported,
        re.M,
    )
    assert found, exported[-2000:]
    return float(found.group(1))


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not check():
        assert time.monotonic() < deadline, f"{what} after {PATIENCE}s"
        time.sleep(0.25)


def assert_opens(client: httpx.Client, dependency: str) -> None:
    """The breaker opens (the calls in flight end at their deadline, then it stays open for
    its cool-down): /readyz answers 503 and says so, /metrics exports 2."""
    wait_until(
        lambda: breaker_state(client, dependency) == (503, "open", 2.0),
        f"the {dependency} breaker is not open",
    )
    assert openings(client, dependency) >= 1


def assert_closes(client: httpx.Client, dependency: str) -> None:
    wait_until(
        lambda: breaker_state(client, dependency) == (200, "closed", 0.0),
        f"the {dependency} breaker did not close",
    )


def assert_refused_by_breaker(response: httpx.Response, dependency: str) -> None:
    """Refused without trying: the breaker's own 503."""
    assert_unavailable(response)
    assert f"the {dependency} is not answering" in response.json()["detail"]


def test_a_store_that_stops_answering_opens_its_breaker_and_recovers(
    server_factory: Callable[..., ServerProcess], proxied_bucket: ProxiedBucket
) -> None:
    proxy = proxied_bucket.proxy
    env = {
        **proxied_bucket.env,
        **FAST,
        "SHUTTERBOX_STORAGE_URL": f"s3://{proxied_bucket.bucket}/black-hole",
        "SHUTTERBOX_STORE_TIMEOUT_SECONDS": "1",
        "SHUTTERBOX_STORE_RETRIES": "1",
    }
    server = server_factory(**env)
    server.start()
    # a generous timeout: a request that hung would fail the test
    with httpx.Client(base_url=server.url, timeout=60) as client:
        auth = register(client, "alice")
        before = upload_noisy(client, auth, 1)
        assert before.status_code == 201, before.text
        shown = wait_for_status(client, before.json()["id"], auth)
        assert shown["status"] == "ready"
        original = urlparse(shown["original"]["url"])
        original_path = f"{original.path}?{original.query}"  # signed: the owner's own
        assert client.get(original_path).status_code == 200

        proxy.black_hole()
        for seed in (2, 3):  # each waits for the store's deadline, then 503
            assert_unavailable(upload_noisy(client, auth, seed))
        assert_opens(client, "store")
        assert_refused_by_breaker(upload_noisy(client, auth, 4), "store")
        assert_refused_by_breaker(client.get(original_path), "store")
        assert client.get("/healthz").status_code == 200

        proxy.forward()
        assert_closes(client, "store")
        after = upload_noisy(client, auth, 5)
        assert after.status_code == 201, after.text
        assert wait_for_status(client, after.json()["id"], auth)["status"] == "ready"
        mine = client.get("/api/v1/users/alice/images", headers=auth).json()["items"]
        assert {i["id"] for i in mine} == {before.json()["id"], after.json()["id"]}
        assert client.get(original_path).content  # the bytes of before, still there
    server.stop()
    assert_scrub_clean(server.data_dir, **env)


def test_a_database_that_stops_answering_opens_its_breaker_and_recovers(
    server_factory: Callable[..., ServerProcess], proxies: Callable[..., TcpProxy]
) -> None:
    with postgres_database() as url:
        parsed = urlparse(url)
        assert parsed.hostname and parsed.port
        proxy = proxies(parsed.hostname, parsed.port)
        proxied = url.replace(f"{parsed.hostname}:{parsed.port}", f"127.0.0.1:{proxy.port}")
        env = {
            **FAST,
            "SHUTTERBOX_DATABASE_URL": proxied,
            "SHUTTERBOX_DATABASE_STATEMENT_TIMEOUT_SECONDS": "1",
            "SHUTTERBOX_DATABASE_CONNECT_TIMEOUT_SECONDS": "1",
        }
        server = server_factory(**env)
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            auth = register(client, "alice")
            before = upload_noisy(client, auth, 1)
            assert before.status_code == 201, before.text

            proxy.black_hole()
            for _ in range(2):  # each waits for the database's deadline, then 503
                assert_unavailable(client.get("/api/v1/feed"))
            assert_opens(client, "database")
            assert_refused_by_breaker(client.get("/api/v1/feed"), "database")
            assert_refused_by_breaker(upload_noisy(client, auth, 2), "database")
            ready = client.get("/readyz").json()
            assert ready["checks"]["database"].startswith("error")
            assert client.get("/healthz").status_code == 200

            proxy.forward()
            assert_closes(client, "database")
            assert wait_for_status(client, before.json()["id"], auth)["status"] == "ready"
            after = upload_noisy(client, auth, 3)
            assert after.status_code == 201, after.text
            assert wait_for_status(client, after.json()["id"], auth)["status"] == "ready"
            feed = client.get("/api/v1/feed").json()["items"]
            assert {item["id"] for item in feed} == {before.json()["id"], after.json()["id"]}
        server.stop()
        assert_scrub_clean(server.data_dir, **env)


@contextmanager
def silenceable_queue(
    kind: str, proxies: Callable[..., TcpProxy]
) -> Iterator[tuple[str, TcpProxy]]:
    """(a SHUTTERBOX_QUEUE_URL, the proxy every connection to that queue goes through)."""
    if kind == "nats":
        require_nats()
        nats = urlparse(NATS_URL)
        assert nats.hostname and nats.port
        proxy = proxies(nats.hostname, nats.port)
        stream = f"BLACKHOLE_{uuid.uuid4().hex[:8].upper()}"
        yield f"nats://127.0.0.1:{proxy.port}?stream={stream}", proxy
        return
    # A broker of its own, that advertises the proxy: the clients connect to what the
    # broker advertises, for the metadata, the partitions' leader and the group coordinator.
    port = free_port()
    proxy = proxies("127.0.0.1", port)
    broker = KafkaBroker(port=port, advertised_port=proxy.port)
    broker.start()
    try:
        yield broker.queue_url(), proxy
    finally:
        broker.stop()


def upload_in_time(client: httpx.Client, auth: dict[str, str], seed: int) -> httpx.Response:
    """An upload, which must not wait for a silent queue much longer than its deadline (1 s
    here; the client's own default is 40 s on Kafka)."""
    started = time.monotonic()
    response = upload_noisy(client, auth, seed)
    assert time.monotonic() - started < QUEUE_PATIENCE, f"upload {seed} waited on the queue"
    return response


@pytest.mark.parametrize("kind", ["nats", "kafka"])
def test_a_queue_that_stops_answering_opens_its_breaker_and_loses_no_job(
    server_factory: Callable[..., ServerProcess], proxies: Callable[..., TcpProxy], kind: str
) -> None:
    """No request needs the queue to answer (the jobs table is the source of truth): while
    NATS or the Kafka broker is silent, uploads are still acknowledged without waiting past
    the queue's deadline, their jobs wait in the table, /readyz answers 503; once the queue
    answers again the sweeper publishes them and every image ends ready exactly once."""
    with silenceable_queue(kind, proxies) as (queue_url, proxy):
        env = {
            **FAST,
            "SHUTTERBOX_QUEUE_URL": queue_url,
            "SHUTTERBOX_QUEUE_TIMEOUT_SECONDS": "1",
            "SHUTTERBOX_QUEUE_SWEEP_SECONDS": "1",
            "SHUTTERBOX_JOB_LEASE_SECONDS": "5",
        }
        server = server_factory(**env)
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            auth = register(client, "alice")
            before = upload_noisy(client, auth, 1)
            assert before.status_code == 201, before.text
            assert wait_for_status(client, before.json()["id"], auth)["status"] == "ready"

            proxy.black_hole()
            during = [upload_in_time(client, auth, seed) for seed in (2, 3, 4)]
            assert [r.status_code for r in during] == [201, 201, 201], [r.text for r in during]
            assert_opens(client, "queue")
            assert client.get("/readyz").json()["checks"]["queue"].startswith("error")
            late = upload_in_time(client, auth, 5)  # publishing is skipped at once
            assert late.status_code == 201, late.text

            proxy.forward()
            assert_closes(client, "queue")
            after = upload_noisy(client, auth, 6)
            assert after.status_code == 201, after.text
            ids = [r.json()["id"] for r in (before, *during, late, after)]
            for image_id in ids:
                status = wait_for_status(client, image_id, auth, timeout=PATIENCE)
                assert status["status"] == "ready"
            mine = client.get("/api/v1/users/alice/images", headers=auth).json()["items"]
            assert sorted(i["id"] for i in mine) == sorted(ids)
        server.stop()
        assert_scrub_clean(server.data_dir, **env)
