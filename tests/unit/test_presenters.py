"""The image JSON is written straight from the domain object, without the pydantic models,
for speed. These cases pin it to the schema: validating the JSON into ``ImagePublic`` and
dumping it again must give back exactly the same value, and the answer of a page parses."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pytest

from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import User
from shutterbox.entrypoints.api.presenters import image_json, page_response
from shutterbox.entrypoints.api.schemas import ImagePage, ImagePublic
from shutterbox.services.delivery.media_urls import MediaUrls

OWNER = User(id=7, username="ann", is_admin=False, created_at=datetime(2024, 1, 1))
OTHER = User(id=8, username="ben", is_admin=False, created_at=datetime(2024, 1, 1))
URLS = MediaUrls(
    origin_base="https://origin.example",
    cdn_base="https://cdn.example",
    keys=(b"k" * 32,),
    signed_ttl=3600,
)


def _variant(name: str, width: int, fmt: str = "jpeg") -> Variant:
    ext, media_type = {"jpeg": ("jpg", "image/jpeg"), "webp": ("webp", "image/webp")}[fmt]
    return Variant(
        name, f"variants/x-{name}.{ext}", media_type, width, width // 2, 99, "c" * 64, fmt
    )


BASE = Image(
    id="abcdefghijklmnop",
    owner_id=OWNER.id,
    owner_username=OWNER.username,
    status=Status.READY,
    visibility=Visibility.PUBLIC,
    created_at=datetime(2024, 5, 1, 12, 0, 0, 123456),
    original_key="originals/2024/05/01/abcdefghijklmnop.jpg",
    original_media_type="image/jpeg",
    original_bytes=3_000_000,
    original_sha256="a" * 64,
    caption="Sunset ☀ über dem Meer",
    tags=["sea", "sun"],
    width=4000,
    height=3000,
    processed_at=datetime(2024, 5, 1, 12, 0, 5),
    variants={n: _variant(n, w) for n, w in (("thumb", 320), ("full", 2048), ("medium", 1080))},
    alternates={"webp": {n: _variant(n, w, "webp") for n, w in (("thumb", 320), ("full", 2048))}},
)
CASES = {
    "public, seen by another": (BASE, OTHER),
    "public, seen by its owner": (BASE, OWNER),
    "private, owner": (replace(BASE, visibility=Visibility.PRIVATE), OWNER),
    "anonymous, with place and camera": (
        replace(
            BASE,
            location_name="Lisbon",
            lat=38.7,
            lon=-9.1,
            camera_make="Fujifilm",
            iso=200,
            f_number=2.8,
            taken_at=datetime(2024, 4, 30, 18, 30),
        ),
        None,
    ),
    "only coordinates": (replace(BASE, lat=0.0, lon=0.0), None),
    "archived original, restored": (
        replace(
            BASE,
            original_storage_class=StorageClass.GLACIER,
            original_restored_until=datetime(2030, 1, 1, 7, 0),
        ),
        OWNER,
    ),
    "failed, no variants": (
        replace(
            BASE, status=Status.FAILED, failure_reason="not an image", variants={}, alternates={}
        ),
        OWNER,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_json_is_what_the_schema_writes(case: str):
    image, viewer = CASES[case]
    written = image_json(image, viewer, URLS)
    assert ImagePublic.model_validate(written).model_dump(mode="json") == written


def test_timestamps_are_utc_with_a_zone_and_urls_follow_visibility():
    written = image_json(CASES["archived original, restored"][0], OWNER, URLS)
    assert written["created_at"] == "2024-05-01T12:00:00.123456Z"
    assert written["processed_at"] == "2024-05-01T12:00:05Z"
    assert written["original"]["restored_until"] == "2030-01-01T07:00:00Z"
    assert written["variants"]["thumb"]["url"].startswith("https://cdn.example/media/")
    assert list(written["variants"]) == ["thumb", "medium", "full"]  # smallest first
    assert set(written["variants"]["medium"]["formats"]) == {"jpeg"}
    private = image_json(replace(BASE, visibility=Visibility.PRIVATE), OWNER, URLS)
    assert "signature=" in private["variants"]["thumb"]["formats"]["webp"]
    assert private["variants"]["thumb"]["url"].startswith("https://origin.example/media/")


def test_a_page_answer_parses_as_an_image_page():
    images = [image for image, _ in CASES.values()]
    answer = page_response(images, "next", OTHER, URLS)
    assert answer.media_type == "application/json"
    page = ImagePage.model_validate_json(answer.body)
    assert [i.id for i in page.items] == [i.id for i in images]
    assert json.loads(answer.body)["items"][0] == image_json(images[0], OTHER, URLS)
