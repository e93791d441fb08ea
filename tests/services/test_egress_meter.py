"""The egress meter's counts reach the metadata database (a SQLite file): flushed per day and
source, kept when a flush fails, flushed on stop and every few seconds meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.clock import utcnow
from shutterbox.services.billing import egress
from shutterbox.services.billing.egress import EgressMeter


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[SqlMetadata]:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'meter.db'}")
    await upgrade_to_head(db)
    yield SqlMetadata(db)
    await db.dispose()


async def test_flushes_add_up_per_day_and_source(database: SqlMetadata):
    meter = EgressMeter()
    meter.add(500, 2)
    await meter.flush(database)
    assert meter.pending() == {}
    meter.add(300, 1)
    meter.add(9000, 3, source=egress.EDGE)
    await meter.flush(database)
    await meter.flush(database)  # nothing new: nothing added
    today = utcnow().date()
    assert await egress.day_totals(database, today, egress.ORIGIN) == (800, 3)
    assert await egress.day_totals(database, today, egress.EDGE) == (9000, 3)
    await egress.add_egress(database, [(date(2024, 1, 2), egress.EDGE, 10, 1)])
    assert await egress.day_totals(database, date(2024, 1, 2), egress.EDGE) == (10, 1)


async def test_a_failed_flush_keeps_the_counts(tmp_path: Path, database: SqlMetadata):
    meter = EgressMeter()
    meter.add(400, 1)
    unmigrated = open_database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(OperationalError, match="egress_daily"):
            await meter.flush(SqlMetadata(unmigrated))
    finally:
        await unmigrated.dispose()
    assert meter.pending() == {(utcnow().date(), egress.ORIGIN): (400, 1)}
    await meter.flush(database)
    assert await egress.day_totals(database, utcnow().date(), egress.ORIGIN) == (400, 1)


async def test_the_flusher_flushes_on_stop(database: SqlMetadata):
    meter = EgressMeter()
    flusher = egress.EgressFlusher(meter, database, every=3600)
    flusher.start()
    meter.add(123, 1)
    await flusher.stop()
    assert await egress.day_totals(database, utcnow().date(), egress.ORIGIN) == (123, 1)


async def test_the_flusher_flushes_every_few_seconds_meanwhile(database: SqlMetadata):
    meter = EgressMeter()
    flusher = egress.EgressFlusher(meter, database, every=0.05)
    flusher.start()
    try:
        meter.add(321, 1)
        for _ in range(100):
            if meter.pending() == {}:
                break
            await asyncio.sleep(0.05)
        assert await egress.day_totals(database, utcnow().date(), egress.ORIGIN) == (321, 1)
    finally:
        await flusher.stop()
