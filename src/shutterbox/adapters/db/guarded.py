"""PostgreSQL behind its circuit breaker and its deadlines.

Every connection taken from a ``GuardedEngine`` is one call through the database's breaker:
refused at once (``DependencyDown``) while the breaker is open, a failure when taking it or
the work done on it ends in a connection error or a timeout, a success otherwise. Hooking the
engine's connections (rather than each repository) covers every query, the job store's and
the scrub's included, and a transaction counts once however many statements it runs.

The deadlines are the driver's: ``timeout`` to open a connection, ``command_timeout`` for any
answer on an open one (what ends a call to a server that accepted and went silent), the
server's ``statement_timeout`` for a statement that runs too long (so the server cancels it
and the connection stays usable), and the pool's ``pool_timeout`` for a connection to be free.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shutterbox.domain.resilience import CircuitBreaker, DependencyDown


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached or did not answer in time
    (not: a constraint, a bad statement, a serialization conflict)."""
    if isinstance(error, DependencyDown):
        return False
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout | OSError):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated) or isinstance(error.orig, TimeoutError)
    return False


def deadline_arguments(statement_seconds: float, connect_seconds: float) -> dict[str, Any]:
    """``create_async_engine`` arguments that bound every wait on PostgreSQL (asyncpg)."""
    return {
        "pool_timeout": connect_seconds,
        "connect_args": {
            "timeout": connect_seconds,
            "command_timeout": statement_seconds + 1.0,
            "server_settings": {"statement_timeout": str(int(statement_seconds * 1000))},
        },
    }


class GuardedConnection(AsyncConnection):
    __slots__ = ()

    @property
    def _breaker(self) -> CircuitBreaker:
        engine = self.engine
        assert isinstance(engine, GuardedEngine)
        return engine.breaker

    async def start(self, is_ctxmanager: bool = False) -> AsyncConnection:
        breaker = self._breaker
        breaker.allow()
        try:
            return await super().start(is_ctxmanager)
        except Exception as error:
            if is_outage(error):
                breaker.failed()
            else:
                breaker.succeeded()
            raise
        except BaseException:
            breaker.abandoned()
            raise

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        breaker = self._breaker
        try:
            await super().__aexit__(type_, value, traceback)
        except Exception as error:
            value = value or error
            raise
        finally:
            if value is None:
                breaker.succeeded()
            elif isinstance(value, Exception):
                breaker.failed() if is_outage(value) else breaker.succeeded()
            else:
                breaker.abandoned()


class GuardedEngine(AsyncEngine):
    """An ``AsyncEngine`` whose connections go through ``breaker``."""

    __slots__ = ("breaker",)
    _connection_cls = GuardedConnection

    def __init__(self, engine: AsyncEngine, breaker: CircuitBreaker) -> None:
        super().__init__(engine.sync_engine)
        self.breaker = breaker
