"""How long a real `shutterbox serve` takes to accept an upload, relative to the framework
floor and to the bare cost of storing the same bytes durably on the same disk.

Starts the server with no background workers (so only acceptance is measured), uploads a
~3 MB 12 MP JPEG at concurrency 1 and 16, and compares the accept latency (until `201 Created`)
and uploads per second with (a) the framework floor, `bench/floor_app.py`: a minimal
Starlette app under uvicorn that streams the multipart file to disk with SHA-256 and fsync,
and (b) writing the same bytes to a new file + fsync + rename + fsync of the directory, all
measured in the same run, in the same data directory. Targets (issue 14): accept p50 within
1.25x the floor's at concurrency 1, uploads/s at least 0.9x the floor's at concurrency 16.

Run from the repository root: `python -m bench.upload_latency`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from bench import benchkit
from bench.benchkit import (
    WORK_DIR,
    ManagedProcess,
    argument_parser,
    clean_env,
    environment_lines,
    free_port,
    http_ok,
    markdown_table,
    ms,
    percentile,
    publish,
    ratio,
    relative,
    running,
    shutterbox_serve,
    write_photo_jpeg,
)

SECTION = "upload_latency"
USERNAME = "bench"
PASSWORD = "bench-password-1"
BOUNDARY = "shutterbox-bench-7d1f0c5e9a2b4c6d"
WARMUP = 3
READY_TIMEOUT_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Batch:
    """Per-operation latencies (seconds) and the wall time of the whole batch."""

    latencies: list[float]
    wall: float

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.50)

    @property
    def mean(self) -> float:
        return sum(self.latencies) / self.count

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)

    @property
    def rate(self) -> float:
        return self.count / self.wall

    def merged(self, other: Batch) -> Batch:
        return Batch(self.latencies + other.latencies, self.wall + other.wall)


@dataclass(frozen=True)
class Round:
    """One round of a level: the same number of operations for each of the three."""

    bare: Batch
    floor: Batch
    upload: Batch


@dataclass(frozen=True)
class Level:
    concurrency: int
    rounds: list[Round]

    def _merged(self, which: str) -> Batch:
        batches: list[Batch] = [getattr(one, which) for one in self.rounds]
        merged = batches[0]
        for batch in batches[1:]:
            merged = merged.merged(batch)
        return merged

    @property
    def bare(self) -> Batch:
        return self._merged("bare")

    @property
    def floor(self) -> Batch:
        return self._merged("floor")

    @property
    def upload(self) -> Batch:
        return self._merged("upload")

    def ratio(self, measure: Callable[[Round], float]) -> float:
        """The median over the rounds of ``measure``: drift in the machine's load between
        rounds weighs on both sides of each round's ratio alike."""
        return statistics.median(measure(one) for one in self.rounds)


# The baseline: a bare durable write ----------------------------------------------------------


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_write(directory: Path, name: str, data: bytes) -> float:
    """Write ``data`` to a new file, fsync it, rename it into place, fsync the directory;
    return the seconds it took."""
    started = time.perf_counter()
    temporary = directory / f"{name}.tmp"
    with open(temporary, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temporary, directory / name)
    _fsync_directory(directory)
    return time.perf_counter() - started


def bare_batch(parent: Path, data: bytes, count: int, concurrency: int) -> Batch:
    """``count`` durable writes, ``concurrency`` at a time, in a fresh directory under
    ``parent`` that is removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="bare-", dir=parent))
    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            started = time.perf_counter()
            latencies = list(
                pool.map(lambda i: durable_write(directory, f"{i}.jpg", data), range(count))
            )
            wall = time.perf_counter() - started
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return Batch(latencies, wall)


# The server ----------------------------------------------------------------------------------


@contextlib.contextmanager
def running_server(
    data_dir: Path, log_path: Path, *, workers: int = 0, api_processes: int = 1, **settings: str
) -> Iterator[str]:
    """A `shutterbox serve` on a free port (by default with no background workers, so only
    acceptance is measured); ``settings`` are extra SHUTTERBOX_* variables. Yields its URL."""
    process, base_url = shutterbox_serve(
        data_dir, log_path, workers=workers, api_processes=api_processes, **settings
    )
    with running(process, READY_TIMEOUT_SECONDS):
        yield base_url


@contextlib.contextmanager
def running_floor(directory: Path, log_path: Path) -> Iterator[str]:
    """`bench/floor_app.py` under uvicorn on a free port, its files in ``directory``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "bench.floor_app:app", "--port", str(port)]
    process = ManagedProcess(
        "framework floor",
        command,
        log_path=log_path,
        env=clean_env(FLOOR_DIR=str(directory)),
        ready=http_ok(f"{url}/healthz"),
    )
    with running(process, READY_TIMEOUT_SECONDS):
        yield url


def sign_up(base_url: str) -> str:
    """Register the benchmark user and return a bearer token."""
    return benchkit.sign_up(base_url, USERNAME, PASSWORD)


def multipart_body(data: bytes) -> tuple[bytes, str]:
    """The upload form, encoded once so the client spends no time on it per request."""
    return benchkit.multipart_body(data, BOUNDARY), f"multipart/form-data; boundary={BOUNDARY}"


_serial = itertools.count()
_SOI = b"\xff\xd8"


def unique_file(body: bytes) -> bytes:
    """The same picture with a serial number in a JPEG comment right after its start marker:
    the service answers an upload of bytes it already has with the existing image (200), so
    every upload must be new bytes."""
    at = body.index(_SOI)
    payload = f"upload {next(_serial):08d}".encode()
    comment = b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload
    return body[: at + 2] + comment + body[at + 2 :]


async def _upload(client: httpx.AsyncClient, body: bytes) -> float:
    content = unique_file(body)  # outside the timed part
    started = time.perf_counter()
    response = await client.post("/api/v1/images", content=content)
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:300]}")
    return elapsed


async def _upload_batch(
    client: httpx.AsyncClient, body: bytes, count: int, concurrency: int
) -> Batch:
    latencies: list[float] = []
    remaining = iter(range(count))

    async def uploader() -> None:
        for _ in remaining:
            latencies.append(await _upload(client, body))

    # Open the connections before the clock starts.
    await asyncio.gather(*(client.get("/healthz") for _ in range(concurrency)))
    started = time.perf_counter()
    await asyncio.gather(*(uploader() for _ in range(concurrency)))
    return Batch(latencies, time.perf_counter() - started)


def upload_batch(
    base_url: str, token: str, body: bytes, content_type: str, count: int, concurrency: int
) -> Batch:
    """``count`` uploads, ``concurrency`` in flight at a time, each expecting 201."""

    async def run() -> Batch:
        async with httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            timeout=REQUEST_TIMEOUT_SECONDS,
        ) as client:
            return await _upload_batch(client, body, count, concurrency)

    return asyncio.run(run())


# Measuring -----------------------------------------------------------------------------------


def measure_level(
    base_url: str,
    floor_url: str,
    token: str,
    data: bytes,
    bare_dir: Path,
    count: int,
    concurrency: int,
    rounds: int,
) -> Level:
    """``rounds`` rounds of ``count / rounds`` operations each: the bare writes, then the floor
    and shutterbox, in turns, the one that goes first alternating from round to round."""
    body, content_type = multipart_body(data)
    measured = []
    for number in range(rounds):
        share = count // rounds + (1 if number < count % rounds else 0)
        bare = bare_batch(bare_dir, data, share, concurrency)
        order = [floor_url, base_url] if number % 2 == 0 else [base_url, floor_url]
        batches = {
            url: upload_batch(url, token, body, content_type, share, concurrency) for url in order
        }
        measured.append(Round(bare, batches[floor_url], batches[base_url]))
    return Level(concurrency, measured)


def run(data: bytes, run_dir: Path, counts: dict[int, int], rounds: int) -> list[Level]:
    data_dir = run_dir / "data"
    bare_dir = data_dir / "bare-writes"  # the same filesystem as the server's blobs
    bare_dir.mkdir(parents=True)
    with (
        # no rate limit: the benchmark sends more than a person would
        running_server(data_dir, run_dir / "server.log", upload_rate="") as base_url,
        running_floor(data_dir / "floor", run_dir / "floor.log") as floor_url,
    ):
        token = sign_up(base_url)
        body, content_type = multipart_body(data)
        upload_batch(base_url, token, body, content_type, WARMUP, 1)
        upload_batch(floor_url, token, body, content_type, WARMUP, 1)
        bare_batch(bare_dir, data, WARMUP, 1)
        return [
            measure_level(base_url, floor_url, token, data, bare_dir, count, concurrency, rounds)
            for concurrency, count in counts.items()
        ]


# Reporting -----------------------------------------------------------------------------------


P50_TARGET = 1.25  # shutterbox's accept p50 over the floor's, at concurrency 1
RATE_TARGET = 0.9  # shutterbox's uploads/s over the floor's, at the higher concurrency


def _p50_ratio(one: Round) -> float:
    return one.upload.p50 / one.floor.p50


def _rate_ratio(one: Round) -> float:
    return one.upload.rate / one.floor.rate


def _verdict(level: Level) -> str:
    if level.concurrency == 1:
        met = level.ratio(_p50_ratio) <= P50_TARGET
        return ("yes" if met else "no") + f": p50 within {P50_TARGET}x"
    met = level.ratio(_rate_ratio) >= RATE_TARGET
    return ("yes" if met else "no") + f": uploads/s at least {RATE_TARGET}x"


def ratio_table(levels: list[Level]) -> str:
    rows = [
        [
            str(level.concurrency),
            ratio(level.ratio(_p50_ratio)),
            ratio(level.ratio(lambda one: one.upload.p99 / one.floor.p99)),
            ratio(level.ratio(_rate_ratio)),
            ", ".join(ratio(_p50_ratio(one)) for one in level.rounds),
            ", ".join(ratio(_rate_ratio(one)) for one in level.rounds),
            ratio(level.ratio(lambda one: one.upload.p50 / one.bare.p50)),
            _verdict(level),
        ]
        for level in levels
    ]
    headers = [
        "Concurrency",
        "Accept p50 / floor p50",
        "Accept p99 / floor p99",
        "Uploads/s / floor's",
        "p50 ratio by round",
        "Uploads/s ratio by round",
        "Accept p50 / write p50",
        "Target met",
    ]
    return markdown_table(headers, rows)


def measurement_table(levels: list[Level]) -> str:
    rows: list[list[str]] = []
    for level in levels:
        for label, batch in (
            ("bare write + fsync + rename + fsync dir", level.bare),
            ("framework floor (201)", level.floor),
            ("shutterbox upload accepted (201)", level.upload),
        ):
            rows.append(
                [
                    label,
                    str(level.concurrency),
                    str(batch.count),
                    ms(batch.p50),
                    ms(batch.mean),
                    ms(batch.p99),
                    f"{batch.rate:.1f}",
                ]
            )
    headers = ["Operation", "Concurrency", "Count", "p50 ms", "Mean ms", "p99 ms", "Per second"]
    return markdown_table(headers, rows)


def report(levels: list[Level], size: int, counts: dict[int, int], rounds: int) -> str:
    runs = ", ".join(f"{count} at concurrency {c}" for c, count in counts.items())
    return "\n".join(
        [
            "## Upload acceptance latency",
            "",
            "`python -m bench.upload_latency`: a real `shutterbox serve --workers 0` accepting "
            "a ~3 MB JPEG (time until `201 Created`), against the framework floor "
            "(`bench/floor_app.py`: a minimal Starlette app under uvicorn streaming the "
            "multipart file to disk with SHA-256, fsync, rename and a directory fsync) and "
            "against the bare cost of storing the same bytes durably in the same data "
            "directory (new file, write, fsync, rename, fsync of the directory). Client, "
            "servers and baseline share the machine. Targets: accept p50 within "
            f"{P50_TARGET}x the floor's at concurrency 1, uploads/s at least {RATE_TARGET}x "
            "the floor's at the higher concurrency.",
            "",
            *environment_lines(extra_packages=("httpx2",)),
            f"- Input: 4000x3000 JPEG, {size / 1e6:.2f} MB; uploads: {runs}, after "
            f"{WARMUP} warm-up uploads, in {rounds} rounds per concurrency; in each round the "
            "bare writes, then the floor and shutterbox with the same count, which of the two "
            "goes first alternating from round to round",
            "",
            ratio_table(levels),
            "",
            "Ratios against the floor and the bare write, each the median of the per-round "
            "ratios (the machine is shared, and its speed drifts between rounds); 1.00x would "
            "mean accepting an upload costs no more than they do. What the measurements were, "
            "over all rounds:",
            "",
            measurement_table(levels),
        ]
    )


# Entry point ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument("--serial", type=int, default=60, help="uploads at concurrency 1")
    parser.add_argument("--parallel", type=int, default=240, help="uploads at --concurrency")
    parser.add_argument("--concurrency", type=int, default=16, help="uploads in flight at once")
    parser.add_argument("--rounds", type=int, default=4, help="rounds per concurrency")
    args = parser.parse_args()
    if args.concurrency < 2:
        parser.error("--concurrency must be at least 2 (concurrency 1 is always measured)")
    if min(args.serial, args.parallel) < 2 * args.rounds:
        parser.error("--serial and --parallel must be at least twice --rounds")
    return args


def main() -> int:
    args = parse_args()
    counts = {1: args.serial, args.concurrency: args.parallel}
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="upload-latency-", dir=WORK_DIR))
    try:
        photo = run_dir / "photo.jpg"
        size = write_photo_jpeg(photo)
        print(f"input: {relative(photo)}, {size / 1e6:.2f} MB", flush=True)
        levels = run(photo.read_bytes(), run_dir, counts, args.rounds)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    publish(SECTION, report(levels, size, counts, args.rounds), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
