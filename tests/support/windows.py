"""Tests of fixed-window rate limits: the clock moved to the start of a window."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from shutterbox.clock import travel, utcnow


@contextmanager
def window_start() -> Iterator[None]:
    """Move the clock to a second past the start of a minute, so that a test's hits all fall
    in one fixed window (and ``travel`` within it moves on from there)."""
    now = utcnow().timestamp()
    with travel(timedelta(seconds=math.ceil(now / 60) * 60 - now + 1)):
        yield
