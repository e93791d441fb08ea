"""FastAPI dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shutterbox.domain.errors import Forbidden, Unauthorized
from shutterbox.domain.users import User
from shutterbox.services import accounts
from shutterbox.services.context import Services

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def optional_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    if credentials is None:
        return None
    user = await accounts.user_for_token(services.db, credentials.credentials)
    if user is None:
        raise Unauthorized("the token is invalid, expired or revoked")
    return user


async def required_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise Unauthorized("log in first: send 'Authorization: Bearer <token>'")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(required_user)]


async def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden(
            "this needs an admin account (shutterbox users create NAME --admin makes one)"
        )
    return user


AdminUser = Annotated[User, Depends(admin_user)]
