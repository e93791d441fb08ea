"""``GET /api/v1/events`` read as a browser's ``EventSource`` would, for end-to-end tests."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from typing import Any

import httpx2 as httpx


class EventStream:
    """``GET /api/v1/events``, read one block (an event or a comment) at a time."""

    def __init__(self, stack: ExitStack, client: httpx.Client, **kwargs: Any) -> None:
        self.response = stack.enter_context(client.stream("GET", "/api/v1/events", **kwargs))
        self._lines = self.response.iter_lines()
        self.last_id = 0
        self.notifications: list[dict[str, Any]] = []  # notification events seen on the way

    def block(self) -> dict[str, Any]:
        """The next block: its fields, ``data`` decoded from JSON, comments in ``comments``.
        EOFError when the server ended the stream."""
        block: dict[str, Any] = {}
        for line in self._lines:
            if not line:
                if block:
                    return block
                continue
            if line.startswith(":"):
                block.setdefault("comments", []).append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            block[name] = value.removeprefix(" ")
        if block:
            return block
        raise EOFError

    def image(self, deadline: float) -> dict[str, Any]:
        """The next ``image`` event, skipping keep-alives (and keeping notifications)."""
        while time.monotonic() < deadline:
            block = self.block()
            if "comments" in block:
                assert block == {"comments": ["keep-alive"]}, block
                continue
            if block.get("event") == "notification":
                self.notifications.append(json.loads(block["data"])["notification"])
                continue
            assert block["event"] == "image", block
            number = int(block["id"])
            assert number > self.last_id  # one id per event, increasing
            self.last_id = number
            data = json.loads(block["data"])
            assert set(data) == {"id", "status", "failure_reason", "thumb_url"}
            return dict(data)
        raise AssertionError("no image event in time")

    def statuses_until(
        self, wanted: set[str], settled: tuple[str, ...], timeout: float = 60
    ) -> dict[str, list[dict[str, Any]]]:
        """Events by image until every image in ``wanted`` reached a status in ``settled``.
        An event about an image not in ``wanted`` fails the test."""
        deadline = time.monotonic() + timeout
        seen: dict[str, list[dict[str, Any]]] = {image_id: [] for image_id in wanted}
        while not all(seen[i] and seen[i][-1]["status"] in settled for i in wanted):
            event = self.image(deadline)
            assert event["id"] in wanted, f"an event about someone else's image: {event}"
            seen[event["id"]].append(event)
        return seen
