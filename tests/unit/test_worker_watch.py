"""A worker started by `shutterbox serve --api-processes N` stops once its parent is gone."""

from __future__ import annotations

import asyncio
import os

import pytest

from shutterbox.entrypoints.worker import stop_when_orphaned


async def test_keeps_running_while_the_parent_lives():
    stop = asyncio.Event()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(stop_when_orphaned(os.getppid(), stop, every=0.05), 0.3)
    assert not stop.is_set()


async def test_stops_when_the_parent_is_another_process():
    stop = asyncio.Event()
    gone = os.getppid() + 1  # what getppid() answers once the parent died: not the parent
    await asyncio.wait_for(stop_when_orphaned(gone, stop, every=0.05), 5)
    assert stop.is_set()
