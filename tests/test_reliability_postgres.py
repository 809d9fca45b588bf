"""PostgreSQL going away and coming back (played by a proxy we cut): the
CLI says so clearly, a write cut mid-way leaves nothing behind, and the same
open database recovers when the server is back."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from store.engine import open_database
from store.errors import StoreUnavailable
from store.models import AuditEntry, Project
from store.services import projects
from tests.cli import Projdeck
from tests.pg_proxy import PostgresProxy

pytestmark = pytest.mark.postgres


def test_cli_reports_a_stopped_server_and_works_again_when_it_is_back(
    proxied_postgres: tuple[PostgresProxy, URL],
) -> None:
    proxy, url = proxied_postgres
    cli = Projdeck(url, PROJDECK_CONNECT_DELAYS="0.05")
    cli.ok("project", "create", "--name", "before", "--type", "api", "--owner", "o")
    proxy.stop()
    error = cli.fails("project", "create", "--name", "during", "--type", "api", "--owner", "o")
    assert error.startswith(
        "error: cannot reach the database postgresql+asyncpg://postgres@127.0.0.1:"
    )
    assert "after 2 attempts" in error
    proxy.start()
    cli.ok("project", "create", "--name", "after", "--type", "api", "--owner", "o")
    names = [item["name"] for item in cli.json("project", "list")["projects"]]
    assert sorted(names) == ["after", "before"]


async def test_a_cut_connection_fails_the_write_cleanly_and_the_database_recovers(
    proxied_postgres: tuple[PostgresProxy, URL],
) -> None:
    proxy, url = proxied_postgres
    db = await open_database(url, connect_delays=())
    try:
        await projects.create_project_with_settings(
            db, projects.ProjectCreate(name="kept", type="api", owner_id="o")
        )
        await asyncio.to_thread(proxy.stop)
        with pytest.raises(StoreUnavailable, match="cannot use the database"):
            await projects.create_project_with_settings(
                db, projects.ProjectCreate(name="lost", type="api", owner_id="o")
            )
        with pytest.raises(StoreUnavailable):
            await projects.list_projects(db)
        await asyncio.to_thread(proxy.start)
        page = await projects.list_projects(db)
        assert [item.name for item in page.items] == ["kept"]
        async with db.reading() as session:
            audit_rows = await session.scalar(select(func.count()).select_from(AuditEntry))
            project_rows = await session.scalar(select(func.count()).select_from(Project))
        assert (project_rows, audit_rows) == (1, 1)
        await projects.create_project_with_settings(
            db, projects.ProjectCreate(name="again", type="api", owner_id="o")
        )
    finally:
        await db.dispose()
