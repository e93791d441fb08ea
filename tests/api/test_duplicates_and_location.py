from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
import pyvips
from fastapi.testclient import TestClient

from shutterbox.config import Settings
from tests.imagegen import jpeg_bytes
from tests.support.blob_files import originals
from tests.support.clients import register, upload, wait_for_status


def test_same_bytes_again_return_the_existing_image(client: TestClient, settings: Settings):
    """Without details, or with the ones the image has, the same bytes are the same image."""
    auth = register(client, "alice")
    photo = jpeg_bytes()
    first = upload(client, auth, photo, caption="at the sea", tags="sea")
    again = upload(client, auth, photo)
    same_details = upload(client, auth, photo, caption="at the sea", tags="#Sea")
    assert first.status_code == 201
    assert again.status_code == 200 and same_details.status_code == 200
    assert again.json()["id"] == same_details.json()["id"] == first.json()["id"]
    assert again.headers["location"] == f"/api/v1/images/{first.json()['id']}"
    assert len(originals(settings.data_dir)) == 1  # the second copy, stored meanwhile, is gone
    wait_for_status(client, first.json()["id"], auth)
    listed = client.get("/api/v1/users/alice/images", headers=auth).json()["items"]
    assert len(listed) == 1


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"caption": "another try"}, "caption"),
        ({"tags": "sea, evening"}, "tags"),
        ({"alt_text": "waves at dusk"}, "alt text"),
        ({"location": "Brighton"}, "place"),
        ({"lat": "50.82", "lon": "-0.14"}, "place"),
        ({"visibility": "private"}, "visibility"),
        ({"caption": "another try", "tags": "evening"}, "caption and tags"),
    ],
)
def test_same_bytes_with_new_details_are_refused_clearly(
    client: TestClient, settings: Settings, fields: dict[str, str], named: str
):
    """A second upload whose details the image lacks is refused (409) with the image it
    would be, and the image is left as it was: nothing is dropped without a word."""
    auth = register(client, "alice")
    photo = jpeg_bytes()
    first = upload(client, auth, photo, caption="at the sea", tags="sea").json()
    refused = upload(client, auth, photo, **fields)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "duplicate_upload" and body["image_id"] == first["id"]
    assert refused.headers["location"] == f"/api/v1/images/{first['id']}"
    assert f"already uploaded this picture (image {first['id']})" in body["detail"]
    assert f"a different {named}:" in body["detail"] and "nothing was changed" in body["detail"]
    assert len(originals(settings.data_dir)) == 1
    kept = client.get(f"/api/v1/images/{first['id']}", headers=auth).json()
    assert (kept["caption"], kept["tags"], kept["visibility"]) == ("at the sea", ["sea"], "public")
    assert kept["alt_text"] == "" and kept["location"] is None
    # what the message advises: change them on the image
    edited = client.patch(f"/api/v1/images/{first['id']}", headers=auth, json={"caption": "x"})
    assert edited.status_code == 200 and edited.json()["caption"] == "x"


def test_a_direct_upload_of_the_same_bytes_with_new_details_is_refused(client: TestClient):
    auth = register(client, "alice")
    photo = jpeg_bytes()
    first = upload(client, auth, photo, visibility="private").json()

    def direct(details: dict[str, str]) -> Any:
        ticket = client.post(
            "/api/v1/uploads",
            headers=auth,
            json={"filename": "IMG_1.JPG", "content_type": "image/jpeg", "size": len(photo)},
        ).json()
        parsed = urlparse(ticket["url"])
        put = client.put(f"{parsed.path}?{parsed.query}", content=photo, headers=ticket["headers"])
        assert put.status_code == 204
        path = f"/api/v1/uploads/{ticket['id']}/complete"
        return client.post(path, headers=auth, json=details)

    refused = direct({"caption": "new words"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["image_id"] == first["id"]
    assert "a different caption" in refused.json()["detail"]
    # a completion that leaves visibility out asks for none: the private image is the answer
    same = direct({})
    assert same.status_code == 200 and same.json()["id"] == first["id"]
    assert same.json()["visibility"] == "private"


def test_duplicates_are_per_user_and_forget_deleted_images(client: TestClient):
    alice = register(client, "alice")
    bob = register(client, "bob")
    photo = jpeg_bytes()
    mine = upload(client, alice, photo).json()["id"]
    assert upload(client, bob, photo).status_code == 201
    wait_for_status(client, mine, alice)
    assert client.delete(f"/api/v1/images/{mine}", headers=alice).status_code == 204
    again = upload(client, alice, photo)
    assert again.status_code == 201
    assert again.json()["id"] != mine


def test_gps_is_kept_only_when_the_uploader_shares_it(client: TestClient):
    auth = register(client, "alice")
    photo_with_gps = jpeg_bytes(400, 300, gps=True)
    kept = upload(client, auth, photo_with_gps, share_location="true").json()
    assert kept["location"] == {"name": None, "lat": 52.52, "lon": 13.41}
    not_shared = upload(client, auth, jpeg_bytes(400, 300, gps=True)).json()
    assert not_shared["location"] is None
    explicit = upload(
        client,
        auth,
        jpeg_bytes(400, 300, gps=True),
        share_location="true",
        location="Paris",
        lat="48.8566",
        lon="2.3522",
    ).json()
    assert explicit["location"] == {"name": "Paris", "lat": 48.8566, "lon": 2.3522}


def test_no_variant_carries_gps_even_when_shared(client: TestClient):
    auth = register(client, "alice")
    created = upload(client, auth, jpeg_bytes(800, 600, gps=True), share_location="true").json()
    image = wait_for_status(client, created["id"], auth)
    for variant in image["variants"].values():
        data = client.get(variant["url"]).content
        fields = pyvips.Image.new_from_buffer(data, "").get_fields()
        assert not [f for f in fields if "gps" in f.lower() or f.startswith("exif")]
        assert b"GPS" not in data


def test_the_image_json_has_placeholders_and_photo_details(client: TestClient):
    auth = register(client, "alice")
    photo = jpeg_bytes(800, 600, camera=("Fujifilm", "X-T5"), taken_at="2023:07:01 09:00:00")
    image = wait_for_status(client, upload(client, auth, photo).json()["id"], auth)
    assert image["camera"]["make"] == "Fujifilm"
    assert image["taken_at"] == "2023-07-01T09:00:00"
    assert isinstance(image["blurhash"], str) and len(image["blurhash"]) == 28
    red, blue = (220, 30, 30), (30, 30, 220)  # the two halves of the test picture
    dominant = image["dominant_color"]
    rgb = tuple(int(dominant[i : i + 2], 16) for i in (1, 3, 5))
    assert min(sum(abs(a - b) for a, b in zip(rgb, c, strict=True)) for c in (red, blue)) < 30
