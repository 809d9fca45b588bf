"""Reviewing modifications in the app by keyboard (inbox, review screen,
history read-only) and live refresh when another process uses the CLI,
against a real SQLite copy of the demo database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import URL
from textual.widgets import DataTable, Input, OptionList, Static, TextArea

from store.models import ModificationStatus
from store.services import projects as project_service
from store.services.browse import ProjectRow
from store.services.review import get_modification, unified_diff, waiting_modifications
from tests.app_support import (
    open_project,
    press,
    running_app,
    settle,
    wait_until,
)
from tests.cli import SCRIPT
from tests.store_support import opened
from tui.screens.confirm import ConfirmScreen
from tui.screens.inbox import InboxScreen
from tui.screens.modifications import ModificationsScreen
from tui.screens.project_detail import ProjectDetailScreen
from tui.screens.projects import ProjectsScreen
from tui.screens.reject import RejectScreen
from tui.screens.review import ReviewScreen
from tui.widgets.diff_view import DiffView, RowKind, diff_rows
from tui.widgets.tables import AuditTable, ModificationTable


def review(screen: object) -> ReviewScreen:
    assert isinstance(screen, ReviewScreen), type(screen).__name__
    return screen


def request_of(screen: ReviewScreen) -> str:
    assert screen.modification is not None
    return screen.modification.request


def plain(widget: Static) -> str:
    return str(widget.render())


async def test_full_keyboard_review_session(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "5")
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        assert inbox.title == "Inbox · 16 waiting (11 pending, 5 approved)"
        await press(pilot, "enter")
        screen = review(app.screen)
        assert request_of(screen) == "Round tax amounts half-even per line item"
        assert screen.title == "Review · 1 of 16"

        # n: the next modification; j/k step through its two files.
        await press(pilot, "n")
        assert request_of(screen) == "Return 404 for unknown invoice ids"
        diff = screen.query_one(DiffView)
        files = [change.path for change in screen.detail.files] if screen.detail else []
        assert len(files) == 2
        assert diff.path == files[0]
        await press(pilot, "j")
        assert diff.path == files[1]
        assert screen.query_one("#review-files", OptionList).highlighted == 1
        await press(pilot, "k")
        assert diff.path == files[0]
        assert any(row.kind == RowKind.ADDED for row in diff.rows)

        # s, t and / change the view, not the data.
        await press(pilot, "s")
        assert diff.side_by_side
        assert any(row.kind in (RowKind.CHANGED, RowKind.ADDED) for row in diff.rows)
        await press(pilot, "s", "t")
        assert not diff.side_by_side
        assert screen.query_one("#review-tests").display
        await press(pilot, "slash", *"404")
        assert diff.matches and diff.current_match in diff.matches
        await pilot.press("escape")
        assert not screen.query_one("#review-search", Input).display
        assert isinstance(app.screen, ReviewScreen)

        # a approves; the next waiting modification opens (the agent's second
        # revision of a change), and n passes it by.
        approved_id = screen.current
        await press(pilot, "a")
        assert request_of(screen) == "Reject malformed invoice ids before the lookup"
        await press(pilot, "n")
        assert request_of(screen) == "Lazy-load the product images"

        # A applies after a confirmation.
        applied_id = screen.current
        await press(pilot, "A")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "y")
        assert request_of(screen) == "Add dark mode styles"

        # r asks for the comment and refuses an empty one.
        rejected_id = screen.current
        await press(pilot, "r")
        assert isinstance(app.screen, RejectScreen)
        await press(pilot, "enter")
        assert "needs a comment" in plain(app.screen.query_one("#reject-error", Static))
        await press(pilot, *"Not this sprint", "enter")
        assert request_of(screen) == "Add readiness probe separate from /health"
        assert screen.title == "Review · 4 of 14"

        await press(pilot, "escape")
        assert isinstance(app.screen, InboxScreen)
        assert app.screen.title == "Inbox · 14 waiting (9 pending, 5 approved)"

    async with opened(demo_url) as db:
        approved = (await get_modification(db, str(approved_id))).modification
        assert approved.status == ModificationStatus.APPROVED
        assert approved.reviewed_by == "tester"
        applied = (await get_modification(db, str(applied_id))).modification
        assert applied.status == ModificationStatus.APPLIED
        storefront = await project_service.get_project_full_config(db, "Storefront Web")
        assert "Lazy-load the product images." in storefront.project.codebase["src/App.tsx"]
        rejected = (await get_modification(db, str(rejected_id))).modification
        assert rejected.status == ModificationStatus.REJECTED
        assert rejected.review_comment == "Not this sprint"
        assert (await waiting_modifications(db)).waiting == 14


async def test_history_opens_final_states_read_only(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "3")
        assert isinstance(app.screen, ModificationsScreen)
        table = app.screen.query_one(ModificationTable)
        statuses = [row.status for row in table.items]
        index = statuses.index(ModificationStatus.APPLIED)
        await press(pilot, *["down"] * index, "enter")
        screen = review(app.screen)
        assert screen.read_only
        assert "read-only (applied)" in (screen.title or "")
        assert screen.detail is not None and screen.detail.against == "before apply"
        before = screen.current
        # The actions are not offered; pressing them changes nothing.
        await press(pilot, "a", "r", "A", "O")
        assert isinstance(app.screen, ReviewScreen) and screen.current == before
        offered = {
            active.binding.action for active in screen.active_bindings.values() if active.enabled
        }
        assert "side_by_side" in offered
        assert not offered & {"approve", "reject", "apply", "reopen"}
    async with opened(demo_url) as db:
        detail = await get_modification(db, str(before))
        assert detail.modification.status == ModificationStatus.APPLIED


async def test_project_modifications_tab_opens_the_review(demo_url: URL) -> None:
    async with running_app(demo_url) as (app, pilot):
        await open_project(pilot, tab="modifications")
        await press(pilot, "enter")
        screen = review(app.screen)
        assert screen.detail is not None
        assert screen.detail.project_name == "Metrics Pipeline"


async def run_cli(url: URL, *args: str, exit_code: int = 0) -> str:
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "--db-url",
        url.render_as_string(hide_password=False),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == exit_code, err.decode()
    return out.decode()


async def test_inbox_and_review_update_when_the_cli_writes(demo_url: URL, tmp_path: Path) -> None:
    new_file = tmp_path / "rollup.py"
    new_file.write_text("def rollup():\n    return 42\n", encoding="utf-8")
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "5")
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        await pilot.pause(0.6)  # the watcher has taken its first reading
        await run_cli(
            demo_url,
            "mod",
            "propose",
            "Metrics Pipeline",
            "--request",
            "Live: add the rollup job",
            "--requested-by",
            "agent-live",
            "--file",
            f"jobs/rollup.py={new_file}",
        )
        await wait_until(
            pilot, lambda: inbox.title == "Inbox · 17 waiting (12 pending, 5 approved)", 10.0
        )
        listing = inbox.query_one(OptionList)
        prompts = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert any("Live: add the rollup job" in prompt for prompt in prompts)
        titles = [notification.title for notification in app._notifications]
        assert "Inbox: 17 waiting" in titles

        # The review screen of a pending modification follows an approval
        # made by another process.
        await press(pilot, "enter")
        screen = review(app.screen)
        await press(pilot, "n")
        assert screen.modification is not None
        assert screen.modification.status == ModificationStatus.PENDING
        await pilot.press("j")  # the second file: a redraw keeps it
        await settle(pilot)
        await pilot.pause(0.6)
        await run_cli(demo_url, "mod", "approve", str(screen.current))

        def approved() -> bool:
            mod = screen.modification
            return mod is not None and mod.status == ModificationStatus.APPROVED

        await wait_until(pilot, approved, 10.0)
        await settle(pilot)
        assert screen.file_index == 1
        assert screen.detail is not None
        assert screen.query_one(DiffView).path == screen.detail.files[1].path
        assert screen.check_action("apply", ()) and not screen.check_action("approve", ())


def test_diff_rows_follow_the_stores_unified_diff() -> None:
    old = "".join(f"line {index}\n" for index in range(5000))
    new = old.replace("line 100\n", "line 100 changed\n").replace("line 4999\n", "")
    diff, added, removed = unified_diff("big.txt", old, new)
    assert (added, removed) == (1, 2)
    rows = diff_rows(diff, side_by_side=False)
    kinds = [row.kind for row in rows]
    assert kinds.count(RowKind.HUNK) == 2
    assert [row.old for row in rows if row.kind == RowKind.REMOVED] == [100, 4999]
    assert [row.new for row in rows if row.kind == RowKind.ADDED] == [100]
    context = [row for row in rows if row.kind == RowKind.CONTEXT]
    assert (context[0].old, context[0].new) == (97, 97)
    side = diff_rows(diff, side_by_side=True)
    changes = [(row.kind, row.old, row.new) for row in side if row.kind != RowKind.CONTEXT]
    assert changes == [
        (RowKind.HUNK, None, None),
        (RowKind.CHANGED, 100, 100),
        (RowKind.HUNK, None, None),
        (RowKind.REMOVED, 4999, None),
    ]
    created, added, _ = unified_diff("new.txt", None, new)
    assert len(diff_rows(created, side_by_side=False)) == added + 1  # the hunk header too


async def test_a_new_five_thousand_line_file_scrolls_to_its_end(demo_url: URL) -> None:
    """A 5,000-line file: the review opens, and paging to the end draws its
    last line without drawing the rest."""
    async with opened(demo_url) as db:
        from store.services.modifications import ModificationProposal, propose_modification

        content = "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(2500))
        mod = await propose_modification(
            db,
            "Metrics Pipeline",
            ModificationProposal(request="A big file", modified_files={"big.py": content}),
        )
    async with running_app(demo_url) as (app, pilot):
        app.push_screen(ReviewScreen(mod.id))
        await settle(pilot)
        diff = app.screen.query_one(DiffView)
        assert len(diff.rows) == 5001
        await press(pilot, "end")
        assert diff.scroll_y == diff.max_scroll_y > 0
        assert "return x + 2499" in diff.render_line(diff.size.height - 1).text


async def test_affected_files_it_does_not_change_are_listed_and_reached_by_j_k(
    demo_url: URL,
) -> None:
    """Affected but not modified files follow the changed ones in the list,
    marked so; j/k reach them; one shows a line saying the modification does
    not change it, then its codebase content (or that the codebase lacks it)."""
    async with opened(demo_url) as db:
        from store.services.modifications import ModificationProposal, propose_modification

        mod = await propose_modification(
            db,
            "Metrics Pipeline",
            ModificationProposal(
                request="Drop test accounts",
                modified_files={"sql/active_users.sql": "SELECT 1;\n"},
                affected_files=["sql/active_users.sql", "sql/revenue.sql", "sql/missing.sql"],
            ),
        )
    async with running_app(demo_url) as (app, pilot):
        app.push_screen(ReviewScreen(mod.id))
        await settle(pilot)
        screen = review(app.screen)
        files = screen.query_one("#review-files", OptionList)
        labels = [str(files.get_option_at_index(i).prompt) for i in range(files.option_count)]
        assert labels[0].startswith("M sql/active_users.sql +1 -")
        assert labels[1:] == [
            "= sql/missing.sql affected, not changed",
            "= sql/revenue.sql affected, not changed",
        ]
        diff = screen.query_one(DiffView)
        box = screen.query_one("#review-diff-box")
        assert diff.path == "sql/active_users.sql"
        assert any(row.kind == RowKind.ADDED for row in diff.rows)

        await press(pilot, "j")
        assert files.highlighted == 1
        assert box.border_title == "sql/missing.sql · affected, not changed"
        assert diff.rows == []
        assert "does not change this file" in diff.message
        assert "the codebase has no such file" in diff.message

        await press(pilot, "j")
        assert files.highlighted == 2
        assert box.border_title == "sql/revenue.sql · affected, not changed"
        assert str(box.border_subtitle).endswith("file 3 of 3")
        shown = [diff.render_line(y).text for y in range(diff.size.height)]
        assert "does not change this file" in shown[0]
        assert any("WHERE status = 'paid'" in line for line in shown[1:])
        assert not any(row.kind in (RowKind.ADDED, RowKind.REMOVED) for row in diff.rows)
        # Side by side has nothing to pair: the file stays one column.
        await press(pilot, "s")
        assert diff.render_line(2).text.count("WHERE status") <= 1

        # j wraps to the first file; k goes back to the last.
        await press(pilot, "j")
        assert diff.path == "sql/active_users.sql"
        await press(pilot, "k")
        assert box.border_title == "sql/revenue.sql · affected, not changed"


def name_of(row: ProjectRow | None) -> str | None:
    return None if row is None else row.name


async def test_projects_history_and_detail_follow_cli_writes_keeping_the_cursor(
    demo_url: URL, tmp_path: Path
) -> None:
    new_file = tmp_path / "rollup.py"
    new_file.write_text("def rollup():\n    return 42\n", encoding="utf-8")

    async def propose(project: str, request: str) -> str:
        out = await run_cli(
            demo_url,
            "mod",
            "propose",
            project,
            "--request",
            request,
            "--file",
            f"jobs/rollup.py={new_file}",
        )
        return out.strip()

    async with running_app(demo_url) as (app, pilot):
        # Projects: the Pending column follows, the cursor stays on its project.
        projects = app.screen
        assert isinstance(projects, ProjectsScreen)
        table = projects.query_one(DataTable)
        await pilot.press("down", "down")
        assert name_of(projects.selected()) == "Inventory Service"
        pending = table.get_column_index("pending")
        assert str(table.get_cell_at((0, pending))) == "1"
        await pilot.pause(0.6)  # the watcher has taken its first reading
        await propose("Metrics Pipeline", "Live: count the rollups")
        await wait_until(pilot, lambda: str(table.get_cell_at((0, pending))) == "2", 10.0)
        assert name_of(projects.selected()) == "Inventory Service"

        # History: a new modification on top, one approved elsewhere; the
        # cursor stays on the modification it was on, its detail redrawn.
        await press(pilot, "3")
        history = app.screen
        assert isinstance(history, ModificationsScreen)
        mods = history.query_one(ModificationTable)
        # The first pending one below the top row (the one just proposed).
        index = [row.status for row in mods.items].index(ModificationStatus.PENDING, 1)
        await press(pilot, *["down"] * index)
        approved = mods.selected()
        assert approved is not None and approved.status == ModificationStatus.PENDING
        await pilot.pause(0.6)
        await propose("Ledger Core", "Live: newest of all")
        await run_cli(demo_url, "mod", "approve", str(approved.id))

        def approved_and_kept() -> bool:
            row = mods.selected()
            return (
                mods.items[0].request == "Live: newest of all"
                and row is not None
                and row.id == approved.id
                and row.status == ModificationStatus.APPROVED
            )

        await wait_until(pilot, approved_and_kept, 10.0)
        await settle(pilot)
        assert mods.cursor_row == index + 1
        console = Console(width=120, record=True)
        console.print(history.query_one("#modification-view", Static).content)
        assert "approved" in console.export_text()

        # A project's detail: its Modifications tab follows; unsaved
        # settings stay in their editor.
        await press(pilot, "1")
        assert name_of(projects.selected()) == "Inventory Service"
        await press(pilot, "enter")
        detail = app.screen
        assert isinstance(detail, ProjectDetailScreen)
        await press(pilot, "right_square_bracket")
        await pilot.press("tab", "ctrl+home", *"Draft ")
        await pilot.press("shift+tab")
        # One tab at a time: each focuses its table when shown.
        for _ in range(3):
            await press(pilot, "right_square_bracket")
        tab = detail.query_one("#project-modifications", ModificationTable)
        assert detail.focused is tab
        await pilot.press("down")
        watched = tab.selected()
        assert watched is not None
        await pilot.pause(0.6)
        await propose("Inventory Service", "Live: a change for this project")
        await wait_until(
            pilot, lambda: tab.items[0].request == "Live: a change for this project", 10.0
        )
        selected = tab.selected()
        assert selected is not None and selected.id == watched.id
        assert tab.cursor_row == 2
        # The Activity tab was read again too: the proposal is its newest row.
        activity = detail.query_one("#project-activity", AuditTable)
        assert activity.items[0].event_type == "modification.proposed"
        assert str(tab.items[0].id)[:8] in activity.items[0].description
        editor = detail.query_one("#planning_statement", TextArea)
        assert editor.text.startswith("Draft ") and detail.has_unsaved_settings
    async with opened(demo_url) as db:
        inbox = await waiting_modifications(db)
        requests = {item.request for group in inbox.groups for item in group.items}
        assert {"Live: count the rollups", "Live: a change for this project"} <= requests
        detail_of_approved = await get_modification(db, str(approved.id))
        assert detail_of_approved.modification.status == ModificationStatus.APPROVED
        settings = (await project_service.get_project_full_config(db, "Inventory Service")).settings
        assert "Draft" not in settings.planning_statement


async def test_notification_says_what_became_of_those_that_left_the_inbox(
    demo_url: URL,
) -> None:
    """Applied, rejected, or failed on a conflict, each in its own words."""
    async with opened(demo_url) as db:
        from store.services.modifications import (
            ModificationProposal,
            approve_modification,
            propose_modification,
        )

        def proposal(request: str) -> ModificationProposal:
            return ModificationProposal(
                request=request,
                modified_files={"jobs/shared.py": f"# {request}\n"},
                requested_by="agent-7",
            )

        first = await propose_modification(db, "Ledger Core", proposal("Live: first"))
        clash = await propose_modification(db, "Ledger Core", proposal("Live: clash"))
        other = await propose_modification(db, "Ledger Core", proposal("Live: other"))
        await approve_modification(db, str(first.id))
        await approve_modification(db, str(clash.id))
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "5")
        await pilot.pause(0.6)  # the watcher has taken its first reading
        told: list[str] = []

        def announced(words: str) -> bool:
            # Read as they come: a notification goes away after a few seconds.
            told.extend(str(notification.message) for notification in app._notifications)
            return any(words in message for message in told)

        await run_cli(demo_url, "mod", "apply", str(first.id))
        await wait_until(pilot, lambda: announced("Applied elsewhere: Ledger Core"), 10.0)
        await run_cli(demo_url, "mod", "apply", str(clash.id), exit_code=1)
        await wait_until(
            pilot, lambda: announced("Failed to apply elsewhere (conflict): Ledger Core"), 10.0
        )
        await run_cli(demo_url, "mod", "reject", str(other.id), "--comment", "not now")
        await wait_until(pilot, lambda: announced("Rejected elsewhere: Ledger Core"), 10.0)
        assert not announced("Left the inbox")
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        await settle(pilot)
        assert inbox.title == "Inbox · 16 waiting (11 pending, 5 approved)"
    async with opened(demo_url) as db:
        statuses = {
            key: (await get_modification(db, str(key))).modification.status
            for key in (first.id, clash.id, other.id)
        }
    assert statuses == {
        first.id: ModificationStatus.APPLIED,
        clash.id: ModificationStatus.FAILED,
        other.id: ModificationStatus.REJECTED,
    }
