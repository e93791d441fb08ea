"""Following people: who follows whom, and a person's profile with its counts. The home feed
of the people one follows is in ``feed``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db import repository
from shutterbox.adapters.db.tables import follows, images, users
from shutterbox.clock import utcnow
from shutterbox.domain.errors import InvalidInput, NotFound
from shutterbox.domain.images import Status, Visibility
from shutterbox.domain.users import User
from shutterbox.services.context import Services


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


async def _user_called(conn: AsyncConnection, username: str) -> User:
    user = await repository.get_user_by_name(conn, username.strip().lower())
    if user is None:
        raise NotFound(f"no user called {username!r}")
    return user


def _insert_ignoring_duplicates(conn: AsyncConnection, values: dict[str, Any]) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(follows).values(values).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(follows).values(values).on_conflict_do_nothing()


async def follow(services: Services, follower: User, username: str) -> None:
    """Follow someone; following them again changes nothing."""
    async with services.db.writer.begin() as conn:
        followee = await _user_called(conn, username)
        if followee.id == follower.id:
            raise InvalidInput("you cannot follow yourself")
        values = {"follower_id": follower.id, "followee_id": followee.id, "created_at": utcnow()}
        await conn.execute(_insert_ignoring_duplicates(conn, values))


async def unfollow(services: Services, follower: User, username: str) -> None:
    """Stop following someone; nothing to do if one did not follow them."""
    async with services.db.writer.begin() as conn:
        followee = await _user_called(conn, username)
        await conn.execute(
            delete(follows).where(
                follows.c.follower_id == follower.id, follows.c.followee_id == followee.id
            )
        )


async def profile(services: Services, viewer: User | None, username: str) -> Profile:
    async with services.db.reader.connect() as conn:
        user = await _user_called(conn, username)
        own = viewer is not None and viewer.id == user.id
        shown = [
            images.c.owner_id == user.id,
            images.c.status == Status.READY.value,
            images.c.deleted_at.is_(None),
        ]
        if not own:
            shown.append(images.c.visibility == Visibility.PUBLIC.value)
        image_count = await conn.scalar(select(func.count()).select_from(images).where(*shown))
        followers = await conn.scalar(
            select(func.count()).select_from(follows).where(follows.c.followee_id == user.id)
        )
        following = await conn.scalar(
            select(func.count()).select_from(follows).where(follows.c.follower_id == user.id)
        )
        followed_by_you: bool | None = None
        if viewer is not None and not own:
            link = await conn.scalar(
                select(follows.c.follower_id).where(
                    follows.c.follower_id == viewer.id, follows.c.followee_id == user.id
                )
            )
            followed_by_you = link is not None
    return Profile(
        username=user.username,
        created_at=user.created_at,
        images=int(image_count or 0),
        followers=int(followers or 0),
        following=int(following or 0),
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
    async with services.db.reader.connect() as conn:
        user = await _user_called(conn, username)
        if of_followers:
            this_side, other_side = follows.c.followee_id, follows.c.follower_id
        else:
            this_side, other_side = follows.c.follower_id, follows.c.followee_id
        query = (
            select(users.c.username)
            .join(follows, other_side == users.c.id)
            .where(this_side == user.id)
        )
        if after:
            query = query.where(users.c.username > after)
        query = query.order_by(users.c.username).limit(limit + 1)
        names = list((await conn.scalars(query)).all())
    more = len(names) > limit
    names = names[:limit]
    return PeoplePage(names, names[-1] if more and names else None)
