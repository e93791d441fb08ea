"""What admins do to images and accounts: hide an image from everyone but its owner (and
unhide it), remove it past the trash, suspend an account (and unsuspend it). Every action is
written to the audit log in the same transaction.

A hidden image is made private while a hold on it lasts (``image_holds``): every list, the
search rows (kept by triggers on the visibility), the home timelines and the media URLs
already follow that rule, and its public URLs are purged from the edges at once. The hold
keeps the visibility to give back. A suspension holds every public image of the account the
same way, removes its tokens (sessions too) and refuses its logins until it ends; its
images are held (and given back) a step of ``IMAGES_PER_STEP`` at a time, each step a few
set-based statements."""

from __future__ import annotations

from dataclasses import replace

from shutterbox.clock import utcnow
from shutterbox.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from shutterbox.domain.images import Image, Visibility
from shutterbox.domain.moderation import (
    AuditAction,
    ImageHold,
    SubjectKind,
    Suspension,
    check_reason,
)
from shutterbox.domain.users import User
from shutterbox.ports.metadata import WriteTransaction
from shutterbox.services.context import Services
from shutterbox.services.delivery import purge
from shutterbox.services.delivery.media_urls import image_media_paths
from shutterbox.services.images import deletion


def check_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("only an admin may moderate")


def _reason(reason: str | None) -> str:
    try:
        return check_reason(reason)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


async def _image(tx: WriteTransaction, image_id: str) -> Image:
    image = await tx.images.get(image_id)
    if image is None or image.deleted_at is not None:
        raise NotFound("no such image")
    return image


async def _set_visibility(tx: WriteTransaction, image: Image, visibility: str) -> bool:
    if image.visibility.value == visibility:
        return False
    await tx.images.update_details(image, {"visibility": visibility})
    return True


async def _purge(services: Services, images: list[Image]) -> None:
    for image in images:
        await purge.purge_or_retry_later(services, image.id, image_media_paths(image))


async def hide_image(services: Services, admin: User, image_id: str, reason: str | None) -> None:
    """Hide the image from everyone but its owner (hiding it again changes the reason)."""
    check_admin(admin)
    why = _reason(reason)
    now = utcnow()
    async with services.metadata.write() as tx:
        image = await _image(tx, image_id)
        held = await tx.moderation.hold(image_id)
        before = held.visibility_before if held else image.visibility.value
        by_suspension = held.by_suspension if held else False
        await tx.moderation.put_hold(
            ImageHold(image_id, image.owner_id, before, why, by_suspension, now)
        )
        changed = await _set_visibility(tx, image, Visibility.PRIVATE.value)
        await tx.moderation.record(
            admin.username, AuditAction.HIDE, SubjectKind.IMAGE, image_id, why, now
        )
    if changed:
        await _purge(services, [image])


async def unhide_image(services: Services, admin: User, image_id: str, reason: str | None) -> None:
    """Give a hidden image its visibility back (unless its owner is suspended: then it stays
    held until the suspension ends)."""
    check_admin(admin)
    why = _reason(reason)
    now = utcnow()
    async with services.metadata.write() as tx:
        image = await _image(tx, image_id)
        held = await tx.moderation.hold(image_id)
        if held is None or not held.hidden_by_moderators:
            raise Conflict("the image is not hidden by moderators")
        changed = False
        if held.by_suspension:
            await tx.moderation.put_hold(replace(held, reason=None))
        else:
            await tx.moderation.drop_hold(image_id)
            changed = await _set_visibility(tx, image, held.visibility_before)
        await tx.moderation.record(
            admin.username, AuditAction.UNHIDE, SubjectKind.IMAGE, image_id, why, now
        )
    if changed:
        await _purge(services, [image])


async def remove_image(services: Services, admin: User, image_id: str, reason: str | None) -> None:
    """Delete the image past its owner's trash: gone from every read at once, its edge copies
    purged, then its blobs and its row (if that fails, the trash's lifecycle pass finishes)."""
    check_admin(admin)
    why = _reason(reason)
    now = utcnow()
    async with services.metadata.write() as tx:
        image = await _image(tx, image_id)
        await tx.images.mark_deleted(image_id, now)
        await tx.moderation.record(
            admin.username, AuditAction.REMOVE, SubjectKind.IMAGE, image_id, why, now
        )
    await _purge(services, [image])
    await deletion.remove_for_good(services, image)


async def _account(tx: WriteTransaction, username: str) -> User:
    user = await tx.users.by_name(username.strip().lower())
    if user is None:
        raise NotFound(f"no user called {username!r}")
    return user


# A suspension holds (and an unsuspension gives back) an account's images this many to a
# transaction: a writer is never kept waiting behind one account's thousands of images.
IMAGES_PER_STEP = 500


async def suspend_user(services: Services, admin: User, username: str, reason: str | None) -> None:
    """Suspend the account: its tokens and sessions end and it cannot log in, at once; then
    its public images are held from everyone else, a step at a time, until it is
    unsuspended. Suspending an account again holds any public image a step left out."""
    check_admin(admin)
    why = _reason(reason)
    now = utcnow()
    async with services.metadata.write() as tx:
        user = await _account(tx, username)
        if user.id == admin.id:
            raise InvalidInput("you cannot suspend yourself")
        await tx.moderation.suspend(Suspension(user.id, why, admin.username, now))
        await tx.moderation.record(
            admin.username, AuditAction.SUSPEND, SubjectKind.USER, user.username, why, now
        )
    while True:
        async with services.metadata.write() as tx:
            held = await tx.moderation.hold_public_images(user.id, now, IMAGES_PER_STEP)
            hidden = await tx.images.set_visibility_of(held, Visibility.PRIVATE)
        await _purge(services, hidden)
        if len(held) < IMAGES_PER_STEP:
            return


async def unsuspend_user(
    services: Services, admin: User, username: str, reason: str | None
) -> None:
    """End the suspension: the images held only by it get their visibility back, a step at a
    time (those hidden by moderators stay hidden), then the account may log in again."""
    check_admin(admin)
    why = _reason(reason)
    now = utcnow()
    async with services.metadata.read() as tx:
        user = await _account(tx, username)
        if await tx.moderation.suspension(user.id) is None:
            raise Conflict(f"{user.username} is not suspended")
    while True:
        async with services.metadata.write() as tx:
            released = await tx.moderation.release_suspension_holds(user.id, IMAGES_PER_STEP)
            shown: list[Image] = []
            for before in {held.visibility_before for held in released}:
                ids = [held.image_id for held in released if held.visibility_before == before]
                shown += await tx.images.set_visibility_of(ids, Visibility(before))
        await _purge(services, shown)
        if len(released) < IMAGES_PER_STEP:
            break
    async with services.metadata.write() as tx:
        await tx.moderation.unsuspend(user.id)
        await tx.moderation.record(
            admin.username, AuditAction.UNSUSPEND, SubjectKind.USER, user.username, why, now
        )


async def hold_for_owner(services: Services, viewer: User | None, image: Image) -> ImageHold | None:
    """The moderators' hold on the viewer's own image (what its page tells its owner)."""
    if viewer is None or viewer.id != image.owner_id:
        return None
    async with services.metadata.read() as tx:
        held = await tx.moderation.hold(image.id)
    return held if held is not None and held.hidden_by_moderators else None
