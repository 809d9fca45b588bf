"""The app on a PostgreSQL server that goes away (a proxy we cut) and comes
back: the lost connection is shown, not thrown, and the app recovers."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import URL
from textual.widgets import DataTable, Input

from store.services import projects
from tests.pg_proxy import PostgresProxy
from tests.store_support import opened
from tui.app import ProjdeckApp

pytestmark = pytest.mark.postgres


async def _until(condition: object, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.1)


async def test_the_app_shows_a_lost_connection_and_recovers(
    proxied_postgres: tuple[PostgresProxy, URL],
) -> None:
    proxy, url = proxied_postgres
    async with opened(url) as db:
        for name in ("alpha", "beta"):
            await projects.create_project_with_settings(
                db, projects.ProjectCreate(name=name, type="api", owner_id="o")
            )
    app = ProjdeckApp(url, label="team db")
    async with app.run_test(size=(120, 30)) as pilot:
        await _until(
            lambda: (
                app.ready
                and app.screen.query(DataTable)
                and app.screen.query_one(DataTable).row_count == 2
            )
        )
        await asyncio.to_thread(proxy.stop)
        await pilot.press("slash", "b")
        await _until(lambda: app.is_connection_lost)
        assert "connection lost" in app.sub_title
        assert app.is_running
        await asyncio.to_thread(proxy.start)
        await _until(lambda: not app.is_connection_lost)
        assert app.sub_title == "team db"
        await _until(lambda: app.screen.query_one(DataTable).row_count == 1)
        assert app.screen.query_one("#project-filter", Input).value == "b"
