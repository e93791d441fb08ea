"""Shared pieces of the benchmark scripts: test pictures, the Pillow baseline for variants,
statistics, tables and the results page, uploads over HTTP, and server processes (started with
the test harness's `tests.support.processes`: shutterbox, nginx serving files statically).

Not a benchmark itself. The benchmarks are modules of the `bench` package, run from the
repository root as `python -m bench.<name>`, so `bench` and `tests` import as packages.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import grp
import io
import math
import os
import platform
import pwd
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import httpx2 as httpx
import pyvips
from PIL import Image as PILImage
from PIL import ImageOps

from shutterbox.domain.images import VARIANT_SPECS, fit_within
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess, clean_env, http_ok, shutterbox_command

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = REPO_ROOT / "bench" / ".work"  # gitignored; on the same disk as the repo
RESULTS_PAGE = REPO_ROOT / "docs" / "benchmarks.md"

PAGE_HEADER = """# Benchmarks

Numbers written by the scripts in `bench/` (see `bench/README.md`). Each section is rewritten
by its own script. The machines these run on are shared and noisy, so every result is a ratio
against a baseline measured in the same run; compare ratios across runs, not the absolute
times.
"""

# 12 MP, the size of a typical phone photo.
PHOTO_WIDTH = 4000
PHOTO_HEIGHT = 3000
PHOTO_QUALITY = 90


# Test pictures -------------------------------------------------------------------------------


def _noise(width: int, height: int, seed: int, sigma: float = 1.0) -> pyvips.Image:
    return pyvips.Image.gaussnoise(width, height, sigma=sigma, mean=0, seed=seed)


def _smooth(width: int, height: int, seed: int, spread: float, blur: float) -> pyvips.Image:
    """Large soft shapes with a standard deviation of about ``spread``: noise made at a tenth
    of the size, blurred (which divides its spread by about 2 * sqrt(pi) * blur), enlarged."""
    small = _noise(width // 10, height // 10, seed).gaussblur(blur)
    return small.resize(10, kernel="cubic") * (spread * 2 * math.sqrt(math.pi) * blur)


def photo_like(
    detail: float, *, seed: int = 7, width: int = PHOTO_WIDTH, height: int = PHOTO_HEIGHT
) -> pyvips.Image:
    """An 8-bit sRGB picture shaped like a photo: colour gradients, soft shapes with a few
    hard edges, texture and sensor grain. ``detail`` scales the texture and grain, which is
    what mostly decides the JPEG size. Both sides should be multiples of 40 (the soft shapes
    are made at a tenth of the size, the texture at a quarter)."""
    xyz = pyvips.Image.xyz(width, height)
    x = xyz[0] / width
    y = xyz[1] / height
    gradient = x.bandjoin([y, (x + y) / 2]) * [150, 120, 110] + [50, 60, 80]
    shapes = _smooth(width, height, seed, spread=15, blur=8)
    tint = _smooth(width, height, seed + 1, spread=6, blur=12)
    scene = gradient + shapes.bandjoin([shapes * 0.9 + tint, shapes * 0.8 - tint])
    scene = (shapes > 20).ifthenelse(scene * 0.8, scene)  # hard-edged darker regions
    texture = _noise(width // 4, height // 4, seed + 3).resize(4, kernel="cubic") * 12
    grain = _noise(width, height, seed + 4) * 6
    picture = scene + (texture + grain) * detail
    return picture.cast("uchar").copy(interpretation="srgb")


def write_photo_jpeg(
    path: Path,
    *,
    target_bytes: int = 3_000_000,
    tolerance: float = 0.15,
    quality: int = PHOTO_QUALITY,
) -> int:
    """Write a photo-like 12 MP JPEG whose size lands within ``tolerance`` of ``target_bytes``
    (adjusting the amount of detail until it does) and return its size."""
    low_detail, high_detail = 0.0, 3.0
    detail = 0.65  # lands near 3 MB at Q90 with libvips 8.18
    size = 0
    for _ in range(8):
        data = photo_like(detail).jpegsave_buffer(Q=quality, keep="none")
        size = len(data)
        if abs(size - target_bytes) <= tolerance * target_bytes:
            path.write_bytes(data)
            return size
        if size < target_bytes:
            low_detail = detail
        else:
            high_detail = detail
        detail = (low_detail + high_detail) / 2
    raise RuntimeError(
        f"could not make a JPEG of about {target_bytes / 1e6:.1f} MB "
        f"(last try: {size / 1e6:.2f} MB)"
    )


# Variants and the Pillow baseline --------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """One variant a case made: its name, size and encoded bytes."""

    name: str
    width: int
    height: int
    bytes: int


Case = Callable[[Path], list[Output]]


def pillow_jpeg_bytes(image: PILImage.Image, quality: int) -> int:
    """The size of ``image`` as a JPEG with optimised Huffman tables and progressive scans."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.tell()


def pillow_variants(path: Path, quality: int) -> list[Output]:
    """shutterbox's variants made with Pillow: shrink-on-load through draft() (never below the
    largest variant), upright, RGB, then Lanczos down to each size, cascading from the
    largest; JPEGs with optimised Huffman tables and progressive scans, like shutterbox's."""
    largest = VARIANT_SPECS[0].max_side
    with PILImage.open(path) as source:
        source.draft("RGB", (largest, largest))
        ImageOps.exif_transpose(source, in_place=True)
        current: PILImage.Image = source
        if current.mode != "RGB":
            current = current.convert("RGB")
        outputs: list[Output] = []
        for spec in VARIANT_SPECS:
            size = fit_within(current.width, current.height, spec.max_side)
            if size != current.size:
                current = current.resize(size, PILImage.Resampling.LANCZOS)
            jpeg = pillow_jpeg_bytes(current, quality)
            outputs.append(Output(spec.name, current.width, current.height, jpeg))
    return outputs


# Statistics ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linearly interpolated percentile, ``fraction`` in [0, 1]."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# Environment ---------------------------------------------------------------------------------


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment_lines(*, extra_packages: Sequence[str] = ()) -> list[str]:
    """Markdown bullet lines saying when and where the numbers were measured."""
    libvips = ".".join(str(pyvips.version(part)) for part in range(3))
    packages = ", ".join(f"{name} {_package_version(name)}" for name in extra_packages)
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Python {platform.python_version()}, libvips {libvips} "
        f"(pyvips {_package_version('pyvips')})" + (f", {packages}" if packages else ""),
        f"- Machine: {cpu_count()} CPUs, {platform.system()} {platform.machine()}",
    ]


# Tables and the results page -----------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table padded so that it also reads well in a terminal. Columns after the
    first are right-aligned (they hold numbers)."""
    widths = [
        max(len(headers[i]), *(len(row[i]) for row in rows)) if rows else len(headers[i])
        for i in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * widths[0]] + ["-" * (w - 1) + ":" for w in widths[1:]]
    return "\n".join([line(headers), line(rule), *(line(row) for row in rows)])


@contextlib.contextmanager
def _page_lock() -> Iterator[None]:
    """Serialise updates of the results page when two scripts finish at the same time."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    with open(WORK_DIR / "benchmarks-page.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def replace_section(page: str, name: str, body: str) -> str:
    """``page`` with the text between ``<!-- bench:name -->`` and ``<!-- /bench:name -->``
    replaced by ``body`` (the section is appended when the markers are missing)."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    section = f"{start}\n{body.strip()}\n{end}"
    head, found, rest = page.partition(start)
    if found:
        _, closed, tail = rest.partition(end)
        if not closed:
            raise ValueError(f"{RESULTS_PAGE.name}: {start} has no matching {end}")
        return head + section + tail
    return page.rstrip() + "\n\n" + section + "\n"


def write_section(name: str, body: str) -> Path:
    """Rewrite this benchmark's section of docs/benchmarks.md, leaving the others alone."""
    with _page_lock():
        page = RESULTS_PAGE.read_text() if RESULTS_PAGE.exists() else PAGE_HEADER
        updated = replace_section(page, name, body)
        RESULTS_PAGE.parent.mkdir(parents=True, exist_ok=True)
        temporary = RESULTS_PAGE.with_name(f".{RESULTS_PAGE.name}.tmp")
        temporary.write_text(updated)
        temporary.replace(RESULTS_PAGE)
    return RESULTS_PAGE


def relative(path: Path) -> str:
    """``path`` relative to the repository, for messages."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


# Command line and publishing ------------------------------------------------------------------


def argument_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of ``doc``, with ``--no-write``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone"
    )
    return parser


def publish(section: str, text: str, *, write: bool = True) -> None:
    """Print the report and, unless ``write`` is false, rewrite its section of the page."""
    print(text)
    if write:
        print(f"\nwrote the '{section}' section of {relative(write_section(section, text))}")


# Uploads over HTTP ----------------------------------------------------------------------------


def multipart_body(data: bytes, boundary: str) -> bytes:
    """The upload form with ``data`` as photo.jpg, encoded once so that the client spends no
    time on it per request."""
    if boundary.encode() in data:
        raise ValueError("the multipart boundary occurs in the file")
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode()


def sign_up(base_url: str, username: str, password: str) -> str:
    """Register a user on a running server and return a bearer token for them."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        created = client.post("/api/v1/users", json={"username": username, "password": password})
        created.raise_for_status()
    return log_in(base_url, username, password)


def log_in(base_url: str, username: str, password: str) -> str:
    """A bearer token for an existing user of a running server."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        token = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        token.raise_for_status()
        return str(token.json()["access_token"])


# HTTP load with wrk ---------------------------------------------------------------------------

_WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class WrkResult:
    """What one `wrk --latency` run measured: latency percentiles in seconds (from wrk's
    histogram), requests per second, and the requests that went wrong."""

    p50: float
    p99: float
    requests_per_second: float
    requests: int
    bad_status: int  # answers that were not 2xx or 3xx
    socket_errors: int  # connect, read and write errors, and timeouts


def parse_wrk(output: str) -> WrkResult:
    """The numbers of wrk's report (run with ``--latency``)."""

    def found(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, output, re.MULTILINE)

    def latency(percent: int) -> float:
        match = found(rf"^\s*{percent}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$")
        if match is None:
            raise ValueError(f"no {percent}% latency in wrk's report:\n{output}")
        return float(match[1]) * _WRK_UNITS[match[2]]

    rate = found(r"^Requests/sec:\s+([\d.]+)")
    total = found(r"^\s*(\d+) requests in ")
    if rate is None or total is None:
        raise ValueError(f"no request rate in wrk's report:\n{output}")
    bad = found(r"Non-2xx or 3xx responses:\s+(\d+)")
    sockets = found(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    return WrkResult(
        p50=latency(50),
        p99=latency(99),
        requests_per_second=float(rate[1]),
        requests=int(total[1]),
        bad_status=int(bad[1]) if bad else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def run_wrk(
    url: str,
    *,
    seconds: float,
    threads: int = 2,
    connections: int = 4,
    headers: Mapping[str, str] | None = None,
) -> WrkResult:
    """Load ``url`` with wrk for ``seconds`` (closed loop: ``connections`` requests in flight
    over ``threads`` threads) and return what it measured."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


# Server processes -----------------------------------------------------------------------------


def shutterbox_serve(
    data_dir: Path, log_path: Path, *, workers: int, api_processes: int = 1, **settings: str
) -> tuple[ManagedProcess, str]:
    """`shutterbox serve` on a free port with ``workers`` background workers and
    ``api_processes`` API processes over ``data_dir`` and none of the caller's SHUTTERBOX_*
    variables; ``settings`` are extra SHUTTERBOX_* variables (by lower-case name). Not
    started yet: (process, its URL)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = clean_env(SHUTTERBOX_DATA_DIR=str(data_dir))
    env.update({f"SHUTTERBOX_{name.upper()}": value for name, value in settings.items()})
    command = shutterbox_command(
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--api-processes",
        str(api_processes),
    )
    process = ManagedProcess(
        "shutterbox serve",
        command,
        log_path=log_path,
        env=env,
        ready=http_ok(f"{url}/readyz", timeout=2.0),
    )
    return process, url


@contextlib.contextmanager
def running(process: ManagedProcess, timeout: float = 60.0) -> Iterator[ManagedProcess]:
    """``process`` started and ready; stopped on the way out, its last lines printed first
    when something went wrong."""
    try:
        process.start(timeout)
        yield process
    except BaseException:
        print(f"{process.name} output (last lines):\n{process.log_tail(30)}", file=sys.stderr)
        raise
    finally:
        process.stop()


@contextlib.contextmanager
def stack() -> Iterator[list[ManagedProcess]]:
    """Every process appended to the list is stopped at the end, the last first; the last
    lines of every log are printed when the run fails."""
    started: list[ManagedProcess] = []
    try:
        yield started
    except BaseException:
        for item in started:
            print(f"{item.name} output (last lines):\n{item.log_tail(15)}", file=sys.stderr)
        raise
    finally:
        for item in reversed(started):
            with contextlib.suppress(Exception):
                item.stop()


@contextlib.contextmanager
def run_directory(prefix: str) -> Iterator[Path]:
    """A new directory for one run under bench/.work/ (on the same disk as the repository),
    removed at the end, also when the run fails."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=WORK_DIR))
    print(f"run directory: {relative(path)}", flush=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def exit_on_sigterm() -> None:
    """Leave through the normal exits on SIGTERM too, so that the clean-up (servers stopped,
    run directory removed) also runs when the script is terminated."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def system_binary(name: str) -> str | None:
    """``name`` on PATH or in the sbin directories (where Debian puts varnishd and nginx;
    they are not always on a user's PATH)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")


_VERSION_FLAGS = {"Varnish": ("varnishd", "-V"), "nginx": ("nginx", "-v"), "wrk": ("wrk", "-v")}


def tool_versions(*names: str) -> str:
    """The versions of the tools of ``names`` (keys of ``_VERSION_FLAGS``) that are installed,
    as in "Varnish 7.1.1, nginx 1.22.1"."""
    parts = []
    for name in names:
        binary, flag = _VERSION_FLAGS[name]
        found = system_binary(binary)
        if found is None:
            continue
        out = subprocess.run([found, flag], capture_output=True, text=True, check=False)
        version = re.search(r"\d+(?:\.\d+)+", out.stdout + out.stderr)
        parts.append(f"{name} {version.group(0) if version else 'unknown'}")
    return ", ".join(parts)


NGINX_CONF = """user {user} {group};  # ignored unless run as root: the workers can read run_dir
worker_processes auto;
daemon off;
pid nginx.pid;
error_log stderr warn;

events {{
    worker_connections 1024;
}}

http {{
    default_type application/octet-stream;
    types {{ image/jpeg jpg; }}
    sendfile on;
    tcp_nopush on;
    access_log off;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;

    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def nginx_static(run_dir: Path, root: Path, ready_path: str) -> tuple[ManagedProcess, str]:
    """nginx in the foreground on a free port serving the files under ``root`` statically
    (sendfile, no access log, a worker per CPU), its config and files in ``run_dir/nginx``.
    Not started yet; ready when ``ready_path`` answers 200. Returns (process, its URL)."""
    binary = system_binary("nginx")
    if binary is None:
        raise RuntimeError("nginx is not installed")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    prefix = run_dir / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    conf.write_text(NGINX_CONF.format(user=user, group=group, port=port, root=root))
    command = [binary, "-p", str(prefix), "-e", "stderr", "-c", str(conf)]
    nginx = ManagedProcess(
        "nginx",
        command,
        log_path=prefix / "nginx.log",
        ready=http_ok(f"{url}{ready_path}", timeout=2.0),
    )
    return nginx, url
