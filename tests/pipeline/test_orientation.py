"""All eight EXIF orientations: every variant is upright and unmirrored, and the image's
size is the size it is displayed at.

Each picture is drawn as it should be displayed (red top-left, green top-right, blue
bottom-left, yellow bottom-right, landscape), stored transformed the inverse way and
tagged, so only a viewer that applies the tag shows red top-left. Four distinct quadrants
tell all eight transformations apart, mirrors included.
"""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.pipeline import corpus
from tests.pipeline.checks import (
    Outcome,
    assert_quadrants,
    assert_reference_view,
    assert_variant_fits,
    assert_variant_shows,
    process_all,
    reference_open,
    reference_quadrants,
)

CASES = [("jpeg", n) for n in range(1, 9)] + [
    (container, n) for container in ("png", "webp", "tiff", "avif") for n in (6, 7)
]
IDS = [f"{container}-orientation-{n}" for container, n in CASES]


@pytest.fixture(scope="module")
def samples() -> dict[str, corpus.Sample]:
    built = [corpus.oriented(n, container) for container, n in CASES]
    return {sample.id: sample for sample in built}


@pytest.fixture(scope="module")
def outcomes(
    service: TestClient, owner: dict[str, str], samples: dict[str, corpus.Sample]
) -> dict[str, Outcome]:
    return process_all(service, owner, ((s.id, s.data, s.filename) for s in samples.values()))


@pytest.mark.parametrize("case", IDS)
def test_a_correct_viewer_shows_the_marker_top_left(samples: dict[str, corpus.Sample], case):
    sample = samples[case]
    container, orientation = case.split("-")[0], int(case.rsplit("-", 1)[1])
    assert Image.open(io.BytesIO(sample.data)).getexif().get(0x0112) == orientation
    if container == "jpeg" and orientation > 1:  # as stored, it is not the picture displayed
        stored = reference_open(sample.data).convert("RGB")
        with pytest.raises(AssertionError):
            assert_quadrants(reference_quadrants(stored), sample.quadrants, "stored")
    assert_reference_view(sample, case, size=corpus.ORIENTED_SIZE)


@pytest.mark.parametrize("case", IDS)
def test_variants_are_upright_with_the_marker_top_left(
    service: TestClient, outcomes: dict[str, Outcome], samples: dict[str, corpus.Sample], case
):
    outcome = outcomes[case]
    assert outcome.upload_status == 201, outcome.upload_body
    image = outcome.image
    assert image["status"] == "ready", image
    sample = samples[case]
    # the size as displayed, not as stored
    assert (image["width"], image["height"]) == (sample.width, sample.height)
    for name, variant in image["variants"].items():
        assert_variant_fits(sample, name, variant)
        _, decoded = assert_variant_shows(service, variant, sample, f"{case} {name}")
        assert decoded.width > decoded.height, f"{case} {name} is not landscape"
        # the variant is upright in its pixels: no orientation tag left for viewers to apply
        assert not decoded.get_typeof("orientation") or decoded.get("orientation") == 1


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_large_jpeg_shrunk_on_load_is_still_upright(orientation: int, tmp_path):
    """Photos large enough for a DCT shrink on load (over 4096 px) take another decode path."""
    import pyvips
    from PIL import Image as PILImage

    from shutterbox.adapters.imaging import make_variants
    from shutterbox.domain.images import VARIANT_SPECS

    displayed = PILImage.new("RGB", (4400, 6400), (30, 200, 30))
    displayed.paste((220, 20, 20), (0, 0, 2200, 3200))
    inverse = {
        3: PILImage.Transpose.ROTATE_180,
        6: PILImage.Transpose.ROTATE_90,
        8: PILImage.Transpose.ROTATE_270,
    }[orientation]
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "big.jpg"
    displayed.transpose(inverse).save(path, quality=85, exif=exif.tobytes())
    result = make_variants(path, VARIANT_SPECS)
    assert (result.width, result.height) == (4400, 6400)
    for variant in result.variants:
        decoded = pyvips.Image.new_from_buffer(variant.data, "")
        corner = decoded.crop(0, 0, decoded.width // 4, decoded.height // 4)
        assert corner[0].avg() > 180 and corner[1].avg() < 60, variant.name
