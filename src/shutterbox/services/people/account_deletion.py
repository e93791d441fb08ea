"""Deleting an account: at once, nobody can log in as it (every token and session is gone,
no password matches), its images are gone from every read and page, and the follows from and
to it, its albums and share links, its likes, comments and notifications are removed; then,
in the background, each image goes through the same removal as an emptied trash (the edges
purged, every blob deleted, then the row), and the account's row goes with the last of them.
Its username is free again from then on."""

from __future__ import annotations

from shutterbox.clock import utcnow
from shutterbox.domain.errors import Forbidden, NotFound
from shutterbox.domain.jobs import JobKind, Lane
from shutterbox.domain.users import User
from shutterbox.services.context import Services
from shutterbox.services.people import accounts

# The payload of the reclaim jobs of a closed account's images: removed now, past any trash.
WITH_ACCOUNT = {"with_account": True}


async def delete_own_account(services: Services, user: User, password: str) -> None:
    """The user's own account, once they have given their password again."""
    await accounts.verified_user_id(services.metadata, user.username, password)
    await close_account(services, user.id)


async def delete_account_of(services: Services, admin: User, username: str) -> None:
    """Any account, by an admin."""
    if not admin.is_admin:
        raise Forbidden("only an admin may delete another account")
    async with services.metadata.read() as tx:
        user = await tx.users.by_name(username.strip().lower())
    if user is None:
        raise NotFound(f"no user called {username!r}")
    await close_account(services, user.id)


async def close_account(services: Services, user_id: int) -> None:
    now = utcnow()
    async with services.metadata.write() as tx:
        image_ids = await tx.images.ids_of_owner(user_id)
        await tx.images.mark_deleted_of_owner(user_id, now)  # one statement, however many
        await tx.users.close(user_id)
        await tx.follows.forget(user_id)
        await tx.shares.forget_owner(user_id)
        await tx.albums.forget_owner(user_id)
        await tx.likes.forget_user(user_id)  # the counts of others' images go down with them
        await tx.comments.forget_user(user_id)
        await tx.notifications.forget_user(user_id)
        jobs = await services.queue.enqueue_many(
            tx, JobKind.RECLAIM_IMAGE, image_ids, WITH_ACCOUNT, Lane.BULK
        )
        if not image_ids:
            await tx.users.remove_closed(user_id)
    await services.queue.dispatch(jobs, Lane.BULK)
