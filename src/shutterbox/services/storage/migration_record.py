"""What a storage migration has copied and verified so far, kept in the data directory.

One file per target: a JSON line per blob written as soon as its copy in the target was read
back and matched (a line per blob removed from the target too), so a migration killed at any
point knows, when run again, what it need not copy again. A line is written with one
``write`` on a file opened for appending: a kill leaves whole lines, at most a last one
cut short, which is ignored. Closing rewrites the file with one line per key. A lock on a
file beside it keeps a second migration to the same target from running at the same time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from shutterbox.domain.errors import Conflict


@dataclass(frozen=True)
class CopiedBlob:
    """A blob verified in the target: its size, SHA-256 and the source's last change then."""

    size: int
    sha256: str
    modified: str


def record_path(directory: Path, target_url: str) -> Path:
    """The record of migrations to ``target_url``, in ``directory``."""
    name = hashlib.sha256(target_url.encode()).hexdigest()[:16]
    return directory / f"{name}.jsonl"


class MigrationRecord:
    """The verified blobs of one target; use it as a context manager (it holds the lock)."""

    def __init__(self, path: Path, target_url: str) -> None:
        self.path = path
        self.target_url = target_url
        self.copied: dict[str, CopiedBlob] = {}
        self._fd: int | None = None  # the record, open for appending
        self._lock: int | None = None

    def __enter__(self) -> MigrationRecord:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock)
            raise Conflict(f"another migration to {self.target_url} is running") from None
        self._lock = lock
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if self._load():
            os.write(self._fd, b"\n")  # after a line cut short by a kill, a new one
        if os.fstat(self._fd).st_size == 0:
            self._append({"target": self.target_url})
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        with contextlib.suppress(OSError):
            self._compact()
        if self._lock is not None:
            os.close(self._lock)  # the lock goes with it
            self._lock = None

    def is_verified(
        self, key: str, size: int, target_size: int | None, *, modified: str, sha256: str = ""
    ) -> bool:
        """Whether the target holds ``key`` as verified from a source copy of this size and
        last change (or, given the ``sha256`` it must have, of this content: an original,
        whose last change moves with its storage class), and still has a blob of that size."""
        known = self.copied.get(key)
        if known is None or not known.size == size == target_size:
            return False
        return known.sha256 == sha256 if sha256 else known.modified == modified

    def add(self, key: str, blob: CopiedBlob) -> None:
        self.copied[key] = blob
        self._append(_entry(key, blob))

    def forget(self, key: str) -> None:
        if self.copied.pop(key, None) is not None:
            self._append({"key": key, "removed": True})

    def _append(self, entry: dict[str, object]) -> None:
        assert self._fd is not None, "the record is not open"
        os.write(self._fd, _line(entry).encode())

    def _load(self) -> bool:
        """Read the record; whether its last line was cut short."""
        line = ""
        with open(self.path, encoding="utf-8") as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the last line of a run that was killed while writing it
                key = entry.get("key")
                if key is None:
                    continue
                if entry.get("removed"):
                    self.copied.pop(key, None)
                else:
                    self.copied[key] = CopiedBlob(entry["size"], entry["sha256"], entry["modified"])
        return bool(line) and not line.endswith("\n")

    def _compact(self) -> None:
        """One line per key still verified: written beside, then renamed over the record."""
        partial = self.path.with_name(self.path.name + ".partial")
        with open(partial, "w", encoding="utf-8") as out:
            out.write(_line({"target": self.target_url}))
            out.writelines(_line(_entry(key, blob)) for key, blob in sorted(self.copied.items()))
            out.flush()
            os.fsync(out.fileno())
        partial.replace(self.path)


def _entry(key: str, blob: CopiedBlob) -> dict[str, object]:
    return {"key": key, "size": blob.size, "sha256": blob.sha256, "modified": blob.modified}


def _line(entry: dict[str, object]) -> str:
    return json.dumps(entry, sort_keys=True) + "\n"
