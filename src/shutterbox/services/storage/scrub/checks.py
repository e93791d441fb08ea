"""Rows against blobs: every image row's original (any status, trashed ones too: their bytes
are still kept) is there with the recorded size and SHA-256, and every variant row of a
``ready`` image likewise. Hashes are computed by streaming each blob. An original in an
archive storage class with no restored copy cannot be read: its existence and size are
checked only."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum

from shutterbox.clock import utcnow
from shutterbox.domain.images import Image, Status, Variant
from shutterbox.ports import BlobArchived, BlobStore
from shutterbox.ports.scrub import ImageBlobs, ScrubQueries
from shutterbox.services.storage.blob_hashes import blob_sha256
from shutterbox.services.storage.scrub.report import (
    Problem,
    ProblemKind,
    ProgressCallback,
    ScrubReport,
)

PAGE_SIZE = 500  # image rows read at once, and listed keys resolved against the rows at once
BLOB_CONCURRENCY = 8  # blobs checked at the same time


class State(Enum):
    OK = "ok"
    ARCHIVED = "archived"  # exists with the right size; not readable now, so not hashed
    MISSING = "missing"
    WRONG_SIZE = "wrong size"
    WRONG_HASH = "wrong hash"
    UNREADABLE = "unreadable"


@dataclass
class BlobCheck:
    state: State
    hashed: int = 0
    found_size: int | None = None
    error: str = ""


@dataclass
class ImageCheck:
    problems: list[Problem]
    blobs: int
    hashed: int
    archived: int
    remake: bool  # some variant problem can be fixed by making the variants again


async def check_images(
    rows: ScrubQueries,
    store: BlobStore,
    report: ScrubReport,
    limit: asyncio.Semaphore,
    notify: ProgressCallback,
    replica: BlobStore | None = None,
) -> list[str]:
    """Page through every image row by id; returns the images whose variants can be remade.
    With a ``replica``, each original's copy there is checked too."""
    total = await rows.count_images()
    notify("images", 0, total)
    to_remake: list[str] = []
    after = ""
    while True:
        page = await rows.images_after(after, PAGE_SIZE)
        if not page:
            return to_remake
        after = page[-1].image.id

        async def one(record: ImageBlobs) -> ImageCheck:
            check = await check_image(store, record, limit, replica)
            if check.problems:  # read the row again: it may have changed while we looked
                check = await _confirm(rows, store, record, check, limit, replica)
            report.images_checked += 1
            notify("images", report.images_checked, total)
            return check

        for record, check in zip(page, await asyncio.gather(*(one(r) for r in page)), strict=True):
            report.blobs_checked += check.blobs
            report.bytes_hashed += check.hashed
            report.archived_not_hashed += check.archived
            report.problems.extend(check.problems)
            if check.remake:
                to_remake.append(record.image.id)


async def _confirm(
    rows: ScrubQueries,
    store: BlobStore,
    first: ImageBlobs,
    check: ImageCheck,
    limit: asyncio.Semaphore,
    replica: BlobStore | None,
) -> ImageCheck:
    """A reprocessing or a reclaim may have run between reading the row and reading the
    blobs: check once more against a fresh read of the row before reporting anything. The
    counts stay those of the first check."""
    fresh = await rows.image(first.image.id)
    if fresh is None:  # reclaimed meanwhile: nothing to report
        return ImageCheck([], check.blobs, check.hashed, check.archived, remake=False)
    again = await check_image(store, fresh, limit, replica)
    return ImageCheck(again.problems, check.blobs, check.hashed, check.archived, again.remake)


async def check_image(
    store: BlobStore,
    record: ImageBlobs,
    limit: asyncio.Semaphore,
    replica: BlobStore | None = None,
) -> ImageCheck:
    image = record.image
    archived = not image.original_readable(utcnow())
    original = await _check_blob(
        store, image.original_key, image.original_bytes, image.original_sha256, archived, limit
    )
    second = None
    if replica is not None:  # the replica keeps its copies readable, whatever the class
        second = await _check_blob(
            replica, image.original_key, image.original_bytes, image.original_sha256, False, limit
        )
    problems = _original_problems(image, original, second)
    checks: list[BlobCheck] = []
    remake = False
    if image.status == Status.READY:
        checks = list(
            await asyncio.gather(
                *(
                    _check_blob(store, v.key, v.bytes, v.sha256, False, limit)
                    for v in record.variants
                )
            )
        )
        # A damaged first copy with a good replica: the variants are made from the replica's.
        usable = second if second is not None and second.state == State.OK else original
        why_not = _cannot_remake(image, usable if original.state in _BAD else original)
        for variant, check in zip(record.variants, checks, strict=True):
            problem = _variant_problem(image, variant, check, why_not)
            if problem is not None:
                problems.append(problem)
                remake = remake or problem.repairable
    everything = [original, *([second] if second else []), *checks]
    return ImageCheck(
        problems,
        blobs=len(everything),
        hashed=sum(c.hashed for c in everything),
        archived=int(original.state == State.ARCHIVED),
        remake=remake,
    )


_BAD = (State.MISSING, State.WRONG_SIZE, State.WRONG_HASH, State.UNREADABLE)


def _original_problems(image: Image, check: BlobCheck, replica: BlobCheck | None) -> list[Problem]:
    """The first copy's problem (repairable from a good replica copy), then the replica's."""
    problems = []
    first = _copy_problem(image, check, ProblemKind.MISSING_ORIGINAL, ProblemKind.ORIGINAL_MISMATCH)
    if first is not None:
        if replica is None:
            first.detail += "; restore it from a backup"
        elif replica.state == State.OK:
            first.detail += "; the replica holds a good copy: --repair restores it from there"
            first.repairable = first.kind != ProblemKind.UNREADABLE
        else:
            first.detail += f"; the replica's copy is {replica.state.value} too"
        problems.append(first)
    if replica is not None:
        second = _copy_problem(
            image, replica, ProblemKind.MISSING_REPLICA, ProblemKind.REPLICA_MISMATCH, "replica"
        )
        if second is not None:
            if check.state == State.OK:
                second.detail += "; --repair copies the original there again"
                second.repairable = second.kind != ProblemKind.UNREADABLE
            elif check.state == State.ARCHIVED:
                second.detail += "; restore the archived original, then run the repair again"
            problems.append(second)
    return problems


def _copy_problem(
    image: Image,
    check: BlobCheck,
    missing: ProblemKind,
    mismatch: ProblemKind,
    where: str = "original",
) -> Problem | None:
    key, size = image.original_key, image.original_bytes
    name = "the original" if where == "original" else "the replica's copy of the original"
    if check.state == State.MISSING:
        detail = f"{name} is missing"
        return Problem(missing, key, image.id, detail, repairable=False)
    if check.state in (State.WRONG_SIZE, State.WRONG_HASH):
        what = (
            f"has {check.found_size} bytes, the row records {size}"
            if check.state == State.WRONG_SIZE
            else "has the recorded size but not the recorded SHA-256"
        )
        detail = f"{name} {what}: it is damaged"
        return Problem(mismatch, key, image.id, detail, repairable=False)
    if check.state == State.UNREADABLE:
        detail = f"{name} could not be read: {check.error}"
        return Problem(ProblemKind.UNREADABLE, key, image.id, detail, repairable=False)
    return None


def _cannot_remake(image: Image, original: BlobCheck) -> str | None:
    """Why the variants cannot be made again now, or None if they can."""
    if original.state == State.MISSING:
        return "its original is missing"
    if original.state in (State.WRONG_SIZE, State.WRONG_HASH):
        return "its original is damaged"
    if original.state == State.UNREADABLE:
        return "its original cannot be read"
    if original.state == State.ARCHIVED:
        return "its original is archived: restore it, then run the repair again"
    if image.deleted_at is not None:
        return "the image is in the trash: restore it, then run the repair again"
    return None


def _variant_problem(
    image: Image, variant: Variant, check: BlobCheck, why_not: str | None
) -> Problem | None:
    name = f"{variant.name} ({variant.format})"
    if check.state == State.MISSING:
        kind, detail = ProblemKind.MISSING_VARIANT, f"variant {name} is missing"
    elif check.state == State.WRONG_SIZE:
        kind = ProblemKind.VARIANT_MISMATCH
        detail = f"variant {name} has {check.found_size} bytes, the row records {variant.bytes}"
    elif check.state == State.WRONG_HASH:
        kind = ProblemKind.VARIANT_MISMATCH
        detail = f"variant {name} has the recorded size but not the recorded SHA-256"
    elif check.state == State.UNREADABLE:
        detail = f"variant {name} could not be read: {check.error}"
        return Problem(ProblemKind.UNREADABLE, variant.key, image.id, detail, repairable=False)
    else:
        return None
    if why_not is not None:
        detail += f"; it cannot be remade now: {why_not}"
    return Problem(kind, variant.key, image.id, detail, repairable=why_not is None)


async def _check_blob(
    store: BlobStore,
    key: str,
    size: int,
    sha256: str,
    archived: bool,
    limit: asyncio.Semaphore,
) -> BlobCheck:
    async with limit:
        try:
            if not archived:
                try:
                    digest, length = await blob_sha256(store, key)
                except KeyError:
                    return BlobCheck(State.MISSING)
                except BlobArchived:
                    pass  # the store holds it archived after all: check what can be checked
                else:
                    if length != size:
                        return BlobCheck(State.WRONG_SIZE, hashed=length, found_size=length)
                    state = State.OK if digest == sha256 else State.WRONG_HASH
                    return BlobCheck(state, hashed=length, found_size=length)
            info = await store.info(key)
        except Exception as error:  # reported, and the scrub goes on
            return BlobCheck(State.UNREADABLE, error=f"{type(error).__name__}: {error}")
    if info is None:
        return BlobCheck(State.MISSING)
    if info.size != size:
        return BlobCheck(State.WRONG_SIZE, found_size=info.size)
    return BlobCheck(State.ARCHIVED, found_size=info.size)
