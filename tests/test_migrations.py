"""The schema: migrations go up, down and up again, agree with the models,
and leave the per-connection settings in force."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL

from store import migrate
from store.engine import Database
from tests.store_support import opened


async def test_upgrade_downgrade_upgrade_round_trip(empty_database_url: URL) -> None:
    async with opened(empty_database_url) as database:
        assert await migrate.current_revision(database) is None
        assert await migrate.upgrade(database) == migrate.HEAD_REVISION
        assert await migrate.downgrade(database, "base") is None
        async with database.engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync))
        assert set(tables) <= {"alembic_version"}
        assert await migrate.upgrade(database) == migrate.HEAD_REVISION
        assert await migrate.check(database) == []


def test_head_constant_matches_the_migration_scripts() -> None:
    assert migrate.head_revisions() == [migrate.HEAD_REVISION]


async def test_models_and_migrations_agree(database: Database) -> None:
    assert await migrate.check(database) == []


async def test_stamp_moves_the_recorded_revision(database: Database) -> None:
    assert await migrate.stamp(database, "base") is None
    assert await migrate.stamp(database, "head") == migrate.HEAD_REVISION


async def test_sqlite_connections_use_wal_and_foreign_keys(sqlite_database: Database) -> None:
    async with sqlite_database.reading() as session:
        journal = (await session.execute(text("PRAGMA journal_mode"))).scalar_one()
        foreign_keys = (await session.execute(text("PRAGMA foreign_keys"))).scalar_one()
        busy = (await session.execute(text("PRAGMA busy_timeout"))).scalar_one()
        synchronous = (await session.execute(text("PRAGMA synchronous"))).scalar_one()
    assert journal == "wal"
    assert foreign_keys == 1
    assert busy == 5000
    assert synchronous == 1  # NORMAL


def test_history_lists_the_initial_revision() -> None:
    revisions = migrate.history()
    assert [r.revision for r in revisions][-1] == "0001"
    assert revisions[0].is_head


async def test_gin_indexes_exist_on_postgresql_only(database: Database) -> None:
    from store.models import POSTGRES_GIN_INDEXES

    async with database.engine.connect() as connection:
        names = await connection.run_sync(
            lambda sync: {
                index["name"]
                for table in ("projects", "templates", "modifications", "audit_log")
                for index in sync.dialect.get_indexes(sync, table)
            }
        )
    expected = set(POSTGRES_GIN_INDEXES)
    if database.backend == "postgresql":
        assert expected <= names
    else:
        assert not expected & names
    assert {"ix_projects_owner_status_updated", "ix_audit_log_project_at"} <= names


def test_plain_alembic_with_the_repository_ini_upgrades_a_database(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PROJDECK_DATABASE_URL": f"sqlite:///{tmp_path / 'plain.db'}"}
    script = Path(sys.executable).with_name("alembic")

    def alembic(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), "-c", str(root / "alembic.ini"), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )

    result = alembic("upgrade", "head")
    assert result.returncode == 0, result.stderr
    assert "Running upgrade  -> 0001" in result.stderr
    check = alembic("check")
    assert check.returncode == 0, check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
