"""Albums: making them, reading them, changing and ordering them, and their images."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response, status
from fastapi.responses import JSONResponse

from shutterbox.entrypoints.api.album_presenters import album_json, album_public
from shutterbox.entrypoints.api.album_schemas import (
    AlbumCreate,
    AlbumOrder,
    AlbumPage,
    AlbumPublic,
    AlbumUpdate,
)
from shutterbox.entrypoints.api.deps import CurrentUser, OptionalUser, ServicesDep
from shutterbox.entrypoints.api.presenters import page_response
from shutterbox.entrypoints.api.routers.feed import Cursor, Limit
from shutterbox.entrypoints.api.schemas import ErrorBody, ImagePage
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.albums import albums, entries
from shutterbox.services.social import likes

router = Router(prefix="/api/v1", tags=["albums"])

AlbumId = Annotated[str, Path(max_length=64)]
ImageId = Annotated[str, Path(max_length=64)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


@router.post(
    "/albums",
    status_code=status.HTTP_201_CREATED,
    response_model=AlbumPublic,
    responses=_errors(401, 422),
)
async def create_album(body: AlbumCreate, services: ServicesDep, user: CurrentUser) -> Response:
    """A new album of yours, empty."""
    album = await albums.create_album(services, user, body.title, body.description, body.visibility)
    view = albums.AlbumView(album, None)
    return JSONResponse(
        album_public(view, user, services.media_urls).model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/api/v1/albums/{album.id}"},
    )


@router.get("/albums/{album_id}", response_model=AlbumPublic, responses=_errors(404))
async def read_album(album_id: AlbumId, services: ServicesDep, viewer: OptionalUser) -> Any:
    """An album you may see (a private one: only yours)."""
    view = await albums.read_album(services, album_id, viewer)
    return album_json(view, viewer, services.media_urls)


@router.patch(
    "/albums/{album_id}", response_model=AlbumPublic, responses=_errors(401, 403, 404, 422)
)
async def update_album(
    album_id: AlbumId, body: AlbumUpdate, services: ServicesDep, user: CurrentUser
) -> Any:
    """Change your album's title, description, visibility or cover (one of its images)."""
    cover: dict[str, Any] = {}
    if "cover_image_id" in body.model_fields_set:
        cover["cover_image_id"] = body.cover_image_id
    view = await albums.update_album(
        services,
        user,
        album_id,
        title=body.title,
        description=body.description,
        visibility=body.visibility,
        **cover,
    )
    return album_json(view, user, services.media_urls)


@router.delete(
    "/albums/{album_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_errors(401, 403, 404),
)
async def delete_album(album_id: AlbumId, services: ServicesDep, user: CurrentUser) -> Response:
    """Delete your album and its share links; its images stay."""
    await albums.delete_album(services, user, album_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/{username}/albums", response_model=AlbumPage, responses=_errors(404, 422))
async def read_user_albums(
    username: str,
    services: ServicesDep,
    viewer: OptionalUser,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Any:
    """Someone's albums, newest first (their private ones only for themselves)."""
    page = await albums.albums_of(services, username, viewer, limit, cursor)
    return {
        "items": [album_json(item, viewer, services.media_urls) for item in page.items],
        "next_cursor": page.next_cursor,
    }


@router.put(
    "/albums/{album_id}/images/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_errors(401, 403, 404),
)
async def add_album_image(
    album_id: AlbumId, image_id: ImageId, services: ServicesDep, user: CurrentUser
) -> Response:
    """Add one of your images at the end of your album (already there: no change)."""
    await entries.add_image(services, user, album_id, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/albums/{album_id}/images/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_errors(401, 403, 404),
)
async def remove_album_image(
    album_id: AlbumId, image_id: ImageId, services: ServicesDep, user: CurrentUser
) -> Response:
    """Take an image out of your album (not there: no change); the image stays."""
    await entries.remove_image(services, user, album_id, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/albums/{album_id}/order",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_errors(401, 403, 404, 422),
)
async def order_album(
    album_id: AlbumId, body: AlbumOrder, services: ServicesDep, user: CurrentUser
) -> Response:
    """Order your album: the whole order (`image_ids`), or move one image before another
    (`move`, `before`; without `before`: to the end). A move writes one entry."""
    if body.image_ids is not None:
        await entries.set_order(services, user, album_id, body.image_ids)
    else:
        assert body.move is not None
        await entries.move_image(services, user, album_id, body.move, body.before)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/albums/{album_id}/images", response_model=ImagePage, responses=_errors(404, 422))
async def read_album_images(
    album_id: AlbumId,
    services: ServicesDep,
    viewer: OptionalUser,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """The album's images in its order, those you may see: a private image in a public album
    is shown to its owner alone."""
    page = await entries.album_images(services, album_id, viewer, limit, cursor)
    liked = await likes.liked_among(services, viewer, page.items)
    return page_response(page.items, page.next_cursor, viewer, services.media_urls, liked)
