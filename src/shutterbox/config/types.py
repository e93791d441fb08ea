"""The kinds of value several settings share, with their checks written once."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from shutterbox.domain.rates import RATE_FORMS, parse_rate

PositiveSeconds = Annotated[float, Field(gt=0)]  # an interval or a limit, in seconds
Days = Annotated[float, Field(ge=0)]  # an age in days; 0: at once


def _rate(raw: str) -> str:
    try:
        parse_rate(raw)
    except ValueError:
        raise ValueError(f"expected {RATE_FORMS}") from None
    return raw


Rate = Annotated[str, AfterValidator(_rate)]  # N/second, N/minute or N/hour; 0 or empty: none
