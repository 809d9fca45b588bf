"""Opening a database: the async engine, per-connection settings, sessions,
and the translation of driver errors into the store's vocabulary.

One module, over 600 lines, because opening a database and saying why it
failed are one thing: the error messages name the timeouts the engine sets
on each connection (``PostgresTimeouts``), ``open_database`` retries only
the errors ``can_pass`` judges to pass, and every session ``Database`` opens
turns driver errors into the store's words here (``translate``)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib.util
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store.errors import Conflict, NotPermitted, StoreError, StoreUnavailable, ValidationError
from store.progress import OnStep, Step, ignore
from store.redaction import mask_url
from store.team_member import PRIVILEGE_SQLSTATE, REFUSED_SQLSTATE, TeamMember, join_team

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)

# Write transactions on SQLite start with BEGIN IMMEDIATE, so that a writer
# takes the write lock up front (waiting up to busy_timeout) instead of
# failing with "database is locked" when upgrading a read lock mid-way.
_WRITE_OPTION = "projdeck_write"
# Quick reads run without BEGIN: on SQLite each statement is then its own
# transaction, so nothing stays open between reads (see Database.read).
_QUICK_READ_OPTION = "projdeck_quick_read"


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


@dataclass
class PostgresTimeouts:
    """How long a PostgreSQL connection may take to open
    (``PROJDECK_CONNECT_TIMEOUT``) and a statement to run
    (``PROJDECK_STATEMENT_TIMEOUT``), in seconds; 0 turns the statement
    limit off. A frozen server or network then fails a command in bounded
    time instead of holding it for minutes."""

    connect: float = 10.0
    statement: float = 30.0

    @classmethod
    def from_env(cls) -> PostgresTimeouts:
        defaults = cls()
        return cls(
            connect=_env_number("PROJDECK_CONNECT_TIMEOUT", defaults.connect, float, minimum=0.1),
            statement=_env_number(
                "PROJDECK_STATEMENT_TIMEOUT", defaults.statement, float, minimum=0.0
            ),
        )

    def connect_args(self) -> dict[str, Any]:
        """asyncpg's: the server cancels a statement past the limit; the
        client gives up a little later, for when the server cannot say so
        (the network is down or the server frozen)."""
        args: dict[str, Any] = {"timeout": self.connect}
        if self.statement:
            args["command_timeout"] = self.statement + _CLIENT_GRACE_SECONDS
            args["server_settings"] = {"statement_timeout": str(int(self.statement * 1000))}
        return args


# How much longer than the server's statement limit the client waits.
_CLIENT_GRACE_SECONDS = 5.0

N = TypeVar("N", int, float)
T = TypeVar("T")


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


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool, read_only: bool = False) -> None:
    from store.sqlite_compiler import HintingSQLiteCompiler
    from store.sqlite_cursor import use_one_trip_cursors

    engine.sync_engine.dialect.statement_compiler = HintingSQLiteCompiler

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        use_one_trip_cursors(dbapi_connection)
        # Let SQLAlchemy's "begin" event, not the driver, decide how to begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not read_only:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if not read_only:
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(_QUICK_READ_OPTION):
            return
        if options.get(_WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _create_sqlite_file(path: Path, url: URL) -> None:
    """A new database file, readable by its owner only (it holds secrets'
    ciphertexts and webhook URLs) and never seen empty: made under a hidden
    name with its header written, then linked into place (a first run that
    loses the race to another uses the other's)."""
    import sqlite3

    from store.outputs import partial_beside

    try:
        with partial_beside(path) as partial:
            connection = sqlite3.connect(partial)
            try:
                connection.execute("PRAGMA journal_mode=WAL")
            finally:
                connection.close()
            try:
                os.link(partial, path)
            except FileExistsError:
                pass
            except OSError:
                # A file system without hard links.
                if not path.exists():
                    os.replace(partial, path)
    except (OSError, sqlite3.Error) as error:
        detail = getattr(error, "strerror", None) or str(error)
        raise StoreUnavailable(f"cannot create the database {mask_url(url)}: {detail}") from None


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
        path = Path(url.database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(
                f"cannot create the folder {path.parent} for the database {mask_url(url)}: "
                f"{error.strerror or type(error).__name__}"
            ) from None
        try:
            size: int | None = path.stat().st_size
        except FileNotFoundError:
            size = None
        except OSError:
            size = -1  # SQLite says what is wrong when it opens it
        if size is None:
            _create_sqlite_file(path, url)
        elif size == 0:
            # Not made by projdeck (which writes the header first): a file
            # truncated or replaced by something else. SQLite would quietly
            # start a new workspace in it, hiding that the old one is gone.
            raise StoreUnavailable(
                f"the database file {path} is empty (0 bytes): it holds no workspace, and "
                "projdeck does not start a new one in its place unasked. To start afresh, "
                f"remove it (rm '{path}') and run projdeck again; to bring back a backup, "
                "remove it, then run: projdeck restore BACKUP"
            )
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # Every way in ends its transaction itself (a session's commit or
            # rollback, a connection's close): the pool's own ROLLBACK on
            # each return would be one more trip to the driver's thread.
            pool_reset_on_return=None,
        )
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        return engine
    pool = pool or PoolOptions.from_env()
    if importlib.util.find_spec("asyncpg") is None:
        # PostgreSQL's driver is an extra: the SQLite default needs none.
        raise StoreUnavailable(
            f"cannot use the database {mask_url(url)}: PostgreSQL needs its driver, "
            "which is not installed; install projdeck with it: pip install 'projdeck[postgres]'"
        )
    from store import pg_params

    connect_args = PostgresTimeouts.from_env().connect_args()
    given = pg_params.connect_args(url)
    settings = {**connect_args.get("server_settings", {}), **given.pop("server_settings", {})}
    connect_args.update(given)
    if settings:
        connect_args["server_settings"] = settings
    return create_async_engine(
        # asyncpg takes the URL's libpq parameters as the arguments above.
        url.set(query={}),
        connect_args=connect_args,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout,
        pool_pre_ping=True,
    )


# What a refused privilege on a table means, in words.
_DENIED_TABLES = {
    "project_secrets": "read or change secret values",
    "audit_log": "change the audit log",
    "projects": "change projects",
    "project_settings": "change project settings",
    "modifications": "change modifications",
}


def _refusal(error: BaseException, member: TeamMember | None) -> NotPermitted | None:
    """A team database's refusal (a trigger's, or a privilege not granted) in words."""
    original = getattr(error, "orig", None) or error
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if state == REFUSED_SQLSTATE:
        return NotPermitted(_driver_detail(error))
    if state != PRIVILEGE_SQLSTATE:
        return None
    detail = _driver_detail(error)
    who = member.describe() if member is not None else "the connected role"
    denied = detail.rsplit(" ", 1)[-1] if " for table " in detail else ""
    what = _DENIED_TABLES.get(denied, f"change {denied}" if denied else "do this")
    return NotPermitted(f"{who} may not {what} ({detail})")


def translate(error: BaseException, url: URL, member: TeamMember | None = None) -> StoreError:
    """A driver error as a message a person can act on (no password, no SQL);
    ``member``: who a team database is open as, named in a refusal."""
    if isinstance(error, StoreError):
        return error
    refused = _refusal(error, member)
    if refused is not None:
        return refused
    if isinstance(error, IntegrityError):
        return Conflict(_integrity_message(error))
    timeout = _timeout_detail(error)
    if timeout is not None:
        return StoreUnavailable(f"cannot use the database {mask_url(url)}: {timeout}")
    if isinstance(error, OperationalError | InterfaceError | OSError):
        detail = _driver_detail(error)
        if "locked" in detail or "busy" in detail:
            return StoreUnavailable(f"the database {mask_url(url)} is busy; try again ({detail})")
        return StoreUnavailable(f"cannot use the database {mask_url(url)}: {detail}")
    if isinstance(error, DBAPIError):
        return StoreUnavailable(f"database error on {mask_url(url)}: {_driver_detail(error)}")
    return StoreUnavailable(f"database error on {mask_url(url)}: {type(error).__name__}")


def driver_failure(error: BaseException, url: URL) -> StoreError | None:
    """``error`` as the store's words if it came from the database driver or
    the connection to the server (SQLAlchemy, sqlite3, asyncpg, a reset or
    timed-out socket), else None: what a command's last line of defence
    uses, for errors no service translated (a server lost in the middle of
    an export, a damaged SQLite file under a backup)."""
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(error, SQLAlchemyError | ConnectionError | TimeoutError):
        return translate(error, url)
    if isinstance(error, sqlite3.Error) or type(error).__module__.split(".")[0] == "asyncpg":
        return StoreUnavailable(f"database error on {mask_url(url)}: {_driver_detail(error)}")
    return None


def _timeout_detail(error: BaseException) -> str | None:
    """What went past which PostgreSQL time limit, if one did."""
    original = getattr(error, "orig", None) or error
    limits = PostgresTimeouts.from_env()
    if "statement timeout" in str(original):
        return f"the statement ran longer than {limits.statement:g} s (PROJDECK_STATEMENT_TIMEOUT)"
    if isinstance(original, TimeoutError):
        waited = limits.statement + _CLIENT_GRACE_SECONDS
        return (
            f"no answer within {waited:g} s (PROJDECK_STATEMENT_TIMEOUT is {limits.statement:g} s)"
        )
    return None


# SQLSTATEs of a connection that may succeed a moment later: the server is
# starting up, has no connection slot free, or lost the connection.
_PASSING_SQLSTATES = frozenset({"57P03", "53300", "08000", "08001", "08003", "08006"})
_PASSING_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT, errno.EPIPE}
)


def can_pass(error: BaseException) -> bool:
    """Whether a failure to connect may pass if tried again soon: refused,
    reset, timed out, or a server starting up or full. A database that does
    not exist, a refused role or password, or a host name that does not
    resolve will not, and is not worth waiting for."""
    original = getattr(error, "orig", None) or error
    state = getattr(original, "sqlstate", None)
    if isinstance(state, str):
        return state in _PASSING_SQLSTATES
    if isinstance(original, TimeoutError | ConnectionError):
        return True
    if isinstance(original, socket.gaierror):
        return False
    if isinstance(original, OSError):
        if original.errno is not None:
            return original.errno in _PASSING_ERRNOS
        # asyncio joins the failures of every address of a host in one
        # OSError without an errno ("Multiple exceptions: [Errno 111] ...").
        return "Connect call failed" in str(original)
    return False


def _connect_detail(error: BaseException) -> str:
    if isinstance(getattr(error, "orig", None) or error, TimeoutError):
        limit = PostgresTimeouts.from_env().connect
        return f"no answer within {limit:g} s (PROJDECK_CONNECT_TIMEOUT)"
    return _driver_detail(error)


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
    commits together or not at all. Short reads on hot paths (a project by
    id, a page of a list) go through ``read()``, which reuses one connection.

    Every way in is safe to cancel (the app cancels workers whose result is
    no longer wanted): a cancelled call never leaves a connection inside a
    transaction or a statement; the clean-up it starts runs to its end.
    """

    url: URL
    engine: AsyncEngine
    _write_engine: AsyncEngine = field(init=False)
    _quick_engine: AsyncEngine = field(init=False)
    _read_sessions: async_sessionmaker[AsyncSession] = field(init=False)
    _write_sessions: async_sessionmaker[AsyncSession] = field(init=False)
    # The connection quick reads reuse, and whether a read is using it now.
    _reader: AsyncConnection | None = field(default=None, init=False)
    # The session reads on the kept connection share; emptied after each.
    _reader_session: AsyncSession | None = field(default=None, init=False)
    _reader_busy: bool = field(default=False, init=False)
    # Reads and clean-ups (closing a session or a connection) still running;
    # dispose waits for them.
    _cleanups: set[asyncio.Task[Any]] = field(default_factory=set, init=False)
    # Who a team database (PostgreSQL after ``projdeck team init``) is open
    # as; None for any other.
    team: TeamMember | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        if self.backend == "sqlite":
            self._quick_engine = self.engine.execution_options(**{_QUICK_READ_OPTION: True})
        else:
            self._quick_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
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
        """One write transaction: committed on success, rolled back on any error.

        Once the work is done the commit runs to its end even if the caller
        is cancelled meanwhile (the caller then sees the cancellation, and
        the change is made)."""
        session = self._write_sessions()
        try:
            try:
                yield session
            except BaseException:
                await self._finish(session.close())
                raise
            await self._finish(self._commit_and_close(session))
        except (DBAPIError, OSError) as error:
            raise translate(error, self.url, self.team) from None

    @staticmethod
    async def _commit_and_close(session: AsyncSession) -> None:
        try:
            await session.commit()
        finally:
            await session.close()

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work: its statements see one snapshot (a
        deferred transaction, never committed)."""
        session = self._read_sessions()
        try:
            try:
                yield session
            finally:
                await self._finish(session.close())
        except (DBAPIError, OSError) as error:
            raise translate(error, self.url, self.team) from None

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work``, a short read (one statement or a few), and return its
        result: the light path for hot reads.

        The session is bound to a connection kept open between reads, in
        autocommit: each statement sees what was committed when it started,
        and no transaction stays open between reads (other connections'
        writes are seen, nothing blocks them). Core selects can use
        ``await session.connection()`` directly. A read that arrives while
        the kept connection is busy uses a pooled connection instead of
        waiting. A read that fails drops its connection; one that finds the
        kept connection dead (a server restart) runs once more on a fresh one.

        The read runs in a task of its own: cancelling the caller does not
        interrupt a statement half-way; the read ends in the background and
        its result is dropped.
        """
        task = asyncio.ensure_future(self._read(work))
        self._cleanups.add(task)
        task.add_done_callback(self._read_done)
        return await asyncio.shield(task)

    def _read_done(self, task: asyncio.Task[Any]) -> None:
        self._cleanups.discard(task)
        if not task.cancelled():
            # Retrieved here too, in case its caller was cancelled.
            task.exception()

    async def _read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        for attempt in range(2):
            kept = not self._reader_busy
            reused = kept and self._reader is not None
            connection: AsyncConnection | None = None
            if kept:
                self._reader_busy = True
            try:
                if not kept:
                    connection = await self._quick_engine.connect()
                elif self._reader is None:
                    connection = self._reader = await self._quick_engine.connect()
                else:
                    connection = self._reader
                if not connection.in_transaction():
                    # No BEGIN reaches the database (autocommit); the session
                    # joins this and never ends it, so reads add no round trips.
                    await connection.begin()
                if kept:
                    # One session for the kept connection, emptied after each
                    # read (what it loaded leaves it, as on closing): making
                    # and closing a session cost about as much as the read.
                    if self._reader_session is None:
                        self._reader_session = AsyncSession(bind=connection, expire_on_commit=False)
                    shared = self._reader_session
                    try:
                        result = await work(shared)
                    finally:
                        shared.expunge_all()
                        if not shared.is_active:
                            # A failed statement left it needing a rollback.
                            self._reader_session = None
                            await shared.close()
                else:
                    session = AsyncSession(bind=connection, expire_on_commit=False)
                    try:
                        result = await work(session)
                    finally:
                        await session.close()
            except StoreError:
                await self._release(connection, kept)
                raise
            except BaseException as error:
                # The connection may be broken: drop it; the next read opens a fresh one.
                await self._drop(connection, kept)
                if (
                    attempt == 0
                    and reused
                    and isinstance(error, DBAPIError)
                    and error.connection_invalidated
                ):
                    continue
                if isinstance(error, DBAPIError | OSError):
                    raise translate(error, self.url, self.team) from None
                raise
            await self._release(connection, kept)
            return result
        raise AssertionError("unreachable")

    async def _release(self, connection: AsyncConnection | None, kept: bool) -> None:
        if kept:
            self._reader_busy = False
        elif connection is not None:
            await connection.close()

    async def _drop(self, connection: AsyncConnection | None, kept: bool) -> None:
        if kept:
            self._reader_busy = False
            if self._reader is connection:
                self._reader = None
                session, self._reader_session = self._reader_session, None
                await quietly(None if session is None else session.close)
        if connection is not None:
            await _discard(connection)

    def _start_cleanup(self, cleanup: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(cleanup)
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        return task

    async def _finish(self, cleanup: Coroutine[Any, Any, None]) -> None:
        """Await ``cleanup`` in a task of its own: cancelling the caller
        (again) does not interrupt it half-way."""
        await asyncio.shield(self._start_cleanup(cleanup))

    async def ping(self) -> bool:
        """Whether the database answers right now (never raises)."""
        try:
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        except (DBAPIError, OSError):
            return False
        return True

    async def dispose(self) -> None:
        if self.team is not None:
            from store import config

            if config.database_actor() == self.team.login:
                config.use_database_actor(None)
        # Reads still running end first, then the connection they share.
        while self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)
        reader, self._reader = self._reader, None
        session, self._reader_session = self._reader_session, None
        await quietly(
            None if session is None else session.close,
            None if reader is None else reader.close,
        )
        await self.engine.dispose()


async def quietly(*closes: Callable[[], Awaitable[object]] | None) -> None:
    """Run each of ``closes`` there is, in order, whatever the ones before
    raised: closing what may be dead already (a dropped connection, a
    session on it) has nothing to say about it."""
    for close in closes:
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


async def _discard(connection: AsyncConnection) -> None:
    await quietly(connection.invalidate, connection.close)


async def open_database(
    url: URL,
    *,
    pool: PoolOptions | None = None,
    connect_delays: Sequence[float] | None = None,
    on_step: OnStep = ignore,
) -> Database:
    """Open ``url`` and check that the server answers.

    PostgreSQL is tried again with exponential back-off (1 s, 2 s, 4 s by
    default) while the failure is one that can pass (the server refused,
    reset or did not answer the connection, or is starting up), each wait
    told to ``on_step``; one that cannot (no such database, a role or
    password refused, an unknown host) fails at once with its reason.
    """
    if connect_delays is None:
        connect_delays = connect_delays_from_env()
    engine = create_engine_for(url, pool)
    database = Database(url=url, engine=engine)
    attempts = 1 if database.backend == "sqlite" else len(connect_delays) + 1
    last_error: BaseException | None = None
    tried = 0
    for attempt in range(attempts):
        tried = attempt + 1
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
                if database.backend == "postgresql":
                    database.team = await join_team(connection)
            return database
        except (DBAPIError, OSError) as error:
            last_error = error
            if not can_pass(error):
                break
            if attempt < attempts - 1:
                delay = connect_delays[attempt]
                on_step(
                    Step(
                        f"cannot reach the database {mask_url(url)}: {_connect_detail(error)}; "
                        f"trying again in {delay:g} s (attempt {attempt + 2} of {attempts})"
                    )
                )
                await asyncio.sleep(delay)
    await engine.dispose()
    assert last_error is not None
    detail = _connect_detail(last_error)
    tries = f" after {tried} attempts" if tried > 1 else ""
    raise StoreUnavailable(f"cannot reach the database {mask_url(url)}{tries}: {detail}") from None


def open_read_only(url: URL, *, timeout: float = 2.0) -> Database | None:
    """``url`` opened for a quick look that changes nothing (shell
    completion): a SQLite file opened read-only and never created (None when
    there is none), a PostgreSQL server in read-only sessions whose
    connection and statements wait at most ``timeout`` seconds. Nothing is
    checked or retried: the first read says whether it answers."""
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        path = Path(url.database).expanduser().resolve()
        if not path.is_file() or path.stat().st_size == 0:
            return None
        # Read-only, SQLite still makes the -wal and -shm files of a WAL
        # database when they are missing (and leaves them): without a -wal
        # file every change is in the database file, read as immutable.
        wal = path.with_name(path.name + "-wal")
        how = {"mode": "ro"} if wal.exists() else {"mode": "ro", "immutable": "1"}
        target = URL.create(
            url.drivername, database=f"file:{quote(str(path))}", query={**how, "uri": "true"}
        )
        engine = create_async_engine(
            target, connect_args={"timeout": timeout}, pool_reset_on_return=None
        )
        _configure_sqlite(engine, foreign_keys=True, read_only=True)
        return Database(url=url, engine=engine)
    if importlib.util.find_spec("asyncpg") is None:
        return None
    from store import pg_params

    given = pg_params.connect_args(url)
    settings = {
        **given.pop("server_settings", {}),
        "default_transaction_read_only": "on",
        "statement_timeout": str(int(timeout * 1000)),
    }
    engine = create_async_engine(
        url.set(query={}),
        connect_args={**given, "timeout": timeout, "server_settings": settings},
        pool_size=1,
        max_overflow=0,
        pool_timeout=timeout,
    )
    return Database(url=url, engine=engine)
