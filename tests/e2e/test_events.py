"""Live status over Server-Sent Events from a real `shutterbox serve`, with the images made
by a `shutterbox worker` in another process."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from contextlib import ExitStack

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import register
from tests.support.event_stream import EventStream
from tests.support.server import WorkerProcess

pytestmark = pytest.mark.e2e

FAST = {
    "SHUTTERBOX_EVENTS_POLL_SECONDS": "0.2",
    "SHUTTERBOX_EVENTS_KEEPALIVE_SECONDS": "1",
    "SHUTTERBOX_JOB_POLL_SECONDS": "0.2",
}
TIMEOUT = httpx.Timeout(30, read=10)  # streams send a keep-alive every second


def _post_image(client: httpx.Client, headers: dict[str, str], data: bytes) -> str:
    response = client.post(
        "/api/v1/images", headers=headers, files={"file": ("photo.jpg", data, "image/jpeg")}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _finished_streams(client: httpx.Client) -> int:
    text = client.get("/metrics").text
    pattern = (
        r'shutterbox_http_request_duration_seconds_count\{method="GET",'
        r'route="/api/v1/events",status="200"\} (\S+)'
    )
    match = re.search(pattern, text)
    return int(float(match.group(1))) if match else 0


def test_statuses_stream_to_their_owner_only(server_factory):
    server = server_factory(serve_args=("--no-workers",), **FAST)
    server.start()
    worker = WorkerProcess(server.data_dir, SHUTTERBOX_WORKERS="2", **FAST)
    with (
        ExitStack() as stack,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as browser,
    ):
        anonymous = client.get("/api/v1/events")
        assert anonymous.status_code == 401
        assert anonymous.json()["code"] == "unauthorized"

        alice = register(client, "alice")
        register(browser, "bob")  # bob uses the web pages' cookie session
        login = browser.post(
            "/api/v1/session", json={"username": "bob", "password": "correct horse"}
        )
        assert login.status_code == 200, login.text

        alice_stream = EventStream(stack, client, headers=alice)
        bob_stream = EventStream(stack, browser)
        for stream in (alice_stream, bob_stream):
            assert stream.response.status_code == 200
            assert stream.response.headers["content-type"].startswith("text/event-stream")
            assert stream.response.headers["cache-control"] == "no-store"
            assert stream.response.headers["x-accel-buffering"] == "no"
            assert stream.block() == {"retry": "2000"}

        whole = jpeg_bytes(1600, 1200, noise=True)
        good = {
            _post_image(client, alice, jpeg_bytes(1000, 800, noise=True)),
            _post_image(client, alice, jpeg_bytes(800, 1000, noise=True)),
        }
        cut_off = _post_image(client, alice, whole[: len(whole) // 2])
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        bobs = _post_image(browser, csrf, jpeg_bytes(900, 700, noise=True))

        # No worker yet: everything is processing, and each stream hears of its own only.
        pending = alice_stream.statuses_until({*good, cut_off}, ("processing",), timeout=15)
        assert all(len(events) == 1 for events in pending.values())
        assert bob_stream.statuses_until({bobs}, ("processing",), timeout=15)

        worker.start()
        try:
            done = alice_stream.statuses_until({*good, cut_off}, ("ready", "failed"))
            bob_done = bob_stream.statuses_until({bobs}, ("ready", "failed"))
        finally:
            assert worker.stop() == 0

        for image_id in good:
            [ready] = done[image_id]
            assert ready["status"] == "ready" and ready["failure_reason"] is None
            thumb = client.get(ready["thumb_url"])
            assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
            image = client.get(f"/api/v1/images/{image_id}", headers=alice).json()
            assert ready["thumb_url"] == image["variants"]["thumb"]["url"]
        [failed] = done[cut_off]
        assert failed["status"] == "failed" and failed["thumb_url"] is None
        assert "cut off" in failed["failure_reason"]
        assert [e["status"] for e in bob_done[bobs]] == ["ready"]

        # The owner of the image that failed is told, live; then, idle: keep-alive comments.
        while (block := alice_stream.block()).get("event") == "notification":
            alice_stream.notifications.append(json.loads(block["data"])["notification"])
        assert block == {"comments": ["keep-alive"]}, block
        assert [(n["kind"], n["image_id"]) for n in alice_stream.notifications] == [
            ("processing_failed", cut_off)
        ]

        # A page that connects late learns the current state of everything recent at once.
        late = EventStream(stack, client, headers=alice)
        assert late.block() == {"retry": "2000"}
        replay = late.statuses_until({*good, cut_off}, ("ready", "failed"), timeout=10)
        assert {i: [e["status"] for e in events] for i, events in replay.items()} == {
            **{image_id: ["ready"] for image_id in good},
            cut_off: ["failed"],
        }

        # A client that goes away ends its stream on the server at once.
        before = _finished_streams(client)
        late.response.close()
        deadline = time.monotonic() + 5
        while _finished_streams(client) == before:
            assert time.monotonic() < deadline, "the server kept streaming to a closed client"
            time.sleep(0.1)


def test_sigterm_ends_open_streams_and_the_server_exits(server_factory):
    server = server_factory(SHUTTERBOX_WORKERS="1", **FAST)
    server.start()
    with ExitStack() as stack, httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        alice = register(client, "alice")
        streams = [EventStream(stack, client, headers=alice) for _ in range(3)]
        for stream in streams:
            assert stream.block() == {"retry": "2000"}
        assert streams[0].block() == {"comments": ["keep-alive"]}

        assert server.process is not None
        started = time.monotonic()
        os.killpg(server.process.pid, signal.SIGTERM)
        deadline = started + 5
        for stream in streams:  # each ends cleanly: the server finishes the response
            with pytest.raises(EOFError):
                while time.monotonic() < deadline:
                    assert stream.block() == {"comments": ["keep-alive"]}
                raise AssertionError("the stream stayed open after SIGTERM")
        server.process.wait(timeout=15)
        elapsed = time.monotonic() - started
        assert elapsed < 5, f"took {elapsed:.1f}s to exit with open streams"
