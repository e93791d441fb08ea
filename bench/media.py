"""Serving public media over HTTP, measured with wrk: the shutterbox origin against a bare
Starlette `FileResponse` of the same file, and a Varnish hit against nginx serving the file.

Starts `shutterbox serve` (embedded: SQLite, blobs in the data directory), uploads two
photo-like JPEGs and waits until they are ready, then reads the image JSON for the public
JPEG URLs of a `thumb` (~10 KB) and a `full` (~500 KB) variant and finds their files in the
data directory. Baseline: a bare Starlette app answering the same paths with a `FileResponse`
of the same files, run through the `uvicorn.run` call of `shutterbox serve` itself
(`bench/bare_files.py`), so that both Python servers have the same uvicorn settings. The edge:
varnishd with a copy of deploy/varnish/shutterbox.vcl in front of the origin (every request a
cache hit), against nginx serving the same file statically. `/healthz` of the origin is
measured for reference. Each target gets `wrk --latency` runs in interleaved rounds (the order
reversed every other round); reported: median requests/s, p50 and p99 per target, and the
median of the per-round ratios.

Run from the repository root: `python -m bench.media` (needs the `bench` and `test` extras,
wrk, varnishd and nginx).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx

from bench import bare_files, benchkit
from bench.benchkit import (
    REPO_ROOT,
    WrkResult,
    argument_parser,
    environment_lines,
    exit_on_sigterm,
    fail,
    markdown_table,
    median,
    nginx_static,
    photo_like,
    publish,
    ratio,
    run_directory,
    run_wrk,
    shutterbox_serve,
    stack,
    system_binary,
    tool_versions,
)
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess, clean_env, http_ok
from tests.support.varnish import Varnish, render_vcl

SECTION = "media"
USERNAME = "bench"
PASSWORD = "bench-password-1"
BOUNDARY = "shutterbox-bench-6f1d2c8a9e4b7035"
READY_TIMEOUT_SECONDS = 120.0
START_TIMEOUT_SECONDS = 60.0
TARGET_RATIO = 0.80  # origin public variant GET / bare Starlette FileResponse

# Two photo-like 2400x1800 JPEGs: with little detail the 320 px thumb is about 10 KB; with
# more, the 2048 px full variant is about 500 KB (libvips 8.18, quality 82).
PHOTO_SIZE = (2400, 1800)
PHOTOS = {"thumb": (0.5, 7), "full": (0.85, 11)}  # variant read -> (detail, seed)


# Targets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    url: str


# (numerator, denominator, label, target) of each reported ratio of requests/s
RATIOS = (
    ("origin-thumb", "bare-thumb", "shutterbox origin / bare Starlette, `thumb`", TARGET_RATIO),
    ("origin-full", "bare-full", "shutterbox origin / bare Starlette, `full`", TARGET_RATIO),
    ("varnish-thumb", "nginx-thumb", "Varnish hit / nginx static, `thumb`", None),
    ("varnish-thumb", "origin-thumb", "Varnish hit / shutterbox origin, `thumb`", None),
)


# wrk -----------------------------------------------------------------------------------------


def load(args: argparse.Namespace, target: Target, seconds: int, label: str) -> WrkResult:
    """One wrk run against ``target``, printed; RuntimeError if any answer was an error."""
    result = run_wrk(
        target.url, seconds=seconds, threads=args.threads, connections=args.connections
    )
    if result.bad_status:
        raise RuntimeError(f"{target.url}: {result.bad_status} answers were not 2xx or 3xx")
    print(
        f"{label}: {target.key:14} {result.requests_per_second:9,.0f} req/s, "
        f"p50 {result.p50 * 1000:.2f} ms, p99 {result.p99 * 1000:.2f} ms",
        flush=True,
    )
    return result


def measure(args: argparse.Namespace, targets: list[Target]) -> dict[str, list[WrkResult]]:
    """Warm every target up, then ``args.rounds`` rounds of one wrk run per target, the order
    reversed every other round (which also swaps the two sides of each compared pair)."""
    for target in targets:
        load(args, target, args.warmup, "warm-up")
    runs: dict[str, list[WrkResult]] = {target.key: [] for target in targets}
    for number in range(args.rounds):
        for target in targets if number % 2 == 0 else targets[::-1]:
            runs[target.key].append(load(args, target, args.duration, f"round {number + 1}"))
    return runs


def wrk_command(args: argparse.Namespace) -> str:
    return f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency"


# Setting up ----------------------------------------------------------------------------------


def photo(detail: float, seed: int) -> bytes:
    width, height = PHOTO_SIZE
    picture = photo_like(detail, seed=seed, width=width, height=height)
    return bytes(picture.jpegsave_buffer(Q=benchkit.PHOTO_QUALITY, keep="none"))


def upload_ready(client: httpx.Client, data: bytes) -> dict[str, Any]:
    """Upload ``data`` and return the image JSON once it is ready."""
    response = client.post(
        "/api/v1/images",
        content=benchkit.multipart_body(data, BOUNDARY),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    if response.status_code != 201:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text}")
    image_id = response.json()["id"]
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        image: dict[str, Any] = client.get(f"/api/v1/images/{image_id}").raise_for_status().json()
        if image["status"] == "ready":
            return image
        if image["status"] != "processing":
            raise RuntimeError(f"image {image_id} is {image['status']}: {image}")
        time.sleep(0.2)
    raise RuntimeError(f"image {image_id} still processing after {READY_TIMEOUT_SECONDS:.0f} s")


def variant_path(image: dict[str, Any], name: str) -> str:
    """The path of the public JPEG URL of variant ``name`` (/media/<id>/<name>-<hash>.jpg)."""
    url: str = image["variants"][name]["formats"]["jpeg"]
    return urlsplit(url).path


def upload_photos(
    origin_url: str, data_dir: Path, photos: dict[str, bytes]
) -> tuple[dict[str, Path], dict[str, tuple[str, int, str]]]:
    """Sign up, upload each photo and wait until it is ready. Returns the stored file of
    each variant read (by URL path) and, per variant name, its URL path, bytes and size."""
    token = benchkit.sign_up(origin_url, USERNAME, PASSWORD)
    files: dict[str, Path] = {}
    about: dict[str, tuple[str, int, str]] = {}
    with httpx.Client(
        base_url=origin_url, headers={"Authorization": f"Bearer {token}"}, timeout=60.0
    ) as client:
        for name, data in photos.items():
            image = upload_ready(client, data)
            path = variant_path(image, name)
            response = client.get(path).raise_for_status()
            files[path] = stored_file(data_dir, response.headers["etag"])
            variant = image["variants"][name]
            about[name] = (path, len(response.content), f"{variant['width']}x{variant['height']}")
    return files, about


def stored_file(data_dir: Path, etag: str) -> Path:
    """The file under ``data_dir`` whose SHA-256 is the strong ETag the origin answered:
    the very file the local blob store serves."""
    digest = etag.strip('"')
    for candidate in sorted(data_dir.rglob("*.jpg")):
        if candidate.is_file() and hashlib.sha256(candidate.read_bytes()).hexdigest() == digest:
            return candidate
    raise RuntimeError(f"no file under {data_dir} has the SHA-256 {digest}")


def start_bare(run_dir: Path, files: dict[str, Path], workers: int) -> tuple[ManagedProcess, str]:
    """`bench/bare_files.py` (uvicorn as `shutterbox serve --workers N` runs it) answering
    each path of ``files`` with its file. Not started yet: (process, its URL)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env = clean_env(
        SHUTTERBOX_DATA_DIR=str(run_dir / "bare-data"),  # `serve` reads its settings
        PYTHONPATH=pythonpath,
        **{bare_files.FILES_VARIABLE: json.dumps({p: str(f) for p, f in files.items()})},
    )
    command = [
        sys.executable,
        *("-m", "bench.bare_files", "--port", str(port), "--workers", str(workers)),
    ]
    ready_path = next(iter(files))
    process = ManagedProcess(
        "bare Starlette",
        command,
        log_path=run_dir / "bare.log",
        env=env,
        ready=http_ok(f"{url}{ready_path}", timeout=2.0),
    )
    return process, url


def uvicorn_settings(bare: ManagedProcess) -> str:
    """The settings `shutterbox serve` passed to uvicorn.run, as the bare server printed them
    (without host and port)."""
    for line in bare.log_text().splitlines():
        if line.startswith(bare_files.SETTINGS_MARKER):
            settings = json.loads(line.removeprefix(bare_files.SETTINGS_MARKER))
            shown = {k: v for k, v in settings.items() if k not in ("host", "port")}
            return ", ".join(f"{k}={v!r}" for k, v in shown.items()) or "uvicorn's defaults"
    raise RuntimeError(f"the bare server did not print its uvicorn settings:\n{bare.log_tail()}")


def check_answers(targets: list[Target], files: dict[str, Path]) -> None:
    """Every media target answers 200 with the bytes of its file; Varnish (after the first,
    warming request) from its cache."""
    for target in targets:
        response = httpx.get(target.url, timeout=30.0)
        if response.status_code != 200:
            raise RuntimeError(f"{target.url} answered {response.status_code}")
        path = urlsplit(target.url).path
        if path in files and response.content != files[path].read_bytes():
            raise RuntimeError(f"{target.url} does not answer the bytes of {files[path]}")
        if target.key.startswith("varnish"):
            cache = httpx.get(target.url, timeout=30.0).headers.get("x-cache")
            if cache != "HIT":
                raise RuntimeError(f"{target.url}: the second GET was not a hit ({cache})")


# The run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Results:
    targets: list[Target]
    runs: dict[str, list[WrkResult]]  # target key -> one run per round
    files: dict[str, tuple[str, int, str]]  # variant -> (path, bytes, "WxH")
    setup_seconds: float
    uvicorn: str


def run(args: argparse.Namespace, run_dir: Path) -> Results:
    started_at = time.perf_counter()
    photos = {name: photo(detail, seed) for name, (detail, seed) in PHOTOS.items()}
    with stack() as started:
        data_dir = run_dir / "data"
        origin, origin_url = shutterbox_serve(
            data_dir, run_dir / "origin.log", workers=args.workers
        )
        started.append(origin)
        origin.start(START_TIMEOUT_SECONDS)
        files, about = upload_photos(origin_url, data_dir, photos)
        thumb, full = about["thumb"][0], about["full"][0]

        bare, bare_url = start_bare(run_dir, files, args.workers)
        started.append(bare)
        bare.start(START_TIMEOUT_SECONDS)
        edge = Varnish(
            run_dir / "edge",
            render_vcl(run_dir / "edge" / "vcl", int(urlsplit(origin_url).port or 0)),
        )
        started.append(edge)
        edge.start()
        static_root = run_dir / "static"  # the URL paths, linked to the stored files
        for path, file in files.items():
            link = static_root / path.lstrip("/")
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(file)
        nginx, nginx_url = nginx_static(run_dir, static_root, thumb)
        started.append(nginx)
        nginx.start(START_TIMEOUT_SECONDS)

        targets = [
            Target("origin-thumb", "shutterbox origin, `thumb`", f"{origin_url}{thumb}"),
            Target("bare-thumb", "bare Starlette `FileResponse`, `thumb`", f"{bare_url}{thumb}"),
            Target("origin-full", "shutterbox origin, `full`", f"{origin_url}{full}"),
            Target("bare-full", "bare Starlette `FileResponse`, `full`", f"{bare_url}{full}"),
            Target("varnish-thumb", "Varnish (cache hit), `thumb`", f"{edge.url}{thumb}"),
            Target("nginx-thumb", "nginx static file, `thumb`", f"{nginx_url}{thumb}"),
            Target("origin-healthz", "shutterbox origin, `/healthz`", f"{origin_url}/healthz"),
        ]
        check_answers(targets, files)
        setup = time.perf_counter() - started_at
        print(f"set up in {setup:.1f} s; measuring", flush=True)
        runs = measure(args, targets)
        settings = uvicorn_settings(bare)
    return Results(targets, runs, about, setup, settings)


# Reporting -----------------------------------------------------------------------------------


def ratio_rows(results: Results) -> list[list[str]]:
    rows = []
    for numerator, denominator, label, target in RATIOS:
        value = median(
            [
                a.requests_per_second / b.requests_per_second
                for a, b in zip(results.runs[numerator], results.runs[denominator], strict=True)
            ]
        )
        met = "" if target is None else ("yes" if value >= target else "no")
        goal = "" if target is None else f">= {target:.2f}x"
        rows.append([label, ratio(value), goal, met])
    return rows


def measurement_rows(results: Results) -> list[list[str]]:
    rows = []
    for target in results.targets:
        runs = results.runs[target.key]
        rows.append(
            [
                target.label,
                f"{median([r.requests_per_second for r in runs]):,.0f}",
                f"{median([r.p50 for r in runs]) * 1000:.2f}",
                f"{median([r.p99 for r in runs]) * 1000:.2f}",
                " / ".join(f"{r.requests_per_second:,.0f}" for r in runs),
                str(sum(r.socket_errors for r in runs)),
            ]
        )
    return rows


def report(args: argparse.Namespace, results: Results) -> str:
    files = "; ".join(
        f"`{name}` {size} JPEG, {length:,} bytes"
        for name, (_, length, size) in results.files.items()
    )
    return "\n".join(
        [
            "## Serving media: origin against bare Starlette, Varnish against nginx (wrk)",
            "",
            f"`python -m bench.media`: `{wrk_command(args)}` against a real `shutterbox serve "
            f"--workers {args.workers}` (embedded: SQLite, blobs in the data directory) "
            "answering public variant URLs (`/media/<id>/<name>-<hash>.jpg`), against a bare "
            "Starlette app answering the same paths with a `FileResponse` of the same files "
            "(`bench/bare_files.py`, run through the `uvicorn.run` call of `shutterbox serve` "
            "itself, so with the same uvicorn settings); and Varnish running a copy of "
            "`deploy/varnish/shutterbox.vcl` in front of the origin (every request a cache "
            "hit) against nginx serving the same file statically. wrk and every server share "
            "the machine.",
            "",
            *environment_lines(extra_packages=("starlette", "uvicorn", "uvloop", "httptools")),
            f"- {tool_versions('wrk', 'Varnish', 'nginx')}",
            f"- uvicorn settings from `shutterbox serve`, for both Python servers: "
            f"{results.uvicorn} (loop and HTTP implementation left to uvicorn: uvloop and "
            "httptools when installed)",
            f"- Files: {files}",
            f"- Rounds: {args.rounds} of {args.duration} s per target after a {args.warmup} s "
            "warm-up of each, the order reversed every other round; set-up (photos, uploads, "
            f"variants, servers) took {results.setup_seconds:.1f} s",
            "",
            "### Ratios",
            "",
            "Requests per second, the median of the per-round ratios. The target is for the "
            "origin's public variant GET; the others are information.",
            "",
            markdown_table(["Ratio (req/s)", "Value", "Target", "Met"], ratio_rows(results)),
            "",
            "### Measurements",
            "",
            "Medians over the rounds. A Python server runs on one CPU, so wrk has room beside "
            "it; Varnish and nginx use every CPU and share them with wrk, which makes their "
            "requests/s lower bounds and pulls their ratio towards 1.00x. `/healthz` (a "
            "constant JSON answer) is the origin's cheapest route, for reference.",
            "",
            markdown_table(
                ["Target", "Req/s", "p50 ms", "p99 ms", "Req/s per round", "Socket errors"],
                measurement_rows(results),
            ),
        ]
    )


# Entry point ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per target")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per target")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=1, help="the origin's background workers")
    args = parser.parse_args()
    if args.duration < 1 or args.warmup < 1 or args.rounds < 1:
        parser.error("--duration and --warmup must be at least 1 s, --rounds at least 1")
    if args.threads < 1 or args.connections < args.threads:
        parser.error("wrk needs at least one thread and a connection per thread")
    return args


def main() -> int:
    args = parse_args()
    exit_on_sigterm()
    for binary in ("wrk", "varnishd", "nginx"):
        if system_binary(binary) is None:
            fail(f"{binary} is not installed")
            return 1
    with run_directory("media") as run_dir:
        results = run(args, run_dir)
    publish(SECTION, report(args, results), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
