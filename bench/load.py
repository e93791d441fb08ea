"""A burst of uploads with reads going on: does the service take them all, how fast does it
answer, how long until the queue has drained, and is any image lost?

Starts a real `shutterbox serve` (embedded setup, background workers in-process), then:

1. the baseline, measured in the same run against the same idle server: uploads one at a
   time and feed/thumbnail reads one at a time, after the queue has drained;
2. the burst: 1,000 uploads of distinct small photos started on a fixed schedule over 10 s
   (an open loop: a slow answer does not slow the sender down), while readers keep fetching
   the feed and thumbnails;
3. then it waits until every accepted image has left `processing`, and checks each one;
4. the lanes: new uploads one at a time, each until it is ready, first with the queue idle,
   then while `shutterbox reprocess` of 500 of the burst's images is under way (enqueued
   as bulk work for the server's workers): a new upload must not wait behind the batch.

Reported: accept latency p50/p99 under the burst against the idle baseline, read latency
under load against idle reads, errors by kind, the time until the queue drained, and images
lost (accepted but neither ready nor failed in the end: must be 0).

Run from the repository root: `python -m bench.load` (`--uploads`, `--seconds` to change
the burst).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

from bench.benchkit import (
    WORK_DIR,
    clean_env,
    cpu_count,
    environment_lines,
    markdown_table,
    ms,
    percentile,
    photo_like,
    ratio,
    shutterbox_command,
    write_section,
)
from bench.upload_latency import multipart_body, running_server, sign_up, unique_file

SECTION = "load"
READERS = 4
BASELINE_UPLOADS = 20
BASELINE_READS = 40
DRAIN_TIMEOUT_SECONDS = 900.0
REPROCESSED = 500  # images the batch running during the lanes phase reprocesses
READY_UPLOADS = 10  # uploads timed until ready, idle and then during the batch
LANE_TARGET = 2.0  # upload-to-ready p50 during the batch, at most this times the idle one
ACCEPT_P99_TARGET = 2.0  # seconds: the seed's "upload latency under 2 s", during the burst


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def p(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) if self.latencies else float("nan")


def small_photo() -> bytes:
    """A photo-like 1200 x 800 JPEG (about 150-250 KB): many of them fit in a 10 s burst."""
    return bytes(photo_like(0.6, width=1200, height=800).jpegsave_buffer(Q=85, keep="none"))


async def upload_one(
    client: httpx.AsyncClient, photo: bytes, samples: Samples, accepted: list[str]
) -> None:
    body, content_type = multipart_body(unique_file(photo))
    started = time.perf_counter()
    try:
        response = await client.post(
            "/api/v1/images", content=body, headers={"Content-Type": content_type}
        )
    except httpx.HTTPError as exc:
        samples.errors[type(exc).__name__] += 1
        return
    elapsed = time.perf_counter() - started
    if response.status_code == 201:
        samples.latencies.append(elapsed)
        accepted.append(response.json()["id"])
    else:
        samples.errors[f"HTTP {response.status_code}"] += 1


async def read_one(client: httpx.AsyncClient, samples: Samples, thumbs: list[str]) -> None:
    """One feed page, then one thumbnail from it (or from earlier pages)."""
    for url in ("/api/v1/feed?limit=20", None):
        if url is None:
            if not thumbs:
                return
            url = random.choice(thumbs)
        started = time.perf_counter()
        try:
            response = await client.get(url)
        except httpx.HTTPError as exc:
            samples.errors[type(exc).__name__] += 1
            continue
        if response.status_code != 200:
            samples.errors[f"HTTP {response.status_code}"] += 1
            continue
        samples.latencies.append(time.perf_counter() - started)
        if url.startswith("/api/v1/feed"):
            for item in response.json()["items"]:
                thumb = item["variants"].get("thumb")
                if thumb:
                    thumbs.append(thumb["url"])


async def wait_until_settled(
    client: httpx.AsyncClient, ids: list[str], timeout: float
) -> dict[str, str]:
    """Poll every image until none is processing; return id → final status ('missing' for a
    404)."""
    statuses: dict[str, str] = {}
    pending = list(ids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        still: list[str] = []
        for start in range(0, len(pending), 50):
            chunk = pending[start : start + 50]
            answers = await asyncio.gather(*(client.get(f"/api/v1/images/{i}") for i in chunk))
            for image_id, answer in zip(chunk, answers, strict=True):
                status = answer.json()["status"] if answer.status_code == 200 else "missing"
                statuses[image_id] = status
                if status == "processing":
                    still.append(image_id)
        pending = still
        if pending:
            await asyncio.sleep(1.0)
    return statuses


@dataclass
class Lanes:
    idle_ready: list[float]  # upload to ready, the queue idle
    batch_ready: list[float]  # upload to ready, with the batch under way
    batch_jobs: int  # jobs the batch enqueued
    batch_left: int  # of them still waiting when the last timed upload was ready

    @property
    def ratio(self) -> float:
        return percentile(self.batch_ready, 0.5) / percentile(self.idle_ready, 0.5)


async def upload_until_ready(client: httpx.AsyncClient, photo: bytes) -> float:
    """Seconds from sending a new upload until it is ready."""
    body, content_type = multipart_body(unique_file(photo))
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/images", content=body, headers={"Content-Type": content_type}
    )
    if response.status_code != 201:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:200]}")
    image_id = response.json()["id"]
    while True:
        answer = await client.get(f"/api/v1/images/{image_id}")
        if answer.json()["status"] != "processing":
            return time.perf_counter() - started
        await asyncio.sleep(0.02)


def start_reprocess(data_dir: Path, image_ids: list[str]) -> tuple[int, str]:
    """`shutterbox reprocess IDS --workers 0 --no-wait`: the batch goes to the server's
    workers. (jobs enqueued, the batch's id)."""
    env = clean_env(SHUTTERBOX_DATA_DIR=str(data_dir))
    done = subprocess.run(
        shutterbox_command("reprocess", *image_ids, "--workers", "0", "--no-wait"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    enqueued = int(done.stdout.split(" images enqueued")[0].split()[-1])
    with sqlite3.connect(data_dir / "shutterbox.db") as db:
        (batch_id,) = db.execute("SELECT id FROM batches ORDER BY created_at DESC").fetchone()
    return enqueued, batch_id


def batch_left(data_dir: Path, batch_id: str) -> int:
    with sqlite3.connect(data_dir / "shutterbox.db") as db:
        (left,) = db.execute("SELECT count(*) FROM jobs WHERE batch_id = ?", (batch_id,)).fetchone()
    return int(left)


async def measure_lanes(
    client: httpx.AsyncClient, photo: bytes, data_dir: Path, ready_ids: list[str]
) -> Lanes:
    idle = [await upload_until_ready(client, photo) for _ in range(READY_UPLOADS)]
    jobs, batch_id = await asyncio.to_thread(start_reprocess, data_dir, ready_ids[:REPROCESSED])
    during = [await upload_until_ready(client, photo) for _ in range(READY_UPLOADS)]
    return Lanes(idle, during, jobs, batch_left(data_dir, batch_id))


@dataclass
class Result:
    uploads: int
    seconds: float
    photo_bytes: int
    idle_accept: Samples
    idle_read: Samples
    burst_accept: Samples
    burst_read: Samples
    sent_in: float
    drained_after: float
    final: Counter[str]
    lanes: Lanes | None = None

    @property
    def lost(self) -> int:
        return self.final["missing"] + self.final["processing"]


async def measure(
    base_url: str, token: str, uploads: int, seconds: float, data_dir: Path
) -> Result:
    photo = small_photo()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=120.0,
        limits=limits,
    ) as client:
        # The baseline: the same server, idle, one request at a time.
        idle_accept, idle_read, warm_ids = Samples(), Samples(), []
        for _ in range(BASELINE_UPLOADS):
            await upload_one(client, photo, idle_accept, warm_ids)
        await wait_until_settled(client, warm_ids, DRAIN_TIMEOUT_SECONDS)
        thumbs: list[str] = []
        for _ in range(BASELINE_READS):
            await read_one(client, idle_read, thumbs)

        # The burst, on a fixed schedule, with readers going on.
        burst_accept, burst_read, accepted = Samples(), Samples(), []
        sending = True

        async def reader() -> None:
            while sending:
                await read_one(client, burst_read, thumbs)

        async def scheduled(index: int, start: float) -> None:
            await asyncio.sleep(max(0.0, start + index * seconds / uploads - time.perf_counter()))
            await upload_one(client, photo, burst_accept, accepted)

        readers = [asyncio.create_task(reader()) for _ in range(READERS)]
        started = time.perf_counter()
        await asyncio.gather(*(scheduled(i, started) for i in range(uploads)))
        sent_in = time.perf_counter() - started
        sending = False
        await asyncio.gather(*readers)

        final_statuses = await wait_until_settled(client, accepted, DRAIN_TIMEOUT_SECONDS)
        drained_after = time.perf_counter() - started
        ready_ids = [i for i, status in final_statuses.items() if status == "ready"]
        lanes = await measure_lanes(client, photo, data_dir, ready_ids)
    return Result(
        uploads=uploads,
        seconds=seconds,
        photo_bytes=len(photo),
        idle_accept=idle_accept,
        idle_read=idle_read,
        burst_accept=burst_accept,
        burst_read=burst_read,
        sent_in=sent_in,
        drained_after=drained_after,
        final=Counter(final_statuses.values()),
        lanes=lanes,
    )


def report(result: Result, workers: int, api_processes: int) -> str:
    accepted = len(result.burst_accept.latencies)
    errors = result.burst_accept.errors + result.burst_read.errors
    rows = [
        [
            "accept (until 201)",
            ms(result.idle_accept.p(0.5)),
            ms(result.burst_accept.p(0.5)),
            ratio(result.burst_accept.p(0.5) / result.idle_accept.p(0.5)),
            ms(result.burst_accept.p(0.99)),
            ratio(result.burst_accept.p(0.99) / result.idle_accept.p(0.99)),
        ],
        [
            "read (feed page, thumbnail)",
            ms(result.idle_read.p(0.5)),
            ms(result.burst_read.p(0.5)),
            ratio(result.burst_read.p(0.5) / result.idle_read.p(0.5)),
            ms(result.burst_read.p(0.99)),
            ratio(result.burst_read.p(0.99) / result.idle_read.p(0.99)),
        ],
    ]
    latency = markdown_table(
        ["ms", "idle p50", "burst p50", "burst / idle", "burst p99", "burst / idle"], rows
    )
    outcome = markdown_table(
        ["", "value"],
        [
            ["uploads started", f"{result.uploads} over {result.seconds:g} s"],
            ["all sent and answered after", f"{result.sent_in:.1f} s"],
            ["accepted (201)", str(accepted)],
            ["acceptance rate", f"{accepted / result.sent_in:.0f} uploads/s"],
            ["reads during the burst", str(len(result.burst_read.latencies))],
            ["errors by kind", ", ".join(f"{k}: {v}" for k, v in errors.items()) or "none"],
            ["queue drained after (from the first upload)", f"{result.drained_after:.0f} s"],
            ["processing throughput", f"{accepted / result.drained_after:.1f} images/s"],
            [
                "final states of accepted images",
                ", ".join(f"{k}: {v}" for k, v in sorted(result.final.items())),
            ],
            ["**images lost**", f"**{result.lost}**"],
        ],
    )
    target = "yes" if result.burst_accept.p(0.99) <= ACCEPT_P99_TARGET else "no"
    lines_lanes: list[str] = []
    if result.lanes is not None:
        lanes = result.lanes
        met = "yes" if lanes.ratio <= LANE_TARGET else "no"
        lines_lanes = [
            "",
            f"Lanes: {READY_UPLOADS} new uploads one at a time, each timed until it is ready, "
            f"with the queue idle, then while `shutterbox reprocess` of {lanes.batch_jobs} "
            "images runs as bulk work on the server's workers "
            f"({lanes.batch_left} of its jobs still waiting when the last timed upload was "
            "ready). Target: upload-to-ready p50 during the batch at most "
            f"{LANE_TARGET:g}x the idle one.",
            "",
            markdown_table(
                ["upload to ready", "idle p50", "during the batch p50", "ratio", "target met"],
                [
                    [
                        "new upload",
                        ms(percentile(lanes.idle_ready, 0.5)),
                        ms(percentile(lanes.batch_ready, 0.5)),
                        ratio(lanes.ratio),
                        met,
                    ]
                ],
            ),
        ]
    lines = [
        "## A burst of uploads with reads going on",
        "",
        f"`python -m bench.load`: {result.uploads} distinct photos of "
        f"{result.photo_bytes / 1000:.0f} KB started on a fixed schedule over "
        f"{result.seconds:g} s (an open loop) against one `shutterbox serve "
        f"--api-processes {api_processes}` on the embedded setup with {workers} workers "
        f"(in a process of their own when there are several API processes, at a lower CPU "
        f"priority for the imaging), while {READERS} readers fetch feed pages "
        "and thumbnails. The baseline is the same server idle, one request at a time, in the "
        "same run. Lost means accepted with 201 but, once the queue drained, neither ready "
        "nor failed. When the burst offers uploads faster than one process accepts them, "
        "they wait in the server's queue of connections: latency grows, nothing is dropped.",
        "",
        latency,
        "",
        f"Target: accept p99 under the burst at most {ACCEPT_P99_TARGET:g} s: {target}.",
        "",
        outcome,
        *lines_lanes,
        "",
        *environment_lines(),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--api-processes", type=int, default=1, help="`shutterbox serve --api-processes N`"
    )
    args = parser.parse_args()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix="load-", dir=WORK_DIR)
    workers = cpu_count()
    try:
        data_dir = Path(run_dir) / "data"
        with running_server(
            data_dir,
            Path(run_dir) / "serve.log",
            workers=workers,
            api_processes=args.api_processes,
            upload_rate="",  # the benchmark measures capacity, not the per-user limit
            user_quota_bytes="0",
        ) as base_url:
            token = sign_up(base_url)
            result = asyncio.run(measure(base_url, token, args.uploads, args.seconds, data_dir))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    body = report(result, workers, args.api_processes)
    print(body)
    write_section(SECTION, body)
    if result.lost:
        raise SystemExit(f"{result.lost} accepted images were lost")


if __name__ == "__main__":
    main()
