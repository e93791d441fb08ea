"""Likes, comments and notifications: how often a user may comment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from shutterbox.config.types import Rate


class SocialSettings(BaseModel):
    section: ClassVar[str] = "Likes, comments and notifications"  # in docs/configuration.md

    comment_rate: Rate = Field(
        default="20/minute",
        description="Comments each user may post (POST /api/v1/images/{id}/comments and the "
        "image page's form), as N/second, N/minute or N/hour; more answer 429 with "
        "Retry-After. Counted where SHUTTERBOX_RATE_LIMIT_URL says. 0 or empty: no limit.",
    )
