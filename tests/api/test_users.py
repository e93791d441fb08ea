from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.clients import register


def test_register_and_log_in(client: TestClient):
    auth = register(client, "Alice_1")
    me = client.get("/api/v1/users/me", headers=auth)
    assert me.status_code == 200
    assert me.json()["username"] == "alice_1"


def test_duplicate_username_is_409(client: TestClient):
    register(client, "alice")
    response = client.post("/api/v1/users", json={"username": "ALICE", "password": "longenough"})
    assert response.status_code == 409
    assert "taken" in response.json()["detail"]


def test_bad_registrations_are_422(client: TestClient):
    short = client.post("/api/v1/users", json={"username": "al", "password": "longenough"})
    assert short.status_code == 422 and "username" in short.json()["detail"]
    weak = client.post("/api/v1/users", json={"username": "alice", "password": "short"})
    assert weak.status_code == 422 and "password" in weak.json()["detail"]
    missing = client.post("/api/v1/users", json={"username": "alice"})
    assert missing.status_code == 422 and "password" in missing.json()["detail"]


def test_wrong_password_and_unknown_user_are_401(client: TestClient):
    register(client, "alice")
    for username, password in (("alice", "wrong password"), ("nobody", "whatever1")):
        response = client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 401
        assert response.json()["detail"] == "wrong username or password"


def test_invalid_token_is_401(client: TestClient):
    response = client.get("/api/v1/users/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_passwords_are_stored_as_argon2id(client: TestClient, settings):
    import sqlite3

    register(client, "alice", "correct horse")
    db = sqlite3.connect(settings.data_dir / "shutterbox.db")
    (stored,) = db.execute("select password_hash from users").fetchone()
    (token_rows,) = db.execute("select count(*) from api_tokens").fetchone()
    db.close()
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert token_rows == 1
