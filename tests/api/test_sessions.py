"""Cookie sessions for the web pages: logging in and out, the cookie's attributes, CSRF on
cookie-authenticated writes, and where a form post comes from."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from shutterbox.clock import travel
from shutterbox.config import Settings
from shutterbox.entrypoints.http.app import create_app
from shutterbox.entrypoints.http.lifespan import AppState, app_state
from shutterbox.entrypoints.http.middleware.same_origin import cross_site, same_origin
from shutterbox.services.people import accounts, sessions
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload
from tests.support.settings import make_settings

PASSWORD = "correct horse"
CSRF_ERROR = {
    "detail": "missing or invalid CSRF token: send the X-CSRF-Token header from the page",
    "code": "csrf",
}


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/session", json={"username": username, "password": password})


def signed_up(client: TestClient, username: str) -> str:
    """Register ``username``, log in with a cookie and return the session's CSRF token."""
    register(client, username)
    response = log_in(client, username)
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def set_cookie_header(response: Any) -> str:
    values = response.headers.get_list("set-cookie")
    assert len(values) == 1, values
    return str(values[0])


def test_logging_in_sets_an_http_only_lax_cookie_and_answers_the_csrf_token(client: TestClient):
    register(client, "alice")
    response = log_in(client, "Alice")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == "alice"
    assert len(body["csrf_token"]) == 64

    cookie = set_cookie_header(response)
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert attributes[0].startswith(f"{sessions.SESSION_COOKIE}=")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert f"max-age={30 * 86400}" in attributes
    assert "secure" not in attributes  # plain http

    session = client.get("/api/v1/session")
    assert session.status_code == 200
    assert session.json() == body  # the CSRF token stays the same for the session's life
    me = client.get("/api/v1/users/me")
    assert me.status_code == 200 and me.json()["username"] == "alice"


def test_every_session_has_its_own_csrf_token(client: TestClient):
    first = signed_up(client, "alice")
    second = log_in(client, "alice").json()["csrf_token"]
    assert first != second


def test_wrong_credentials_are_401_like_the_token_endpoint(client: TestClient):
    register(client, "alice")
    for username, password in (("alice", "not the password"), ("nobody", PASSWORD)):
        response = log_in(client, username, password)
        assert response.status_code == 401
        assert response.json() == {"detail": "wrong username or password", "code": "unauthorized"}
        assert "set-cookie" not in response.headers
        token = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert token.json() == response.json()
    assert client.get("/api/v1/session").status_code == 401


def test_bad_login_bodies_are_422(client: TestClient):
    assert client.post("/api/v1/session", json={"username": "alice"}).status_code == 422
    response = client.post("/api/v1/session", content=b"not json")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_logging_in_from_another_site_is_refused(client: TestClient):
    register(client, "alice")
    response = client.post(
        "/api/v1/session",
        json={"username": "alice", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    same_site = client.post(
        "/api/v1/session",
        json={"username": "alice", "password": PASSWORD},
        headers={"Origin": "http://testserver"},
    )
    assert same_site.status_code == 200


def test_without_a_session_get_session_is_401(client: TestClient):
    response = client.get("/api/v1/session")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    register(client, "alice")
    bearer = register(client, "bob")
    assert client.get("/api/v1/session", headers=bearer).status_code == 401  # not a session


def test_a_cookie_write_needs_the_csrf_header(client: TestClient):
    csrf = signed_up(client, "alice")
    photo = jpeg_bytes()

    refused = upload(client, {}, photo)
    assert refused.status_code == 403
    assert refused.json() == CSRF_ERROR
    wrong = upload(client, {sessions.CSRF_HEADER: "0" * 64}, photo)
    assert wrong.status_code == 403 and wrong.json() == CSRF_ERROR
    assert client.get("/api/v1/users/alice/images").json()["items"] == []

    created = upload(client, {sessions.CSRF_HEADER: csrf}, photo)
    assert created.status_code == 201, created.text
    image_id = created.json()["id"]
    assert created.json()["owner"] == "alice"

    assert client.get(f"/api/v1/images/{image_id}").status_code == 200  # reads need no token
    assert client.delete(f"/api/v1/images/{image_id}").json() == CSRF_ERROR
    assert client.get(f"/api/v1/images/{image_id}").status_code == 200
    deleted = client.delete(f"/api/v1/images/{image_id}", headers={sessions.CSRF_HEADER: csrf})
    assert deleted.status_code == 204
    assert client.get(f"/api/v1/images/{image_id}").status_code == 404


def test_bearer_requests_need_no_csrf_token(client: TestClient):
    bearer = register(client, "bob")
    signed_up(client, "alice")  # a session cookie of someone else rides along
    created = upload(client, bearer, jpeg_bytes())
    assert created.status_code == 201, created.text
    assert created.json()["owner"] == "bob"  # the bearer token wins over the cookie
    response = client.delete(f"/api/v1/images/{created.json()['id']}", headers=bearer)
    assert response.status_code == 204


def test_an_invalid_bearer_token_is_still_401_with_a_cookie(client: TestClient):
    signed_up(client, "alice")
    response = client.get("/api/v1/users/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert "invalid" in response.json()["detail"]


@pytest.mark.parametrize("garbage", ["nope", "x" * 5000, "", "%00%ff"])
def test_a_garbage_cookie_is_anonymous(client: TestClient, garbage: str):
    register(client, "alice")
    client.cookies.set(sessions.SESSION_COOKIE, garbage)
    assert client.get("/api/v1/feed").status_code == 200
    me = client.get("/api/v1/users/me")
    assert me.status_code == 401 and "log in first" in me.json()["detail"]
    assert client.get("/api/v1/session").status_code == 401
    # A write is refused as anonymous (401), not as a CSRF failure.
    assert upload(client, {}, jpeg_bytes()).status_code == 401
    assert client.delete("/api/v1/session").status_code == 204


def test_an_expired_session_is_anonymous(client: TestClient):
    signed_up(client, "alice")
    assert client.get("/api/v1/users/me").status_code == 200
    with travel(timedelta(days=31)):
        assert client.get("/api/v1/users/me").status_code == 401
        assert client.get("/api/v1/session").status_code == 401
        assert client.get("/api/v1/feed").status_code == 200


def test_logging_out_revokes_the_session_and_clears_the_cookie(client: TestClient):
    csrf = signed_up(client, "alice")
    token = client.cookies[sessions.SESSION_COOKIE]

    refused = client.delete("/api/v1/session")
    assert refused.status_code == 403 and refused.json() == CSRF_ERROR
    assert client.get("/api/v1/users/me").status_code == 200

    response = client.delete("/api/v1/session", headers={sessions.CSRF_HEADER: csrf})
    assert response.status_code == 204
    cleared = [part.strip().lower() for part in set_cookie_header(response).split(";")]
    assert cleared[0] in (f'{sessions.SESSION_COOKIE}=""', f"{sessions.SESSION_COOKIE}=")
    assert "max-age=0" in cleared and "path=/" in cleared and "httponly" in cleared
    assert sessions.SESSION_COOKIE not in client.cookies

    # The old cookie, kept somewhere, logs no one in any more.
    client.cookies.set(sessions.SESSION_COOKIE, token)
    assert client.get("/api/v1/users/me").status_code == 401
    assert client.get("/api/v1/session").status_code == 401


def test_cookies_are_secure_over_https(client: TestClient):
    register(client, "alice")
    response = client.post(
        "https://testserver/api/v1/session", json={"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "secure" in [p.strip().lower() for p in set_cookie_header(response).split(";")]


def test_cookies_are_secure_behind_an_https_public_base_url(tmp_path):
    settings = make_settings(tmp_path / "data", public_base_url="https://photos.example")
    with TestClient(create_app(settings)) as client:
        register(client, "alice")
        response = log_in(client, "alice")
        assert response.status_code == 200
        assert "secure" in [p.strip().lower() for p in set_cookie_header(response).split(";")]


def test_the_page_helpers(client: TestClient):
    services = app_state(client.app).services
    portal = client.portal  # type: ignore[attr-defined]
    register(client, "alice")

    session = portal.call(sessions.log_in, services, "ALICE", PASSWORD)
    assert session.user.username == "alice"
    assert session.max_age_seconds == 30 * 86400
    assert session.csrf_token == sessions.csrf_token(services, session.token)
    assert portal.call(sessions.viewer, services, {sessions.SESSION_COOKIE: session.token}) == (
        session.user,
        session.csrf_token,
    )
    assert portal.call(sessions.viewer, services, {}) == (None, None)
    assert portal.call(sessions.viewer, services, {sessions.SESSION_COOKIE: "nope"}) == (
        None,
        None,
    )

    user = portal.call(accounts.register, services.metadata, "bob", PASSWORD)
    started = portal.call(sessions.start_for, services, user)
    client.cookies.set(sessions.SESSION_COOKIE, started.token)
    assert client.get("/api/v1/session").json() == {
        "username": "bob",
        "csrf_token": started.csrf_token,
    }

    portal.call(sessions.log_out, services, started.token)
    assert client.get("/api/v1/session").status_code == 401
    assert portal.call(sessions.viewer, services, {sessions.SESSION_COOKIE: started.token}) == (
        None,
        None,
    )


def test_the_openapi_document_shows_both_ways_to_authenticate(client: TestClient):
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyCookie"]["name"] == sessions.SESSION_COOKIE
    assert {"post", "get", "delete"} <= set(spec["paths"]["/api/v1/session"])
    assert "/api/v1/events" in spec["paths"]


# --- same_origin --------------------------------------------------------------------------


def _request(headers: dict[str, str], *, scheme: str = "http", public_base_url: str = "") -> Any:
    settings = Settings(public_base_url=public_base_url)
    services: Any = SimpleNamespace(settings=settings)
    app = SimpleNamespace(state=SimpleNamespace(shutterbox=AppState(services)))
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": scheme,
        "server": ("photos.example", 443 if scheme == "https" else 8000),
        "path": "/login",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"photos.example" if scheme == "https" else b"photos.example:8000"),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ],
        "app": app,
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Origin": "http://photos.example:8000"}, True),
        ({"Origin": "HTTP://Photos.Example:8000"}, True),
        ({"Referer": "http://photos.example:8000/login?next=/"}, True),
        ({"Origin": "http://photos.example:8000", "Referer": "https://evil.example/"}, True),
        ({"Origin": "https://evil.example", "Referer": "http://photos.example:8000/"}, False),
        ({"Origin": "http://photos.example"}, False),  # another port
        ({"Origin": "https://photos.example:8000"}, False),  # another scheme
        ({"Origin": "http://photos.example.evil.example:8000"}, False),
        ({"Origin": "null"}, False),
        ({"Origin": "http://photos.example:notaport"}, False),
        ({"Referer": "javascript:alert(1)"}, False),
        ({}, False),
    ],
)
def test_same_origin(headers: dict[str, str], expected: bool):
    assert same_origin(_request(headers)) is expected


def test_same_origin_knows_default_ports_and_the_public_base_url():
    https = _request({"Origin": "https://photos.example:443"}, scheme="https")
    assert same_origin(https)
    assert same_origin(_request({"Origin": "https://photos.example"}, scheme="https"))
    behind_proxy = {"Origin": "https://photos.example"}
    assert not same_origin(_request(behind_proxy))
    assert same_origin(_request(behind_proxy, public_base_url="https://photos.example/"))
    assert not same_origin(
        _request({"Origin": "https://other.example"}, public_base_url="https://photos.example")
    )


def test_cross_site_lets_api_clients_without_an_origin_through():
    assert not cross_site(_request({}))
    assert not cross_site(_request({"Origin": "http://photos.example:8000"}))
    assert cross_site(_request({"Origin": "https://evil.example"}))


def test_csrf_tokens_of_a_previous_secret_key_still_match():
    def services(key: str, previous: str = "") -> Any:
        settings = Settings(previous_secret_keys=previous)
        return SimpleNamespace(secret_key=key.encode(), settings=settings)

    old, rotated = services("old key"), services("new key", previous="older key, old key")
    token = sessions.csrf_token(old, "session-token")
    assert sessions.csrf_token(rotated, "session-token") != token
    assert sessions.csrf_matches(rotated, "session-token", token)
    assert sessions.csrf_matches(
        rotated, "session-token", sessions.csrf_token(rotated, "session-token")
    )
    assert not sessions.csrf_matches(services("new key"), "session-token", token)
    assert not sessions.csrf_matches(rotated, "another-session", token)
    assert not sessions.csrf_matches(rotated, "session-token", "")
    assert not sessions.csrf_matches(rotated, "session-token", None)
    assert not sessions.csrf_matches(rotated, "session-token", "é" * 64)
