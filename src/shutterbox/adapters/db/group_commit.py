"""Group commit on SQLite: the small write transactions that arrive while one is committing
run together in the next transaction, and share its commit.

SQLite has one writer at a time, and every commit waits for its fsync. When each upload
commits on its own, a burst of uploads queues for the writer, and each holds it for several
round trips between the event loop and the database thread (each one slow while the loop is
busy reading request bodies) plus a sync. Here a caller hands its unit of work to
``GroupCommit.run`` and waits. Whoever finds no batch running starts one: it takes the
process's writer slot, then runs every unit waiting in one worker thread, on a synchronous
connection, in one transaction (each unit in a savepoint of its own, so one that fails is
undone alone and its error goes back to its caller), commits once, and only then answers
every caller. Nobody hears "done" before their rows are durable.

A unit of work may only touch the database: it is driven to its end at once, and one that
awaits anything else is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import anyio
from sqlalchemy import Engine

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.inline_connection import InlineConnection

T = TypeVar("T")
Work = Callable[[Any], Awaitable[Any]]
Outcome = tuple[Any, BaseException | None]
MAX_BATCH = 64  # units per transaction: a bound on how long one commit keeps the writer


NOT_ONLY_THE_DATABASE = "a unit of work for write_together awaited something besides the database"


def run_at_once(step: Awaitable[T]) -> T:
    """The result of a coroutine whose every await completes at once (``InlineConnection``),
    run in a thread with no event loop."""
    coroutine: Coroutine[Any, Any, T] = step  # type: ignore[assignment]
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
    except RuntimeError as error:  # it reached for the event loop: there is none here
        if "no running event loop" in str(error):
            raise RuntimeError(NOT_ONLY_THE_DATABASE) from error
        raise
    coroutine.close()
    raise RuntimeError(NOT_ONLY_THE_DATABASE)


class GroupCommit:
    def __init__(self, db: Database, engine: Engine, transaction: Callable[[Any], Any]) -> None:
        self.db = db
        self.engine = engine  # synchronous, used only while ``db.writer`` is checked out
        self.transaction = transaction  # the repositories on a connection
        self._waiting: list[tuple[Work, asyncio.Future[Any]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run ``work`` with a transaction shared with whatever else is waiting; its result
        once that transaction has committed (its error if it raised, or if the commit
        failed)."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, done))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await asyncio.shield(done)  # a caller that goes away does not undo its rows

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                async with self.db.writer.connect():  # this process's one writer slot
                    outcomes = await anyio.to_thread.run_sync(
                        self._commit, [work for work, _ in batch]
                    )
            except Exception as error:  # the commit failed: nothing of the batch was written
                outcomes = [(None, error)] * len(batch)
            for (_, done), (result, failure) in zip(batch, outcomes, strict=True):
                if done.done():
                    continue
                if failure is None:
                    done.set_result(result)
                else:
                    done.set_exception(failure)

    def _commit(self, works: list[Work]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with self.engine.connect() as conn, conn.begin():
            tx = self.transaction(InlineConnection(conn))
            for work in works:
                savepoint = conn.begin_nested()
                try:
                    result = run_at_once(work(tx))
                except Exception as error:  # this unit alone is undone
                    savepoint.rollback()
                    outcomes.append((None, error))
                else:
                    savepoint.commit()
                    outcomes.append((result, None))
        return outcomes
