"""A cursor for SQLAlchemy's aiosqlite adapter that runs each statement in
one trip to aiosqlite's thread.

The adapter's own cursor makes four trips per statement (open a cursor,
execute, fetch the rows, close), each a wake-up of the driver thread and of
the event loop: most of what a point read costs through SQLAlchemy on
SQLite. This one opens, executes, fetches and closes in a single call on
that thread and keeps what SQLAlchemy reads afterwards (description, row
count, last row id). Server-side cursors (streamed results) are untouched.

It leans on the adapter's internals (SQLAlchemy 2.0.44 and later, the lower
bound pyproject.toml pins) and on aiosqlite's queue of calls for its thread;
where those are not as expected, connections keep the adapter's own cursor,
and tests/test_engine.py fails (it checks that the one-trip path is in use).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)


class _Finished:
    """What a closed sqlite3 cursor leaves for SQLAlchemy to read."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(
        self, description: Any = None, rowcount: int = -1, lastrowid: int | None = None
    ) -> None:
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.arraysize = 1

    def close(self) -> None:
        pass


def _run(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[_Finished, list[Any]]:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else []
        return _Finished(cursor.description, cursor.rowcount, cursor.lastrowid), rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    # Closing is a plain call: the sqlite3 cursor is already closed.
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = _Finished()  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()

    async def _run(self, operation: str, parameters: Any, *, many: bool) -> Any:
        async with self._adapt_connection._execute_mutex:
            finished, rows = await self._connection._execute(
                _run, self._connection._conn, operation, parameters, many
            )
            self._cursor = finished
            self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        await self._run(operation, seq_of_parameters, many=True)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


_SUPPORTED = all(
    hasattr(AsyncAdapt_aiosqlite_cursor, name)
    for name in ("_soft_closed_memoized", "_awaitable_cursor_close", "_execute_async")
) and hasattr(AsyncAdapt_aiosqlite_connection, "_execute_mutex")


def use_one_trip_cursors(dbapi_connection: Any) -> None:
    """Make a freshly opened adapter connection use ``OneTripCursor``."""
    if (
        _SUPPORTED
        and type(dbapi_connection) is AsyncAdapt_aiosqlite_connection
        and hasattr(dbapi_connection._connection, "_execute")
    ):
        dbapi_connection.__class__ = OneTripConnection
