"""Rate limits on logins and uploads: 429 with Retry-After, per key, and a window that ends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shutterbox.adapters.rate_counters import MemoryRateCounters
from shutterbox.clock import travel
from shutterbox.domain.errors import RateLimited
from shutterbox.entrypoints.http.app import create_app
from shutterbox.services.people.limits import Rate, RateLimiter, parse_rate
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload
from tests.support.settings import make_settings
from tests.support.windows import window_start

PASSWORD = "correct horse"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path / "data", workers=0, login_rate="3/minute", upload_rate="2/minute"
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _token(client: TestClient, username: str, password: str) -> int:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return response.status_code


def _assert_limited(response: Any) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "rate_limited"
    assert "too many" in body["detail"]
    assert 1 <= int(response.headers["retry-after"]) <= 60


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10/minute", Rate(10, 60.0)),
        (" 5 / second ", Rate(5, 1.0)),
        ("100/hours", Rate(100, 3600.0)),
        ("0/minute", None),
        ("0", None),  # as documented: 0 or empty, no limit
        ("", None),
    ],
)
def test_rates_parse(raw: str, expected: Rate | None) -> None:
    assert parse_rate(raw) == expected


@pytest.mark.parametrize("raw", ["ten/minute", "5/day", "5", "-1/minute"])
def test_bad_rates_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="N/minute"):
        parse_rate(raw)


def test_settings_refuse_a_bad_rate(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make_settings(tmp_path, login_rate="lots")


def test_failed_logins_are_limited_per_username_and_the_window_ends(client: TestClient) -> None:
    register(client, "alice")
    register(client, "bob")
    with window_start():
        for _ in range(3):
            assert _token(client, "alice", "wrong horse") == 401
        limited = client.post(
            "/api/v1/auth/token", data={"username": "alice", "password": PASSWORD}
        )
        _assert_limited(limited)  # even the right password: no guessing through the limit
        assert limited.headers.get("www-authenticate") is None
        # the other ways to log in count the same attempts
        _assert_limited(
            client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
        )
        page = client.post(
            "/login",
            data={"username": "alice", "password": PASSWORD},
            headers={"Origin": "http://testserver"},
            follow_redirects=False,
        )
        assert page.status_code == 429
        assert int(page.headers["retry-after"]) >= 1
        assert "Too many failed attempts" in page.text
        assert not client.cookies.get("shutterbox_session")
        # another username is not affected, nor the spelling of the same one
        assert _token(client, "bob", PASSWORD) == 200
        _assert_limited(
            client.post("/api/v1/auth/token", data={"username": " ALICE", "password": PASSWORD})
        )
        with travel(timedelta(seconds=60)):  # the next window
            assert _token(client, "alice", PASSWORD) == 200


def test_successful_logins_do_not_use_up_the_limit(client: TestClient) -> None:
    register(client, "alice")
    for _ in range(6):
        assert _token(client, "alice", PASSWORD) == 200
        response = client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 200
        client.cookies.clear()


def test_uploads_are_limited_per_user(client: TestClient) -> None:
    alice = register(client, "alice")
    bob = register(client, "bob")
    with window_start():
        assert upload(client, alice, jpeg_bytes(64, 48)).status_code == 201
        ticket = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1000}
        assert client.post("/api/v1/uploads", headers=alice, json=ticket).status_code == 201
        _assert_limited(upload(client, alice, jpeg_bytes(64, 48)))
        _assert_limited(client.post("/api/v1/uploads", headers=alice, json=ticket))
        assert upload(client, bob, jpeg_bytes(64, 48)).status_code == 201
        # reading is not limited
        assert client.get("/api/v1/users/alice/images", headers=alice).status_code == 200
        with travel(timedelta(seconds=60)):
            assert upload(client, alice, jpeg_bytes(64, 48)).status_code == 201


def test_an_empty_rate_disables_the_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", workers=0, login_rate="", upload_rate="0/second")
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")
        for _ in range(12):
            assert _token(client, "alice", "wrong horse") == 401
        for _ in range(5):
            assert upload(client, alice, jpeg_bytes(32, 24)).status_code == 201


async def test_the_limiter_counts_per_key_and_forgets_ended_windows() -> None:
    counters = MemoryRateCounters(max_keys=2)
    limiter = RateLimiter({"kind": Rate(1, 60.0)}, counters)
    with window_start():
        await limiter.hit("kind", "a", "too many")
        await limiter.hit("kind", "b", "too many")
        with pytest.raises(RateLimited, match="too many") as refused:
            await limiter.hit("kind", "a", "too many")
        assert 58 <= refused.value.retry_after <= 60
        await limiter.refund("kind", "a")
        await limiter.hit("kind", "a", "too many")
        with travel(timedelta(minutes=2)):
            await limiter.hit("kind", "c", "too many")  # past the bound: ended windows go
            assert len(counters) == 1
            await limiter.hit("kind", "a", "too many")
