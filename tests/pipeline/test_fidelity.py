"""What a viewer sees is what was uploaded: transparency kept where the format can hold it,
animations animated, and each size made and listed once.

Run on a service that makes every format (JPEG, WebP and AVIF)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pyvips
from fastapi.testclient import TestClient
from PIL import Image

from shutterbox.entrypoints.http.app import create_app
from tests.imagegen import jpeg_bytes
from tests.pipeline import corpus
from tests.pipeline.checks import Outcome, process_all
from tests.pipeline.colour import delta_e
from tests.support.blob_files import blob_files
from tests.support.clients import register
from tests.support.settings import make_settings

# kinds with a fully transparent bottom-right quadrant (corpus.WITH_HOLE; the grey one too)
TRANSPARENT = ("png-rgba", "png-palette-trns", "png-grey-alpha", "webp-alpha", "heic-rgba")
ANIMATED = ("gif-animated", "webp-animated")
STILL = ("jpeg-baseline", "png-rgba", "webp-alpha", "heic")
FORMATS = ("jpeg", "webp", "avif")


def _animated_gif_with_delays() -> bytes:
    """Three frames, the first transparent on its left half, shown for 0, 10 and 500 ms
    (browsers show GIF frames of 10 ms or less for 100 ms)."""
    frames = []
    for colour in (corpus.RED, corpus.GREEN, corpus.BLUE):
        frame = Image.new("RGBA", (400, 300), (*colour, 255))
        frames.append(frame)
    frames[0].paste((0, 0, 0, 0), (0, 0, 200, 300))
    out = io.BytesIO()
    frames[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[0, 10, 500],
        loop=3,
        disposal=2,
    )
    return out.getvalue()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fidelity") / "data"


@pytest.fixture(scope="module")
def service(data_dir: Path) -> Iterator[TestClient]:
    settings = make_settings(data_dir, variant_formats=",".join(FORMATS), upload_rate="")
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def owner(service: TestClient) -> dict[str, str]:
    return register(service, "fidelity")


@pytest.fixture(scope="module")
def outcomes(service: TestClient, owner: dict[str, str]) -> dict[str, Outcome]:
    kinds = sorted({*TRANSPARENT, *ANIMATED, *STILL})
    files = [(kind, corpus.KINDS[kind]().data, f"{kind}.bin") for kind in kinds]
    files.append(("gif-delays", _animated_gif_with_delays(), "delays.gif"))
    files.append(("jpeg-large", jpeg_bytes(2600, 1700, noise=True), "large.jpg"))
    files.append(("jpeg-tiny", jpeg_bytes(200, 150), "tiny.jpg"))
    return process_all(service, owner, files)


def _ready(outcomes: dict[str, Outcome], kind: str) -> dict[str, Any]:
    outcome = outcomes[kind]
    assert outcome.upload_status == 201, outcome.upload_body
    assert outcome.image["status"] == "ready", outcome.image
    return outcome.image


def _fetch(client: TestClient, url: str, media_type: str, **load: Any) -> pyvips.Image:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    return pyvips.Image.new_from_buffer(response.content, "", **load)


def _alpha_at(image: pyvips.Image, x: int, y: int) -> float:
    return float(image.getpoint(x, y)[image.bands - 1])


@pytest.mark.parametrize("kind", TRANSPARENT)
@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_transparency_is_kept_in_webp_and_avif(
    service: TestClient, outcomes: dict[str, Outcome], kind: str, fmt: str
):
    image = _ready(outcomes, kind)
    for name, variant in image["variants"].items():
        decoded = _fetch(service, variant["formats"][fmt], f"image/{fmt}")
        assert decoded.hasalpha() and decoded.bands in (2, 4), (kind, name, decoded.bands)
        width, height = decoded.width, decoded.height
        assert _alpha_at(decoded, width // 4, height // 4) > 250, (kind, name)  # opaque
        assert _alpha_at(decoded, 3 * width // 4, 3 * height // 4) < 5, (kind, name)  # the hole


@pytest.mark.parametrize("kind", TRANSPARENT)
def test_jpeg_variants_are_flattened_onto_white(
    service: TestClient, outcomes: dict[str, Outcome], kind: str
):
    image = _ready(outcomes, kind)
    for variant in image["variants"].values():
        decoded = _fetch(service, variant["formats"]["jpeg"], "image/jpeg")
        assert decoded.bands == 3
        hole = decoded.getpoint(3 * decoded.width // 4, 3 * decoded.height // 4)
        assert delta_e(hole, corpus.WHITE) < 3, hole


def test_an_opaque_picture_gets_no_alpha_plane(service: TestClient, outcomes: dict[str, Outcome]):
    image = _ready(outcomes, "jpeg-baseline")
    for fmt in ("webp", "avif"):
        decoded = _fetch(service, image["variants"]["thumb"]["formats"][fmt], f"image/{fmt}")
        assert not decoded.hasalpha()


@pytest.mark.parametrize("kind", [*ANIMATED, "gif-delays"])
def test_animations_stay_animated_in_webp_with_a_still_jpeg(
    service: TestClient, outcomes: dict[str, Outcome], kind: str
):
    image = _ready(outcomes, kind)
    assert image["animated"] is True
    frames = 3 if kind == "gif-delays" else 2
    for name, variant in image["variants"].items():
        assert set(variant["formats"]) == {"jpeg", "webp"}, name  # no AVIF: it would be still
        moving = _fetch(service, variant["formats"]["webp"], "image/webp", n=-1)
        assert moving.get("n-pages") == frames, (kind, name)
        assert moving.get("page-height") == variant["height"]
        assert moving.width == variant["width"]
        still = _fetch(service, variant["formats"]["jpeg"], "image/jpeg")
        assert (still.width, still.height) == (variant["width"], variant["height"])
        assert not still.get_typeof("n-pages") or still.get("n-pages") == 1
        if kind in ANIMATED:  # frame one: the quadrants; frame two: one colour
            assert moving.get("delay") == [200, 200] and moving.get("loop") == 0
            top_left = still.getpoint(still.width // 4, still.height // 4)
            assert delta_e(top_left, corpus.RED) < 5, top_left
            second = moving.crop(0, variant["height"], variant["width"], variant["height"])
            centre = second.getpoint(second.width // 2, second.height // 2)[:3]
            assert delta_e(centre, corpus.SECOND_FRAME) < 5, centre
        else:  # 0 and 10 ms are shown at 100 ms, as browsers show them
            assert moving.get("delay") == [100, 100, 500]
            # a GIF that repeats 3 times plays 4 times; a WebP's loop count is the plays
            assert moving.get("loop") == 4
            assert moving.hasalpha()  # the first frame's transparent half
            assert _alpha_at(moving, 2, 2) < 5 and _alpha_at(moving, moving.width - 2, 2) > 250
            assert delta_e(still.getpoint(2, 2), corpus.WHITE) < 3


@pytest.mark.parametrize("kind", STILL)
def test_stills_are_not_animated_and_get_every_format(outcomes: dict[str, Outcome], kind: str):
    image = _ready(outcomes, kind)
    assert image["animated"] is False
    for variant in image["variants"].values():
        assert set(variant["formats"]) == set(FORMATS)


def test_the_page_of_an_animation_offers_its_still_to_those_wanting_less_motion(
    service: TestClient, outcomes: dict[str, Outcome]
):
    image = _ready(outcomes, "gif-animated")
    page = service.get(f"/images/{image['id']}").text
    sources = re.findall(r"<source [^>]*>", page)
    assert 'type="image/avif"' not in page
    assert 'media="(prefers-reduced-motion: reduce)"' in sources[0]
    assert 'type="image/jpeg"' in sources[0] and 'type="image/webp"' in sources[1]
    still = _ready(outcomes, "jpeg-baseline")
    still_page = service.get(f"/images/{still['id']}").text
    assert "prefers-reduced-motion" not in still_page


def _variant_blobs(data_dir: Path, image_id: str) -> list[str]:
    return sorted(name for name in blob_files(data_dir) if f"/{image_id}-" in name)


@pytest.mark.parametrize(
    ("kind", "sizes"),
    [("jpeg-large", ["thumb", "medium", "full"]), ("png-rgba", ["thumb", "medium"])],
)
def test_each_size_is_made_and_stored_once(
    data_dir: Path, outcomes: dict[str, Outcome], kind: str, sizes: list[str]
):
    image = _ready(outcomes, kind)
    stored = _variant_blobs(data_dir, image["id"])
    assert len(stored) == len(sizes) * len(FORMATS), stored
    assert {name.rsplit("-", 1)[1].split(".")[0] for name in stored} == set(sizes)
    assert list(image["variants"]) == ["thumb", "medium", "full"]  # every name is served
    widths = [variant["width"] for variant in image["variants"].values()]
    assert len(set(widths)) == len(sizes)


def test_a_picture_smaller_than_the_thumbnail_is_stored_once(
    data_dir: Path, outcomes: dict[str, Outcome]
):
    image = _ready(outcomes, "jpeg-tiny")
    assert len(_variant_blobs(data_dir, image["id"])) == len(FORMATS)
    urls = {variant["formats"]["webp"] for variant in image["variants"].values()}
    assert len(urls) == 1 and image["variants"]["full"]["width"] == 200


def _srcsets(html: str) -> list[str]:
    return re.findall(r'srcset="([^"]*)"', html)


@pytest.mark.parametrize("kind", ["png-rgba", "jpeg-tiny", "jpeg-large", "gif-animated"])
def test_srcsets_list_each_width_once(
    service: TestClient, owner: dict[str, str], outcomes: dict[str, Outcome], kind: str
):
    image = _ready(outcomes, kind)
    distinct = {variant["width"] for variant in image["variants"].values()}
    page = service.get(f"/images/{image['id']}").text
    feed = service.get("/users/fidelity").text
    card = feed[feed.index(f'data-image-id="{image["id"]}"') :].split("</article>", 1)[0]
    for html in (page, card):
        srcsets = _srcsets(html)
        assert srcsets
        for srcset in srcsets:
            widths = [entry.rsplit(" ", 1)[1] for entry in srcset.split(", ")]
            assert len(widths) == len(set(widths)) == len(distinct), srcset
