"""Per-user storage quota: the bytes of a user's originals, the trash included (those bytes are
stored until the trash is purged), against ``SHUTTERBOX_USER_QUOTA_BYTES``.

The check runs before the bytes are stored. Two uploads racing each other can both pass it, so
the quota may be overshot by at most what is in flight at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass

from shutterbox.clock import utcnow
from shutterbox.domain.errors import QuotaExceeded
from shutterbox.domain.users import User
from shutterbox.services.context import Services


@dataclass(frozen=True)
class Usage:
    used_bytes: int
    quota_bytes: int | None  # None: no quota


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns


async def used_bytes(services: Services, user_id: int) -> int:
    """Bytes of the user's originals: live images and those in the trash."""
    async with services.metadata.quick_read() as tx:  # one row, kept as images come and go
        return await tx.images.original_bytes(user_id)


async def pending_bytes(services: Services, user_id: int) -> int:
    """Bytes announced by the user's direct uploads that are neither completed nor expired."""
    async with services.metadata.read() as tx:
        return await tx.uploads.pending_bytes(user_id, utcnow())


async def usage(services: Services, user: User) -> Usage:
    quota = services.settings.user_quota_bytes
    return Usage(await used_bytes(services, user.id), quota or None)


async def check(services: Services, user: User, incoming: int, *, pending: bool = False) -> None:
    """Refuse (413 ``quota_exceeded``) when ``incoming`` more bytes would take the user over
    the quota. ``pending``: also count the direct uploads still under way."""
    quota = services.settings.user_quota_bytes
    if not quota:
        return
    used = await used_bytes(services, user.id)
    if pending:
        used += await pending_bytes(services, user.id)
    if used + incoming > quota:
        raise QuotaExceeded(
            f"this upload ({_human(incoming)}) would go over your storage quota: used "
            f"{used} of {quota} bytes ({_human(used)} of {_human(quota)}); deleted images count "
            "until the trash is purged"
        )
