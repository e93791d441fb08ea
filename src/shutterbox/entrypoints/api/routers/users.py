"""Accounts and tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep
from shutterbox.entrypoints.api.schemas import ErrorBody, Token, UserCreate, UserPublic
from shutterbox.services import accounts

router = APIRouter(prefix="/api/v1", tags=["users"])


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def create_user(body: UserCreate, services: ServicesDep) -> UserPublic:
    user = await accounts.register(services.db, body.username, body.password)
    return UserPublic(id=user.id, username=user.username, created_at=user.created_at)


@router.post("/auth/token", response_model=Token, responses={401: {"model": ErrorBody}})
async def create_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], services: ServicesDep
) -> Token:
    """OAuth2 password flow: form fields `username` and `password`."""
    token = await accounts.issue_token(
        services.db, form.username, form.password, services.settings.token_ttl_days
    )
    return Token(access_token=token)


@router.get("/users/me", response_model=UserPublic, responses={401: {"model": ErrorBody}})
async def read_current_user(user: CurrentUser) -> UserPublic:
    return UserPublic(id=user.id, username=user.username, created_at=user.created_at)
