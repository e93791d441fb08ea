"""PostgreSQL's quick reads without SQLAlchemy's per-statement machinery, for
``SqlMetadata.quick_read``.

Executing a statement through SQLAlchemy costs about 0.3 ms of CPU on top of asyncpg's own
work (an execution context, result metadata, a greenlet hop), twice what asyncpg takes to
send the query and decode its rows, and a request's statements are almost all the same few
prebuilt ones (a page of a list, a token's user). So a statement that is executed a second
time is compiled once, for asyncpg, and from then on runs on the connection's asyncpg
connection directly: positional arguments in, rows with the same names out, each value
through the same type processors SQLAlchemy would use. A statement seen once, one with
expanding (``IN``) parameters, and any statement whose direct run fails go through
SQLAlchemy as before; a failure is then reported, and a broken connection replaced, by
SQLAlchemy (a read is safe to run twice).
"""

from __future__ import annotations

import weakref
from collections import Counter, namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the bound parameters' names, in their positional order
    bound: Mapping[str, Any]  # values written into the statement itself
    bind_processors: tuple[Processor, ...]
    row: Callable[..., tuple[Any, ...]]
    column_types: tuple[Any, ...]
    # One per column (None when no column needs one), known once the server has described
    # the columns: some processors depend on the type the driver reports.
    result_processors: tuple[Processor, ...] | None = None
    described: bool = False

    def describe(self, type_oids: Sequence[int], dialect: Dialect) -> None:
        processors = tuple(
            column_type._cached_result_processor(dialect, oid)
            for column_type, oid in zip(self.column_types, type_oids, strict=True)
        )
        self.result_processors = processors if any(processors) else None
        self.described = True

    def arguments(self, parameters: Mapping[str, Any] | None) -> list[Any]:
        given = parameters or {}
        values = [given[name] if name in given else self.bound[name] for name in self.names]
        return [
            value if process is None else process(value)
            for value, process in zip(values, self.bind_processors, strict=True)
        ]

    def rows(self, records: Sequence[Any]) -> list[tuple[Any, ...]]:
        make, processors = self.row, self.result_processors
        if processors is None:
            return [make(*record) for record in records]
        return [
            make(*(v if p is None else p(v) for v, p in zip(record, processors, strict=True)))
            for record in records
        ]


class _Row(tuple[Any, ...]):
    """A row by position and by name, as SQLAlchemy's ``Row`` is (``_fields``, ``_mapping``)."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))


def _row_type(names: list[str]) -> Callable[..., tuple[Any, ...]]:
    base = namedtuple("LeanRow", names, rename=True)  # type: ignore[misc]
    return type("LeanRow", (base, _Row), {"__slots__": ()})


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled | None:
    compiled: Any = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in names]
    columns = compiled._result_columns
    if (
        any(bind.expanding for bind in binds)
        or not getattr(statement, "is_select", False)
        or not columns
    ):
        return None
    bind_processors = compiled._bind_processors
    return _Compiled(
        sql=compiled.string,
        names=names,
        bound={
            name: bind.effective_value
            for name, bind in zip(names, binds, strict=True)
            if not bind.required
        },
        bind_processors=tuple(bind_processors.get(name) for name in names),
        row=_row_type([column.keyname for column in columns]),
        column_types=tuple(column.type for column in columns),
    )


# Statement -> its compiled form, or None when it is not for the direct path; and the
# statements seen once so far. Weak, so a statement built for one call is forgotten with it.
_compiled: weakref.WeakKeyDictionary[Any, _Compiled | None] = weakref.WeakKeyDictionary()
_seen_once: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
# Whether a statement runs direct at its first execution rather than its second (tests).
DIRECT_AT_FIRST_SIGHT = False
# Statements run direct, and those whose direct run failed and went through SQLAlchemy.
runs: Counter[str] = Counter()


def _compiled_for(statement: Any, dialect: Dialect) -> _Compiled | None:
    try:
        return _compiled[statement]
    except KeyError:
        pass
    except TypeError:  # a plain SQL string: not weakly referable
        return None
    if not DIRECT_AT_FIRST_SIGHT and _seen_once.pop(statement, None) is None:
        _seen_once[statement] = True
        return None
    compiled = _compile(statement, dialect)
    _compiled[statement] = compiled
    return compiled


class LeanResult:
    """The part of SQLAlchemy's ``Result`` the repositories use on a read."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def all(self) -> list[tuple[Any, ...]]:
        return self._rows

    fetchall = all

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def one(self) -> tuple[Any, ...]:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def one_or_none(self) -> tuple[Any, ...] | None:
        if len(self._rows) > 1:
            raise LookupError(f"expected at most one row, got {len(self._rows)}")
        return self.first()

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> LeanResult:
        """The first column's values (``all()``, ``first()`` and iteration give values)."""
        return LeanResult([row[0] for row in self._rows])


class LeanConnection:
    """An ``AsyncConnection`` for reads whose repeated statements run on asyncpg directly."""

    def __init__(self, connection: AsyncConnection, driver: Any) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self._driver = driver

    @property
    def engine(self) -> Any:
        return self.connection.engine

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        compiled = _compiled_for(statement, self.dialect)
        if compiled is not None:
            try:
                records = await self._fetch(compiled, parameters)
            except Exception:  # SQLAlchemy runs it again and reports it
                runs["failed"] += 1
            else:
                runs["direct"] += 1
                return LeanResult(compiled.rows(records))
        return await self.connection.execute(statement, parameters)

    async def _fetch(self, compiled: _Compiled, parameters: Any) -> Sequence[Any]:
        if not compiled.described:
            prepared = await self._driver.prepare(compiled.sql)
            oids = [attribute.type.oid for attribute in prepared.get_attributes()]
            compiled.describe(oids, self.dialect)
        return await self._driver.fetch(compiled.sql, *compiled.arguments(parameters))  # type: ignore[no-any-return]

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        return (await self.execute(statement, parameters)).scalar()

    async def scalars(self, statement: Any, parameters: Any = None) -> Any:
        return (await self.execute(statement, parameters)).scalars()
