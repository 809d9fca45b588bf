"""The app driven by keys under Pilot, against a real SQLite copy of the
demo database; each test checks the screen and then the database."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, Static, TextArea

from store.config import normalize_url
from store.models import ProjectStatus
from store.services import projects as project_service
from store.services import secrets as secret_service
from store.services.audit import AuditQuery, list_audit
from store.services.modifications import ModificationProposal, propose_modification
from tests.app_support import (
    SIZE,
    app_environment,
    column,
    open_project,
    press,
    running_app,
    settle,
    text_of,
    wait_until,
)
from tests.store_support import opened
from tui.app import GC_THRESHOLDS, ProjdeckApp
from tui.screens.audit import AuditScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.project_detail import ProjectDetailScreen
from tui.screens.project_form import ProjectForm
from tui.screens.projects import ProjectsScreen
from tui.screens.secrets_pane import MASK
from tui.screens.start import StartScreen
from tui.screens.templates import TemplatesScreen


async def read(url: URL, ref: str) -> project_service.ProjectConfig:
    async with opened(url) as db:
        return await project_service.get_project_full_config(db, ref)


async def planning_statement(url: URL) -> str:
    """The demo's Metrics Pipeline's planning statement, as stored."""
    return (await read(url, "Metrics Pipeline")).settings.planning_statement


async def test_projects_screen_opens_on_the_active_demo_projects(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        assert isinstance(app.screen, ProjectsScreen)
        table = app.screen.query_one(DataTable)
        names = column(table, "name")
        assert len(names) == 9
        assert "Billing API" in names and "Docs Site" not in names
        await press(pilot, "A")
        assert "Docs Site" in column(table, "name")
        await press(pilot, "D")
        assert "Payments Sandbox" in column(table, "name")
        assert table.row_count == 12


async def test_filter_as_you_type_narrows_the_projects(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "slash", *"gateway")
        table = app.screen.query_one(DataTable)
        assert column(table, "name") == ["Auth Gateway"]
        # The GitHub column's "owner/repo" is searched as shown.
        await press(pilot, "ctrl+u", *"acme/billing")
        assert column(table, "name") == ["Billing API"]
        await press(pilot, "ctrl+u", *"acme")
        assert len(column(table, "name")) == 9
        await press(pilot, "escape")
        assert table.row_count == 9


async def test_new_project_form_shows_errors_inline_and_saves_when_valid(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "n")
        assert isinstance(app.screen, ProjectForm)
        await pilot.press(*"Release Notes Bot")
        await pilot.press("tab", "tab")  # past the type selector to the owner
        assert app.screen.focused is app.screen.query_one("#owner", Input)
        await pilot.press("tab", *"acme-release-notes")  # a GitHub value without a slash
        await press(pilot, "ctrl+s")
        form = app.screen
        assert isinstance(form, ProjectForm)
        assert "OWNER/REPO" in text_of(form.query_one("#error-github", Static))
        form.query_one("#github", Input).focus()
        await pilot.press("ctrl+u", *"acme/release-notes")
        await press(pilot, "ctrl+s")
        assert isinstance(form, ProjectForm)
        # The owner is empty: the service refuses it and names the field.
        assert "empty" in text_of(form.query_one("#error-owner", Static))
        form.query_one("#owner", Input).focus()
        await press(pilot, *"gwen", "ctrl+s")
        assert isinstance(app.screen, ProjectsScreen)
        assert "Release Notes Bot" in column(app.screen.query_one(DataTable), "name")
    config = await read(demo_url, "Release Notes Bot")
    assert config.project.owner_id == "gwen"
    assert (config.project.github_owner, config.project.github_repo) == ("acme", "release-notes")


async def test_edit_project_saves_with_the_version_read(demo_url: URL) -> None:
    before = await read(demo_url, "Metrics Pipeline")
    async with running_app(demo_url) as (app, pilot):
        assert column(app.screen.query_one(DataTable), "name")[0] == "Metrics Pipeline"
        await press(pilot, "e")
        form = app.screen
        assert isinstance(form, ProjectForm)
        form.query_one("#owner", Input).focus()
        await press(pilot, "ctrl+u", *"zoe", "ctrl+s")
        assert isinstance(app.screen, ProjectsScreen)
    after = await read(demo_url, "Metrics Pipeline")
    assert after.project.owner_id == "zoe"
    assert after.project.version == before.project.version + 1


async def test_edit_conflict_is_reported_and_reload_takes_the_new_version(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "e")
        form = app.screen
        assert isinstance(form, ProjectForm)
        # Another process changes the project while the form is open.
        current = await read(demo_url, "Metrics Pipeline")
        async with opened(demo_url) as other:
            await project_service.update_project(
                other,
                "Metrics Pipeline",
                {"owner_id": "someone-else"},
                expected_version=current.project.version,
            )
        form.query_one("#owner", Input).focus()
        await press(pilot, "ctrl+u", *"zoe", "ctrl+s")
        assert isinstance(app.screen, ProjectForm)
        message = text_of(form.query_one("#form-error", Static))
        assert "changed by someone else" in message and "ctrl+r" in message
        await press(pilot, "ctrl+r")
        assert form.query_one("#owner", Input).value == "someone-else"
        form.query_one("#owner", Input).focus()
        await press(pilot, "end", "ctrl+u", *"zoe", "ctrl+s")
        assert isinstance(app.screen, ProjectsScreen)
    assert (await read(demo_url, "Metrics Pipeline")).project.owner_id == "zoe"


async def test_archive_delete_and_restore_by_keys(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        table = app.screen.query_one(DataTable)
        await press(pilot, "a")
        assert "Metrics Pipeline" not in column(table, "name")
        assert (await read(demo_url, "Metrics Pipeline")).project.status == ProjectStatus.ARCHIVED
        # Now Ledger Core is first; delete asks first, and "n" keeps it.
        await press(pilot, "d")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "n")
        assert (await read(demo_url, "Ledger Core")).project.status == ProjectStatus.ACTIVE
        await press(pilot, "d", "y")
        assert (await read(demo_url, "Ledger Core")).project.status == ProjectStatus.DELETED
        assert "Ledger Core" not in column(table, "name")
        await press(pilot, "D")
        index = column(table, "name").index("Ledger Core")
        table.move_cursor(row=index)
        await press(pilot, "r")
    assert (await read(demo_url, "Ledger Core")).project.status == ProjectStatus.ACTIVE


async def test_an_archived_project_opens_read_only(demo_url: URL) -> None:
    from tui.screens.review import ReviewScreen
    from tui.screens.secret_form import SecretForm

    async with opened(demo_url) as db:
        await project_service.archive_project(db, "Billing API")
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "A")
        screen = await open_project(pilot, "Billing API")
        title = text_of(screen.query_one("#project-title", Static))
        assert "read-only: archived; unarchive it (a on Projects) to change it" in title
        # e (edit) is greyed in the footer and does nothing.
        assert screen.check_action("edit", ()) is None
        await press(pilot, "e")
        assert app.screen is screen
        # Help marks it too, and only the keys greyed here.
        await press(pilot, "question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert "e" in help_screen.greyed and "escape" not in help_screen.greyed
        shown = help_screen.query_one("#help-keys", Static)
        assert "Edit project (greyed here)" in text_of(shown)
        await press(pilot, "escape")
        assert app.screen is screen
        await press(pilot, "right_square_bracket")
        assert screen.query_one("#settings-editor").disabled
        await press(pilot, "right_square_bracket", "n")
        assert not isinstance(app.screen, SecretForm)
        hint = text_of(screen.query_one("#secrets-hint", Static))
        assert hint.startswith("read-only: archived") and "v reveal" in hint
        # A modification of it is read-only too: a (approve) does nothing.
        await press(pilot, "right_square_bracket", "right_square_bracket")
        table = screen.query_one("#project-modifications", DataTable)
        table.move_cursor(row=column(table, "status").index("pending"))
        await press(pilot, "enter")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        assert review.read_only
        assert "read-only (project archived: unarchive it to review)" in review.title
        pending = review.current
        await press(pilot, "a", "space")
        assert review.current == pending and not review.unsaved
    async with opened(demo_url) as db:
        from store.services.review import get_modification

        detail = await get_modification(db, str(pending))
        assert detail.modification.status == "pending"
        assert (await read(demo_url, "Billing API")).project.owner_id == "alice"


async def test_lists_move_with_j_k_g_and_G(demo_url: URL) -> None:
    from textual.widgets import OptionList

    async with running_app(demo_url) as (app, pilot):
        table = app.screen.query_one(DataTable)
        last = table.row_count - 1
        await press(pilot, "G")
        assert table.cursor_row == last
        await press(pilot, "g", "j", "j")
        assert table.cursor_row == 2
        await press(pilot, "k")
        assert table.cursor_row == 1
        await press(pilot, "end")
        assert table.cursor_row == last
        await press(pilot, "home")
        assert table.cursor_row == 0
        await press(pilot, "5")
        inbox = app.screen.query_one(OptionList)
        first = inbox.highlighted
        await press(pilot, "G")
        assert inbox.highlighted == inbox.option_count - 1
        await press(pilot, "g")
        assert inbox.highlighted == first
        await press(pilot, "j")
        assert inbox.highlighted is not None and first is not None
        assert inbox.highlighted > first


async def test_y_copies_what_is_under_the_cursor(demo_url: URL) -> None:
    from tui.screens.review import ReviewScreen

    async with running_app(demo_url) as (app, pilot):
        first = (await read(demo_url, "Metrics Pipeline")).project
        await press(pilot, "y")
        assert app.clipboard == str(first.id)
        told = [str(notification.message) for notification in app._notifications]
        assert f"Copied the id of project 'Metrics Pipeline': {first.id}" in told
        await press(pilot, "5", "y")
        copied = app.clipboard
        await press(pilot, "enter")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        assert str(review.current) == copied
        await wait_until(pilot, lambda: review.detail is not None, 10)
        assert review.detail is not None
        change = review.detail.files[0]
        await press(pilot, "y")
        assert app.clipboard == change.path
        await press(pilot, "Y")
        assert app.clipboard == change.diff and change.diff.startswith("---")


async def test_settings_are_edited_and_saved_with_ctrl_s(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await open_project(pilot, tab="settings")
        await pilot.press("tab")
        editor = app.screen.query_one("#planning_statement", TextArea)
        assert app.screen.focused is editor
        await pilot.press("ctrl+a", "end", *" Backfills run on Sundays.")
        await press(pilot, "ctrl+s")
        await press(pilot, "escape")
        assert isinstance(app.screen, ProjectsScreen)
    assert (await planning_statement(demo_url)).endswith("Backfills run on Sundays.")


async def test_leaving_with_unsaved_settings_asks_first(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await open_project(pilot, tab="settings")
        await pilot.press("tab", *"Draft")
        await press(pilot, "escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, ProjectDetailScreen)
        # Quitting asks too.
        app.screen.query_one("ContentTabs").focus()
        await press(pilot, "q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await press(pilot, "escape", "y")
        assert isinstance(app.screen, ProjectsScreen)
    assert "Draft" not in await planning_statement(demo_url)


async def test_reload_asks_before_discarding_unsaved_settings(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await open_project(pilot, tab="settings")
        await pilot.press("tab", "ctrl+home", *"Draft ")
        editor = app.screen.query_one("#planning_statement", TextArea)
        assert editor.text.startswith("Draft ")
        await press(pilot, "ctrl+r")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Reload and discard" in text_of(app.screen.query_one("#confirm-question", Static))
        await press(pilot, "n")
        assert isinstance(app.screen, ProjectDetailScreen)
        assert editor.text.startswith("Draft ")
        await press(pilot, "ctrl+r", "y")
        assert isinstance(app.screen, ProjectDetailScreen)
        saved = await planning_statement(demo_url)
        assert editor.text == saved
        assert not app.screen.has_unsaved_settings
        # Without unsaved edits ctrl+r reloads at once.
        await press(pilot, "ctrl+r")
        assert isinstance(app.screen, ProjectDetailScreen)
    assert "Draft" not in saved


async def test_editing_the_project_keeps_unsaved_settings(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        detail = await open_project(pilot, tab="settings")
        await pilot.press("tab", "ctrl+home", *"Draft ")
        # Back to the tab bar, where e edits the project.
        await press(pilot, "shift+tab", "e")
        form = app.screen
        assert isinstance(form, ProjectForm)
        form.query_one("#owner", Input).focus()
        await press(pilot, "ctrl+u", *"zoe", "ctrl+s")
        assert app.screen is detail
        assert "zoe" in text_of(detail.query_one("#project-title", Static))
        editor = detail.query_one("#planning_statement", TextArea)
        assert editor.text.startswith("Draft ")
        assert detail.has_unsaved_settings
        await press(pilot, "tab", "ctrl+s")
        assert not detail.has_unsaved_settings
    after = await read(demo_url, "Metrics Pipeline")
    assert after.project.owner_id == "zoe"
    assert after.settings.planning_statement.startswith("Draft ")


async def test_a_main_screen_key_comes_back_to_the_open_project(demo_url: URL) -> None:
    """1 after 2 returns to where the person was in Projects: the project's
    detail, unsaved settings and all; quitting from elsewhere still asks."""
    async with running_app(demo_url) as (app, pilot):
        detail = await open_project(pilot, tab="settings")
        await pilot.press("tab", "ctrl+home", *"Draft ")
        await press(pilot, "shift+tab", "2")
        assert isinstance(app.screen, TemplatesScreen)
        await press(pilot, "q")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "n")
        await press(pilot, "1")
        assert app.screen is detail
        assert detail.query_one("#planning_statement", TextArea).text.startswith("Draft ")
        await press(pilot, "escape", "y")
        assert isinstance(app.screen, ProjectsScreen)
        assert not app.open_projects
        # With no project open, 2 then 1 lands on the list.
        await press(pilot, "2", "1")
        assert isinstance(app.screen, ProjectsScreen)
    assert "Draft" not in await planning_statement(demo_url)


async def test_secrets_are_added_revealed_and_deleted_with_audit_rows(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await open_project(pilot, tab="secrets")
        table = app.screen.query_one("#secrets-table", DataTable)
        assert app.screen.focused is table
        assert column(table, "value") == [MASK, MASK]
        await press(pilot, "n", *"DEPLOY_TOKEN", "enter", *"s3cr3t-value", "enter")
        assert column(table, "name") == [
            "DEPLOY_TOKEN",
            "SLACK_WEBHOOK_TOKEN",
            "WAREHOUSE_PASSWORD",
        ]
        assert "s3cr3t-value" not in column(table, "value")
        table.move_cursor(row=0)
        await press(pilot, "v")
        assert column(table, "value")[0] == "s3cr3t-value"
        # The value masks itself again after ten seconds.
        pane = app.screen.query_one("SecretsPane")
        pane._mask("DEPLOY_TOKEN")  # the timer's callback, without waiting 10 s
        assert column(table, "value")[0] == MASK
        await press(pilot, "c")
        assert app.clipboard == "s3cr3t-value"
        assert column(table, "value")[0] == MASK
        await press(pilot, "x", "y")
        assert column(table, "name") == ["SLACK_WEBHOOK_TOKEN", "WAREHOUSE_PASSWORD"]
    async with opened(demo_url) as db:
        names = [s.key_name for s in await secret_service.list_secrets(db, "Metrics Pipeline")]
        events = [
            entry.event_type
            for entry in (
                await list_audit(db, AuditQuery(project="Metrics Pipeline", category="security"))
            ).items
        ]
    assert names == ["SLACK_WEBHOOK_TOKEN", "WAREHOUSE_PASSWORD"]
    assert events[:4] == ["secret.deleted", "secret.copied", "secret.revealed", "secret.created"]


async def test_audit_screen_filters_by_text_as_you_type(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "4")
        assert isinstance(app.screen, AuditScreen)
        await press(pilot, "slash", *"archived project")
        table = app.screen.query_one(DataTable)
        assert sorted(column(table, "event")) == ["project.archived", "project.archived"]
        status = text_of(app.screen.query_one("#audit-status", Static))
        assert status.startswith("2 matching rows")
        await press(pilot, "escape")
        await press(pilot, "v")
        assert "chain verified" in text_of(app.screen.query_one("#audit-status", Static))


async def test_help_lists_the_screen_keys_and_the_palette_reaches_screens(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.keys)
        assert keys["n"] == "New" and keys["d"] == "Delete" and keys["q"] == "Quit"
        await pilot.press("escape")
        assert isinstance(app.screen, ProjectsScreen)
        # The palette runs the screen's actions too.
        await press(pilot, "ctrl+p", *"show deleted")
        await press(pilot, "enter")
        assert isinstance(app.screen, ProjectsScreen)
        assert "Payments Sandbox" in column(app.screen.query_one(DataTable), "name")
        await press(pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await press(pilot, *"Go to Audit")
        await press(pilot, "enter")
        assert isinstance(app.screen, AuditScreen)


async def test_a_database_that_cannot_be_opened_is_shown_not_thrown(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    async with running_app(normalize_url(f"sqlite:///{blocker}/projdeck.db")) as (app, pilot):
        assert isinstance(app.screen, StartScreen)
        assert "could not be opened" in text_of(app.screen.query_one("#start-message", Static))
        await pilot.press("q")


async def test_the_start_screen_shows_each_step_of_long_work_as_it_happens(
    tmp_path: Path,
) -> None:
    """Building the demo (here a prepare step held open by the test) is
    never silent: the start screen says what is being done and a counted
    step moves a progress bar, until the first screen replaces it."""
    import asyncio

    from textual.widgets import ProgressBar

    from store.engine import Database
    from store.progress import OnStep, Step

    begin, release = asyncio.Event(), asyncio.Event()

    async def prepare(db: Database, *, on_step: OnStep) -> None:
        await begin.wait()
        on_step(Step("Building the demo: project 3 of 12, \x1b[31mBilling\x1b[0m…", 3, 12))
        await release.wait()

    app = ProjdeckApp(
        normalize_url(f"sqlite:///{tmp_path / 'slow.db'}"),
        prepare=prepare,
        preparing=Step("Building the demo: its database…", 0, 12),
    )
    async with app.run_test(size=SIZE) as pilot:
        # Not settle(): the app's opening waits on the test, and the
        # start screen's spinner never stops moving.
        async def shown(text: str) -> str:
            for _ in range(200):
                await asyncio.sleep(0.05)
                message = text_of(app.screen.query_one("#start-message", Static))
                if text in message:
                    return message
            raise AssertionError(f"{text!r} was not shown")

        # From the first frame the bar is there; a step that is not counted
        # (the database being created) leaves it where it is.
        await shown("Creating the database")
        assert isinstance(app.screen, StartScreen)
        bar = app.screen.query_one("#start-progress", ProgressBar)
        assert bar.display and (bar.progress, bar.total) == (0, 12)
        begin.set()
        await shown("project 3")
        assert isinstance(app.screen, StartScreen)
        message = text_of(app.screen.query_one("#start-message", Static))
        assert message.startswith("Building the demo: project 3 of 12, ")
        assert "\x1b" not in message and "Billing" in message
        bar = app.screen.query_one("#start-progress", ProgressBar)
        assert bar.display and (bar.progress, bar.total) == (3, 12)
        release.set()
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)


async def test_projects_table_pages_from_the_database(
    migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    target = tmp_path / "many.db"
    shutil.copyfile(migrated_sqlite_template, target)
    url = normalize_url(f"sqlite:///{target}")
    async with opened(url) as db:
        for number in range(250):
            await project_service.create_project_with_settings(
                db,
                project_service.ProjectCreate(
                    name=f"service-{number:03d}", type="api", owner_id="ops"
                ),
            )
    with app_environment():
        async with running_app(url) as (app, pilot):
            table = app.screen.query_one(DataTable)
            status = app.screen.query_one("#projects-status", Static)
            assert table.row_count == 100
            assert text_of(status).startswith("250 projects")
            await press(pilot, "ctrl+end")
            assert table.row_count == 200
            await press(pilot, "ctrl+end")
            assert table.row_count == 250
            # Another process proposes a change deep in the list: the rows
            # are read again, all 250, the cursor staying on its project.
            await pilot.press("ctrl+end", *["up"] * 10)
            screen = app.screen
            assert isinstance(screen, ProjectsScreen)
            chosen = screen.selected()
            assert chosen is not None and chosen.name == "service-010"
            await pilot.pause(0.6)  # the watcher has taken its first reading
            async with opened(url) as other:
                await propose_modification(
                    other,
                    "service-010",
                    ModificationProposal(request="Tune", modified_files={"a.py": "x = 1\n"}),
                )
            for _ in range(40):
                now = screen.selected()
                if now is not None and now.pending_modifications:
                    break
                await pilot.pause(0.05)
            assert now is not None and now.name == "service-010"
            assert now.pending_modifications == 1
            pending = table.get_column_index("pending")
            assert str(table.get_cell_at((table.cursor_row, pending))) == "1"
            assert table.row_count == 250
            await press(pilot, "slash", *"service-12")
            assert sorted(column(table, "name")) == [f"service-{n}" for n in range(120, 130)]


async def test_modifications_audit_and_runs_page_as_the_cursor_nears_the_end(
    migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    """The lists of store rows (ItemTable) read a page of 100 and the next
    one once the cursor comes near the end, until every row is loaded."""
    from store.services import agents
    from tui.screens.activity import ActivityScreen
    from tui.screens.modifications import ModificationsScreen
    from tui.widgets.runs import RunTable
    from tui.widgets.tables import AuditTable, ItemTable, ModificationTable

    target = tmp_path / "many.db"
    shutil.copyfile(migrated_sqlite_template, target)
    url = normalize_url(f"sqlite:///{target}")
    async with opened(url) as db:
        await project_service.create_project_with_settings(
            db, project_service.ProjectCreate(name="busy", type="api", owner_id="ops")
        )
        for number in range(130):
            await propose_modification(
                db,
                "busy",
                ModificationProposal(request=f"Change {number}", modified_files={"a.py": "x\n"}),
            )
            await agents.start_run(db, "busy", agent="bot", task=f"Task {number}")
        audit_rows = (await list_audit(db, AuditQuery(), limit=1)).total
    assert 200 < audit_rows < 300  # the project, each proposal and each run

    async def pages(key: str, screen: type[object], table: type[ItemTable[Any]]) -> list[int]:
        await press(pilot, key)
        assert isinstance(app.screen, screen)
        rows = app.screen.query_one(table)
        loaded = [len(rows.items)]
        while len(loaded) < 5:
            await press(pilot, "end")
            await wait_until(pilot, lambda: rows.row_count == len(rows.items), 10)
            if len(rows.items) == loaded[-1]:
                break
            loaded.append(len(rows.items))
        return loaded

    with app_environment():
        async with running_app(url) as (app, pilot):
            assert await pages("3", ModificationsScreen, ModificationTable) == [100, 130]
            assert await pages("6", ActivityScreen, RunTable) == [100, 130]
            assert await pages("4", AuditScreen, AuditTable) == [100, 200, audit_rows]


async def test_templates_filter_by_name_tag_or_stack_and_preview(demo_url: URL) -> None:
    from textual.widgets import OptionList

    from tui.screens.templates import TemplatesScreen

    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "2")
        assert isinstance(app.screen, TemplatesScreen)
        listing = app.screen.query_one("#template-list", OptionList)
        assert listing.option_count == 8
        await pilot.press("slash", *"docker")  # a tag or stack entry, not a name
        await settle(pilot)
        shown = [template.name for template in app.screen.shown]
        assert shown and all("docker" not in name for name in shown)
        await press(pilot, "ctrl+u", *"react")
        shown = [template.name for template in app.screen.shown]
        assert "react-spa" in shown and "expo-mobile-app" in shown  # React Native's stack
        await press(pilot, *"-spa")
        assert [template.name for template in app.screen.shown] == ["react-spa"]
        preview = text_of(app.screen.query_one("#template-info", Static))
        assert "react-spa" in preview and "Variables" in preview


async def test_modifications_and_audit_filter_by_status_and_category(demo_url: URL) -> None:
    from tui.screens.modifications import ModificationsScreen

    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "3")
        assert isinstance(app.screen, ModificationsScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 44
        # The status selector lists pending first.
        await press(pilot, "f", "enter", "down", "enter")
        statuses = {str(cell) for cell in column(table, "status")}
        assert statuses == {"pending"}
        await press(pilot, "4")
        await press(pilot, "f", "enter", "down", "enter")
        audit_table = app.screen.query_one(DataTable)
        categories = set(column(audit_table, "category"))
        assert categories == {"security"}
        await press(pilot, "tab", "tab", "tab", "tab", *"30d", "enter")
        status = text_of(app.screen.query_one("#audit-status", Static))
        assert status.startswith("0 matching rows")


async def test_modifications_filter_as_you_type_with_slash(demo_url: URL) -> None:
    from tui.screens.modifications import ModificationsScreen

    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "3")
        assert isinstance(app.screen, ModificationsScreen)
        table = app.screen.query_one(DataTable)
        everything = table.row_count
        await press(pilot, "slash", *"DARK MODE")
        await wait_until(pilot, lambda: table.row_count < everything, 10)
        assert set(column(table, "request")) == {"Add dark mode styles"}
        await press(pilot, "enter", "escape")
        await wait_until(pilot, lambda: table.row_count == everything, 10)


async def test_the_inbox_filters_with_slash(demo_url: URL) -> None:
    from textual.widgets import OptionList

    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "5")
        listing = app.screen.query_one(OptionList)
        everything = listing.option_count
        await press(pilot, "slash", *"STOREFRONT")
        prompts = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert prompts[0].startswith("Storefront Web") and len(prompts) == 3
        await press(pilot, *"zzz-nothing")
        assert not listing.display
        assert "matches the filter" in text_of(app.screen.query_one("#inbox-empty", Static))
        await press(pilot, "escape")
        assert listing.option_count == everything and listing.display
        await press(pilot, "6", "slash")
        assert app.screen.focused is app.screen.query_one("#activity-agent")


async def test_names_that_look_like_markup_are_shown_as_typed(demo_url: URL) -> None:
    name = "Weird [/] [b]name[/b] [link=x]"
    async with opened(demo_url) as db:
        await project_service.create_project_with_settings(
            db, project_service.ProjectCreate(name=name, type="cli", owner_id="mallory")
        )
    async with running_app(demo_url) as (app, pilot):
        table = app.screen.query_one(DataTable)
        assert column(table, "name")[0] == name
        await press(pilot, "d")
        assert isinstance(app.screen, ConfirmScreen)
        assert name in text_of(app.screen.query_one("#confirm-question", Static))
        await press(pilot, "y")
        await press(pilot, "D")
        table.move_cursor(row=column(table, "name").index(name))
        await press(pilot, "enter")
        assert isinstance(app.screen, ProjectDetailScreen)
        assert name in text_of(app.screen.query_one("#project-title", Static))
    assert (await read(demo_url, name)).project.status == ProjectStatus.DELETED


async def test_projects_sort_by_each_key_and_by_a_clicked_column_header(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        table = app.screen.query_one("#projects", DataTable)
        status = app.screen.query_one("#projects-status", Static)
        # s walks through every sort: updated, created, name, type, status, owner.
        await press(pilot, "s", "s")
        assert "sorted by name" in str(status.render())
        names = column(table, "name")
        assert names == sorted(names)
        await press(pilot, "s")
        types = column(table, "type")
        assert "sorted by type" in str(status.render()) and types == sorted(types)
        await press(pilot, "s", "s")
        owners = column(table, "owner")
        assert "sorted by owner" in str(status.render()) and owners == sorted(owners)
        # A click on the Type header sorts by type; on Pending, it says it cannot.
        x = sum(c.get_render_width(table) for c in list(table.columns.values())[:1]) + 2
        await pilot.click("#projects", offset=(x, 0))
        await settle(pilot)
        assert "sorted by type" in str(status.render())
        assert column(table, "type") == sorted(column(table, "type"))
        x = sum(c.get_render_width(table) for c in list(table.columns.values())[:5]) + 2
        await pilot.click("#projects", offset=(x, 0))
        await settle(pilot)
        assert "sorted by type" in str(status.render())


async def test_the_app_run_for_a_person_freezes_what_start_up_made(demo_url: URL) -> None:
    """freeze_gc (run_app's) takes start-up's objects out of the collector's
    sweeps once the first screen is up; an app made without it leaves the
    collector alone."""
    import gc

    gc.unfreeze()
    thresholds = gc.get_threshold()
    async with running_app(demo_url) as (_app, pilot):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == thresholds
    frozen = ProjdeckApp(demo_url, freeze_gc=True)
    try:
        async with frozen.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert isinstance(frozen.screen, ProjectsScreen)
            assert gc.get_freeze_count() > 10_000
            assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
