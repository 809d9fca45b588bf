"""Shared fixtures: one parametrized ``database`` fixture that gives every
store test a fresh, migrated database on SQLite and, when
``PROJDECK_TEST_POSTGRES_URL`` is set, on PostgreSQL too. The fixtures of
tests/app_support.py (the demo database) and tests/git_support.py (git
isolation, a repository) serve every module without being imported."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import URL, make_url

from store.config import normalize_url
from store.engine import Database, open_database
from tests.store_support import Transfer, opened, transfer_databases

POSTGRES_ENV = "PROJDECK_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "PROJDECK_REQUIRE_POSTGRES"
BACKENDS = ["sqlite", "postgresql"]
T = TypeVar("T")

pytest_plugins = ["tests.app_support", "tests.git_support"]


@pytest.fixture(scope="session", autouse=True)
def private_config_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test reads or writes the person's config.toml (theme, keymap,
    database URL): PROJDECK_CONFIG points at a file of the session's own,
    absent until a test writes it; the commands run in subprocesses inherit it."""
    path = tmp_path_factory.mktemp("config") / "config.toml"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROJDECK_CONFIG", str(path))
        for name in ("THEME", "DIFF_STYLE", "EDITOR", "PAGER", "LIVE_REFRESH_SECONDS"):
            patch.delenv(f"PROJDECK_{name}", raising=False)
        yield path


@pytest.fixture(autouse=True)
def private_key_file(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own master-key file; none touches the user's config dir."""
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    monkeypatch.setenv("PROJDECK_KEY_FILE", str(path))
    monkeypatch.delenv("PROJDECK_SECRET_KEY", raising=False)
    monkeypatch.delenv("PROJDECK_SECRET_KEY_PREVIOUS", raising=False)
    # Nor its data dir's machine id (repository links are per machine).
    monkeypatch.setenv("PROJDECK_MACHINE", "test-machine")
    # Nor its cache dir's scratch folders (test runs of modifications).
    monkeypatch.setenv("PROJDECK_SCRATCH_DIR", str(tmp_path_factory.mktemp("scratch")))
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if any("postgresql" in str(params.get(name, "")) for name in ("backend", "direction")):
            item.add_marker(pytest.mark.postgres)


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when called from
    inside a running event loop (fixtures asked for lazily by async tests)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def postgres_server_url() -> URL | None:
    raw = os.environ.get(POSTGRES_ENV)
    if not raw:
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {POSTGRES_ENV} is not")
        return None
    return make_url(raw)


def _postgres_execute(url: URL, *statements: str) -> None:
    """Run statements on a PostgreSQL database outside any test's event loop."""

    import asyncpg

    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    run_blocking(run())


@contextlib.contextmanager
def _scratch_postgres_database(server: URL, prefix: str) -> Iterator[URL]:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = server.set(database="postgres")
    _postgres_execute(admin, f'CREATE DATABASE "{name}"')
    try:
        yield normalize_url(server.set(database=name).render_as_string(hide_password=False))
    finally:
        _postgres_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[URL | None]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    server = postgres_server_url()
    if server is None:
        yield None
        return
    with _scratch_postgres_database(server, "projdeck_test") as url:
        yield url


def _migrate(url: URL) -> None:
    """Bring the database at ``url`` to head, outside any test's event loop."""
    from store import migrate

    async def build() -> None:
        async with opened(url) as database:
            await migrate.upgrade(database)

    run_blocking(build())


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(normalize_url(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_database_url: URL | None) -> URL | None:
    if postgres_database_url is None:
        return None
    _migrate(postgres_database_url)
    return postgres_database_url


def truncate_all(url: URL) -> None:
    from sqlmodel import SQLModel

    import store.models  # noqa: F401  (registers every table)

    names = ", ".join(table.name for table in SQLModel.metadata.sorted_tables)
    _postgres_execute(url, f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql" and postgres_server_url() is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    return name


@pytest.fixture
def database_url(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> URL:
    """The URL of an empty, migrated database for one test."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite_template")
        target = tmp_path / "projdeck.db"
        shutil.copyfile(template, target)
        return normalize_url(f"sqlite:///{target}")
    url: URL = request.getfixturevalue("migrated_postgres_url")
    truncate_all(url)
    return url


@pytest.fixture
async def database(database_url: URL) -> AsyncIterator[Database]:
    async with opened(database_url) as db:
        yield db


@pytest.fixture
def empty_database_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[URL]:
    """A URL of a database with no tables at all (for migration tests)."""
    if backend == "sqlite":
        yield normalize_url(f"sqlite:///{tmp_path / 'empty.db'}")
        return
    server = postgres_server_url()
    assert server is not None
    with _scratch_postgres_database(server, "projdeck_empty") as url:
        yield url


@pytest.fixture
def sqlite_file(migrated_sqlite_template: Path, tmp_path: Path) -> Path:
    """A fresh, migrated SQLite file, projdeck.db in the test's folder, for
    tests that need one backend only."""
    target = tmp_path / "projdeck.db"
    shutil.copyfile(migrated_sqlite_template, target)
    return target


@pytest.fixture
async def sqlite_database(sqlite_file: Path) -> AsyncIterator[Database]:
    """A fresh, migrated SQLite database, for tests of SQLite's own behaviour."""
    async with opened(normalize_url(f"sqlite:///{sqlite_file}")) as db:
        yield db


@pytest.fixture
async def make_database(
    tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[[str], Awaitable[Database]]]:
    """Open one more fresh, migrated database of the given backend (for tests
    that move data between two). Closed at the end of the test."""
    made: list[Database] = []

    async def make(backend: str) -> Database:
        if backend == "postgresql" and postgres_server_url() is None:
            pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
        if backend == "sqlite":
            template: Path = request.getfixturevalue("migrated_sqlite_template")
            target = tmp_path / f"extra-{len(made)}.db"
            shutil.copyfile(template, target)
            url = normalize_url(f"sqlite:///{target}")
        else:
            url = request.getfixturevalue("migrated_postgres_url")
            truncate_all(url)
        db = await open_database(url)
        made.append(db)
        return db

    yield make
    for db in made:
        await db.dispose()


@pytest.fixture
async def transfer(direction: str, make_database: Callable[[str], Awaitable[Database]]) -> Transfer:
    """Fresh source and target databases for the ``direction`` the test
    parametrizes (``"sqlite->postgresql"``: from SQLite to PostgreSQL)."""
    return await transfer_databases(make_database, direction)


@pytest.fixture
def proxied_postgres(request: pytest.FixtureRequest) -> Iterator[tuple[Any, URL]]:
    """The test PostgreSQL database behind a proxy the test can cut and
    restore (tests/pg_proxy.py), and the URL that goes through it."""
    from tests.pg_proxy import proxy_for

    if postgres_server_url() is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    database_url: URL = request.getfixturevalue("migrated_postgres_url")
    truncate_all(database_url)
    with proxy_for(database_url.host or "127.0.0.1", database_url.port or 5432) as proxy:
        yield proxy, database_url.set(host="127.0.0.1", port=proxy.port)


def _finer_idle_steps() -> None:
    """Pilot waits for the app to look idle after each key by sleeping in
    steps of 20 ms (textual._wait); every app test settles on workers and
    short timers itself (tests.screenshots.settle), so steps of 5 ms halve
    the app tests' time without loosening what they wait for."""
    import textual._wait

    textual._wait.SLEEP_GRANULARITY = 0.005
    textual._wait.SLEEP_IDLE = textual._wait.SLEEP_GRANULARITY / 20


_finer_idle_steps()
