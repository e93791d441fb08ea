"""The kinds of value several settings share, with their checks written once."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

PositiveSeconds = Annotated[float, Field(gt=0)]  # an interval or a limit, in seconds
Days = Annotated[float, Field(ge=0)]  # an age in days; 0: at once
RATE_PATTERN = r"^\s*$|^\s*\d+\s*/\s*(second|minute|hour)s?\s*$"
Rate = Annotated[str, Field(pattern=RATE_PATTERN)]  # N/second, N/minute or N/hour; empty: none
