"""The sweep of a delivery that publishes messages (JetStream, Kafka): the jobs table says
which due jobs have had no delivery for a while, and they are published again."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from shutterbox.domain.jobs import Lane
from shutterbox.ports import JobStore

log = logging.getLogger(__name__)


async def republish_lost(
    store: JobStore,
    dispatch: Callable[[list[int], Lane], Awaitable[None]],
    older_than_seconds: float,
) -> int:
    """Publish again the jobs whose message was lost; how many there were."""
    lost = await store.undelivered(older_than_seconds)
    count = sum(len(ids) for ids in lost.values())
    if count:
        log.info("republishing %d jobs whose delivery was lost", count)
        for lane, ids in lost.items():
            await dispatch(ids, lane)
    return count
