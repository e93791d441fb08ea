"""Temporary files left by a process that died mid-write: those older than the grace period in
the blob store's own temporary directories (a local store's ``.tmp/``) and in the staging
directory."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

from shutterbox.ports import BlobStore, TemporaryFileHolder
from shutterbox.services.storage.scrub.grace import cutoff
from shutterbox.services.storage.scrub.report import Problem, ProblemKind, ScrubReport


def temporary_directories(store: BlobStore, staging_dir: Path) -> list[Path]:
    """Where temporary files are written: the store's own temporary directories, if it has
    any, and the staging directory."""
    own = store.temporary_directories() if isinstance(store, TemporaryFileHolder) else ()
    return list(dict.fromkeys(p.resolve() for p in (*own, staging_dir)))


def _temporary_files(directories: Iterable[Path]) -> list[tuple[Path, float, int]]:
    files = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in directory.rglob("*"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file():
                files.append((path, stat.st_mtime, stat.st_size))
    return sorted(files)


async def check_temporary_files(
    store: BlobStore, staging_dir: Path, report: ScrubReport, grace: timedelta
) -> None:
    directories = temporary_directories(store, staging_dir)
    files = await anyio.to_thread.run_sync(_temporary_files, directories)
    older = cutoff(grace).timestamp()
    for path, mtime, size in files:
        if mtime >= older:
            report.recent_temporary += 1
            continue
        modified = datetime.fromtimestamp(mtime, UTC)
        detail = (
            f"a temporary file left by an interrupted write ({size} bytes, last modified "
            f"{modified:%Y-%m-%d %H:%M:%S} UTC)"
        )
        report.problems.append(
            Problem(ProblemKind.STALE_TEMPORARY, str(path), None, detail, repairable=True)
        )
