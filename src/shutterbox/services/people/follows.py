"""Following people: who follows whom, and a person's profile with its counts. The home feed
of the people one follows is in ``feed``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shutterbox.clock import utcnow
from shutterbox.domain.errors import Forbidden, InvalidInput, NotFound
from shutterbox.domain.social import NotificationKind
from shutterbox.domain.users import User
from shutterbox.ports.metadata import Transaction
from shutterbox.services.context import Services
from shutterbox.services.social.notifications import notify


@dataclass(frozen=True)
class Profile:
    username: str
    created_at: datetime
    images: int  # ready and undeleted, that the viewer can see
    followers: int
    following: int
    followed_by_you: bool | None  # None for an anonymous viewer, or on one's own profile


@dataclass(frozen=True)
class PeoplePage:
    usernames: list[str]
    next_cursor: str | None  # the last username of this page


async def _user_called(tx: Transaction, username: str) -> User:
    user = await tx.users.by_name(username.strip().lower())
    if user is None:
        raise NotFound(f"no user called {username!r}")
    return user


async def follow(services: Services, follower: User, username: str) -> None:
    """Follow someone; following them again changes nothing."""
    async with services.metadata.write() as tx:
        followee = await _user_called(tx, username)
        if followee.id == follower.id:
            raise InvalidInput("you cannot follow yourself")
        if await tx.blocks.between(follower.id, followee.id):
            raise Forbidden(f"you cannot follow {followee.username}: one of you blocked the other")
        if not await tx.follows.exists(follower.id, followee.id):
            await notify(tx, followee.id, NotificationKind.FOLLOW, actor=follower)
        await tx.follows.add(follower.id, followee.id, utcnow())


async def unfollow(services: Services, follower: User, username: str) -> None:
    """Stop following someone; nothing to do if one did not follow them."""
    async with services.metadata.write() as tx:
        followee = await _user_called(tx, username)
        await tx.follows.remove(follower.id, followee.id)
        await tx.notifications.withdraw(
            NotificationKind.FOLLOW, follower.id, recipient_id=followee.id
        )


async def profile(services: Services, viewer: User | None, username: str) -> Profile:
    async with services.metadata.read() as tx:
        user = await _user_called(tx, username)
        own = viewer is not None and viewer.id == user.id
        image_count = await tx.images.count_ready(user.id, include_private=own)
        if viewer is not None and not own and await tx.blocks.between(viewer.id, user.id):
            image_count = 0  # a block hides each one's images from the other
        followers = await tx.follows.count_followers(user.id)
        following = await tx.follows.count_following(user.id)
        followed_by_you: bool | None = None
        if viewer is not None and not own:
            followed_by_you = await tx.follows.exists(viewer.id, user.id)
    return Profile(
        username=user.username,
        created_at=user.created_at,
        images=image_count,
        followers=followers,
        following=following,
        followed_by_you=followed_by_you,
    )


async def followers(services: Services, username: str, limit: int, after: str | None) -> PeoplePage:
    """Who follows ``username``, by username, after the ``after`` username."""
    return await _people(services, username, limit, after, of_followers=True)


async def following(services: Services, username: str, limit: int, after: str | None) -> PeoplePage:
    """Whom ``username`` follows, by username, after the ``after`` username."""
    return await _people(services, username, limit, after, of_followers=False)


async def _people(
    services: Services, username: str, limit: int, after: str | None, *, of_followers: bool
) -> PeoplePage:
    async with services.metadata.read() as tx:
        user = await _user_called(tx, username)
        names = await tx.follows.people(
            user.id, of_followers=of_followers, after=after, limit=limit + 1
        )
    more = len(names) > limit
    names = names[:limit]
    return PeoplePage(names, names[-1] if more and names else None)
