"""What a scrub found: the kinds of problem, the report and its counts, the exit status
(0, 1 or 2) and the words the report is shown in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

ProgressCallback = Callable[[str, int, int | None], None]
"""Called with a phase ("images", "blobs", "repairs"), how many are done and the total when
it is known (blobs are counted as they are listed)."""

CLEAN = "clean: the metadata and the bytes agree"


class ProblemKind(StrEnum):
    MISSING_ORIGINAL = "missing_original"
    ORIGINAL_MISMATCH = "original_mismatch"
    MISSING_REPLICA = "missing_replica"  # the replica has no copy of an original
    REPLICA_MISMATCH = "replica_mismatch"  # the replica's copy is not the original's bytes
    MISSING_VARIANT = "missing_variant"
    VARIANT_MISMATCH = "variant_mismatch"
    UNREADABLE = "unreadable"  # the store refused to read a blob a row refers to
    ORPHAN = "orphan"
    STALE_TEMPORARY = "stale_temporary"


REMOVABLE = (ProblemKind.ORPHAN, ProblemKind.STALE_TEMPORARY)
"""What the repair fixes by deleting it."""

COPIES = (
    ProblemKind.MISSING_ORIGINAL,
    ProblemKind.ORIGINAL_MISMATCH,
    ProblemKind.MISSING_REPLICA,
    ProblemKind.REPLICA_MISMATCH,
)
"""What the repair fixes, where it can, by copying an original from its other copy."""


@dataclass
class Problem:
    kind: ProblemKind
    key: str  # the blob's key; for a temporary file, its path
    image_id: str | None
    detail: str
    repairable: bool  # whether `scrub --repair` can fix it
    repaired: bool = False
    in_replica: bool = False  # an orphan found in the replica store, not the first one


@dataclass
class ScrubReport:
    repair: bool
    grace_seconds: float
    images_checked: int = 0
    blobs_checked: int = 0  # originals and variants compared with their rows
    bytes_hashed: int = 0
    archived_not_hashed: int = 0  # archived originals: existence and size checked only
    blobs_listed: int = 0
    recent_unreferenced: int = 0  # unreferenced blobs younger than the grace: left alone
    recent_temporary: int = 0  # temporary files younger than the grace: left alone
    problems: list[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing was wrong (a repaired problem was still wrong)."""
        return not self.problems

    @property
    def unresolved(self) -> list[Problem]:
        """What is still wrong and this run could not fix: all unrepairable problems, and
        with ``repair`` every problem the repair did not fix."""
        return [p for p in self.problems if not p.repaired and (self.repair or not p.repairable)]

    @property
    def exit_status(self) -> int:
        """0: nothing was wrong; 1: problems, all repaired (or repairable with --repair);
        2: something cannot be (or was not) repaired."""
        if self.clean:
            return 0
        return 2 if self.unresolved else 1

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(clean=self.clean, exit_status=self.exit_status)
        return data

    def drop(self, settled: list[Problem]) -> None:
        """Forget problems that turned out not to be problems after all."""
        gone = {id(p) for p in settled}
        self.problems = [p for p in self.problems if id(p) not in gone]

    # The words.

    def outcome(self, problem: Problem) -> str:
        if problem.repaired:
            return "repaired"
        if not problem.repairable:
            return "cannot be repaired"
        return "not repaired" if self.repair else "repairable"

    def counts_line(self) -> str:
        """What was looked at."""
        return (
            f"images checked: {self.images_checked}, blobs checked: {self.blobs_checked} "
            f"({self.bytes_hashed} bytes hashed; archived originals measured, not hashed: "
            f"{self.archived_not_hashed}), blobs listed: {self.blobs_listed}; younger than "
            f"the grace period and left alone: {self.recent_unreferenced} unreferenced blobs, "
            f"{self.recent_temporary} temporary files"
        )

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """One row per problem: kind, key, image, detail and outcome."""
        return [
            (p.kind.value, p.key, p.image_id or "", p.detail, self.outcome(p))
            for p in self.problems
        ]

    def totals_line(self) -> str:
        """How many problems, and what became of them."""
        repaired = sum(p.repaired for p in self.problems)
        repairable = any(p.repairable and not p.repaired for p in self.problems)
        return (
            f"problems found: {len(self.problems)}, repaired: {repaired}, "
            f"cannot be repaired: {len(self.unresolved)}"
            + ("" if self.repair or not repairable else " (--repair fixes the rest)")
        )
