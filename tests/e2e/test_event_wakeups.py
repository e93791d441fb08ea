"""Live-status streams are woken by the database, not polled one by one: a real `shutterbox
serve` on SQLite and on PostgreSQL, images made by a `shutterbox worker` in another process.

How many times the streams read the database is the server's own count
(``shutterbox_event_stream_reads_total`` on /metrics, counted where a stream opens its read):
with the safety poll set to an hour, idle streams must not read at all, however long they
stay open, where a stream that polled would read several times a second.
"""

from __future__ import annotations

import asyncio
import re
import time
from contextlib import ExitStack

import asyncpg
import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import register
from tests.support.event_stream import EventStream
from tests.support.server import WorkerProcess

pytestmark = pytest.mark.e2e

KEEPALIVE = {"comments": ["keep-alive"]}
QUIET = {  # no safety poll within a test: only a wake-up makes a stream read
    "SHUTTERBOX_EVENTS_SAFETY_POLL_SECONDS": "3600",
    "SHUTTERBOX_EVENTS_KEEPALIVE_SECONDS": "1",
    "SHUTTERBOX_JOB_POLL_SECONDS": "0.2",
}
TIMEOUT = httpx.Timeout(30, read=10)  # streams send a keep-alive every second
LISTENER = "shutterbox events"  # the listener's application_name (adapters/db/event_feeds.py)


def _metric(client: httpx.Client, name: str) -> float:
    text = client.get("/metrics").text
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _reads(client: httpx.Client) -> float:
    return _metric(client, "shutterbox_event_stream_reads_total")


def _post_image(client: httpx.Client, headers: dict[str, str]) -> str:
    data = jpeg_bytes(640, 480, noise=True)
    response = client.post(
        "/api/v1/images", headers=headers, files={"file": ("photo.jpg", data, "image/jpeg")}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _opened(stack: ExitStack, client: httpx.Client, headers: dict[str, str]) -> EventStream:
    """A stream that has made its first read (it is idle: its first block after the retry
    is a keep-alive)."""
    stream = EventStream(stack, client, headers=headers)
    assert stream.response.status_code == 200
    assert stream.block() == {"retry": "2000"}
    assert stream.block() == KEEPALIVE
    return stream


def test_idle_streams_read_nothing_and_a_change_wakes_only_its_users_streams(
    server_factory, database_url
):
    env = {
        **QUIET,
        "SHUTTERBOX_DATABASE_URL": database_url,
        "SHUTTERBOX_EVENTS_POLL_SECONDS": "0.2",
    }
    server = server_factory(serve_args=("--no-workers",), **env)
    server.start()
    worker = WorkerProcess(server.data_dir, SHUTTERBOX_WORKERS="1", **env)
    with ExitStack() as stack, httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        alice, bob = register(client, "alice"), register(client, "bob")
        bobs = [_opened(stack, client, bob) for _ in range(5)]
        alices = _opened(stack, client, alice)

        before = _reads(client)
        for stream in [*bobs, alices]:  # two more seconds, all six idle
            assert [stream.block(), stream.block()] == [KEEPALIVE, KEEPALIVE]
        assert _reads(client) == before, "idle streams read the database"

        # Alice's upload (committed by the API process) wakes her stream, not Bob's five.
        image = _post_image(client, alice)
        assert alices.statuses_until({image}, ("processing",), timeout=15)
        woken = _reads(client) - before
        assert 1 <= woken < len(bobs), woken

        # The worker, another process, makes the image ready: the database wakes her stream.
        worker.start()
        try:
            done = alices.statuses_until({image}, ("ready",), timeout=60)
        finally:
            assert worker.stop() == 0
        assert [event["status"] for event in done[image]] == ["ready"]
        for stream in bobs:
            assert stream.block() == KEEPALIVE  # nothing for Bob


def test_a_commit_in_the_process_wakes_the_streams_without_waiting_for_the_poller(
    server_factory,
):
    """SQLite, workers inside `serve`, the poller and the safety poll an hour apart: the
    upload's and the worker's commits wake the stream themselves."""
    server = server_factory(SHUTTERBOX_WORKERS="1", SHUTTERBOX_EVENTS_POLL_SECONDS="3600", **QUIET)
    server.start()
    with ExitStack() as stack, httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        alice = register(client, "alice")
        stream = _opened(stack, client, alice)
        image = _post_image(client, alice)
        seen = stream.statuses_until({image}, ("ready",), timeout=60)
        assert [event["status"] for event in seen[image]][-1] == "ready"


def test_a_user_holds_at_most_the_cap_of_streams(server_factory):
    server = server_factory(serve_args=("--no-workers",), **QUIET)  # the default cap: 5
    server.start()
    with ExitStack() as stack, httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        alice, bob = register(client, "alice"), register(client, "bob")
        streams = [_opened(stack, client, alice) for _ in range(5)]

        refused = client.get("/api/v1/events", headers=alice)
        assert refused.status_code == 429
        body = refused.json()
        assert body["code"] == "too_many_streams"
        assert "at most 5" in body["detail"] and "close another tab" in body["detail"]
        assert refused.headers["retry-after"]

        _opened(stack, client, bob)  # the cap is each user's

        # A tab that closes frees its slot (the server sees the client go).
        streams[0].response.close()
        deadline = time.monotonic() + 10
        while True:
            with client.stream("GET", "/api/v1/events", headers=alice) as again:
                if again.status_code == 200:
                    break
                assert again.status_code == 429
            assert time.monotonic() < deadline, "the closed stream kept its slot"
            time.sleep(0.1)
        for stream in streams[1:]:  # the others carry on
            assert stream.block() == KEEPALIVE


def _listeners(url: str) -> list[int]:
    async def query() -> list[int]:
        connection = await asyncpg.connect(url)
        try:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 "
                "AND datname = current_database()",
                LISTENER,
            )
        finally:
            await connection.close()
        return [row["pid"] for row in rows]

    return asyncio.run(query())


def _terminate(url: str, pid: int) -> None:
    async def terminate() -> None:
        connection = await asyncpg.connect(url)
        try:
            assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await connection.close()

    asyncio.run(terminate())


def _wait_for_listener(url: str, other_than: int | None = None) -> int:
    deadline = time.monotonic() + 20
    while True:
        pids = [pid for pid in _listeners(url) if pid != other_than]
        if pids:
            [pid] = pids
            return pid
        assert time.monotonic() < deadline, "no LISTEN connection"
        time.sleep(0.1)


def test_a_cut_listener_connection_comes_back_and_events_still_arrive(server_factory, postgres_url):
    plain_url = postgres_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    env = {**QUIET, "SHUTTERBOX_DATABASE_URL": postgres_url}
    server = server_factory(serve_args=("--no-workers",), **env)
    server.start()
    with ExitStack() as stack, httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        alice = register(client, "alice")
        stream = _opened(stack, client, alice)  # the first stream starts the listener
        first = _wait_for_listener(plain_url)
        assert _listeners(plain_url) == [first]  # one per process, not one per stream
        _opened(stack, client, alice)
        assert _listeners(plain_url) == [first]

        _terminate(plain_url, first)
        second = _wait_for_listener(plain_url, other_than=first)
        assert second != first
        deadline = time.monotonic() + 10
        while _metric(client, 'shutterbox_event_wakeups_total{cause="everyone"}') < 1:
            assert time.monotonic() < deadline, "the reconnect did not wake the streams"
            time.sleep(0.1)
        assert [stream.block(), stream.block()] == [KEEPALIVE, KEEPALIVE]  # settled, idle

        # With no safety poll within the test, only the new connection can tell the stream.
        image = _post_image(client, alice)
        assert stream.statuses_until({image}, ("processing",), timeout=15)
