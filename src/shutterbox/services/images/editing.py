"""Changing an image after its upload: its details (checked like an upload's), and another
try at processing one that failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shutterbox.domain.details import UploadDetails, check_details, tags_from
from shutterbox.domain.errors import Conflict, Forbidden, NotFound
from shutterbox.domain.images import Image, Status, Visibility
from shutterbox.domain.jobs import JobKind
from shutterbox.domain.users import User
from shutterbox.ports.metadata import Transaction
from shutterbox.services.context import Services
from shutterbox.services.delivery import purge
from shutterbox.services.delivery.media_urls import image_media_paths


@dataclass(frozen=True)
class Place:
    name: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class ImageEdit:
    """What to change: None leaves a field as it is; ``location=Place()`` clears the location.
    ``tags`` is a list or a comma/space separated string, normalised as on upload."""

    caption: str | None = None
    tags: str | list[str] | None = None
    alt_text: str | None = None
    location: Place | None = None
    visibility: Visibility | None = None


def _values(edit: ImageEdit, services: Services) -> dict[str, Any]:
    """The columns to write, after the checks an upload's details get."""
    values: dict[str, Any] = {}
    if edit.caption is not None:
        values["caption"] = edit.caption.strip()
    if edit.alt_text is not None:
        values["alt_text"] = edit.alt_text.strip()
    if edit.tags is not None:
        values["tags"] = tags_from(edit.tags, services.settings.max_tags)
    if edit.location is not None:
        values["location_name"] = (edit.location.name or "").strip() or None
        values["lat"] = edit.location.lat
        values["lon"] = edit.location.lon
    if edit.visibility is not None:
        values["visibility"] = edit.visibility.value
    check_details(
        UploadDetails(
            caption=values.get("caption", ""),
            alt_text=values.get("alt_text", ""),
            location_name=values.get("location_name"),
            lat=values.get("lat"),
            lon=values.get("lon"),
        ),
        services.settings.max_caption_chars,
    )
    return values


async def _own_image(tx: Transaction, user: User, image_id: str, action: str) -> Image:
    image = await tx.images.get(image_id)
    if image is None or not image.visible_to(user.id):
        raise NotFound("no such image")
    if image.owner_id != user.id:
        raise Forbidden(f"only the owner can {action} this image")
    return image


async def edit_image(services: Services, user: User, image_id: str, edit: ImageEdit) -> Image:
    """Change the owner's image. A change of visibility purges its URLs from the edges
    before answering, as a delete does: a public URL an edge kept must not outlive it."""
    async with services.metadata.write() as tx:
        image = await _own_image(tx, user, image_id, "edit")
        if edit.visibility is not None and await tx.moderation.hold(image_id) is not None:
            raise Forbidden("moderators hid this image: its visibility cannot change for now")
        values = _values(edit, services)
        if values and not await tx.images.update_details(image, values):
            raise NotFound("no such image")
        edited = await tx.images.get(image_id)
    assert edited is not None
    if edited.visibility != image.visibility:
        await purge.purge_or_retry_later(services, image.id, image_media_paths(image))
    return edited


async def retry_processing(services: Services, user: User, image_id: str) -> Image:
    """Process a failed image again: back to ``processing``, with a new job."""
    async with services.metadata.write() as tx:
        image = await _own_image(tx, user, image_id, "retry")
        if image.status != Status.FAILED:
            raise Conflict(f"only a failed image can be retried; this one is {image.status.value}")
        if not await tx.images.mark_processing_again(image_id):
            raise Conflict("the image changed meanwhile: read it again")
        job_id = await services.queue.enqueue(tx, JobKind.PROCESS_IMAGE, image_id)
        retried = await tx.images.get(image_id)
    assert retried is not None
    await services.queue.dispatch([job_id])
    return retried
