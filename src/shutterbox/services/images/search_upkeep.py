"""Keeping the search's word indexes quick to read: an index spread over many pieces is
merged into one, a step at a time, each step a short write of its own so that uploads wait
for no more than one (``SearchRepository.spread_indexes``/``merge_step``; on SQLite the FTS5
segments, see ``adapters/db/repositories/search_upkeep.py``). Run by the lifecycle pass."""

from __future__ import annotations

import asyncio

from shutterbox.ports.metadata import Metadata

MERGE_PAGES = 200  # pages of merging per step: about a tenth of a second of writing at most


async def merge_spread_indexes(metadata: Metadata) -> int:
    """Merge each spread index into one piece; the number of steps taken."""
    async with metadata.quick_read() as tx:
        spread = await tx.search.spread_indexes()
    steps = 0
    for index in spread:
        first = True
        while True:
            async with metadata.write() as tx:
                more = await tx.search.merge_step(index, MERGE_PAGES, first=first)
            first = False
            steps += 1
            if not more:
                break
            await asyncio.sleep(0)  # let waiting writes in between two steps
    return steps
