"""Opening a database: the async engine, per-connection settings, sessions,
and the translation of driver errors into the store's vocabulary."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store.config import mask_url
from store.errors import Conflict, StoreError, StoreUnavailable, ValidationError

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)

# Write transactions on SQLite start with BEGIN IMMEDIATE, so that a writer
# takes the write lock up front (waiting up to busy_timeout) instead of
# failing with "database is locked" when upgrading a read lock mid-way.
_WRITE_OPTION = "projdeck_write"


@dataclass
class PoolOptions:
    """PostgreSQL connection pool: ``PROJDECK_POOL_SIZE``,
    ``PROJDECK_POOL_MAX_OVERFLOW`` and ``PROJDECK_POOL_TIMEOUT`` (seconds)."""

    size: int = 5
    overflow: int = 10
    timeout: float = 30.0

    @classmethod
    def from_env(cls) -> PoolOptions:
        defaults = cls()
        return cls(
            size=_env_number("PROJDECK_POOL_SIZE", defaults.size, int, minimum=1),
            overflow=_env_number("PROJDECK_POOL_MAX_OVERFLOW", defaults.overflow, int, minimum=0),
            timeout=_env_number("PROJDECK_POOL_TIMEOUT", defaults.timeout, float, minimum=0.1),
        )


N = TypeVar("N", int, float)


def connect_delays_from_env() -> tuple[float, ...]:
    """Seconds to wait before each retry of a PostgreSQL connection at
    start-up: ``PROJDECK_CONNECT_DELAYS`` (comma-separated; empty for none)."""
    raw = os.environ.get("PROJDECK_CONNECT_DELAYS")
    if raw is None:
        return POSTGRES_CONNECT_DELAYS
    delays = []
    for part in raw.split(","):
        if not part.strip():
            continue
        try:
            delay = float(part)
        except ValueError:
            raise ValidationError(
                "PROJDECK_CONNECT_DELAYS", f"{part.strip()!r} is not a number"
            ) from None
        if not 0 <= delay <= 600:
            raise ValidationError("PROJDECK_CONNECT_DELAYS", "each delay must be 0-600 seconds")
        delays.append(delay)
    return tuple(delays)


def _env_number(name: str, default: N, kind: type[N], *, minimum: N) -> N:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValidationError(name, f"{raw!r} is not a number") from None
    if value < minimum:
        raise ValidationError(name, f"must be at least {minimum}")
    return value


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how to begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def create_engine_for(
    url: URL, pool: PoolOptions | None = None, *, foreign_keys: bool = True
) -> AsyncEngine:
    """The async engine for ``url`` with projdeck's per-backend settings.

    ``foreign_keys=False`` is for migrations only: SQLite's batch mode copies
    and drops tables, which with foreign keys on would cascade deletes.
    """
    backend = url.get_backend_name()
    if backend == "sqlite":
        assert url.database is not None
        folder = Path(url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(
                f"cannot create the folder {folder} for the database {mask_url(url)}: "
                f"{error.strerror or type(error).__name__}"
            ) from None
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        return engine
    pool = pool or PoolOptions.from_env()
    return create_async_engine(
        url,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout,
        pool_pre_ping=True,
    )


def translate(error: BaseException, url: URL) -> StoreError:
    """A driver error as a message a person can act on (no password, no SQL)."""
    if isinstance(error, StoreError):
        return error
    if isinstance(error, IntegrityError):
        return Conflict(_integrity_message(error))
    if isinstance(error, OperationalError | InterfaceError | OSError):
        detail = _driver_detail(error)
        if "locked" in detail or "busy" in detail:
            return StoreUnavailable(f"the database {mask_url(url)} is busy; try again ({detail})")
        return StoreUnavailable(f"cannot use the database {mask_url(url)}: {detail}")
    if isinstance(error, DBAPIError):
        return StoreUnavailable(f"database error on {mask_url(url)}: {_driver_detail(error)}")
    return StoreUnavailable(f"database error on {mask_url(url)}: {type(error).__name__}")


def _driver_detail(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    line = text[0] if text else type(original).__name__
    # asyncpg prefixes its class; keep the human part.
    return line.split(": ", 1)[-1] if line.startswith("<class") else line


def _integrity_message(error: IntegrityError) -> str:
    detail = _driver_detail(error).lower()
    if "github_owner" in detail or "uq_projects_github_owner_github_repo" in detail:
        return "another project already uses this GitHub repository"
    if "uq_projects_name" in detail or "projects.name" in detail:
        return "a project with this name already exists"
    if "uq_templates_name" in detail or "templates.name" in detail:
        return "a template with this name already exists"
    if "key_name" in detail or "uq_project_secrets" in detail:
        return "this project already has a secret with that name"
    if "foreign key" in detail:
        return "the record refers to something that does not exist"
    return f"the change conflicts with existing data ({_driver_detail(error)})"


@dataclass
class Database:
    """An open database: the engine, its URL, and sessions for reads and writes.

    Services open one ``transaction()`` per user action; everything inside it
    commits together or not at all.
    """

    url: URL
    engine: AsyncEngine
    _write_engine: AsyncEngine = field(init=False)
    _read_sessions: async_sessionmaker[AsyncSession] = field(init=False)
    _write_sessions: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self._write_engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on any error."""
        try:
            async with self._write_sessions() as session, session.begin():
                yield session
        except (DBAPIError, OSError) as error:
            raise translate(error, self.url) from None

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work (a deferred transaction, never committed)."""
        try:
            async with self._read_sessions() as session:
                yield session
        except (DBAPIError, OSError) as error:
            raise translate(error, self.url) from None

    async def ping(self) -> bool:
        """Whether the database answers right now (never raises)."""
        try:
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        except (DBAPIError, OSError):
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


async def open_database(
    url: URL,
    *,
    pool: PoolOptions | None = None,
    connect_delays: Sequence[float] | None = None,
) -> Database:
    """Open ``url`` and check that the server answers.

    PostgreSQL is tried again with exponential back-off (1 s, 2 s, 4 s by
    default) before giving up with a message naming the masked URL.
    """
    if connect_delays is None:
        connect_delays = connect_delays_from_env()
    engine = create_engine_for(url, pool)
    database = Database(url=url, engine=engine)
    attempts = 1 if database.backend == "sqlite" else len(connect_delays) + 1
    last_error: BaseException | None = None
    for attempt in range(attempts):
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
            return database
        except (DBAPIError, OSError) as error:
            last_error = error
            if attempt < attempts - 1:
                await asyncio.sleep(connect_delays[attempt])
    await engine.dispose()
    assert last_error is not None
    detail = _driver_detail(last_error)
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    raise StoreUnavailable(f"cannot reach the database {mask_url(url)}{tries}: {detail}") from None
