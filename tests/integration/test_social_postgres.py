"""Editing images and following people on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings


def test_edit_and_follow_on_postgres(tmp_path: Path, postgres_url: str):
    settings = make_settings(tmp_path / "data", database_url=postgres_url)
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")
        bob = register(client, "bob")
        created = upload(client, bob, jpeg_bytes(), tags="sea", alt_text="a red and blue card")
        image = wait_for_status(client, created.json()["id"], bob)
        assert image["status"] == "ready" and image["alt_text"] == "a red and blue card"

        edited = client.patch(
            f"/api/v1/images/{image['id']}",
            headers=bob,
            json={"tags": "sun", "location": {"name": "Lisbon", "lat": 38.7, "lon": -9.1}},
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["tags"] == ["sun"]
        assert edited.json()["location"] == {"name": "Lisbon", "lat": 38.7, "lon": -9.1}
        assert client.get("/api/v1/tags/sea/images").json()["items"] == []
        sun = client.get("/api/v1/tags/sun/images").json()["items"]
        assert [i["id"] for i in sun] == [image["id"]]

        for _ in range(2):  # following twice is one follow
            assert client.put("/api/v1/users/bob/follow", headers=alice).status_code == 204
        profile = client.get("/api/v1/users/bob", headers=alice).json()
        assert (profile["followers"], profile["images"], profile["followed_by_you"]) == (1, 1, True)
        home = client.get("/api/v1/home", headers=alice).json()
        assert [i["id"] for i in home["items"]] == [image["id"]]

        private = client.patch(
            f"/api/v1/images/{image['id']}", headers=bob, json={"visibility": "private"}
        )
        assert private.status_code == 200
        assert client.get("/api/v1/home", headers=alice).json()["items"] == []
        assert client.get("/api/v1/users/bob", headers=alice).json()["images"] == 0

        assert client.delete("/api/v1/users/bob/follow", headers=alice).status_code == 204
        assert client.get("/api/v1/users/alice/following").json()["items"] == []
