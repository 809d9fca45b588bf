"""Being told of other processes' writes on PostgreSQL, instead of asking.

Every write's transaction sends a notification on ``CHANNEL`` (``record``
in store/audit.py does, with the audit row's id and project); PostgreSQL
delivers it when the transaction commits and drops it on a rollback. A
``ChangeListener`` keeps one connection of its own (a one-connection engine
beside the database's pool, opened with the same settings), listens on the
channel and hands each notification to a callback; when that connection
ends (a server restart, an administrator's ``pg_terminate_backend``) it
says so once, through another callback, and listens no more: its owner
falls back to polling and may start a new listener later.

SQLite has nothing like it: ``ChangeProbe`` (store/services/changes.py)
is asked on a timer there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.engine import (
    Database,
    PoolOptions,
    create_engine_for,
    driver_failure,
    quietly,
    translate,
)

CHANNEL = "projdeck_changes"


@dataclass(frozen=True)
class Notice:
    """One committed write, as its notification tells it: the audit row's id
    and the project it concerns (None where the write did not say, or the
    payload was not projdeck's: anyone connected may notify the channel)."""

    audit_id: int | None = None
    project_id: uuid.UUID | None = None


def payload(audit_id: int | None, project_id: uuid.UUID | None) -> str:
    """A notification's text: a few dozen bytes (PostgreSQL allows 8000)."""
    return json.dumps(
        {"audit": audit_id, "project": None if project_id is None else str(project_id)},
        separators=(",", ":"),
    )


def read_payload(text: str) -> Notice:
    try:
        fields = json.loads(text)
        audit_id = fields.get("audit")
        project = fields.get("project")
        return Notice(
            audit_id=audit_id if isinstance(audit_id, int) else None,
            project_id=uuid.UUID(project) if isinstance(project, str) else None,
        )
    except (ValueError, AttributeError, TypeError):
        return Notice()


class ChangeListener:
    """``on_notice`` is called with every notification received, ``on_lost``
    once with the reason when the connection ends while listening (not on
    ``close()``). Both are called on the event loop and must not block."""

    def __init__(
        self,
        db: Database,
        on_notice: Callable[[Notice], None],
        on_lost: Callable[[str], None],
    ) -> None:
        if db.backend != "postgresql":
            raise ValueError("only PostgreSQL delivers notifications")
        self._db = db
        self._on_notice = on_notice
        self._on_lost = on_lost
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        self._listening = False

    @property
    def listening(self) -> bool:
        """Whether notifications arrive now."""
        return self._listening

    async def start(self) -> None:
        """Open the connection and listen; a failure is the store's
        ``StoreUnavailable`` (nothing is left open)."""
        self._engine = create_engine_for(self._db.url, PoolOptions(size=1, overflow=0))
        try:
            connection = await self._engine.connect()
            self._connection = connection
            # No transaction ever opens on it: a listening session inside
            # one would hold notifications back until it ended.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            driver: Any = (await connection.get_raw_connection()).driver_connection
            driver.add_termination_listener(self._terminated)
            await driver.add_listener(CHANNEL, self._received)
        except BaseException as error:
            await self.close()
            # The driver's own errors too: LISTEN is asked of it directly.
            failure = driver_failure(error, self._db.url)
            if failure is None and isinstance(error, OSError):
                failure = translate(error, self._db.url)
            if failure is None:
                raise
            raise failure from None
        self._listening = True

    def _received(self, _connection: Any, _pid: int, _channel: str, text: str) -> None:
        self._on_notice(read_payload(text))

    def _terminated(self, _connection: Any) -> None:
        if not self._listening:
            return
        self._listening = False
        self._on_lost(f"the connection listening for changes on {self._db.masked_url} ended")

    async def close(self) -> None:
        self._listening = False
        connection, self._connection = self._connection, None
        engine, self._engine = self._engine, None
        await quietly(
            None if connection is None else connection.close,
            None if engine is None else engine.dispose,
        )
