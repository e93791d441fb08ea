"""Search: images by the words of their details and people by their username."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field
from pydantic_core import to_json
from starlette.responses import Response

from shutterbox.domain.search import MAX_QUERY_CHARS, MAX_TERMS
from shutterbox.entrypoints.api.deps import OptionalUser, ServicesDep
from shutterbox.entrypoints.api.presenters import page_response
from shutterbox.entrypoints.api.routers.feed import Cursor, Limit
from shutterbox.entrypoints.api.routers.social import UserRef
from shutterbox.entrypoints.api.schemas import ErrorBody, ImagePublic
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.images import search
from shutterbox.services.social import likes

router = Router(prefix="/api/v1", tags=["search"])


class SearchResults(BaseModel):
    items: list[ImagePublic] = Field(
        description="Images matching every word, best first: a word in the tags counts most, "
        "then in the caption, the owner's username or the place, then the alt text; equals "
        "newest first. Public ones, and your own private ones."
    )
    users: list[UserRef] = Field(
        description="People whose username starts with the query (first page only)."
    )
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` (with the same `q`) for the next page."
    )


Query_ = Annotated[
    str,
    Query(
        max_length=MAX_QUERY_CHARS,
        description=f"Words to find (at most {MAX_TERMS}); the last one also matches as the "
        "start of a word, so results follow as one types.",
    ),
]


@router.get(
    "/search",
    response_model=SearchResults,
    responses={422: {"model": ErrorBody}},
)
async def search_everything(
    q: Query_,
    services: ServicesDep,
    viewer: OptionalUser,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """Images and people matching the words of `q`."""
    found = await search.search(services, q, viewer, limit, cursor)
    liked = await likes.liked_among(services, viewer, found.images)
    page = page_response(found.images, found.next_cursor, viewer, services.media_urls, liked)
    users = to_json([{"username": name} for name in found.usernames])
    # the feed's page (its images as every list shows them), with the people in front
    return Response(
        b'{"users":' + users + b"," + bytes(page.body)[1:], media_type="application/json"
    )
