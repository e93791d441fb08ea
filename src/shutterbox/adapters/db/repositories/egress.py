"""The daily egress totals (``egress_daily``): every API node and every edge adds to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.dialect import upsert
from shutterbox.adapters.db.tables import egress_daily


class SqlEgress:
    """``EgressRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, rows: Sequence[tuple[date, str, int, int]]) -> None:
        """One upsert for all the rows, on SQLite and on PostgreSQL alike."""
        values = [{"day": d, "source": s, "bytes": b, "requests": r} for d, s, b, r in rows]

        def added(excluded: Any) -> dict[str, Any]:
            return {
                "bytes": egress_daily.c.bytes + excluded.bytes,
                "requests": egress_daily.c.requests + excluded.requests,
            }

        conflict = [egress_daily.c.day, egress_daily.c.source]
        await self.conn.execute(
            upsert(self.conn, egress_daily, values, conflict=conflict, update=added)
        )

    async def day_totals(self, day: date, source: str) -> tuple[int, int]:
        row = (
            await self.conn.execute(
                select(egress_daily.c.bytes, egress_daily.c.requests).where(
                    egress_daily.c.day == day, egress_daily.c.source == source
                )
            )
        ).first()
        return (int(row.bytes), int(row.requests)) if row else (0, 0)
