"""A project made from a template in the app, by keyboard only: the form
built from the template's variables, its inline errors, the preview of the
rendered files, the confirmation, then the database read back through the
services."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import URL
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, Static, Tree

from store.errors import NotFound
from store.services import projects as project_service
from store.services.audit import AuditQuery, list_audit
from store.services.templates import import_template, project_template_origin
from tests.app_support import (
    open_project,
    press,
    running_app,
)
from tests.store_support import opened, project_from_template
from tui.screens.confirm import ConfirmScreen
from tui.screens.project_detail import ProjectDetailScreen
from tui.screens.template_form import TemplateProjectForm
from tui.screens.templates import TemplatesScreen
from tui.widgets.codebase import FileBrowser


def text_of(widget: Static) -> str:
    console = Console(width=200, record=True)
    console.print(widget.content)
    return console.export_text()


def error_of(form: TemplateProjectForm, wid: str) -> str:
    line = form.query_one(f"#error-{wid}", Static)
    return text_of(line).strip() if line.display else ""


async def open_form(pilot: Pilot[None], template: str) -> TemplateProjectForm:
    """From the projects list: Templates, filter to one template, ``c``."""
    await press(pilot, "2")
    await press(pilot, "slash", *template, "enter")
    await press(pilot, "c")
    form = pilot.app.screen
    assert isinstance(form, TemplateProjectForm)
    assert form.template == template
    return form


async def typed(pilot: Pilot[None], *keys: str) -> None:
    await press(pilot, *keys)


async def test_create_a_project_from_a_template_by_keyboard(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        form = await open_form(pilot, "fastapi-service")
        # Defaults are filled and typed: text, a whole number, a choice.
        assert form.query_one("#var-1", Input).value == "A FastAPI service."
        assert form.query_one("#var-2", Input).value == "8000"
        assert form.query_one("#var-3", Select).value == "3.12"
        assert "Port uvicorn listens on." in text_of(form.query_one("#help-var-2", Static))
        # Nothing to render yet: the required project_name is empty, but an
        # untouched field is not shouted at.
        assert error_of(form, "var-0") == ""
        assert not form.query_one(FileBrowser).files

        await pilot.press(*"Billing Svc", "tab", *"alice", "tab", "tab")
        await typed(pilot, *"Bad Name")
        assert "does not match the pattern" in error_of(form, "var-0")
        assert not form.query_one(FileBrowser).files

        # An integer field takes digits only.
        await pilot.press("tab", "tab")
        await typed(pilot, "end", "x", "1")
        assert form.query_one("#var-2", Input).value == "80001"

        await pilot.press("shift+tab", "shift+tab")
        await typed(pilot, *["backspace"] * len("Bad Name"), *"billing-svc")
        assert error_of(form, "var-0") == ""
        preview = form.query_one(FileBrowser)
        assert "billing-svc" in "".join(preview.files.values())
        assert "80001" in "".join(preview.files.values())

        # Browse the rendered files: the highlighted one shows highlighted.
        await press(pilot, "ctrl+r")
        await press(pilot, "ctrl+t")
        assert isinstance(app.focused, Tree)
        await press(pilot, "down", "down")
        shown = text_of(preview.query_one(".file-content", Static))
        assert shown.strip()

        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Billing Svc" in text_of(app.screen.query_one("#confirm-question", Static))
        await press(pilot, "y")
        assert isinstance(app.screen, ProjectDetailScreen)
        assert "Billing Svc" in text_of(app.screen.query_one("#project-title", Static))

    async with opened(demo_url) as db:
        config = await project_service.get_project_full_config(db, "Billing Svc")
        project = config.project
        assert project.owner_id == "alice"
        assert set(project.codebase) == set(preview.files)
        assert any("billing-svc" in content for content in project.codebase.values())
        assert config.settings.setup_commands
        origin = await project_template_origin(db, "Billing Svc")
        assert origin is not None and origin.name == "fastapi-service"
        assert origin.values["project_name"] == "billing-svc" and origin.values["port"] == 80001
        assert origin.values["python_version"] == "3.12"
        rows = await list_audit(db, AuditQuery(project="Billing Svc", event_type="project.created"))
        assert rows.total == 1
        assert "fastapi-service" in rows.items[0].description


async def created_projects(url: URL) -> int:
    async with opened(url) as db:
        return (await list_audit(db, AuditQuery(event_type="project.created"), limit=1)).total


async def test_nothing_is_saved_until_every_field_is_valid(demo_url: URL) -> None:
    before = await created_projects(demo_url)
    async with running_app(demo_url) as (app, pilot):
        form = await open_form(pilot, "go-microservice")
        # Create with nothing filled: every required variable is marked.
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, TemplateProjectForm)
        assert error_of(form, "var-0").startswith("is required")
        assert error_of(form, "var-1").startswith("is required")
        assert "Nothing was saved" in error_of(form, "form")

        # Variables right, but the project's name taken and GitHub malformed.
        await pilot.press(*"Billing API", "tab", *"bob", "tab", *"nope", "tab")
        await pilot.press(*"orders", "tab", *"github.com/acme/orders")
        await press(pilot, "ctrl+s")
        assert "is not OWNER/REPO" in error_of(form, "github")
        assert isinstance(app.screen, TemplateProjectForm)

        await pilot.press("shift+tab", "shift+tab")
        await pilot.press(*["backspace"] * 4)
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "y")
        assert isinstance(app.screen, TemplateProjectForm)
        assert "already exists" in error_of(form, "name")

        # Cancelled (what was typed is lost, so it asks): back to the
        # templates, nothing stored.
        await press(pilot, "escape")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "n")
        assert app.screen is form
        await press(pilot, "escape")
        await press(pilot, "y")
        assert isinstance(app.screen, TemplatesScreen)

    async with opened(demo_url) as db:
        try:
            await project_service.get_project(db, "orders")
        except NotFound:
            pass
        else:
            raise AssertionError("a project was stored from an invalid form")
    assert await created_projects(demo_url) == before


async def test_the_palette_offers_a_new_project_from_each_template(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "ctrl+p", *"new project from template static")
        await press(pilot, "enter")
        assert isinstance(app.screen, TemplateProjectForm)
        assert app.screen.template == "static-site"


async def test_boolean_and_choice_variables_take_their_own_fields(
    demo_url: URL, tmp_path: Path
) -> None:
    folder = tmp_path / "flagged"
    (folder / "files").mkdir(parents=True)
    (folder / "template.json").write_text(
        json.dumps(
            {
                "name": "flagged",
                "description": "A template with a switch and a required choice.",
                "category": "web",
                "project_type": "web_app",
                "complexity": "simple",
                "estimated_setup_time": 1,
                "tech_stack": ["html"],
                "tags": ["test"],
                "dependencies": [],
                "setup_commands": [],
                "variables": [
                    {"name": "dark", "type": "boolean", "help": "Dark theme.", "default": False},
                    {"name": "size", "type": "choice", "help": "Page size.", "choices": ["s", "l"]},
                ],
            }
        ),
        encoding="utf-8",
    )
    (folder / "files" / "page.txt.jinja").write_text("dark={{ dark }} size={{ size }}\n")
    async with opened(demo_url) as db:
        await import_template(db, folder, actor="tester")

    async with running_app(demo_url) as (app, pilot):
        form = await open_form(pilot, "flagged")
        checkbox = form.query_one("#var-0", Checkbox)
        assert checkbox.value is False
        assert form.query_one("#var-1", Select).value is Select.NULL
        await pilot.press(*"Flags", "tab", *"carol", "tab", "tab", "space")
        await press(pilot, "ctrl+s")
        assert checkbox.value is True
        assert error_of(form, "var-1").startswith("is required")
        assert isinstance(app.screen, TemplateProjectForm)
        # Open the choice list and take its second entry.
        await pilot.press("tab", "enter", "down", "down", "enter")
        await typed(pilot)
        assert form.query_one("#var-1", Select).value == "l"
        assert form.query_one(FileBrowser).files == {"page.txt": "dark=True size=l\n"}
        await press(pilot, "ctrl+s")
        await press(pilot, "y")
        assert isinstance(app.screen, ProjectDetailScreen)

    async with opened(demo_url) as db:
        project = await project_service.get_project(db, "Flags")
        assert project.codebase == {"page.txt": "dark=True size=l\n"}


async def test_the_overview_shows_the_template_and_whether_it_changed_since(
    demo_url: URL, tmp_path: Path
) -> None:
    from store.services.templates import export_template
    from tui.widgets.overview import OverviewPane

    async with opened(demo_url) as db:
        await project_from_template(
            db, "static-site", "Aaa Site", "carol", project_name="aaa", site_title="A"
        )
        folder = tmp_path / "static-site"
        await export_template(db, "static-site", folder)
        async with running_app(demo_url) as (_app, pilot):
            detail = await open_project(pilot, "Aaa Site")
            body = detail.query_one(OverviewPane).query_one("#overview-body", Static)
            assert "static-site version 1 (the template is unchanged since)" in text_of(body)

            (folder / "files" / "robots.txt").write_text("User-agent: *\n", encoding="utf-8")
            await import_template(db, folder)
            await press(pilot, "ctrl+r")
            assert "static-site version 1 (the template has changed since: now version 2)" in (
                text_of(body)
            )
        async with running_app(demo_url) as (_app, pilot):
            detail = await open_project(pilot, "Billing API")
            body = detail.query_one(OverviewPane).query_one("#overview-body", Static)
            assert any(line.split() == ["Template", "—"] for line in text_of(body).splitlines())
