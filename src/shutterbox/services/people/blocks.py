"""Blocking someone: it hides both ways. Neither sees the other's images in any feed, profile,
tag page, search or image page, neither can follow the other (the follows between them end
when the block starts), and neither may interact with the other's images (``may_interact``,
the one check comments and likes are to call). Profiles themselves stay reachable, so that
a block can be undone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from shutterbox.clock import utcnow
from shutterbox.domain.errors import InvalidInput, NotFound
from shutterbox.domain.images import Image
from shutterbox.domain.users import User
from shutterbox.ports.metadata import Transaction
from shutterbox.services.context import Services
from shutterbox.services.people.follows import PeoplePage

T = TypeVar("T")


async def _user_called(tx: Transaction, username: str) -> User:
    user = await tx.users.by_name(username.strip().lower())
    if user is None:
        raise NotFound(f"no user called {username!r}")
    return user


async def block(services: Services, blocker: User, username: str) -> None:
    """Block someone (again: no change); the follows between the two of you end."""
    async with services.metadata.write() as tx:
        blocked = await _user_called(tx, username)
        if blocked.id == blocker.id:
            raise InvalidInput("you cannot block yourself")
        await tx.blocks.add(blocker.id, blocked.id, utcnow())
        await tx.follows.remove(blocker.id, blocked.id)
        await tx.follows.remove(blocked.id, blocker.id)


async def unblock(services: Services, blocker: User, username: str) -> None:
    """Stop blocking someone (not blocking them: no change). Follows do not come back."""
    async with services.metadata.write() as tx:
        blocked = await _user_called(tx, username)
        await tx.blocks.remove(blocker.id, blocked.id)


async def blocked_by(services: Services, user: User, limit: int, after: str | None) -> PeoplePage:
    """Whom the user blocked, by username, after the ``after`` username."""
    async with services.metadata.read() as tx:
        names = await tx.blocks.blocked_names(user.id, after=after, limit=limit + 1)
    more = len(names) > limit
    names = names[:limit]
    return PeoplePage(names, names[-1] if more and names else None)


async def has_blocked(services: Services, user: User, username: str) -> bool:
    """Whether ``user`` blocked ``username`` (for the profile's block/unblock button)."""
    async with services.metadata.read() as tx:
        other = await tx.users.by_name(username.strip().lower())
        return other is not None and await tx.blocks.has_blocked(user.id, other.id)


async def may_interact(services: Services, viewer: User, owner_id: int) -> bool:
    """Whether ``viewer`` may comment on, like or follow what ``owner_id`` owns: not when
    either has blocked the other."""
    if viewer.id == owner_id:
        return True
    async with services.metadata.quick_read() as tx:
        return not await tx.blocks.between(viewer.id, owner_id)


async def hides_image(services: Services, viewer: User | None, image: Image) -> bool:
    """Whether a block between the viewer and the image's owner hides it from the viewer."""
    if viewer is None or viewer.id == image.owner_id:
        return False
    return not await may_interact(services, viewer, image.owner_id)


async def hidden_owners(tx: Transaction, viewer: User | None) -> set[int]:
    """Whose images the viewer's lists leave out: everyone a block stands between."""
    if viewer is None:
        return set()
    return await tx.blocks.hidden_from(viewer.id)


def without_owners(items: Sequence[T], hidden: set[int], owner_of: Callable[[T], int]) -> list[T]:
    """``items`` but those owned by someone in ``hidden``."""
    if not hidden:
        return list(items)
    return [item for item in items if owner_of(item) not in hidden]
