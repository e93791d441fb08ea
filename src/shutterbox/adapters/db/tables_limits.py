"""The counters of the rate limits when every API node counts together (``db://``).

Part of the one schema: ``tables.py`` imports this module, so its ``metadata`` holds them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table

from shutterbox.adapters.db.tables import metadata

# One row per limited key (kind:key): the window it counts in (numbered from the epoch) and
# the hits there. A hit in a newer window starts the row over; rows whose window ended are
# deleted now and then.
rate_limit_counters = Table(
    "rate_limit_counters",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("window_index", BigInteger, nullable=False),
    Column("hits", Integer, nullable=False),
    Column("ends_at", Float, nullable=False),  # seconds since the epoch
    Index("ix_rate_limit_counters_ends_at", "ends_at"),
)
