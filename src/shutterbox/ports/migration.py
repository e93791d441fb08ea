"""The storage migration's record port: what has been copied and verified in a target, and
the listings of one run, read back in pages (never whole in memory)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from shutterbox.ports.blobs import BlobInfo


@dataclass(frozen=True)
class CopiedBlob:
    """A blob verified in the target: its size, SHA-256 and the source's last change then."""

    size: int
    sha256: str
    modified: str


@dataclass(frozen=True)
class Original:
    """What an image's row says of its original: the truth a source copy is checked against."""

    image_id: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Unverified:
    """A blob of the source listing the target does not hold verified, and, for an original,
    what its row says of it."""

    info: BlobInfo
    original: Original | None


class MigrationRecord(Protocol):
    """One target's record. ``path`` names it (scratch files of the migration are named
    after it)."""

    path: Path

    def add(self, key: str, blob: CopiedBlob) -> None:
        """``key`` was copied and read back as ``blob``: kept before this returns."""

    def forget(self, key: str) -> None:
        """``key`` was removed from the target."""

    def start_listing(self) -> None:
        """Forget the listings of an earlier run."""

    def list_source(self, blobs: Iterable[BlobInfo]) -> None: ...

    def list_target(self, blobs: Iterable[BlobInfo]) -> None: ...

    def name_originals(self, originals: Iterable[tuple[str, Original]]) -> None:
        """The originals the image rows name, by key."""

    def unlisted(self, keys: Sequence[str]) -> list[str]:
        """Those of ``keys`` the source listing lacks."""

    def source_count(self) -> int: ...

    def unverified_totals(self) -> tuple[int, int]:
        """How many blobs of the source the target does not hold verified, and their bytes."""

    def unverified(self, after: str, limit: int) -> list[Unverified]:
        """Those blobs in key order, from the first key after ``after``."""

    def only_in_target(self, after: str, limit: int) -> list[str]:
        """Keys the target listing has and the source listing has not, in order."""
