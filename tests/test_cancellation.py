"""Reads and writes cancelled half-way, as the app cancels a worker whose
answer is no longer wanted (a newer keystroke, a screen left): the
database keeps working, nothing is half-written, and SQLAlchemy has
nothing to warn about."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import warnings
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.exc import SAWarning

from store.engine import Database
from store.errors import Conflict
from store.repositories.projects import ProjectFilter
from store.services import audit as audit_service
from store.services import projects
from store.services.browse import list_project_rows
from tests.store_support import opened


async def _cancel_half_way(
    work: Callable[[], Awaitable[object]], rng: random.Random, *, twice: bool
) -> None:
    task = asyncio.ensure_future(work())
    await asyncio.sleep(rng.random() * 0.004)
    task.cancel()
    if twice:
        # Cancelled again while it cleans up after the first.
        await asyncio.sleep(0)
        task.cancel()
    # A write whose commit had begun finishes; the next one may then find
    # the project at a newer version than it read.
    with contextlib.suppress(asyncio.CancelledError, Conflict):
        await task


async def _still_works(database: Database, ref: str) -> None:
    """Reads and writes work, and agree; every update made has its audit row
    on an unbroken chain."""
    before = await projects.get_project(database, ref)
    updated = await projects.update_project(
        database, ref, {"test_coverage": 42.0}, expected_version=before.version
    )
    assert updated.version == before.version + 1
    assert (await projects.get_project(database, ref)).test_coverage == 42.0
    [row] = (await list_project_rows(database, ProjectFilter())).items
    assert row.test_coverage == 42.0
    report = await audit_service.verify_chain(database)
    assert report.ok, report.problem


async def test_quick_reads_cancelled_half_way_leave_nothing_behind(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    created = await projects.create_project_with_settings(
        database, projects.ProjectCreate(name="cancelled", type="api", owner_id="o")
    )
    ref = str(created.project.id)
    rng = random.Random(8)
    reads: list[Callable[[], Awaitable[object]]] = [
        lambda: projects.get_project(database, ref),
        lambda: list_project_rows(database, ProjectFilter()),
        lambda: projects.list_projects(database),
    ]
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(100):
            await _cancel_half_way(rng.choice(reads), rng, twice=rng.random() < 0.5)
        await _still_works(database, ref)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, SAWarning)] == []
    # Not a statement was cut: no connection was closed in a hurry, no
    # driver future was left with an error nobody read.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_reads_and_writes_in_sessions_cancelled_half_way_leave_the_database_working(
    database: Database,
) -> None:
    created = await projects.create_project_with_settings(
        database, projects.ProjectCreate(name="cancelled", type="api", owner_id="o")
    )
    ref = str(created.project.id)
    rng = random.Random(8)

    async def update() -> None:
        current = await projects.get_project(database, ref)
        await projects.update_project(
            database, ref, {"test_coverage": rng.randint(0, 100)}, expected_version=current.version
        )

    async def read_in_a_session() -> None:
        async with database.reading() as session:
            await projects.resolve_project(session, ref)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(100):
            # A statement cut half-way makes SQLAlchemy drop its connection
            # (on PostgreSQL asyncpg logs the closed connection's futures).
            await _cancel_half_way(
                rng.choice([update, read_in_a_session]), rng, twice=rng.random() < 0.3
            )
        await _still_works(database, ref)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, SAWarning)] == []


async def test_a_quick_read_sees_what_another_connection_committed_since(
    database: Database,
) -> None:
    await projects.create_project_with_settings(
        database, projects.ProjectCreate(name="first", type="api", owner_id="o")
    )
    assert (await list_project_rows(database, ProjectFilter())).total == 1
    # Another open database: another process, as far as connections go.
    async with opened(database.url) as other:
        await projects.create_project_with_settings(
            other, projects.ProjectCreate(name="second", type="api", owner_id="o")
        )
        # The reading connection kept no snapshot from the first read.
        assert (await list_project_rows(database, ProjectFilter())).total == 2
        assert (await projects.get_project(database, "second")).name == "second"
        # Nor does it hold anything that keeps the other from writing.
        await projects.update_project(other, "first", {"owner_id": "p"}, expected_version=1)
        assert (await projects.get_project(database, "first")).owner_id == "p"


async def test_a_change_probe_closed_while_a_cancelled_check_ends_raises_nothing(
    database: Database,
) -> None:
    from store.services.changes import ChangeProbe

    rng = random.Random(8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(60):
            # The app at exit: the live refresh's check is cancelled while
            # the probe is closed.
            probe = ChangeProbe(database)
            await probe.token()
            task = asyncio.ensure_future(probe.token())
            await asyncio.sleep(rng.random() * 0.003)
            task.cancel()
            await probe.close()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, SAWarning)] == []
    async with ChangeProbe(database) as probe:
        assert not await probe.changed()
