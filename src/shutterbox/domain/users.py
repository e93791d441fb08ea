"""Users and the rules for their names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

USERNAME_RE = re.compile(r"^[a-z0-9_]{3,30}$")
MIN_PASSWORD_CHARS = 8


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_admin: bool
    created_at: datetime


# The password hash of an account being deleted: no password matches it, so nobody logs in
# while its images are removed; the row goes with the last of them.
CLOSED_ACCOUNT_HASH = "!closed"


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise ValueError("username must be 3-30 characters: a-z, 0-9 or '_'")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > 1024:
        raise ValueError("password must be at most 1024 characters")
    return password
