"""The checks the pipeline tests rely on do reject what they are meant to reject."""

from __future__ import annotations

import pytest
import pyvips
from PIL import Image

from tests.pipeline import corpus
from tests.pipeline.checks import (
    assert_human_readable,
    assert_no_metadata,
    assert_quadrants,
    quadrant_colours,
    reference_quadrants,
    reference_view,
)


def _vips(image: Image.Image) -> pyvips.Image:
    return corpus.to_vips(image.convert("RGB"))


def test_quadrants_accept_the_picture_itself():
    picture = corpus.quadrant_picture(480, 320)
    assert_quadrants(quadrant_colours(_vips(picture)), corpus.COLOURS, "as drawn")


@pytest.mark.parametrize(
    "method",
    [m for m in corpus.STORE_FOR_ORIENTATION.values() if m is not None],
    ids=lambda method: method.name.lower().replace("_", "-"),
)
def test_quadrants_reject_every_rotation_and_mirror(method: Image.Transpose):
    transformed = corpus.quadrant_picture(480, 320).transpose(method)
    with pytest.raises(AssertionError):
        assert_quadrants(quadrant_colours(_vips(transformed)), corpus.COLOURS, "transformed")


def test_quadrants_reject_a_transparent_area_left_black():
    unflattened = corpus.with_hole(480, 320).convert("RGB")
    with pytest.raises(AssertionError, match="quadrant 3"):
        assert_quadrants(quadrant_colours(_vips(unflattened)), corpus.WITH_HOLE, "black hole")


def test_quadrants_reject_cmyk_numbers_taken_naively():
    cmyk = corpus.to_vips(corpus.quadrant_picture(480, 320)).icc_transform("cmyk")
    naive = Image.frombytes("CMYK", (cmyk.width, cmyk.height), cmyk.write_to_memory())
    with pytest.raises(AssertionError):
        assert_quadrants(quadrant_colours(_vips(naive)), corpus.COLOURS, "naive CMYK")


def test_the_reference_view_applies_the_orientation():
    sample = corpus.oriented(6)
    assert_quadrants(reference_quadrants(reference_view(sample.data)), sample.quadrants, "ref")


def test_metadata_check_rejects_an_original_with_metadata():
    data = corpus.KINDS["jpeg-baseline"]().data
    with pytest.raises(AssertionError, match="carries"):
        assert_no_metadata(data, pyvips.Image.new_from_buffer(data, ""), "original")
    bare = bytes(pyvips.Image.new_from_buffer(data, "").jpegsave_buffer(keep="none"))
    assert_no_metadata(bare, pyvips.Image.new_from_buffer(bare, ""), "stripped")
    # a stray segment is caught even when libvips would not report it as a field
    commented = corpus.insert_segment(bare, b"\xff\xfe\x00\x06note")
    with pytest.raises(AssertionError, match="APPn/COM"):
        assert_no_metadata(commented, pyvips.Image.new_from_buffer(commented, ""), "comment")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("RuntimeError: EOFError: Decoder plugin failed", id="exception-names"),
        pytest.param("VipsForeignLoad: out of order read at line 12", id="library-message"),
        pytest.param("processing kept failing (KeyError: 'x')", id="wrapped-exception"),
        pytest.param("could not open /tmp/upload-1234/original", id="file-path"),
    ],
)
def test_human_readable_rejects_machine_text(text):
    with pytest.raises(AssertionError):
        assert_human_readable(text, "reason")


def test_human_readable_accepts_the_services_reasons():
    assert_human_readable("the file is cut off: upload the complete picture again", "reason")
    assert_human_readable("the HEIC file is damaged and could not be decoded", "reason")
