"""Accounts and tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from shutterbox.domain.errors import Unauthorized
from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep
from shutterbox.entrypoints.api.schemas import ErrorBody, Token, UserCreate, UserPublic
from shutterbox.entrypoints.http.middleware import rate_limiting
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.people import account_deletion, accounts, quotas

router = Router(prefix="/api/v1", tags=["users"])


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def create_user(body: UserCreate, services: ServicesDep) -> UserPublic:
    user = await accounts.register(services.metadata, body.username, body.password)
    return UserPublic(id=user.id, username=user.username, created_at=user.created_at)


class CurrentUserPublic(UserPublic):
    storage_used_bytes: int = Field(
        description="Bytes of your originals, the trash included (stored until it is purged)."
    )
    storage_quota_bytes: int | None = Field(
        description="How many bytes of originals you may store; null: no quota."
    )


_bearer = HTTPBearer(auto_error=False)


@router.post(
    "/auth/token",
    response_model=Token,
    responses={code: {"model": ErrorBody} for code in (401, 422, 429)},
)
async def create_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    services: ServicesDep,
) -> Token:
    """OAuth2 password flow: form fields `username` and `password`. Too many failed attempts
    for a username from one address answer `429` with `Retry-After`."""
    await rate_limiting.hit_login(request, form.username)
    token = await accounts.issue_token(
        services.metadata, form.username, form.password, services.settings.token_ttl_days
    )
    await rate_limiting.login_succeeded(request, form.username)
    return Token(access_token=token)


@router.delete(
    "/auth/token",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={401: {"model": ErrorBody}},
)
async def revoke_token(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Response:
    """Revoke the bearer token this request presents: it answers `401` from then on."""
    if credentials is None:
        raise Unauthorized("send the token to revoke as 'Authorization: Bearer <token>'")
    if await accounts.user_for_token(services.metadata, credentials.credentials) is None:
        raise Unauthorized("the token is invalid, expired or revoked")
    await accounts.revoke_token(services.metadata, credentials.credentials)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/me", response_model=CurrentUserPublic, responses={401: {"model": ErrorBody}})
async def read_current_user(user: CurrentUser, services: ServicesDep) -> CurrentUserPublic:
    """Who you are, and how much of your storage quota you use."""
    usage = await quotas.usage(services, user)
    return CurrentUserPublic(
        id=user.id,
        username=user.username,
        created_at=user.created_at,
        storage_used_bytes=usage.used_bytes,
        storage_quota_bytes=usage.quota_bytes,
    )


class AccountDeletion(BaseModel):
    password: str = Field(max_length=1024, description="Your password, once more.")


_DELETION_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422)
}


@router.delete("/users/me", status_code=status.HTTP_204_NO_CONTENT, responses=_DELETION_ERRORS)
async def delete_my_account(
    body: AccountDeletion, services: ServicesDep, user: CurrentUser
) -> Response:
    """Delete your account, with your password: at once nobody can log in as you (every token
    and session ends), your images are gone from every page and feed, and your follows are
    removed; your images' bytes are then removed in the background, and your username is free
    again once they are."""
    await account_deletion.delete_own_account(services, user, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/users/{username}", status_code=status.HTTP_204_NO_CONTENT, responses=_DELETION_ERRORS
)
async def delete_account(username: str, services: ServicesDep, admin: CurrentUser) -> Response:
    """An admin deletes an account, as its owner would."""
    await account_deletion.delete_account_of(services, admin, username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
