"""Planning a storage migration at 1 M images: the blobs to copy found from both stores'
listings, the originals' rows and the record of what is verified, with the listings in the
record's SQLite files against the same plan made in dictionaries (as `migrate-storage` made
it before).

The scene: a resumed migration of an installation of ``--images`` images with 7 blobs each
(an original and 6 variants), half of them already copied and verified. Each plan runs in a
process of its own, which reads both listings (made up in the process, as a store would
send them), names the originals, and then reads every blob still to copy; the process's
peak resident memory (``ru_maxrss``) and its time are reported, with a process that only
imports the same modules as the floor. The record of the SQLite plan is written before its
process starts, as an earlier run would have left it.

Run from the repository root: `python -m bench.migration_plan`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.benchkit import (
    WORK_DIR,
    argument_parser,
    environment_lines,
    markdown_table,
    publish,
    ratio,
)
from shutterbox.adapters.migration_record import SqliteMigrationRecord, record_path
from shutterbox.ports import BlobInfo
from shutterbox.ports.migration import CopiedBlob, Original

SECTION = "migration-plan"
TARGET = "s3://bench-target/blobs"
VARIANTS = ("thumb.webp", "thumb.avif", "medium.webp", "medium.avif", "large.webp", "large.avif")
SHA = "5e" * 32
THEN = datetime(2026, 1, 1, tzinfo=UTC)
PAGE = 500  # blobs read back at once, as `migrate` does


def image_id(n: int) -> str:
    return f"{n:08x}-7c1e-4b9a-9f3d-{n:012x}"


def original_key(n: int) -> str:
    i = image_id(n)
    return f"originals/{i[6:8]}/{i[4:6]}/{i[2:4]}/{i}.jpg"


def blobs(images: int) -> Iterator[BlobInfo]:
    """What a listing of the store sends: every image's original and variants."""
    for n in range(images):
        yield BlobInfo(original_key(n), 3_000_000 + n % 1000, THEN)
        for name in VARIANTS:
            yield BlobInfo(f"variants/{image_id(n)}/{name}", 40_000 + n % 1000, THEN)


def verified(images: int) -> Iterator[tuple[str, CopiedBlob]]:
    """What the earlier run copied: the first half of the images."""
    for info in blobs(images // 2):
        yield info.key, CopiedBlob(info.size, SHA, info.last_modified.isoformat())


def originals(images: int) -> Iterator[tuple[str, Original]]:
    for n in range(images):
        yield original_key(n), Original(image_id(n), 3_000_000 + n % 1000, SHA)


def plan_in_dictionaries(images: int, _directory: Path) -> int:
    """The plan as it was made before: every listing and the record in dictionaries."""
    record = dict(verified(images))
    in_target = {key: blob.size for key, blob in record.items()}
    in_source = {info.key: info for info in blobs(images)}
    truths = dict(originals(images))
    to_copy = []
    for key, info in sorted(in_source.items()):
        truth = truths.get(key)
        known = record.get(key)
        if known is None or not known.size == info.size == in_target.get(key):
            to_copy.append(info)
            continue
        same = known.sha256 == truth.sha256 if truth else known.modified == _moment(info)
        if not same:
            to_copy.append(info)
    return len(to_copy)


def _moment(info: BlobInfo) -> str:
    return info.last_modified.isoformat()


def plan_in_sqlite(images: int, directory: Path) -> int:
    """The plan as `migrate` makes it now: listings in the record's files, read in pages."""
    with SqliteMigrationRecord(record_path(directory, TARGET), TARGET) as record:
        record.start_listing()
        record.list_target(BlobInfo(key, blob.size, THEN) for key, blob in verified(images))
        record.list_source(blobs(images))
        record.name_originals(originals(images))
        count, _ = record.unverified_totals()
        read, after = 0, ""
        while page := record.unverified(after, PAGE):
            read += len(page)
            after = page[-1].info.key
        assert read == count
        return read


def nothing(_images: int, _directory: Path) -> int:
    """The floor: a process that imports the same modules and plans nothing."""
    return 0


PLANS = {"floor": nothing, "dictionaries": plan_in_dictionaries, "sqlite": plan_in_sqlite}


def write_record(images: int, directory: Path) -> None:
    """The record an earlier run left: the first half of the images verified."""
    with SqliteMigrationRecord(record_path(directory, TARGET), TARGET):
        pass
    db = sqlite3.connect(record_path(directory, TARGET))
    with db:
        db.executemany(
            "INSERT INTO copied VALUES (?, ?, ?, ?)",
            ((key, b.size, b.sha256, b.modified) for key, b in verified(images)),
        )
    db.close()


@dataclass(frozen=True)
class Outcome:
    plan: str
    to_copy: int
    seconds: float
    peak_mb: float


def run_plan(plan: str, images: int, directory: Path) -> Outcome:
    command = [sys.executable, "-m", "bench.migration_plan", "--child", plan]
    command += ["--images", str(images), "--directory", str(directory)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"the {plan} plan failed ({process.returncode})")
    result = json.loads(output)
    return Outcome(plan, result["to_copy"], result["seconds"], usage.ru_maxrss / 1024)


def child(plan: str, images: int, directory: Path) -> None:
    started = time.perf_counter()
    to_copy = PLANS[plan](images, directory)
    seconds = time.perf_counter() - started
    print(json.dumps({"to_copy": to_copy, "seconds": seconds}))


def report(outcomes: dict[str, Outcome], images: int) -> str:
    floor, before, now = outcomes["floor"], outcomes["dictionaries"], outcomes["sqlite"]
    rows = [
        [
            name,
            f"{o.to_copy:,}",
            f"{o.seconds:.1f}",
            f"{o.peak_mb:,.0f}",
            f"{o.peak_mb - floor.peak_mb:,.1f}",
        ]
        for name, o in (("dictionaries (before)", before), ("SQLite record (now)", now))
    ]
    return "\n".join(
        [
            "## Planning a storage migration at 1 M images",
            "",
            f"`python -m bench.migration_plan`: a resumed `migrate-storage` of {images:,} "
            f"images, 7 blobs each ({7 * images:,} blobs), half of them verified by an earlier "
            "run. Each plan reads both stores' listings and the originals' rows, and then every "
            "blob still to copy; each runs in its own process. Peak memory is the process's "
            f"`ru_maxrss`; above the floor: less that of a process that only imports the same "
            f"modules ({floor.peak_mb:,.0f} MB).",
            "",
            *environment_lines(),
            "",
            markdown_table(
                ["Plan", "Blobs to copy", "Seconds", "Peak MB", "MB above the floor"], rows
            ),
            "",
            f"Memory above the floor: {now.peak_mb - floor.peak_mb:,.1f} MB against "
            f"{before.peak_mb - floor.peak_mb:,.0f} MB; time, SQLite record / dictionaries: "
            f"{ratio(now.seconds / before.seconds)}.",
        ]
    )


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--child", choices=sorted(PLANS), help=argparse.SUPPRESS)
    parser.add_argument("--directory", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.images, args.directory)
        return 0
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="migration-plan-", dir=WORK_DIR))
    try:
        write_record(args.images, directory)
        outcomes = {}
        for plan in PLANS:
            outcomes[plan] = run_plan(plan, args.images, directory)
            print(outcomes[plan], flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if outcomes["sqlite"].to_copy != outcomes["dictionaries"].to_copy:
        raise RuntimeError("the two plans found different blobs to copy")
    publish(SECTION, report(outcomes, args.images), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
