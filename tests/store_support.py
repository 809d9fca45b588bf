"""What the store tests share: a database open for a block, two databases
for a transfer, a codebase after changes, the audit log as rows, raw
statements, and rows written straight into a database at an old schema
revision, as the migration tests need them (the models describe the head
revision only)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from store.engine import Database, open_database
from store.models import AuditEntry
from store.repositories.audit import AuditFilter, AuditRepository
from store.services import templates
from store.services.projects import ProjectConfig

# The columns of ``projects`` from revision 0001 up to 0008.
_OLD_PROJECT = text(
    "INSERT INTO projects (id, name, type, status, owner_id, auto_merge_enabled,"
    " auto_confirm_plans, codebase, dependencies, environment_vars,"
    " deployment_config, state, version, created_at, updated_at) VALUES"
    " (:id, 'Old', 'api', 'active', 'o', false, false, '{}', '[]', '{}', '{}',"
    " '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


@contextlib.asynccontextmanager
async def opened(url: URL) -> AsyncIterator[Database]:
    """The database at ``url``, open for the block and disposed of after it."""
    db = await open_database(url)
    try:
        yield db
    finally:
        await db.dispose()


def with_files(
    codebase: Mapping[str, str | None], *changes: Mapping[str, str | None]
) -> dict[str, str]:
    """What a codebase holds once each change is written over it in turn
    (None deletes), worked out without the store."""
    result = dict(codebase)
    for files in changes:
        result.update(files)
    return {path: content for path, content in result.items() if content is not None}


async def audit_rows(db: Database, project_id: uuid.UUID | None = None) -> list[AuditEntry]:
    """The audit log, newest first (500 rows at most); one project's rows
    when ``project_id`` is given."""
    async with db.reading() as session:
        return await AuditRepository(session).list(AuditFilter(project_id=project_id), limit=500)


async def execute(db: Database, statement: str, **params: object) -> None:
    """A raw statement in a transaction of its own: what no service would
    write (damage, old rows, another writer's change)."""
    async with db.engine.begin() as connection:
        await connection.execute(text(statement), params)


def raw_id(database: Database, value: uuid.UUID) -> object:
    """An id as a raw statement binds it: hex text on SQLite, a UUID on
    PostgreSQL."""
    return value.hex if database.backend == "sqlite" else value


async def insert_old_project(
    session: AsyncSession, database: Database, project_id: uuid.UUID
) -> None:
    """An active project named ``Old``, as revisions 0001 to 0008 store one."""
    await session.execute(_OLD_PROJECT, {"id": raw_id(database, project_id)})


# A transfer's source and target databases (the ``transfer`` fixture).
Transfer = tuple[Database, Database]


async def transfer_databases(
    make_database: Callable[[str], Awaitable[Database]], direction: str
) -> tuple[Database, Database]:
    """Fresh source and target databases for a transfer ``direction``
    (``"sqlite->postgresql"``: from a SQLite database to a PostgreSQL one)."""
    source_backend, target_backend = direction.split("->")
    return await make_database(source_backend), await make_database(target_backend)


async def project_from_template(
    db: Database, template: str, name: str, owner: str, **values: str
) -> ProjectConfig:
    """A project made from the built-in ``template`` (the library seeded
    first, which changes nothing when it is there), ``values`` its variables."""
    await templates.seed_builtin_templates(db)
    return await templates.create_project_from_template(
        db, template, templates.TemplateProjectCreate(name=name, owner_id=owner, values=values)
    )
