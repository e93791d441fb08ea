"""Albums, share links and what a link shows, as API JSON.

Images seen through a link are the API's usual image JSON with two changes: a private image's
media URLs are signed for the link (``services/delivery/shared_media.py``) instead of the
usual signed URLs, and a link that hides details has no place, camera or time taken."""

from __future__ import annotations

from typing import Any

from shutterbox.clock import utcnow
from shutterbox.domain.albums import Share
from shutterbox.domain.images import Image, Visibility
from shutterbox.domain.users import User
from shutterbox.entrypoints.api.album_schemas import AlbumPublic, SharePublic
from shutterbox.entrypoints.api.presenters import image_json, timestamp, variants_with
from shutterbox.services.albums.albums import AlbumView
from shutterbox.services.albums.shared_view import SharedView
from shutterbox.services.delivery import shared_media
from shutterbox.services.delivery.media_urls import MediaUrls

# What a link that hides details leaves out of each image.
HIDDEN_DETAILS = ("location", "camera", "taken_at")


def album_json(view: AlbumView, viewer: User | None, urls: MediaUrls) -> dict[str, Any]:
    album = view.album
    return {
        "id": album.id,
        "owner": album.owner_username,
        "title": album.title,
        "description": album.description,
        "visibility": album.visibility.value,
        "cover": image_json(view.cover, viewer, urls) if view.cover is not None else None,
        "created_at": timestamp(album.created_at),
        "updated_at": timestamp(album.updated_at),
    }


def album_public(view: AlbumView, viewer: User | None, urls: MediaUrls) -> AlbumPublic:
    return AlbumPublic.model_validate(album_json(view, viewer, urls))


def share_public(share: Share) -> SharePublic:
    return SharePublic(
        id=share.id,
        album_id=share.album_id,
        image_id=share.image_id,
        expires_at=share.expires_at,
        expired=share.expired(utcnow()),
        has_password=share.password_hash is not None,
        hide_details=share.hide_details,
        created_at=share.created_at,
    )


def _shared_variants(image: Image, share: Share, urls: MediaUrls) -> dict[str, Any]:
    return variants_with(image, lambda path: shared_media.shared_url(urls, share, path))


def shared_image_json(image: Image, share: Share, urls: MediaUrls) -> dict[str, Any]:
    """``image`` as a link shows it to anyone: never its original."""
    shown = image_json(image, None, urls)
    if image.visibility != Visibility.PUBLIC:
        shown["variants"] = _shared_variants(image, share, urls)
    if share.hide_details:
        for key in HIDDEN_DETAILS:
            shown[key] = None
    return shown


def shared_json(view: SharedView, urls: MediaUrls) -> dict[str, Any]:
    share = view.share
    body: dict[str, Any] = {
        "kind": "image" if view.image is not None else "album",
        "hide_details": share.hide_details,
        "expires_at": timestamp(share.expires_at),
    }
    if view.image is not None:
        body["image"] = shared_image_json(view.image, share, urls)
    if view.album is not None and view.page is not None:
        album = view.album
        body["album"] = {
            "id": album.id,
            "owner": album.owner_username,
            "title": album.title,
            "description": album.description,
        }
        body["images"] = [shared_image_json(i, share, urls) for i in view.page.items]
        body["next_cursor"] = view.page.next_cursor
    return body
