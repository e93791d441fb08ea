"""Honest back-pressure: when more new uploads wait than SHUTTERBOX_QUEUE_BUSY_DEPTH, an upload
still succeeds and its answer says how many wait before it and about how long that takes."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from shutterbox.services.images.backlog import FRESH_SECONDS
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings


def test_a_quiet_queue_adds_nothing_to_the_answer(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", workers=0, queue_busy_depth=5)
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")
        answer = upload(client, alice, jpeg_bytes(300, 200))
        assert answer.status_code == 201
        assert answer.json()["processing_estimate"] is None
        assert "Retry-After" not in answer.headers


def test_a_busy_queue_without_workers_says_how_many_wait(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", workers=0, queue_busy_depth=3)
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")
        answers = [upload(client, alice, jpeg_bytes(300 + n, 200)) for n in range(3)]
        time.sleep(FRESH_SECONDS + 0.1)  # past the reuse of the last estimate
        answers.append(upload(client, alice, jpeg_bytes(400, 200)))
        assert [a.status_code for a in answers] == [201] * 4  # the originals are all safe
        estimate = answers[-1].json()["processing_estimate"]
        assert estimate == {"queued_ahead": 4, "expected_seconds": None}  # nobody is working
        assert "Retry-After" not in answers[-1].headers


def test_with_workers_the_estimate_comes_from_the_rate_of_images_made_ready(tmp_path: Path):
    settings = make_settings(tmp_path / "data", workers=1, queue_busy_depth=0)
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")
        first = upload(client, alice, jpeg_bytes(300, 200)).json()
        assert wait_for_status(client, first["id"], alice)["status"] == "ready"
        time.sleep(FRESH_SECONDS + 0.1)  # past the reuse of the last estimate
        answer = upload(client, alice, jpeg_bytes(320, 200))
        assert answer.status_code == 201
        estimate = answer.json()["processing_estimate"]
        # one image made ready in the last minute: 1/60 per second; a wait of (ahead + 1) * 60
        assert estimate["expected_seconds"] == (estimate["queued_ahead"] + 1) * 60
        assert answer.headers["Retry-After"] == str(estimate["expected_seconds"])
