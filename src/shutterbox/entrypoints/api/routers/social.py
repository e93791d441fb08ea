"""People: profiles, following and unfollowing (the home feed is in ``feed.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response, status
from pydantic import BaseModel, Field

from shutterbox.entrypoints.api.deps import CurrentUser, OptionalUser, ServicesDep
from shutterbox.entrypoints.api.routers.feed import Limit
from shutterbox.entrypoints.api.schemas import ErrorBody, Timestamp
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.people import follows

router = Router(prefix="/api/v1", tags=["people"])


class UserProfile(BaseModel):
    username: str
    created_at: Timestamp
    images: int = Field(description="Their ready images you can see (private ones only on yours).")
    followers: int
    following: int
    followed_by_you: bool | None = Field(
        description="Whether you follow them; null when you are not logged in, or it is you."
    )


class UserRef(BaseModel):
    username: str


class UserRefPage(BaseModel):
    items: list[UserRef]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}
_FOLLOW_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 404, 422)
}
PeopleCursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the page before.")
]


@router.get("/users/{username}", response_model=UserProfile, responses=_NOT_FOUND)
async def read_profile(username: str, services: ServicesDep, viewer: OptionalUser) -> UserProfile:
    """Who someone is: how many images they show you, their followers and whom they follow."""
    found = await follows.profile(services, viewer, username)
    return UserProfile(
        username=found.username,
        created_at=found.created_at,
        images=found.images,
        followers=found.followers,
        following=found.following,
        followed_by_you=found.followed_by_you,
    )


@router.put(
    "/users/{username}/follow", status_code=status.HTTP_204_NO_CONTENT, responses=_FOLLOW_ERRORS
)
async def follow_user(username: str, services: ServicesDep, user: CurrentUser) -> Response:
    """Follow someone (again: no change); their public images join your home feed."""
    await follows.follow(services, user, username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/users/{username}/follow", status_code=status.HTTP_204_NO_CONTENT, responses=_FOLLOW_ERRORS
)
async def unfollow_user(username: str, services: ServicesDep, user: CurrentUser) -> Response:
    """Stop following someone (not following them: no change)."""
    await follows.unfollow(services, user, username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _people(page: follows.PeoplePage) -> UserRefPage:
    return UserRefPage(
        items=[UserRef(username=name) for name in page.usernames], next_cursor=page.next_cursor
    )


@router.get("/users/{username}/followers", response_model=UserRefPage, responses=_NOT_FOUND)
async def read_followers(
    username: str, services: ServicesDep, limit: Limit = 20, cursor: PeopleCursor = None
) -> UserRefPage:
    """Who follows them, by username."""
    return _people(await follows.followers(services, username, limit, cursor))


@router.get("/users/{username}/following", response_model=UserRefPage, responses=_NOT_FOUND)
async def read_following(
    username: str, services: ServicesDep, limit: Limit = 20, cursor: PeopleCursor = None
) -> UserRefPage:
    """Whom they follow, by username."""
    return _people(await follows.following(services, username, limit, cursor))
