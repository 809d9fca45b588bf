"""Alembic environment for projdeck (async).

The URL is resolved as the app resolves it (``-x db_url=...`` standing in for
``--db-url``). When projdeck runs a command itself it hands over an open
connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

import asyncio
import logging.config
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store import models
from store.config import resolve_database_url

config = context.config
if config.config_file_name is not None and not config.attributes.get("quiet_logging"):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = models.SQLModel.metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # GIN indexes (PostgreSQL) and the audit search tables (SQLite) are managed
    # by hand in revisions.
    return not models.managed_by_hand(name, type_)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )


def do_run_migrations(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    option = context.get_x_argument(as_dictionary=True).get("db_url") or config.get_main_option(
        "sqlalchemy.url"
    )
    url = resolve_database_url(option or None)
    if url.get_backend_name() == "sqlite":
        from store.engine import create_engine_for

        engine = create_engine_for(url, foreign_keys=False)
    else:
        engine = create_async_engine(url)
    try:
        await run_with_engine(engine)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    option = context.get_x_argument(as_dictionary=True).get("db_url")
    url = resolve_database_url(option)
    context.configure(
        url=url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_engine(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
        await connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    # projdeck hands over an open connection; pytest-alembic an async engine.
    given = config.attributes.get("connection")
    if given is None:
        asyncio.run(run_async_migrations())
    elif isinstance(given, AsyncEngine):
        asyncio.run(run_with_engine(given))
    else:
        do_run_migrations(given)
