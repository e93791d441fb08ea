"""Colour accuracy: pictures in a wide-gamut or print colour space look the same in the
variants (sRGB) as they do through the embedded profile.

The reference is computed independently of libvips: Pillow decodes the original and
LittleCMS (ImageCms) converts it from its embedded profile to sRGB. Both rendering
intents a display conversion may legitimately use are tried (relative colorimetric and
perceptual differ for CMYK by up to about 5 ΔE2000); the service must match one of them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import pytest
import pyvips
from fastapi.testclient import TestClient
from PIL import Image, ImageCms

from tests.pipeline import corpus
from tests.pipeline.checks import (
    Colour,
    Outcome,
    fetch_variant,
    mean_colour,
    pil_mean,
    process_all,
    reference_open,
    reference_view,
    rounded,
)
from tests.pipeline.colour import delta_e, delta_e76, delta_e2000, srgb_to_lab

# Thresholds in CIEDE2000, where about 1 is the smallest difference a person notices
# between flat patches side by side. The usual photo-work tolerances (a mean of 3, a worst
# of 6) are too loose here: taking Display P3 numbers as sRGB costs these patches only 2.4
# on average and 4.3 at worst in CIEDE2000 (which compresses differences between
# saturated colours), so such limits could not tell a managed pipeline from one that
# ignores the profile. The service's real budget is small: the original's own coding at
# quality 95, the variant's JPEG coding at quality 82 (flat patches, centres only), and
# two independent 8-bit LittleCMS pipelines rounding differently. Measured, that is a mean
# of 0.1-0.3 and a worst patch under 1. So: a mean under 1 (not noticeable) and no patch
# at 2 or more.
MEAN_LIMIT = 1.0
MAX_LIMIT = 2.0
# Not converting must miss both limits by this factor, so the test clearly catches it.
SKIPPED_FACTOR = 2.0

INTENTS = {
    "relative colorimetric": ImageCms.Intent.RELATIVE_COLORIMETRIC,
    "perceptual": ImageCms.Intent.PERCEPTUAL,
}
CHARTS = {
    "jpeg-display-p3": corpus.chart_p3_jpeg,
    "jpeg-cmyk-icc": corpus.chart_cmyk_jpeg,
    "heic-display-p3": corpus.chart_p3_heic,
}
VARIANTS = ("full", "medium", "thumb")


def patch_boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """(left, top, width, height) of the middle 40% of every chart patch."""
    side = int(0.4 * width / corpus.CHART_COLUMNS)
    boxes = []
    for fx, fy in corpus.patch_centres():
        boxes.append((round(fx * width) - side // 2, round(fy * height) - side // 2, side, side))
    return boxes


def vips_patches(image: pyvips.Image) -> list[Colour]:
    return [mean_colour(image, *box) for box in patch_boxes(image.width, image.height)]


def pil_patches(image: Image.Image) -> list[Colour]:
    return [
        pil_mean(image, (left, top, left + w, top + h))
        for left, top, w, h in patch_boxes(*image.size)
    ]


@dataclass
class Comparison:
    differences: list[float]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.differences)

    @property
    def worst(self) -> float:
        return max(self.differences)


def compare(got: list[Colour], want: list[Colour]) -> Comparison:
    return Comparison([delta_e(g, w) for g, w in zip(got, want, strict=True)])


def describe(got: list[Colour], want: list[Colour]) -> str:
    return "; ".join(
        f"{rounded(w)}->{rounded(g)} ΔE {delta_e(g, w):.1f}" for g, w in zip(got, want, strict=True)
    )


@pytest.fixture(scope="module")
def charts() -> dict[str, bytes]:
    return {name: build() for name, build in CHARTS.items()}


@pytest.fixture(scope="module")
def references(charts: dict[str, bytes]) -> dict[str, dict[str, list[Colour]]]:
    return {
        name: {intent: pil_patches(reference_view(data, code)) for intent, code in INTENTS.items()}
        for name, data in charts.items()
    }


@pytest.fixture(scope="module")
def outcomes(
    service: TestClient, owner: dict[str, str], charts: dict[str, bytes]
) -> dict[str, Outcome]:
    ext = {"jpeg": "jpg", "heic": "heic"}
    return process_all(
        service, owner, ((name, data, f"chart.{ext[name[:4]]}") for name, data in charts.items())
    )


# Published CIEDE2000 test data (Sharma, Wu and Dalal 2005): the measure itself
@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [
        pytest.param((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425, id="blue-hue"),
        pytest.param((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000, id="blue-chroma"),
        pytest.param((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492, id="large-difference"),
        pytest.param((50.0, 2.5, 0.0), (50.0, 3.2592, 0.3350), 1.0000, id="near-neutral"),
        pytest.param(
            (60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644, id="green"
        ),
        pytest.param((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082, id="near-black"),
        pytest.param(
            (22.7233, 20.0904, -46.694), (23.0331, 14.973, -42.5619), 2.0373, id="dark-blue"
        ),
    ],
)
def test_the_colour_difference_is_ciede2000(lab1, lab2, expected):
    assert delta_e2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert delta_e2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)


def test_srgb_to_lab_matches_known_values():
    assert srgb_to_lab((255, 255, 255)) == pytest.approx((100.0, 0.0, 0.0), abs=0.01)
    assert srgb_to_lab((255, 0, 0)) == pytest.approx((53.24, 80.09, 67.20), abs=0.02)
    assert srgb_to_lab((0, 0, 255)) == pytest.approx((32.30, 79.19, -107.86), abs=0.02)
    assert delta_e76(srgb_to_lab((0, 0, 0)), srgb_to_lab((255, 255, 255))) == pytest.approx(100)


@pytest.mark.parametrize("chart", list(CHARTS))
def test_the_reference_shows_the_chart(
    charts: dict[str, bytes], references: dict[str, dict[str, list[Colour]]], chart: str
):
    """The chart was drawn in sRGB and converted to the file's colour space: converting it
    back shows the drawn colours (up to gamut and 8-bit rounding), and its numbers are not
    the sRGB numbers, so the file really needs colour management."""
    reference = references[chart]["relative colorimetric"]
    drawn: list[Colour] = [(float(r), float(g), float(b)) for r, g, b in corpus.CHART_COLOURS]
    back = compare(reference, drawn)
    limit = 1.0 if "p3" in chart else 12.0  # CMYK cannot print saturated RGB primaries
    assert back.mean < limit, describe(reference, drawn)
    stored = pil_patches(reference_open(charts[chart]).convert("RGB"))
    assert compare(stored, drawn).worst > 4, describe(stored, drawn)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("chart", list(CHARTS))
def test_variant_colours_match_the_reference(
    service: TestClient,
    outcomes: dict[str, Outcome],
    references: dict[str, dict[str, list[Colour]]],
    chart: str,
    variant: str,
):
    outcome = outcomes[chart]
    assert outcome.upload_status == 201, outcome.upload_body
    assert outcome.image["status"] == "ready", outcome.image
    _, decoded = fetch_variant(service, outcome.image["variants"][variant])
    got = vips_patches(decoded)
    results = {intent: compare(got, want) for intent, want in references[chart].items()}
    intent = min(results, key=lambda name: results[name].mean)
    best = results[intent]
    report = f"{chart} {variant} vs {intent}: {describe(got, references[chart][intent])}"
    assert best.mean < MEAN_LIMIT, f"mean ΔE2000 {best.mean:.2f}; {report}"
    assert best.worst < MAX_LIMIT, f"worst ΔE2000 {best.worst:.2f}; {report}"


@pytest.mark.parametrize("chart", list(CHARTS))
def test_ignoring_the_profile_would_be_caught(
    charts: dict[str, bytes], references: dict[str, dict[str, list[Colour]]], chart: str
):
    """Taking the file's numbers as sRGB (P3) or separating CMYK naively without the
    profile (Pillow's plain convert) is clearly outside the limits above."""
    skipped = pil_patches(reference_open(charts[chart]).convert("RGB"))
    for intent, reference in references[chart].items():
        error = compare(skipped, reference)
        report = f"{intent}: mean {error.mean:.2f}, worst {error.worst:.2f}"
        assert error.mean > SKIPPED_FACTOR * MEAN_LIMIT, report
        assert error.worst > SKIPPED_FACTOR * MAX_LIMIT, report
