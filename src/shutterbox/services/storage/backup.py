"""Backup and restore of a whole installation, while it keeps serving.

A backup directory holds ``shutterbox.db`` (SQLite's online backup: one consistent snapshot,
taken while writers go on), ``secret.key`` (the key signed URLs were made with, unless it is
set in the environment), ``blobs/`` (every blob of the store, under its key) and
``manifest.json`` (every blob's size, last change and SHA-256). The database is copied
first, then the blobs: every image the snapshot holds had its original stored before its row
was written, so its bytes are there. Blobs are incremental: one whose size and last change
match the manifest of the previous backup is not copied again. On PostgreSQL the database
is backed up with ``pg_dump`` (docs/reliability.md); the blobs still are, here.

Restoring copies all of it into an empty data directory, every blob checked against the
manifest's SHA-256 on the way.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from shutterbox.clock import utcnow
from shutterbox.config import Settings
from shutterbox.domain.errors import Conflict, InvalidInput
from shutterbox.services.context import Services
from shutterbox.services.images.staging import file_sha256
from shutterbox.services.storage.blob_hashes import download_with_sha256

MANIFEST = "manifest.json"
DATABASE = "shutterbox.db"
SECRET_KEY = "secret.key"


@dataclass(frozen=True)
class BackupReport:
    database: str  # "sqlite", or "postgresql" (not in the backup: pg_dump it)
    copied: int
    kept: int
    copied_bytes: int


async def backup(services: Services, destination: Path) -> BackupReport:
    settings = services.settings
    destination.mkdir(parents=True, exist_ok=True)
    database = settings.sqlite_file()
    if database is not None:
        await anyio.to_thread.run_sync(_sqlite_snapshot, database, destination / DATABASE)
    key_file = settings.data_dir / SECRET_KEY
    if not settings.secret_key and key_file.exists():
        shutil.copy2(key_file, destination / SECRET_KEY)
    previous = _read_manifest(destination).get("blobs", {})
    entries: dict[str, dict[str, Any]] = {}
    copied = kept = copied_bytes = 0
    async for info in services.store.list(""):
        target = destination / "blobs" / info.key
        modified = info.last_modified.isoformat()
        known = previous.get(info.key)
        if (
            known
            and known["size"] == info.size
            and known["modified"] == modified
            and target.exists()
        ):
            entries[info.key] = known
            kept += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        sha256, _ = await download_with_sha256(services.store, info.key, partial)
        partial.replace(target)
        entries[info.key] = {"size": info.size, "modified": modified, "sha256": sha256}
        copied += 1
        copied_bytes += info.size
    manifest = {
        "created_at": utcnow().isoformat(),
        "database": "sqlite" if database is not None else "postgresql",
        "blobs": entries,
    }
    _write_manifest(destination, manifest)
    return BackupReport(str(manifest["database"]), copied, kept, copied_bytes)


def _sqlite_snapshot(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections write."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(partial)) as copy:
        live.backup(copy)
    partial.replace(target)


def check_restorable(settings: Settings, source: Path) -> dict[str, Any]:
    """The backup's manifest, once ``settings`` point at an empty place to restore into."""
    manifest = _read_manifest(source)
    if not manifest:
        raise InvalidInput(f"{source} holds no backup ({MANIFEST} is missing)")
    database = settings.sqlite_file()
    if manifest["database"] == "sqlite" and database is None:
        raise InvalidInput("this backup holds a SQLite database: restore it on SQLite")
    if database is not None and database.exists():
        raise Conflict(f"{database} exists: restore into an empty data directory")
    return manifest


def restore_database(settings: Settings, source: Path) -> None:
    """Copy the database and the key into place (before the services open them)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = settings.sqlite_file()
    if database is not None and (source / DATABASE).exists():
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / DATABASE, database)
    if (source / SECRET_KEY).exists() and not settings.secret_key:
        shutil.copy2(source / SECRET_KEY, settings.data_dir / SECRET_KEY)


async def restore_blobs(services: Services, source: Path, manifest: dict[str, Any]) -> int:
    """Every blob of the manifest into the store, its SHA-256 checked first; how many."""
    staging = services.staging_dir
    for key, entry in manifest["blobs"].items():
        copy = staging / f"restore-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
        await anyio.to_thread.run_sync(shutil.copyfile, source / "blobs" / key, copy)
        if await anyio.to_thread.run_sync(file_sha256, copy) != entry["sha256"]:
            copy.unlink(missing_ok=True)
            raise InvalidInput(f"{key} in the backup does not match its SHA-256: not restored")
        await services.store.put_file(key, copy)
    return len(manifest["blobs"])


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.exists():
        return {}
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    partial = directory / (MANIFEST + ".partial")
    partial.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    partial.replace(directory / MANIFEST)
