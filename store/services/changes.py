"""A cheap "has anything changed?" check, for screens that refresh
themselves when another process (an agent using the CLI) writes.

Every service write adds an audit row in its transaction, so the highest
audit id moves with every committed change. On SQLite the probe also reads
``PRAGMA data_version`` on a connection it keeps for itself: the value moves
whenever any other connection commits, whatever it wrote. The pragma is only
comparable on one connection, hence the kept connection.

On PostgreSQL the app is also told of each write as it commits
(store/notify.py) and asks the probe when told, and now and then in case a
notification was missed.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from store.engine import Database, translate
from store.models import AuditEntry

ChangeToken = tuple[int, int]


class ChangeProbe:
    """Tokens that differ when the database changed between two calls.

    Open it once per screen or app (``async with ChangeProbe(db) as probe``)
    and call ``token()`` or ``changed()`` on a timer; each call is one short
    read on the kept connection."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._connection: AsyncConnection | None = None
        self._last: ChangeToken | None = None
        self._reading: asyncio.Task[ChangeToken] | None = None

    async def __aenter__(self) -> ChangeProbe:
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def token(self) -> ChangeToken:
        """(data_version on SQLite else 0, highest audit id).

        The read runs in a task of its own, so cancelling the caller (the
        app does, at exit) never leaves the kept connection half-way through
        it, and ``close()`` waits for it instead of closing the connection
        under it (which made SQLAlchemy warn "transaction already
        deassociated from connection")."""
        reading = asyncio.ensure_future(self._read_token())
        reading.add_done_callback(_retrieve)
        self._reading = reading
        return await asyncio.shield(reading)

    async def _read_token(self) -> ChangeToken:
        try:
            if self._connection is None:
                self._connection = await self._db.engine.connect()
            async with self._connection.begin():
                version = 0
                if self._db.backend == "sqlite":
                    version = int(
                        (await self._connection.execute(text("PRAGMA data_version"))).scalar_one()
                    )
                query = select(func.max(col(AuditEntry.id)))
                last_audit = (await self._connection.execute(query)).scalar_one_or_none()
        except (DBAPIError, OSError) as error:
            await self._close_connection()
            raise translate(error, self._db.url) from None
        return version, int(last_audit or 0)

    async def changed(self) -> bool:
        """True when the database changed since the previous call (the first
        call only takes the reading and says False)."""
        current = await self.token()
        previous, self._last = self._last, current
        return previous is not None and previous != current

    async def close(self) -> None:
        reading, self._reading = self._reading, None
        if reading is not None and not reading.done():
            await asyncio.wait([reading])
        await self._close_connection()

    async def _close_connection(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()


def _retrieve(task: asyncio.Task[ChangeToken]) -> None:
    # Its caller may have been cancelled: the error is read here so it is
    # not reported as never retrieved.
    if not task.cancelled():
        task.exception()
