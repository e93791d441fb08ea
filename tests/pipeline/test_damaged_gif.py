"""A GIF with damaged frame data is refused, whatever its pixels: libvips' GIF loader calls the
damage a warning and would hand back garbage, so a warning counts as damage for GIF."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image

from shutterbox.adapters import imaging
from shutterbox.domain.errors import ImageRejected
from shutterbox.domain.images import VARIANT_SPECS
from tests.hostile.generators import flipped


def _noisy_gif(seed: int) -> bytes:
    noise = random.Random(seed).randbytes(480 * 320)
    picture = Image.frombytes("L", (480, 320), noise).convert("P", palette=Image.Palette.ADAPTIVE)
    out = io.BytesIO()
    picture.save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize("seed", range(40))
def test_a_gif_with_flipped_frame_bytes_is_refused(tmp_path: Path, seed: int) -> None:
    whole = tmp_path / "whole.gif"
    whole.write_bytes(_noisy_gif(seed))
    assert imaging.make_variants(whole, VARIANT_SPECS).width == 480  # the intact one is fine
    damaged = tmp_path / "damaged.gif"
    damaged.write_bytes(flipped(whole.read_bytes()))
    with pytest.raises(ImageRejected, match="damaged"):
        imaging.make_variants(damaged, VARIANT_SPECS)
