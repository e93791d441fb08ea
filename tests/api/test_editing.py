"""Editing an image after its upload (PATCH), alt text, and retrying a failed image."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from shutterbox.config import Settings
from shutterbox.entrypoints.http.app import create_app
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.recording_edge import RecordingEdge
from tests.support.settings import make_settings


def _ready(client: TestClient, auth: dict[str, str], **fields: str) -> dict[str, Any]:
    created = upload(client, auth, jpeg_bytes(200, 150), **fields)
    assert created.status_code == 201, created.text
    image = wait_for_status(client, created.json()["id"], auth)
    assert image["status"] == "ready", image
    return image


def _patch(client: TestClient, image_id: str, auth: dict[str, str], **body: Any) -> Any:
    return client.patch(f"/api/v1/images/{image_id}", headers=auth, json=body)


def _unsigned(image: dict[str, Any]) -> dict[str, Any]:
    """The image's JSON without the original's signed URL (its expiry moves with the clock)."""
    return {k: v for k, v in image.items() if k != "original"} | {
        "original_sha256": image["original"]["sha256"]
    }


def _failed(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    whole = jpeg_bytes(1600, 1200, noise=True)
    created = upload(client, auth, whole[: len(whole) // 2])
    assert created.status_code == 201, created.text
    image = wait_for_status(client, created.json()["id"], auth)
    assert image["status"] == "failed", image
    return image


# --- alt text --------------------------------------------------------------------------


def test_alt_text_is_kept_from_the_upload(client: TestClient):
    auth = register(client, "alice")
    created = upload(client, auth, jpeg_bytes(), alt_text="  A red half and a blue half  ")
    assert created.status_code == 201, created.text
    assert created.json()["alt_text"] == "A red half and a blue half"
    image = wait_for_status(client, created.json()["id"], auth)
    assert image["alt_text"] == "A red half and a blue half"
    assert client.get(f"/api/v1/images/{image['id']}").json()["alt_text"] == image["alt_text"]
    plain = upload(client, auth, jpeg_bytes()).json()
    assert plain["alt_text"] == ""


def test_alt_text_longer_than_1000_characters_is_refused(client: TestClient):
    auth = register(client, "alice")
    assert upload(client, auth, jpeg_bytes(), alt_text="x" * 1000).status_code == 201
    response = upload(client, auth, jpeg_bytes(), alt_text="x" * 1001)
    assert response.status_code == 422
    assert "alt text is longer than 1000 characters" in response.json()["detail"]


def test_alt_text_is_in_the_upload_form_schema(client: TestClient):
    schema = client.get("/openapi.json").json()
    form = schema["paths"]["/api/v1/images"]["post"]["requestBody"]["content"]
    properties = form["multipart/form-data"]["schema"]["properties"]
    assert properties["alt_text"]["maxLength"] == 1000
    assert "alt_text" in schema["components"]["schemas"]["ImagePublic"]["required"]


def test_alt_text_on_a_direct_upload(client: TestClient):
    auth = register(client, "alice")
    photo = jpeg_bytes()
    ticket = client.post(
        "/api/v1/uploads",
        headers=auth,
        json={"filename": "a.jpg", "content_type": "image/jpeg", "size": len(photo)},
    ).json()
    parsed = urlparse(ticket["url"])
    put = client.put(f"{parsed.path}?{parsed.query}", content=photo, headers=ticket["headers"])
    assert put.status_code == 204
    complete = f"/api/v1/uploads/{ticket['id']}/complete"
    refused = client.post(complete, headers=auth, json={"alt_text": "y" * 1001})
    assert refused.status_code == 422
    assert "alt text is longer" in refused.json()["detail"]
    done = client.post(complete, headers=auth, json={"alt_text": "a test card"})
    assert done.status_code == 201, done.text  # the refusal did not cost the uploaded file
    assert done.json()["alt_text"] == "a test card"


# --- PATCH: each field -----------------------------------------------------------------


def test_patch_changes_only_the_fields_given(client: TestClient):
    auth = register(client, "alice")
    image = _ready(client, auth, caption="before", tags="sea", alt_text="old words")
    image_id = image["id"]

    response = _patch(client, image_id, auth, caption="  after  ")
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["caption"] == "after"
    assert edited["tags"] == ["sea"] and edited["alt_text"] == "old words"
    assert edited["variants"] == image["variants"]  # still ready, same URLs

    edited = _patch(client, image_id, auth, alt_text="A square, red on the left").json()
    assert edited["alt_text"] == "A square, red on the left" and edited["caption"] == "after"

    edited = _patch(client, image_id, auth, tags=["Sun", "#sea", "sun"]).json()
    assert edited["tags"] == ["sun", "sea"]
    edited = _patch(client, image_id, auth, tags="night, city sky").json()
    assert edited["tags"] == ["night", "city", "sky"]
    assert _patch(client, image_id, auth, tags=[]).json()["tags"] == []

    edited = _patch(
        client, image_id, auth, location={"name": " Berlin ", "lat": 52.52, "lon": 13.4}
    ).json()
    assert edited["location"] == {"name": "Berlin", "lat": 52.52, "lon": 13.4}
    edited = _patch(client, image_id, auth, location={"name": "Somewhere"}).json()
    assert edited["location"] == {"name": "Somewhere", "lat": None, "lon": None}
    assert _patch(client, image_id, auth, location=None).json()["location"] is None

    edited = _patch(client, image_id, auth, visibility="private").json()
    assert edited["visibility"] == "private"
    assert client.get(f"/api/v1/images/{image_id}").status_code == 404  # hidden from others

    unchanged = _patch(client, image_id, auth).json()  # an empty body changes nothing
    read = client.get(f"/api/v1/images/{image_id}", headers=auth).json()
    assert _unsigned(unchanged) == _unsigned(read)
    assert read["caption"] == "after" and read["alt_text"] == "A square, red on the left"
    assert read["tags"] == [] and read["location"] is None and read["visibility"] == "private"


def test_edited_tags_show_on_tag_pages_in_upload_order(client: TestClient):
    auth = register(client, "alice")
    older = _ready(client, auth, tags="sea")["id"]
    newer = _ready(client, auth, tags="sea")["id"]
    assert _patch(client, newer, auth, tags="sea sun").status_code == 200
    assert _patch(client, older, auth, tags="sun").status_code == 200  # edited last

    def tag_page(tag: str, **params: Any) -> dict[str, Any]:
        response = client.get(f"/api/v1/tags/{tag}/images", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    assert [i["id"] for i in tag_page("sea")["items"]] == [newer]
    assert [i["id"] for i in tag_page("sun")["items"]] == [newer, older]  # newest upload first
    first = tag_page("sun", limit=1)
    second = tag_page("sun", limit=1, cursor=first["next_cursor"])
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [newer, older]
    assert second["next_cursor"] is None
    assert _patch(client, newer, auth, tags="").status_code == 200
    assert tag_page("sea")["items"] == []
    assert [i["id"] for i in tag_page("sun")["items"]] == [older]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"caption": "x" * 2201}, "caption is longer than 2200 characters"),
        ({"alt_text": "x" * 1001}, "alt text is longer than 1000 characters"),
        ({"tags": "ok, <script>"}, "tag '<script>' must be"),
        ({"tags": [f"t{n}" for n in range(31)]}, "at most 30 tags are allowed, got 31"),
        ({"location": {"lat": 91, "lon": 0}}, "lat must be between -90 and 90"),
        ({"location": {"lat": 10, "lon": -180.5}}, "lon must be between -180 and 180"),
        ({"location": {"lat": 10}}, "give both lat and lon"),
        ({"location": {"name": "x" * 201}}, "location name is longer than 200"),
        ({"location": "Berlin"}, "location"),
        ({"visibility": "friends"}, "visibility"),
        ({"caption": 5}, "caption"),
        ({"title": "a typo"}, "title: Extra inputs are not permitted"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(
    client: TestClient, body: dict[str, Any], words: str
):
    auth = register(client, "alice")
    image = _ready(client, auth, caption="kept", tags="sea")
    response = _patch(client, image["id"], auth, **body)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert response.json()["code"] == "invalid_input"
    after = client.get(f"/api/v1/images/{image['id']}", headers=auth).json()
    assert _unsigned(after) == _unsigned(image)


def test_only_the_owner_can_edit(client: TestClient):
    alice = register(client, "alice")
    bob = register(client, "bob")
    public = _ready(client, alice)["id"]
    private = _ready(client, alice, visibility="private")["id"]
    anonymous = client.patch(f"/api/v1/images/{public}", json={"caption": "mine"})
    assert anonymous.status_code == 401
    forbidden = _patch(client, public, bob, caption="mine")
    assert forbidden.status_code == 403
    assert forbidden.json()["detail"] == "only the owner can edit this image"
    assert _patch(client, private, bob, caption="mine").status_code == 404
    assert _patch(client, "nosuchimage", bob, caption="mine").status_code == 404
    assert client.get(f"/api/v1/images/{public}").json()["caption"] == ""


def test_trashed_images_cannot_be_edited_or_retried(client: TestClient):
    auth = register(client, "alice")
    image = _ready(client, auth)["id"]
    failed = _failed(client, auth)["id"]
    for image_id in (image, failed):
        assert client.delete(f"/api/v1/images/{image_id}", headers=auth).status_code == 204
    assert _patch(client, image, auth, caption="x").status_code == 404
    retried = client.post(f"/api/v1/images/{failed}/retry", headers=auth)
    assert retried.status_code == 404
    assert retried.json()["detail"] == "no such image"


# --- PATCH: visibility purges the edges --------------------------------------------------


@pytest.fixture
def edge() -> Iterator[RecordingEdge]:
    recording = RecordingEdge()
    yield recording
    recording.close()


def _media_paths(image: dict[str, Any]) -> set[str]:
    urls = [v["url"] for v in image["variants"].values()] + [image["original"]["url"]]
    urls += [u for v in image["variants"].values() for u in v["formats"].values()]
    return {urlparse(u).path for u in urls}


def test_a_visibility_change_purges_the_edges(tmp_path, edge: RecordingEdge):
    settings = make_settings(tmp_path / "data", cdn_purge_urls=edge.url)
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        image = _ready(client, auth)
        public_url = image["variants"]["thumb"]["url"]
        assert client.get(public_url).status_code == 200

        assert _patch(client, image["id"], auth, caption="no purge for this").status_code == 200
        assert _patch(client, image["id"], auth, visibility="public").status_code == 200
        assert edge.purged == []  # nothing an edge holds changed

        private = _patch(client, image["id"], auth, visibility="private")
        assert private.status_code == 200
        assert set(edge.purged) == _media_paths(image)
        # negotiated, JPEG and WebP URLs of the one size a 200 px picture has; the original
        assert len(edge.purged) == 4
        assert client.get(public_url).status_code == 404  # unsigned: the origin hides it
        signed = private.json()["variants"]["thumb"]["url"]
        assert urlparse(signed).path == urlparse(public_url).path and "signature=" in signed

        edge.purged.clear()
        assert _patch(client, image["id"], auth, visibility="public").status_code == 200
        assert set(edge.purged) == _media_paths(image)


def test_a_purge_the_edge_did_not_confirm_is_retried(tmp_path, edge: RecordingEdge):
    import time

    settings = make_settings(tmp_path / "data", cdn_purge_urls=edge.url)
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        image = _ready(client, auth)
        edge.status = 503
        assert _patch(client, image["id"], auth, visibility="private").status_code == 200
        assert len(edge.purged) == 4
        edge.status = 200
        deadline = time.monotonic() + 15
        while len(edge.purged) < 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert set(edge.purged[4:]) == _media_paths(image)


# --- retry -------------------------------------------------------------------------------


def test_retrying_a_failed_image_processes_it_again(client: TestClient):
    auth = register(client, "alice")
    failed = _failed(client, auth)
    assert "cut off" in failed["failure_reason"]

    response = client.post(f"/api/v1/images/{failed['id']}/retry", headers=auth)
    assert response.status_code == 202, response.text
    retried = response.json()
    assert retried["status"] == "processing"
    assert retried["failure_reason"] is None and retried["processed_at"] is None

    again = wait_for_status(client, failed["id"], auth)
    assert again["status"] == "failed"  # the same bytes are still cut off
    assert "cut off" in again["failure_reason"]
    assert again["processed_at"] > failed["processed_at"]  # processed once more


def test_retry_after_the_cause_is_gone_makes_the_image_ready(tmp_path):
    data_dir = tmp_path / "data"
    # A time limit no picture can meet: processing fails with a reason.
    with TestClient(create_app(make_settings(data_dir, job_time_limit_seconds=0.001))) as client:
        auth = register(client, "alice")
        created = upload(client, auth, jpeg_bytes(400, 300))
        failed = wait_for_status(client, created.json()["id"], auth)
        assert failed["status"] == "failed"
        assert "took longer than the limit" in failed["failure_reason"]
    with TestClient(create_app(make_settings(data_dir))) as client:  # the limit is raised
        response = client.post(f"/api/v1/images/{failed['id']}/retry", headers=auth)
        assert response.status_code == 202, response.text
        ready = wait_for_status(client, failed["id"], auth)
        assert ready["status"] == "ready" and ready["failure_reason"] is None
        assert set(ready["variants"]) == {"thumb", "medium", "full"}
        assert client.get(ready["variants"]["thumb"]["url"]).status_code == 200


def test_only_a_failed_image_can_be_retried(client: TestClient, settings: Settings):
    alice = register(client, "alice")
    bob = register(client, "bob")
    ready = _ready(client, alice)["id"]
    response = client.post(f"/api/v1/images/{ready}/retry", headers=alice)
    assert response.status_code == 409
    assert response.json()["detail"] == "only a failed image can be retried; this one is ready"
    assert client.get(f"/api/v1/images/{ready}").json()["status"] == "ready"

    failed = _failed(client, alice)["id"]
    assert client.post(f"/api/v1/images/{failed}/retry").status_code == 401
    assert client.post(f"/api/v1/images/{failed}/retry", headers=bob).status_code == 403
    private = _ready(client, alice, visibility="private")["id"]
    assert client.post(f"/api/v1/images/{private}/retry", headers=bob).status_code == 404
    assert client.get(f"/api/v1/images/{failed}", headers=alice).json()["status"] == "failed"
