"""What the store tests share: two databases for a transfer, and rows
written straight into a database at an old schema revision, as the
migration tests need them (the models describe the head revision only)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from store.engine import Database

# The columns of ``projects`` from revision 0001 up to 0008.
_OLD_PROJECT = text(
    "INSERT INTO projects (id, name, type, status, owner_id, auto_merge_enabled,"
    " auto_confirm_plans, codebase, dependencies, environment_vars,"
    " deployment_config, state, version, created_at, updated_at) VALUES"
    " (:id, 'Old', 'api', 'active', 'o', false, false, '{}', '[]', '{}', '{}',"
    " '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def raw_id(database: Database, value: uuid.UUID) -> object:
    """An id as a raw statement binds it: hex text on SQLite, a UUID on
    PostgreSQL."""
    return value.hex if database.backend == "sqlite" else value


async def insert_old_project(
    session: AsyncSession, database: Database, project_id: uuid.UUID
) -> None:
    """An active project named ``Old``, as revisions 0001 to 0008 store one."""
    await session.execute(_OLD_PROJECT, {"id": raw_id(database, project_id)})


async def transfer_databases(
    make_database: Callable[[str], Awaitable[Database]], direction: str
) -> tuple[Database, Database]:
    """Fresh source and target databases for a transfer ``direction``
    (``"sqlite->postgresql"``: from a SQLite database to a PostgreSQL one)."""
    source_backend, target_backend = direction.split("->")
    return await make_database(source_backend), await make_database(target_backend)
