"""How long shutterbox takes to make the variants of a 12 MP photo, relative to just decoding it
and to a careful Pillow pipeline doing the same job.

Times, in rounds after a warm-up: shutterbox's `make_variants` with the real variant set
(2048, 1080 and 320 px JPEGs), a full libvips decode of the file (the baseline), a libvips
shrink-on-load decode (for reference) and Pillow doing the same three variants with draft
mode, EXIF transpose and Lanczos resizing. Checks that shutterbox and Pillow produce the same
dimensions, so that the comparison is fair.

Run from the repository root: `python -m bench.variants`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pyvips

from bench import benchkit
from bench.benchkit import (
    PHOTO_HEIGHT,
    PHOTO_QUALITY,
    PHOTO_WIDTH,
    Case,
    Output,
    argument_parser,
    environment_lines,
    markdown_table,
    median,
    ms,
    publish,
    ratio,
    write_photo_jpeg,
)
from shutterbox.adapters.imaging import configure_vips, make_variants
from shutterbox.domain.images import VARIANT_SPECS

SECTION = "variants"
QUALITY = 82  # shutterbox's default jpeg_quality
WARMUP = 1
DIMENSION_TOLERANCE = 1  # pixels; the two resizers may round a fractional edge differently


# The four things timed -----------------------------------------------------------------------


def shutterbox_variants(path: Path) -> list[Output]:
    processed = make_variants(path, VARIANT_SPECS, jpeg_quality=QUALITY)
    return [Output(v.name, v.width, v.height, len(v.data)) for v in processed.variants]


def vips_full_decode(path: Path) -> list[Output]:
    """Every pixel of the file decoded (and summed, so that nothing can be skipped)."""
    image = pyvips.Image.new_from_file(str(path), access="sequential")
    image.avg()
    return []


def vips_shrink_on_load(path: Path) -> list[Output]:
    """What libvips decodes when asked for the largest variant's size only."""
    largest = VARIANT_SPECS[0].max_side
    pyvips.Image.thumbnail(str(path), largest).avg()
    return []


def pillow_variants(path: Path) -> list[Output]:
    """The same job in Pillow (see `benchkit.pillow_variants`), at shutterbox's quality."""
    return benchkit.pillow_variants(path, QUALITY)


SHUTTERBOX = "shutterbox make_variants (3 JPEGs)"
DECODE = "libvips full decode (baseline)"
SHRINK = f"libvips thumbnail to {VARIANT_SPECS[0].max_side} (shrink-on-load)"
PILLOW = "Pillow, the same 3 JPEGs"
CASES: dict[str, Case] = {
    SHUTTERBOX: shutterbox_variants,
    DECODE: vips_full_decode,
    SHRINK: vips_shrink_on_load,
    PILLOW: pillow_variants,
}


# Measuring -----------------------------------------------------------------------------------


def timed(case: Case, path: Path) -> float:
    started = time.perf_counter()
    case(path)
    return time.perf_counter() - started


def measure(path: Path, rounds: int) -> dict[str, list[float]]:
    """Seconds per case and round. Each round runs every case once, starting with a different
    one each time, so that a slow spell on the machine does not land on one case only."""
    names = list(CASES)
    for _ in range(WARMUP):
        for name in names:
            CASES[name](path)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed(CASES[name], path))
        print(f"round {round_number + 1}/{rounds} done", flush=True)
    return times


def per_round_ratio(times: dict[str, list[float]], over: str, under: str) -> float:
    """The median of the per-round ratios: times taken close together are compared."""
    return median([a / b for a, b in zip(times[over], times[under], strict=True)])


def check_dimensions(ours: list[Output], theirs: list[Output]) -> None:
    for a, b in zip(ours, theirs, strict=True):
        if (
            abs(a.width - b.width) > DIMENSION_TOLERANCE
            or abs(a.height - b.height) > DIMENSION_TOLERANCE
        ):
            raise RuntimeError(
                f"variant {a.name}: shutterbox made {a.width}x{a.height}, "
                f"Pillow {b.width}x{b.height}; the comparison would not be fair"
            )


# Reporting -----------------------------------------------------------------------------------


def timing_table(times: dict[str, list[float]]) -> str:
    rows = [
        [
            name,
            ms(median(values)),
            ms(min(values)),
            ms(max(values)),
            ratio(per_round_ratio(times, name, DECODE)),
        ]
        for name, values in times.items()
    ]
    headers = ["Case", "Median ms", "Min ms", "Max ms", "vs full decode"]
    return markdown_table(headers, rows)


def ratio_table(times: dict[str, list[float]]) -> str:
    rows = [
        ["shutterbox / full decode (baseline)", ratio(per_round_ratio(times, SHUTTERBOX, DECODE))],
        ["shutterbox / Pillow", ratio(per_round_ratio(times, SHUTTERBOX, PILLOW))],
    ]
    return markdown_table(["Ratio", "Median of per-round ratios"], rows)


def output_table(ours: list[Output], theirs: list[Output]) -> str:
    rows = [
        [a.name, f"{a.width}x{a.height}", f"{b.width}x{b.height}", f"{a.bytes:,}", f"{b.bytes:,}"]
        for a, b in zip(ours, theirs, strict=True)
    ]
    headers = ["Variant", "shutterbox", "Pillow", "shutterbox bytes", "Pillow bytes"]
    return markdown_table(headers, rows)


def report(
    times: dict[str, list[float]], ours: list[Output], theirs: list[Output], size: int
) -> str:
    rounds = len(times[SHUTTERBOX])
    return "\n".join(
        [
            "## Making the variants of a 12 MP photo",
            "",
            "`python -m bench.variants`: shutterbox's `make_variants` (the real variant set: "
            f"{', '.join(f'{s.name} {s.max_side}' for s in VARIANT_SPECS)} px, JPEG Q{QUALITY}) "
            "against a full libvips decode of the same file, and against Pillow doing the same "
            "job (draft shrink-on-load, EXIF transpose, Lanczos resize cascading from the "
            "largest variant, optimised progressive JPEGs).",
            "",
            *environment_lines(extra_packages=("pillow",)),
            f"- Input: {PHOTO_WIDTH}x{PHOTO_HEIGHT} JPEG Q{PHOTO_QUALITY}, {size / 1e6:.2f} MB; "
            f"{rounds} rounds after {WARMUP} warm-up; libvips threads: "
            f"{pyvips.concurrency_get()} (Pillow resizes and encodes on one)",
            "",
            ratio_table(times),
            "",
            timing_table(times),
            "",
            f"Outputs (the script stops if their dimensions differ by more than "
            f"{DIMENSION_TOLERANCE} px):",
            "",
            output_table(ours, theirs),
        ]
    )


# Entry point ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (after a warm-up)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    configure_vips()
    with tempfile.TemporaryDirectory(prefix="shutterbox-variants-") as temporary:
        photo = Path(temporary) / "photo.jpg"
        size = write_photo_jpeg(photo)
        print(f"input: {PHOTO_WIDTH}x{PHOTO_HEIGHT}, {size / 1e6:.2f} MB", flush=True)
        ours, theirs = shutterbox_variants(photo), pillow_variants(photo)
        check_dimensions(ours, theirs)
        times = measure(photo, args.rounds)
    publish(SECTION, report(times, ours, theirs, size), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
