"""The Audit screen's filters driven by keys under Pilot, against a real
SQLite copy of the demo database: the project and actor pickers look names
up as you type, and the log shows what the store says matches."""

from __future__ import annotations

from sqlalchemy.engine import URL
from textual.widgets import DataTable, OptionList, Static

from store.services.audit import AuditQuery, list_audit
from tests.app_support import (
    column,
    press,
    running_app,
    text_of,
)
from tests.store_support import opened
from tui.screens.audit import AuditScreen
from tui.widgets.pick import PickScreen


def offered(screen: object) -> list[str]:
    assert isinstance(screen, PickScreen)
    return [str(option.prompt) for option in screen.query_one(OptionList).options]


async def test_audit_screen_filters_by_a_project_and_an_actor_picked_by_typing(
    demo_url: URL,
) -> None:
    async with opened(demo_url) as db:
        expected = await list_audit(db, AuditQuery(project="Metrics Pipeline"), limit=500)
        by_ci = await list_audit(db, AuditQuery(project="Metrics Pipeline", actor="ci"), limit=500)
    assert 0 < by_ci.total < expected.total
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "4")
        await press(pilot, "p")
        assert isinstance(app.screen, PickScreen)
        names = offered(app.screen)
        assert names[0] == "any project" and "Metrics Pipeline" in names
        await press(pilot, *"metrics")
        names = offered(app.screen)
        assert names == ["Metrics Pipeline"]
        await press(pilot, "enter")
        assert isinstance(app.screen, AuditScreen)
        assert "Metrics Pipeline" in text_of(app.screen.query_one("#audit-project", Static))
        status = text_of(app.screen.query_one("#audit-status", Static))
        assert status.startswith(f"{expected.total} matching rows")
        assert "Project  Metrics Pipeline" in text_of(app.screen.query_one("#audit-entry", Static))
        # The actor picker offers the names starting with what is typed.
        await press(pilot, "a", "c")
        names = offered(app.screen)
        assert "ci" in names and all(name.startswith("c") for name in names)
        await press(pilot, "i")
        names = offered(app.screen)
        assert names == ["ci"]
        await press(pilot, "enter")
        table = app.screen.query_one(DataTable)
        assert set(column(table, "actor")) == {"ci"}
        status = text_of(app.screen.query_one("#audit-status", Static))
        assert status.startswith(f"{by_ci.total} matching row")
        # Escape in the picker keeps the filter; backspace on the field clears it.
        await press(pilot, "a", "escape")
        assert set(column(table, "actor")) == {"ci"}
        await press(pilot, "backspace")
        status = text_of(app.screen.query_one("#audit-status", Static))
        assert status.startswith(f"{expected.total} matching rows")
        await press(pilot, "escape")
        assert text_of(app.screen.query_one("#audit-project", Static)).strip() == "project"
