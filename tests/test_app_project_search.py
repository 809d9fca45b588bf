"""The Projects screen's filter finding projects by what they contain
(``dep:``, ``stack:``, ``file:``), driven by keys under Pilot against a copy
of the demo database."""

from __future__ import annotations

from sqlalchemy.engine import URL
from textual.widgets import DataTable, Static

from store.services import projects as project_service
from tests.app_support import column, press, running_app, text_of
from tests.store_support import opened
from tui.screens.help import HelpScreen
from tui.screens.projects import ProjectsScreen


async def test_the_filter_finds_projects_by_dependency_stack_and_file(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        table = app.screen.query_one(DataTable)
        status = app.screen.query_one("#projects-status", Static)
        await press(pilot, "slash", *"dep:FastAPI")
        assert column(table, "name") == ["Billing API"]
        assert text_of(status).startswith("1 project (active)")
        await press(pilot, "ctrl+u", *"stack:react")
        assert column(table, "name") == ["Storefront Web"]
        await press(pilot, "ctrl+u", *"file:*.go")
        assert sorted(column(table, "name")) == ["Auth Gateway", "Inventory Service"]
        # Combined with the text filter, and with each other.
        await press(pilot, "ctrl+u", *"file:*.go gateway")
        assert column(table, "name") == ["Auth Gateway"]
        await press(pilot, "ctrl+u", *"inventory file:*.go dep:jackc/pgx")
        assert column(table, "name") == ["Inventory Service"]
        # Archived projects shown (A): Docs Site's mkdocs is found too.
        await press(pilot, "ctrl+u", *"dep:mkdocs", "enter", "A")
        assert column(table, "name") == ["Docs Site"]
        await press(pilot, "A", "slash", "escape")
        assert table.row_count == 9


async def test_a_filter_that_cannot_be_searched_says_why_and_lists_nothing(
    demo_url: URL,
) -> None:
    async with running_app(demo_url) as (app, pilot):
        table = app.screen.query_one(DataTable)
        status = app.screen.query_one("#projects-status", Static)
        await press(pilot, "slash", *"dep:fastapi>=1")
        assert table.row_count == 0
        assert text_of(status).startswith("filter: dependency: 'fastapi>=1' is not a package name")
        # A word still being typed (dep: alone) is not an error.
        await press(pilot, "ctrl+u", *"billing dep:")
        assert column(table, "name") == ["Billing API"]
        await press(pilot, "ctrl+u", *"file:/src")
        assert table.row_count == 0 and "relative to the project" in text_of(status)
        await press(pilot, "escape")
        assert table.row_count == 9 and text_of(status).startswith("9 projects (active)")


async def test_the_projects_help_explains_the_filter(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        notes = text_of(app.screen.query_one("#help-notes", Static))
        for words in ("dep:fastapi", "stack:react", "file:src/*.py", "fastapi>=0.110"):
            assert words in notes
        await press(pilot, "escape")
        assert isinstance(app.screen, ProjectsScreen)


async def test_the_filter_sees_a_dependency_changed_by_another_process(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        table = app.screen.query_one(DataTable)
        await press(pilot, "slash", *"dep:httpx")
        assert table.row_count == 0
        async with opened(demo_url) as db:
            await project_service.update_project(
                db, "deckctl", {"dependencies": ["clap", "HTTPX>=0.27"]}
            )
        await press(pilot, "ctrl+u", *"dep:httpx")
        assert column(table, "name") == ["deckctl"]
