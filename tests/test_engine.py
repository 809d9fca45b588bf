"""Opening databases: locking on SQLite, reaching PostgreSQL, schema checks."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from store import migrate
from store.config import normalize_url
from store.engine import Database, PoolOptions, can_pass, create_engine_for, open_database
from store.errors import SchemaOutOfDate, StoreUnavailable, ValidationError
from store.progress import Step
from store.services import projects as service
from tests.conftest import POSTGRES_ENV, postgres_server_url
from tests.store_support import opened


async def test_sqlite_write_waits_for_a_reader_in_another_process_instead_of_failing(
    sqlite_database: Database,
) -> None:
    database = sqlite_database
    await service.create_project_with_settings(
        database, service.ProjectCreate(name="p", type="api", owner_id="a")
    )
    path = database.url.database
    assert path is not None
    # Another connection holds a read transaction and a pending write lock for a moment.
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("SELECT count(*) FROM projects").fetchone()

    async def release_later() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    started = time.monotonic()
    releaser = asyncio.create_task(release_later())
    updated = await service.update_project(database, "p", {"owner_id": "b"}, expected_version=1)
    await releaser
    other.close()
    assert updated.owner_id == "b"
    assert time.monotonic() - started >= 0.25


async def test_sqlite_reader_does_not_block_a_writer(sqlite_database: Database) -> None:
    database = sqlite_database
    await service.create_project_with_settings(
        database, service.ProjectCreate(name="p", type="api", owner_id="a")
    )
    async with database.reading() as session:
        await service.resolve_project(session, "p")  # a read transaction stays open
        updated = await service.update_project(database, "p", {"owner_id": "b"}, expected_version=1)
    assert updated.version == 2


async def test_unreachable_postgres_is_reported_with_the_masked_url() -> None:
    url = normalize_url("postgresql://ops:hunter2-secret@127.0.0.1:1/nowhere")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        await open_database(url, connect_delays=(0.01, 0.02, 0.04))
    message = str(raised.value)
    assert "hunter2-secret" not in message
    assert "ops:***@127.0.0.1:1/nowhere" in message
    assert "after 4 attempts" in message
    assert time.monotonic() - started < 5


async def test_each_retry_of_an_unreachable_server_is_told_before_its_wait() -> None:
    url = normalize_url("postgresql://ops:hunter2-secret@127.0.0.1:1/nowhere")
    steps: list[Step] = []
    with pytest.raises(StoreUnavailable):
        await open_database(url, connect_delays=(0.01, 0.02), on_step=steps.append)
    assert [step.what.rsplit("(", 1)[1] for step in steps] == ["attempt 2 of 3)", "attempt 3 of 3)"]
    assert "trying again in 0.01 s" in steps[0].what
    assert all("hunter2-secret" not in step.what for step in steps)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "saying"),
    [
        ({"database": "projdeck_no_such_database"}, "does not exist"),
        ({"username": "projdeck_no_such_role"}, "projdeck_no_such_role"),
    ],
    ids=["no such database", "no such role"],
)
async def test_a_failure_that_cannot_pass_is_not_retried(
    change: dict[str, str], saying: str
) -> None:
    """A database that does not exist or a role the server refuses fails at
    once with the server's reason, instead of after a minute of retries."""
    server = postgres_server_url()
    if server is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    url = normalize_url(server.set(**change).render_as_string(hide_password=False))
    steps: list[Step] = []
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        await open_database(url, connect_delays=(5.0, 5.0), on_step=steps.append)
    assert time.monotonic() - started < 4
    assert steps == []
    message = str(raised.value)
    assert saying in message and "attempts" not in message


def test_only_refused_reset_timed_out_or_starting_connections_can_pass() -> None:
    import errno
    import socket

    class DriverError(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    passing = [
        ConnectionRefusedError(errno.ECONNREFUSED, "refused"),
        ConnectionResetError(errno.ECONNRESET, "reset"),
        TimeoutError(),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432, 0, 0)"),
        DriverError("57P03"),  # the database system is starting up
        DriverError("53300"),  # too many connections
    ]
    lasting = [
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        OSError(errno.EACCES, "permission denied"),
        DriverError("3D000"),  # no such database
        DriverError("28P01"),  # wrong password
        DriverError("28000"),  # role refused
        ValueError("not a connection problem"),
    ]
    assert [can_pass(error) for error in passing] == [True] * len(passing)
    assert [can_pass(error) for error in lasting] == [False] * len(lasting)


async def test_sqlite_database_folder_is_created_and_schema_upgraded(tmp_path: Path) -> None:
    url = normalize_url(f"sqlite:///{tmp_path / 'deep' / 'er' / 'projdeck.db'}")
    async with opened(url) as database:
        await migrate.ensure_schema(database, auto_upgrade=True)
        assert await migrate.current_revision(database) == migrate.HEAD_REVISION


async def test_a_database_behind_is_not_migrated_without_permission(
    empty_database_url: URL,
) -> None:
    async with opened(empty_database_url) as database:
        with pytest.raises(SchemaOutOfDate, match="db upgrade"):
            await migrate.ensure_schema(database, auto_upgrade=False)
        assert await migrate.current_revision(database) is None


def test_pool_options_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJDECK_POOL_SIZE", "12")
    monkeypatch.setenv("PROJDECK_POOL_MAX_OVERFLOW", "0")
    options = PoolOptions.from_env()
    assert (options.size, options.overflow, options.timeout) == (12, 0, 30.0)
    engine = create_engine_for(normalize_url("postgresql://u@127.0.0.1/db"))
    assert engine.pool.size() == 12  # type: ignore[attr-defined]
    monkeypatch.setenv("PROJDECK_POOL_SIZE", "many")
    with pytest.raises(ValidationError, match="PROJDECK_POOL_SIZE: 'many' is not a number"):
        PoolOptions.from_env()


async def test_a_new_default_database_gets_the_built_in_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store.config import default_database_url
    from store.services.startup import prepare_database
    from store.services.templates import list_templates

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    async with opened(normalize_url(default_database_url())) as database:
        assert str(tmp_path / "data") in str(database.url.database)
        await prepare_database(database)
        first = await list_templates(database)
        assert first.total >= 8
        await prepare_database(database)
        assert (await list_templates(database)).total == first.total
    async with opened(normalize_url(f"sqlite:///{tmp_path / 'elsewhere.db'}")) as other:
        await prepare_database(other)
        assert (await list_templates(other)).total == 0


async def test_sqlite_connections_run_each_statement_in_one_trip(sqlite_database: Database) -> None:
    """The one-trip cursor (store/sqlite_cursor.py) is the one in use: a
    SQLAlchemy upgrade that changes the adapter's internals it leans on
    fails here, instead of silently losing the speed the benchmarks report."""
    from sqlalchemy.engine import Connection

    from store.sqlite_cursor import OneTripConnection, OneTripCursor

    trips = 0

    def run(connection: Connection) -> None:
        nonlocal trips
        adapter = connection.connection.dbapi_connection
        assert isinstance(adapter, OneTripConnection)
        inner = adapter._connection  # aiosqlite's: each call is a trip to its thread
        queue_call = inner._execute

        async def counted(*args: object, **kwargs: object) -> object:
            nonlocal trips
            trips += 1
            return await queue_call(*args, **kwargs)

        inner._execute = counted
        try:
            cursor = adapter.cursor()
            assert isinstance(cursor, OneTripCursor)
            cursor.execute("SELECT count(*) FROM projects")
            assert cursor.fetchone() == (0,)
            cursor.close()
        finally:
            inner._execute = queue_call

    async with sqlite_database.engine.connect() as connection:
        await connection.run_sync(run)
    # Open, execute, fetch and close: one trip (the adapter's own cursor makes four).
    assert trips == 1
