from __future__ import annotations

import pyvips
from fastapi.testclient import TestClient

from shutterbox.config import Settings
from tests.imagegen import jpeg_bytes
from tests.support.blob_files import originals
from tests.support.clients import register, upload, wait_for_status


def test_same_bytes_again_return_the_existing_image(client: TestClient, settings: Settings):
    auth = register(client, "alice")
    photo = jpeg_bytes()
    first = upload(client, auth, photo)
    again = upload(client, auth, photo, caption="another try")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == f"/api/v1/images/{first.json()['id']}"
    assert len(originals(settings.data_dir)) == 1  # the second copy, stored meanwhile, is gone
    wait_for_status(client, first.json()["id"], auth)
    listed = client.get("/api/v1/users/alice/images", headers=auth).json()["items"]
    assert len(listed) == 1


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
