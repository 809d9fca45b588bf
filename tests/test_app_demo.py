"""The demo workspace: varied, deterministic, with an intact audit chain;
and the cache that lets ``projdeck --demo`` open fast."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from store import crypto
from store.demo import fill_demo
from store.demo_cache import CACHE_MAX_AGE_SECONDS, DemoCache
from store.engine import Database
from store.errors import Conflict
from store.models import AuditEntry, Modification, ModificationStatus, Project, ProjectStatus
from store.services.audit import verify_chain
from tests.app_support import FIXED_NOW, TEST_KEY
from tests.store_support import opened


@pytest.fixture(autouse=True)
def fixed_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(crypto.SECRET_KEY_ENV, TEST_KEY)


async def _picture(db: Database) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    async with db.reading() as session:
        projects = [
            (row.name, str(row.status), row.updated_at.isoformat())
            for row in (
                await session.execute(select(Project).order_by(col(Project.name)))
            ).scalars()
        ]
        entries = [
            (entry.at.isoformat(), entry.event_type)
            for entry in (
                await session.execute(select(AuditEntry).order_by(col(AuditEntry.id)))
            ).scalars()
        ]
    return projects, entries


async def test_demo_fills_every_status_with_an_intact_chain(database: Database) -> None:
    summary = await fill_demo(database, now=FIXED_NOW)
    assert summary.projects == 12 and summary.modifications >= 40
    assert summary.audit_rows >= 200 and summary.templates >= 5
    async with database.reading() as session:
        statuses = {m.status for m in (await session.execute(select(Modification))).scalars()}
        projects = {p.status for p in (await session.execute(select(Project))).scalars()}
        newest = (
            await session.execute(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(1))
        ).scalar_one()
    assert statuses == set(ModificationStatus)
    assert projects == set(ProjectStatus)
    assert newest.at <= FIXED_NOW
    report = await verify_chain(database)
    assert report.ok and report.verified == summary.audit_rows


async def test_demo_is_the_same_every_time(database: Database, demo_database_file: Path) -> None:
    from store.config import normalize_url

    await fill_demo(database, now=FIXED_NOW)
    async with opened(normalize_url(f"sqlite:///{demo_database_file}")) as other:
        assert await _picture(database) == await _picture(other)


async def test_demo_refuses_a_database_that_holds_data(database: Database) -> None:
    await fill_demo(database, now=FIXED_NOW)
    with pytest.raises(Conflict, match="empty database"):
        await fill_demo(database, now=FIXED_NOW)


async def test_cache_gives_back_a_fresh_copy_and_its_key(
    sqlite_database: Database, tmp_path: Path
) -> None:
    cache = DemoCache(tmp_path / "cache")
    assert cache.copy_to(tmp_path / "none.db") is None
    await cache.save(sqlite_database, TEST_KEY)
    assert (cache.folder / "demo.key").stat().st_mode & 0o777 == 0o600
    assert cache.copy_to(tmp_path / "copy.db") == TEST_KEY
    assert (tmp_path / "copy.db").stat().st_size > 0
    old = time.time() - CACHE_MAX_AGE_SECONDS - 60
    os.utime(cache.folder / "demo.db", (old, old))
    assert cache.copy_to(tmp_path / "stale.db") is None
