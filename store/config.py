"""Where the database is and who is acting: resolved the same way by the
CLI, the app and Alembic's ``env.py``."""

from __future__ import annotations

import contextlib
import getpass
import os
import uuid
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from store import validation
from store.errors import ValidationError

APP_NAME = "projdeck"
DATABASE_URL_ENV = "PROJDECK_DATABASE_URL"
ACTOR_ENV = "PROJDECK_ACTOR"
MACHINE_ENV = "PROJDECK_MACHINE"

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
}


def default_database_path() -> Path:
    """The embedded default: ``projdeck.db`` in the user's data directory."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "projdeck.db"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


def resolve_database_url(option: str | None = None) -> URL:
    """The database URL, first match wins: the ``--db-url`` option,
    ``PROJDECK_DATABASE_URL``, then the SQLite file in the user data dir.

    Plain ``sqlite://`` and ``postgresql://`` URLs are mapped to the async
    drivers projdeck uses (aiosqlite, asyncpg).
    """
    raw = option or os.environ.get(DATABASE_URL_ENV) or default_database_url()
    return normalize_url(raw)


def normalize_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValidationError(
            "database URL",
            "not a URL; use sqlite:///PATH or postgresql://USER@HOST/DB",
        ) from None
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise ValidationError(
            "database URL",
            f"unsupported backend {url.drivername!r}; use sqlite:///PATH or postgresql://...",
        )
    url = url.set(drivername=driver)
    if driver.startswith("postgresql"):
        # libpq's parameters (sslmode=require...), checked now, used on connect.
        from store import pg_params

        pg_params.check(url)
    if driver.startswith("sqlite") and url.database in (None, "", ":memory:"):
        raise ValidationError(
            "database URL", "an in-memory SQLite database cannot be shared; give a file path"
        )
    return url


def describe_url(url: URL) -> str:
    """A short label for headers: the backend and the file or host."""
    if url.get_backend_name() == "sqlite":
        return f"sqlite {url.database}"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"postgresql {url.username or ''}{'@' if url.username else ''}{host}{port}/{url.database or ''}"


def machine_id() -> str:
    """Which machine this is, for what is kept per machine (the repository
    a project is linked to): ``PROJDECK_MACHINE``, else an id made once and
    kept in the user's data directory."""
    given = os.environ.get(MACHINE_ENV, "").strip()
    if given:
        return validation.name(MACHINE_ENV, given, limit=64)
    from platformdirs import user_data_path

    path = user_data_path(APP_NAME, appauthor=False) / "machine-id"
    with contextlib.suppress(FileNotFoundError):
        return validation.name(str(path), path.read_text(encoding="utf-8"), limit=64)
    path.parent.mkdir(parents=True, exist_ok=True)
    made = uuid.uuid4().hex
    written = path.with_name(f".machine-id.{made}")
    written.write_text(made + "\n", encoding="utf-8")
    try:
        # Whole, and only if absent: two processes starting at once keep one id.
        os.link(written, path)
    except FileExistsError:
        made = validation.name(str(path), path.read_text(encoding="utf-8"), limit=64)
    finally:
        written.unlink()
    return made


def current_actor() -> str:
    """Who the audit log names: ``PROJDECK_ACTOR``, else the OS user. The
    name is checked like every other (ValidationError naming the variable)."""
    actor = os.environ.get(ACTOR_ENV, "").strip()
    if actor:
        return validation.name(ACTOR_ENV, actor)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
