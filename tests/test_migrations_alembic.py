"""pytest-alembic's standard checks, on SQLite and PostgreSQL: a single
head, upgrade through every revision, up/down consistency, and models that
match what the migrations build."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.config import Config
from pytest_alembic.tests import (  # noqa: F401  (collected as tests here)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from store import migrate
from store.engine import Database, create_engine_for
from store.services.audit import AuditQuery, list_audit, verify_chain
from tests.conftest import run_blocking


@pytest.fixture
def alembic_config() -> Config:
    ini, scripts = migrate._locations()
    config = Config(str(ini))
    config.set_main_option("script_location", str(scripts))
    config.attributes["quiet_logging"] = True
    return config


@pytest.fixture
def alembic_engine(empty_database_url: URL) -> Iterator[Any]:
    # pytest-alembic runs each step in a new event loop: no pooled
    # connection may outlive one (asyncpg's are bound to their loop).
    if empty_database_url.get_backend_name() == "sqlite":
        engine = create_engine_for(empty_database_url, foreign_keys=False)
    else:
        engine = create_async_engine(empty_database_url, poolclass=NullPool)
    try:
        yield engine
    finally:
        run_blocking(engine.dispose())


# The audit log and, on SQLite, its full-text index (one row per audit row).
AUDIT_TABLES = {"audit_log", "audit_log_fts"}


async def _counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync))
        counts = {}
        # FTS5's own storage (audit_log_fts_data, ...) grows by segments, not rows.
        tables = {name for name in names if not name.startswith("audit_log_fts_")}
        for name in sorted(tables - {"alembic_version"}):
            result = await connection.execute(text(f'SELECT count(*) FROM "{name}"'))
            counts[name] = int(result.scalar_one())
    return counts


async def test_downgrading_and_upgrading_a_demo_workspace_keeps_every_row(
    database: Database,
) -> None:
    from store.demo import fill_demo

    await fill_demo(database)
    at_head = await _counts(database)
    assert at_head["projects"] >= 10 and at_head["audit_log"] >= 100
    revisions = [info.revision for info in migrate.history()]  # newest first
    for older in revisions[1:]:
        # Each migration step adds its own audit row and nothing else changes.
        await migrate.downgrade(database, older)
        before_upgrade = await _counts(database)
        for table, count in before_upgrade.items():
            assert count == at_head[table] + (table in AUDIT_TABLES), (older, table)
        await migrate.upgrade(database)
        after = await _counts(database)
        for table, count in before_upgrade.items():
            assert after[table] == count + (table in AUDIT_TABLES), (older, table)
        at_head = after
    chain = await verify_chain(database)
    assert chain.ok, chain.problem
    events = {
        entry.event_type for entry in (await list_audit(database, AuditQuery(), limit=10)).items
    }
    assert {"schema.upgraded", "schema.downgraded"} <= events
