"""The whole variant pipeline on three kinds of photo: shutterbox against the least any libvips
pipeline must pay, against Pillow and against thumbor; WebP against JPEG; a worker's peak memory.

Over a smooth 12 MP, a grainy 12 MP and a 24 MP photo-like JPEG (quality 90, made here), times
in rounds after a warm-up:

- shutterbox's `make_variants` with the real variant set (2048, 1080 and 320 px JPEGs);
- the floor: a libvips shrink-on-load decode to 2048 px plus three JPEG encodes with the same
  encoder settings, and the same with plain baseline encodes;
- Pillow doing the same job (draft, EXIF transpose, Lanczos cascade, JPEG);
- thumbor (in its own virtual environment under bench/.work/) serving the three sizes over
  HTTP on loopback;
- shutterbox's `make_variants` making the WebP set instead of the JPEG set;

then runs `make_variants` on the 24 MP photo in a fresh imaging sandbox, like a worker does,
and reads that child's peak memory. Checks that everyone produced the same dimensions.

Run from the repository root: `python -m bench.pipeline`.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyvips
from PIL import Image as PILImage

from bench import benchkit
from bench.benchkit import (
    PHOTO_QUALITY,
    WORK_DIR,
    Case,
    Output,
    argument_parser,
    environment_lines,
    markdown_table,
    median,
    ms,
    photo_like,
    publish,
    ratio,
    relative,
)
from shutterbox.adapters import imaging
from shutterbox.adapters.imaging import configure_vips, make_variants
from shutterbox.adapters.imaging_sandbox import ImagingSandbox, peak_memory
from shutterbox.domain.images import VARIANT_SPECS
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess

SECTION = "pipeline"
QUALITY = imaging.JPEG_QUALITY  # 82, shutterbox's default
ROUNDS = 20  # about 8 s each on 2 CPUs; the whole run takes about 3 minutes
WARMUP = 1
DIMENSION_TOLERANCE = 1  # pixels; resizers may round a fractional edge differently
LARGEST = VARIANT_SPECS[0].max_side

SANDBOX_MEMORY_LIMIT_MB = 1024  # the worker's defaults (job_memory_limit_mb, ...)
SANDBOX_TIME_LIMIT_SECONDS = 120.0

THUMBOR_VENV = WORK_DIR / "thumbor-venv"
THUMBOR_PACKAGE = "thumbor"
THUMBOR_READY_TIMEOUT_SECONDS = 60.0
THUMBOR_REQUEST_TIMEOUT_SECONDS = 120.0
THUMBOR_INSTALL_TIMEOUT_SECONDS = 600.0
LOOPBACK_PROBES = 20

# A minimal thumbor: originals read from the photo directory on every request (no storage to
# cache them in, no result storage), no detectors, unsafe URLs, JPEG quality as shutterbox's.
THUMBOR_CONF = """\
LOADER = "thumbor.loaders.file_loader"
FILE_LOADER_ROOT_PATH = {root!r}
STORAGE = "thumbor.storages.no_storage"
RESULT_STORAGE = None
DETECTORS = []
ALLOW_UNSAFE_URL = True
QUALITY = {quality}
PROGRESSIVE_JPEG = True
RESPECT_ORIENTATION = True
AUTO_WEBP = False
"""

# Targets: information for the page, not a test.
TARGET_FLOOR = 1.25
TARGET_THUMBOR = 0.50
TARGET_WEBP = 2.50
TARGET_PEAK_RESIDENT_MB = 250


# Test photos ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    label: str
    file_name: str
    width: int
    height: int
    detail: float  # texture and grain, see benchkit.photo_like


PHOTOS = (
    Photo("12 MP smooth", "smooth-12mp.jpg", 4000, 3000, detail=0.1),
    Photo("12 MP noisy", "noisy-12mp.jpg", 4000, 3000, detail=3.0),
    Photo("24 MP", "photo-24mp.jpg", 6000, 4000, detail=0.65),
)
PHOTO_24MP = PHOTOS[2]


def write_photos(directory: Path) -> dict[Photo, int]:
    """The three test JPEGs in ``directory``; returns their sizes in bytes."""
    sizes: dict[Photo, int] = {}
    for photo in PHOTOS:
        picture = photo_like(photo.detail, width=photo.width, height=photo.height)
        data = picture.jpegsave_buffer(Q=PHOTO_QUALITY, keep="none")
        (directory / photo.file_name).write_bytes(data)
        sizes[photo] = len(data)
        print(f"input: {photo.label}, {photo.width}x{photo.height}, {len(data) / 1e6:.2f} MB")
    return sizes


# What is timed -------------------------------------------------------------------------------


def _outputs(processed: imaging.ProcessedImage) -> list[Output]:
    return [Output(v.name, v.width, v.height, len(v.data)) for v in processed.variants]


def shutterbox_jpeg(path: Path) -> list[Output]:
    return _outputs(make_variants(path, VARIANT_SPECS, formats=("jpeg",), jpeg_quality=QUALITY))


def shutterbox_webp(path: Path) -> list[Output]:
    return _outputs(make_variants(path, VARIANT_SPECS, formats=("webp",)))


def _floor_decode(path: Path) -> pyvips.Image:
    """The cheapest libvips decode to the largest size: the JPEG DCT shrink on load when the
    photo is at least twice the largest size (what shutterbox does too), else `thumbnail`."""
    header = pyvips.Image.new_from_file(str(path), access="sequential")
    longest = max(header.width, header.height)
    shrink = 1
    while shrink < 8 and longest // (shrink * 2) >= LARGEST:
        shrink *= 2
    if shrink > 1:
        loaded = pyvips.Image.new_from_file(str(path), shrink=shrink, access="sequential")
        return loaded.thumbnail_image(LARGEST, height=LARGEST, size="down")
    return pyvips.Image.thumbnail(str(path), LARGEST, height=LARGEST, size="down")


def _floor(path: Path, **encoder: object) -> list[Output]:
    full = _floor_decode(path).copy_memory()
    sized = []
    for spec in VARIANT_SPECS:
        image = full
        if max(full.width, full.height) > spec.max_side:
            image = full.thumbnail_image(
                spec.max_side, height=spec.max_side, size="down"
            ).copy_memory()
        sized.append((spec, image))
    # encoded side by side, as shutterbox does: a floor shutterbox could beat is no floor
    with ThreadPoolExecutor(max_workers=len(sized)) as pool:
        encoded = pool.map(lambda pair: pair[1].jpegsave_buffer(Q=QUALITY, **encoder), sized)
        return [
            Output(spec.name, image.width, image.height, len(data))
            for (spec, image), data in zip(sized, encoded, strict=True)
        ]


def vips_floor(path: Path) -> list[Output]:
    """The least a libvips pipeline pays for the same output: shrink-on-load decode to the
    largest size, held in memory, and three encodes with shutterbox's encoder settings
    (optimised Huffman tables, progressive scans), side by side. No metadata, colour
    management, placeholders or checksums."""
    return _floor(path, optimize_coding=True, interlace=True, keep="none")


def vips_floor_plain(path: Path) -> list[Output]:
    """The same decode with three plain baseline encodes (standard Huffman tables)."""
    return _floor(path)


def pillow_variants(path: Path) -> list[Output]:
    """The same job in Pillow (see `benchkit.pillow_variants`), with thumbor's and
    shutterbox's quality."""
    return benchkit.pillow_variants(path, QUALITY)


# thumbor -------------------------------------------------------------------------------------


class ThumborUnavailable(Exception):
    """thumbor could not be installed or started; the message says exactly why."""


def _clean_env() -> dict[str, str]:
    """The environment without anything that would point Python at the project's packages."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _run(command: Sequence[str | Path], what: str) -> str:
    try:
        done = subprocess.run(
            [str(part) for part in command],
            capture_output=True,
            text=True,
            env=_clean_env(),
            timeout=THUMBOR_INSTALL_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ThumborUnavailable(f"{what}: {error}") from error
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        # pip's warnings about the machine's index configuration are not the error
        tail = "\n".join([line for line in lines if not line.startswith("WARNING:")][-15:])
        raise ThumborUnavailable(f"{what} failed (exit code {done.returncode}):\n{tail}")
    return done.stdout


def _thumbor_versions(python: Path) -> str:
    return _run(
        [
            python,
            "-c",
            "from importlib.metadata import version as v; "
            "print(f\"thumbor {v('thumbor')} (Pillow {v('pillow')})\")",
        ],
        "reading thumbor's version",
    ).strip()


def ensure_thumbor() -> tuple[Path, str]:
    """thumbor's own virtual environment under bench/.work/, made when missing: thumbor caps
    its dependencies (thumbor 7.8 wants Pillow < 13, the project has newer), so it stays out
    of the project's environment. Returns the thumbor command and a version line."""
    python = THUMBOR_VENV / "bin" / "python"
    command = THUMBOR_VENV / "bin" / "thumbor"
    with contextlib.suppress(ThumborUnavailable):
        if command.exists():
            return command, _thumbor_versions(python)
    print(f"installing thumbor into {relative(THUMBOR_VENV)} (once) ...", flush=True)
    _run([sys.executable, "-m", "venv", "--clear", THUMBOR_VENV], "python -m venv")
    _run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", THUMBOR_PACKAGE],
        f"pip install {THUMBOR_PACKAGE}",
    )
    return command, _thumbor_versions(python)


class ThumborClient:
    """One keep-alive HTTP/1.1 connection to the thumbor server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in range(2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=THUMBOR_REQUEST_TIMEOUT_SECONDS
                )
            try:
                self._connection.request("GET", path)
                response = self._connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.close()  # the server closed an idle connection: reconnect once
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _thumbor_ready(client: ThumborClient) -> Callable[[], bool]:
    def check() -> bool:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if client.get("/healthcheck")[0] == 200:
                return True
        client.close()
        return False

    return check


@contextlib.contextmanager
def thumbor_server(command: Path, root: Path, work: Path) -> Iterator[ThumborClient]:
    """A thumbor serving the files in ``root`` on a free loopback port, stopped on exit."""
    conf = work / "thumbor.conf"
    conf.write_text(THUMBOR_CONF.format(root=str(root), quality=QUALITY))
    port = free_port()
    client = ThumborClient(port)
    process = ManagedProcess(
        "thumbor",
        [
            *(str(command), "--ip", "127.0.0.1", "--port", str(port)),
            *("--conf", str(conf), "--log-level", "warning"),
        ],
        log_path=work / "thumbor.log",
        env=_clean_env(),
        ready=_thumbor_ready(client),
        ready_interval=0.2,
    )
    try:
        process.launch()
    except OSError as error:
        raise ThumborUnavailable(f"starting thumbor: {error}") from error
    try:
        try:
            process.wait_ready(THUMBOR_READY_TIMEOUT_SECONDS)
        except RuntimeError as error:
            raise ThumborUnavailable(str(error)) from error
        yield client
    except BaseException:
        if process.log_text():
            print(f"thumbor output (last lines):\n{process.log_tail(20)}", file=sys.stderr)
        raise
    finally:
        client.close()
        process.stop()


def thumbor_case(client: ThumborClient) -> Case:
    """The three sizes, one request after the other, as a browser or a CDN would ask."""

    def thumbor_variants(path: Path) -> list[Output]:
        outputs: list[Output] = []
        for spec in VARIANT_SPECS:
            side = spec.max_side
            status, body = client.get(f"/unsafe/fit-in/{side}x{side}/{path.name}")
            if status != 200:
                raise RuntimeError(f"thumbor answered {status} for {path.name} at {side} px")
            with PILImage.open(io.BytesIO(body)) as reply:  # reads the header only
                width, height = reply.size
            outputs.append(Output(spec.name, width, height, len(body)))
        return outputs

    return thumbor_variants


def loopback_round_trip(client: ThumborClient) -> float:
    """The median time of a trivial request (`/healthcheck`): what HTTP on loopback adds."""
    times = []
    for _ in range(LOOPBACK_PROBES):
        started = time.perf_counter()
        client.get("/healthcheck")
        times.append(time.perf_counter() - started)
    return median(times)


# Measuring -----------------------------------------------------------------------------------

SHUTTERBOX = "shutterbox JPEG set"
FLOOR = "libvips floor"
FLOOR_PLAIN = "libvips floor, plain encodes"
PILLOW = "Pillow"
THUMBOR = "thumbor over HTTP"
WEBP = "shutterbox WebP set"


@dataclass
class Results:
    times: dict[str, dict[Photo, list[float]]] = field(default_factory=dict)
    outputs: dict[str, dict[Photo, list[Output]]] = field(default_factory=dict)
    thumbor_version: str | None = None  # set when thumbor was measured
    thumbor_error: str | None = None  # why it was not
    loopback: float | None = None  # seconds per trivial request to thumbor

    @property
    def rounds(self) -> int:
        return len(self.times[SHUTTERBOX][PHOTOS[0]])

    def ratio(self, over: str, under: str, photo: Photo) -> float | None:
        """The median of the per-round ratios: times taken close together are compared."""
        if under not in self.times or over not in self.times:
            return None
        pairs = zip(self.times[over][photo], self.times[under][photo], strict=True)
        return median([a / b for a, b in pairs])


def measure(
    cases: dict[str, Case], directory: Path, rounds: int, results: Results | None = None
) -> Results:
    """Seconds per case, photo and round. Each round runs every case once on every photo,
    starting with a different case each time, so that a slow spell on the machine does not
    land on one case only. The warm-up's outputs are kept for the dimension check, which
    stops the run before the timed rounds if any size differs."""
    results = results or Results()
    names = list(cases)

    def run(name: str, photo: Photo) -> tuple[float, list[Output]]:
        started = time.perf_counter()
        try:
            outputs = cases[name](directory / photo.file_name)
        except (OSError, RuntimeError, http.client.HTTPException) as error:
            if name != THUMBOR:
                raise
            results.thumbor_error = f"thumbor failed during the run: {error}"
            results.thumbor_version = None
            print(f"warning: {results.thumbor_error}; continuing without it", file=sys.stderr)
            names.remove(THUMBOR)
            results.times.pop(THUMBOR, None)
            results.outputs.pop(THUMBOR, None)
            return 0.0, []
        return time.perf_counter() - started, outputs

    for _ in range(WARMUP):
        for photo in PHOTOS:
            for name in list(names):
                _, outputs = run(name, photo)
                if name in names:
                    results.outputs.setdefault(name, {})[photo] = outputs
    problems = check_dimensions(results)
    if problems:
        print(dimension_table(results), file=sys.stderr)
        raise RuntimeError(
            "outputs differ in size, the comparison would not be fair:\n" + "\n".join(problems)
        )
    results.times = {name: {photo: [] for photo in PHOTOS} for name in names}
    for round_number in range(rounds):
        for photo in PHOTOS:
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                seconds, _ = run(name, photo)
                if name in names:
                    results.times[name][photo].append(seconds)
        print(f"round {round_number + 1}/{rounds} done", flush=True)
    return results


def check_dimensions(results: Results) -> list[str]:
    """Every output's size against shutterbox's; returns the mismatches."""
    problems: list[str] = []
    ours = results.outputs[SHUTTERBOX]
    for name, per_photo in results.outputs.items():
        for photo in PHOTOS:
            for a, b in zip(ours[photo], per_photo[photo], strict=True):
                if (
                    abs(a.width - b.width) > DIMENSION_TOLERANCE
                    or abs(a.height - b.height) > DIMENSION_TOLERANCE
                ):
                    problems.append(
                        f"{photo.label} {a.name}: shutterbox {a.width}x{a.height}, "
                        f"{name} {b.width}x{b.height}"
                    )
    return problems


@dataclass(frozen=True)
class Memory:
    idle: dict[str, int]
    after_job: dict[str, int]


def worker_peak_memory(path: Path) -> Memory:
    """Peak memory of a fresh imaging sandbox (the worker's child process) that made the
    variants of ``path``, and of one that has only started, for comparison."""
    idle_sandbox = ImagingSandbox(SANDBOX_MEMORY_LIMIT_MB, SANDBOX_TIME_LIMIT_SECONDS)
    try:
        idle = idle_sandbox.call(peak_memory)
    finally:
        idle_sandbox.close()
    sandbox = ImagingSandbox(SANDBOX_MEMORY_LIMIT_MB, SANDBOX_TIME_LIMIT_SECONDS)
    try:
        sandbox.call(
            make_variants,
            path,
            VARIANT_SPECS,
            jpeg_quality=QUALITY,
        )
        after_job = sandbox.call(peak_memory)
    finally:
        sandbox.close()
    return Memory(idle=idle, after_job=after_job)


# Reporting -----------------------------------------------------------------------------------


def mb(value: int) -> str:
    return f"{value / 2**20:.0f}"


def _ratio_cell(value: float | None) -> str:
    return "n/a" if value is None else ratio(value)


def _met(values: list[float | None], target: float) -> str:
    measured = [v for v in values if v is not None]
    if not measured:
        return "not measured"
    met = sum(v <= target for v in measured)
    return "yes" if met == len(measured) else f"no ({met}/{len(measured)} photos)"


RATIOS: tuple[tuple[str, str, str, float | None], ...] = (
    ("shutterbox / floor", SHUTTERBOX, FLOOR, TARGET_FLOOR),
    ("shutterbox / floor with plain encodes", SHUTTERBOX, FLOOR_PLAIN, None),
    ("shutterbox / Pillow", SHUTTERBOX, PILLOW, None),
    ("shutterbox / thumbor", SHUTTERBOX, THUMBOR, TARGET_THUMBOR),
    ("WebP set / JPEG set", WEBP, SHUTTERBOX, TARGET_WEBP),
)


def targets_table(results: Results, memory: Memory) -> str:
    rows = []
    for label, over, under, target in RATIOS:
        values = [results.ratio(over, under, photo) for photo in PHOTOS]
        rows.append(
            [
                label,
                "-" if target is None else f"<= {target:.2f}x",
                *(_ratio_cell(v) for v in values),
                "(no target)" if target is None else _met(values, target),
            ]
        )
    resident = memory.after_job["VmHWM"]
    rows.append(
        [
            "worker peak resident, MB",
            f"< {TARGET_PEAK_RESIDENT_MB}",
            *(mb(resident) if photo == PHOTO_24MP else "" for photo in PHOTOS),
            "yes" if resident / 2**20 < TARGET_PEAK_RESIDENT_MB else "no",
        ]
    )
    headers = ["Measure", "Target", *(p.label for p in PHOTOS), "Met"]
    return markdown_table(headers, rows)


def timing_table(results: Results) -> str:
    """Median milliseconds per case and photo, with the fastest and slowest round."""
    rows = []
    for name, per_photo in results.times.items():
        cells = []
        for photo in PHOTOS:
            values = per_photo[photo]
            cells.append(
                f"{ms(median(values))} ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"
            )
        rows.append([name, *cells])
    return markdown_table(["Case, ms: median (min-max)", *(p.label for p in PHOTOS)], rows)


def memory_table(memory: Memory) -> str:
    rows = [
        ["started, nothing done yet", mb(memory.idle["VmHWM"]), mb(memory.idle["VmPeak"])],
        [
            f"after make_variants on the {PHOTO_24MP.label} photo",
            mb(memory.after_job["VmHWM"]),
            mb(memory.after_job["VmPeak"]),
        ],
    ]
    headers = [
        "Imaging sandbox (fresh child)",
        "Peak resident (VmHWM) MB",
        "Peak space (VmPeak) MB",
    ]
    return markdown_table(headers, rows)


def _output_rows(
    results: Results, names: list[str], cell: Callable[[Output], str]
) -> list[list[str]]:
    rows = []
    for photo in PHOTOS:
        for index, spec in enumerate(VARIANT_SPECS):
            outputs = [results.outputs[name][photo][index] for name in names]
            rows.append([f"{photo.label}, {spec.name}", *(cell(o) for o in outputs)])
    return rows


def dimension_table(results: Results) -> str:
    """Output sizes in pixels (the WebP set is checked too; it has the JPEG set's sizes)."""
    names = [name for name in results.outputs if name != WEBP]
    rows = _output_rows(results, names, lambda o: f"{o.width}x{o.height}")
    return markdown_table(["Photo, variant", *names], rows)


def bytes_table(results: Results) -> str:
    names = list(results.outputs)
    rows = _output_rows(results, names, lambda o: f"{o.bytes / 1000:,.0f}")
    return markdown_table(["Photo, variant (kB)", *names], rows)


def describe_inputs(sizes: dict[Photo, int]) -> str:
    return "; ".join(f"{p.label} {p.width}x{p.height} {sizes[p] / 1e6:.2f} MB" for p in PHOTOS)


def report(results: Results, memory: Memory, sizes: dict[Photo, int]) -> str:
    thumbor_version, loopback = results.thumbor_version, results.loopback
    variants = ", ".join(f"{s.name} {s.max_side}" for s in VARIANT_SPECS)
    if thumbor_version is not None:
        thumbor_line = f"- {thumbor_version}, in its own virtual environment"
    else:
        thumbor_line = "- thumbor: not measured (the reason is below)"
    lines = [
        "## The variant pipeline against its floor, Pillow and thumbor",
        "",
        "`python -m bench.pipeline`: shutterbox's `make_variants` (the real variant set: "
        f"{variants} px, JPEG Q{QUALITY}, optimised progressive) on three photos, against, in "
        "the same rounds: the floor, a libvips shrink-on-load decode to "
        f"{LARGEST} px (held in memory) plus three `jpegsave_buffer(Q={QUALITY}, "
        'optimize_coding=True, interlace=True, keep="none")` encodes, the smaller two '
        "resized from it, encoded side by side, i.e. the same output bytes without any of the "
        "pipeline's other work; the same floor with plain baseline encodes; Pillow "
        "doing the same job (draft shrink-on-load, EXIF transpose, Lanczos resize cascading "
        "from the largest variant, optimised progressive JPEGs); thumbor (PIL engine, file "
        "loader, no storage or result storage, no detectors, quality "
        f"{QUALITY}) serving `/unsafe/fit-in/{LARGEST}x{LARGEST}/<file>` and the two smaller "
        "sizes one after the other; and the WebP set from `make_variants(..., "
        f'formats=("webp",))` (WebP Q{imaging.WEBP_QUALITY}, effort {imaging.WEBP_EFFORT}, '
        f"effort {imaging.WEBP_EFFORT_LARGE} above {imaging.WEBP_LARGE_SIDE} px).",
        "",
        *environment_lines(extra_packages=("pillow",)),
        thumbor_line,
        f"- Inputs (JPEG Q{PHOTO_QUALITY}): {describe_inputs(sizes)}",
        f"- {results.rounds} rounds after {WARMUP} warm-up; libvips threads: "
        f"{pyvips.concurrency_get()} (Pillow and thumbor resize and encode on one)",
        "",
        "Targets (information, not a test; a ratio is the median of the per-round ratios, "
        "below 1.00x shutterbox is faster):",
        "",
        targets_table(results, memory),
        "",
        "Notes on fairness:",
        "",
    ]
    if thumbor_version is not None and loopback is not None:
        lines += [
            "- thumbor's times include HTTP on loopback (a keep-alive connection, three "
            "requests per round). A trivial request (`/healthcheck`) takes "
            f"{ms(loopback)} ms there, so HTTP accounts for about {ms(3 * loopback)} ms of "
            "each round.",
            "- thumbor decodes the original once per size: every URL is an independent request "
            "that loads the file and decodes it with Pillow's draft() shrink-on-load for that "
            "size. That is how thumbor works; shutterbox decodes once and cascades.",
        ]
    else:
        error = results.thumbor_error or "thumbor was not measured"
        lines += [
            "- thumbor could not be measured, so its ratio shows n/a; the error:",
            "",
            "```",
            error,
            "```",
            "",
        ]
    lines += [
        f"- For the {PHOTO_24MP.label} photo, shutterbox, both floors and Pillow's draft() "
        "(the Pillow case and thumbor) decode the JPEG at half size in the DCT domain "
        "(libvips' `thumbnail` alone would decode it at full size: it only shrinks on load "
        "while a factor of 2 is left for the resize). For the 12 MP photos everyone decodes "
        "at full size.",
        "- shutterbox also reads the EXIF metadata, computes a blurhash and the dominant colour "
        "and the SHA-256 of every variant, and converts to sRGB when needed; the floors do "
        "none of that. shutterbox and the floors encode the three sizes side by side "
        "(libvips releases the GIL); Pillow and thumbor encode one after another.",
        "- Progressive scans and optimised Huffman tables are a product choice: they cost "
        "encoder time (the plain-encodes floor shows how much) and make the variants smaller "
        "(the bytes table below), which is what the CDN bill is made of.",
        "- The WebP set goes through the same decode and resizes as the JPEG set; the ratio "
        "is the cost of the WebP encoder.",
        "",
        timing_table(results),
        "",
        f"Peak memory of a worker's imaging sandbox (`ImagingSandbox("
        f"memory_limit_mb={SANDBOX_MEMORY_LIMIT_MB}, time_limit_seconds="
        f"{SANDBOX_TIME_LIMIT_SECONDS:g})`, a fresh child each, as `/proc/self/status` reports "
        "it; peak space is address space, mostly reserved and never touched):",
        "",
        memory_table(memory),
        "",
        f"Output sizes (the script stops if one differs from shutterbox's by more than "
        f"{DIMENSION_TOLERANCE} px) and bytes:",
        "",
        dimension_table(results),
        "",
        bytes_table(results),
    ]
    return "\n".join(lines)


# Entry point ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="timed rounds (after a warm-up)")
    return parser.parse_args()


def run(directory: Path, rounds: int) -> Results:
    """Times every case; thumbor only when it can be installed and started."""
    cases: dict[str, Case] = {
        SHUTTERBOX: shutterbox_jpeg,
        FLOOR: vips_floor,
        FLOOR_PLAIN: vips_floor_plain,
        PILLOW: pillow_variants,
        WEBP: shutterbox_webp,
    }
    results = Results()
    with contextlib.ExitStack() as stack:
        try:
            command, version = ensure_thumbor()
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="thumbor-")))
            client = stack.enter_context(thumbor_server(command, directory, work))
            print(f"{version} listening on 127.0.0.1:{client.port}", flush=True)
            results.loopback = loopback_round_trip(client)
            results.thumbor_version = version
            cases[THUMBOR] = thumbor_case(client)
        except ThumborUnavailable as error:
            results.thumbor_error = str(error)
            print(f"warning: thumbor not measured: {error}", file=sys.stderr)
        return measure(cases, directory, rounds, results)


def main() -> int:
    args = parse_args()
    # Leave through the normal exits on SIGTERM too, so that thumbor and the temporary
    # directories are cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    configure_vips()
    with tempfile.TemporaryDirectory(prefix="shutterbox-pipeline-") as temporary:
        directory = Path(temporary)
        sizes = write_photos(directory)
        results = run(directory, args.rounds)
        memory = worker_peak_memory(directory / PHOTO_24MP.file_name)
    publish(SECTION, report(results, memory, sizes), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
