"""The home timeline, kept by fan-out on write.

A home shows the user's own ready images and the public ready images of the people they
follow. Reading that by fan-out (``owner_id IN (everyone followed)``, merged by time) costs
in proportion to how many people one follows and how much they posted; the home page must
not. So each home is materialised: ``home_timeline`` holds a row per (home, image), written
in the same transaction as the change that makes an image appear or disappear:

- an image turns ready, is edited (visibility), deleted or restored: ``refresh_image``
  replaces its rows (its owner's, and every follower's while it is public and live);
- a follow back-fills the followee's public images, an unfollow removes them;
- a purged image or user goes with its rows (``ON DELETE CASCADE``).

The page is then one seek of the primary key, ``(user_id, created_at, image_id)``; the
cost of a write is one row per follower. The reading query still checks each image's
current state, so a row that outlived its image can hide nothing and show nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, delete, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.dialect import insert_for
from shutterbox.adapters.db.tables import follows, home_timeline, images
from shutterbox.domain.images import Status, Visibility

_COLUMNS = ["user_id", "created_at", "image_id", "owner_id"]
_SHOWN = and_(images.c.status == Status.READY.value, images.c.deleted_at.is_(None))
_PUBLIC = images.c.visibility == Visibility.PUBLIC.value


def _own_rows() -> Select[Any]:
    return select(images.c.owner_id, images.c.created_at, images.c.id, images.c.owner_id).where(
        _SHOWN
    )


def _followers_rows() -> Select[Any]:
    return (
        select(follows.c.follower_id, images.c.created_at, images.c.id, images.c.owner_id)
        .join(images, images.c.owner_id == follows.c.followee_id)
        .where(_SHOWN, _PUBLIC, follows.c.follower_id != follows.c.followee_id)
    )


async def refresh_image(conn: AsyncConnection, image_id: str) -> None:
    """Make the image's rows match its current status, visibility and followers."""
    await refresh_images(conn, [image_id])


async def refresh_images(conn: AsyncConnection, image_ids: Sequence[str]) -> None:
    """``refresh_image`` for many images at once (a few statements, not a few per image)."""
    if not image_ids:
        return
    ids = list(image_ids)
    await conn.execute(delete(home_timeline).where(home_timeline.c.image_id.in_(ids)))
    for rows in (_own_rows(), _followers_rows()):
        query = rows.where(images.c.id.in_(ids))
        await conn.execute(home_timeline.insert().from_select(_COLUMNS, query))


async def forget_owner(conn: AsyncConnection, owner_id: int) -> None:
    """Every home's rows of the owner's images (all of them deleted: a closed account)."""
    await conn.execute(delete(home_timeline).where(home_timeline.c.owner_id == owner_id))


async def add_followee(conn: AsyncConnection, follower_id: int, followee_id: int) -> None:
    """Back-fill a new follow: the followee's public ready images, into the follower's home."""
    query = select(literal(follower_id), images.c.created_at, images.c.id, images.c.owner_id).where(
        images.c.owner_id == followee_id, _SHOWN, _PUBLIC
    )
    backfill = insert_for(conn, home_timeline).from_select(_COLUMNS, query)
    await conn.execute(backfill.on_conflict_do_nothing())


async def remove_followee(conn: AsyncConnection, follower_id: int, followee_id: int) -> None:
    """An unfollow: the followee's images leave the follower's home (never their own)."""
    if follower_id == followee_id:
        return
    await conn.execute(
        delete(home_timeline).where(
            home_timeline.c.user_id == follower_id, home_timeline.c.owner_id == followee_id
        )
    )


async def rebuild_home_timelines(conn: AsyncConnection) -> None:
    """Every home from scratch (after a bulk load that bypassed the repositories)."""
    await conn.execute(delete(home_timeline))
    for rows in (_own_rows(), _followers_rows()):
        await conn.execute(home_timeline.insert().from_select(_COLUMNS, rows))
