"""Accounts: how long tokens and web sessions last, and how many failed logins are allowed."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from shutterbox.config.types import Rate


class AccountSettings(BaseModel):
    section: ClassVar[str] = "Accounts"  # its heading in docs/configuration.md

    token_ttl_days: int = Field(
        default=30,
        description="Lifetime of an API bearer token, and of a web session (the pages' login "
        "cookie).",
    )
    login_rate: Rate = Field(
        default="10/minute",
        description="Failed logins allowed per username and client address (POST "
        "/api/v1/auth/token, POST /api/v1/session, the /login form), as N/second, N/minute or "
        "N/hour; more answer 429 with Retry-After. Counted where "
        "SHUTTERBOX_RATE_LIMIT_URL says. 0 or empty: no limit.",
    )
    report_rate: Rate = Field(
        default="20/hour",
        description="Reports a signed-in user may send (POST /api/v1/reports, the report forms "
        "of the pages), as N/second, N/minute or N/hour; more answer 429 with Retry-After. "
        "Reporting the same subject again counts too. Counted where "
        "SHUTTERBOX_RATE_LIMIT_URL says. 0 or empty: no limit.",
    )
