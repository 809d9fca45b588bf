"""Opening a workspace for the app or the CLI: the schema brought to head
where that is allowed, and a brand-new default database given the built-in
template library, so a newcomer's first run has something to start from."""

from __future__ import annotations

from pathlib import Path

from store.config import default_database_path
from store.engine import Database
from store.migrate import ensure_schema
from store.progress import OnStep, Step, ignore


def is_default_database(db: Database) -> bool:
    if db.backend != "sqlite" or db.url.database is None:
        return False
    return Path(db.url.database).expanduser().resolve() == default_database_path().resolve()


async def prepare_database(db: Database, *, on_step: OnStep = ignore) -> None:
    """SQLite is upgraded on the spot, PostgreSQL must already be at head
    (SchemaOutOfDate names the command otherwise); a default database that
    was just created gets the built-in templates. Each step is told to
    ``on_step`` before it starts."""
    created = await ensure_schema(db, auto_upgrade=db.backend == "sqlite", on_step=on_step)
    if created and is_default_database(db):
        from store.services.templates import seed_builtin_templates

        on_step(Step("Adding the built-in templates…"))

        await seed_builtin_templates(db, actor="projdeck")
