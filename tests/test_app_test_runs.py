"""The review screen's ``T``: the project's test commands shown first, run
on the change by enter, their output scrolling by as text, the outcome in
the summary beside the agent's; escape cancels a run."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import URL
from textual.pilot import Pilot
from textual.widgets import Log, Static

from store.services import projects
from store.services.review import get_modification
from tests.app_support import press, proposed_on_billing, running_app, text_of, wait_until
from tests.store_support import opened
from tui.app import ProjdeckApp
from tui.screens.review import ReviewScreen
from tui.screens.test_run import TestRunScreen


async def proposed(url: URL, tests: list[str]) -> uuid.UUID:
    async with opened(url) as db:
        await projects.update_settings(
            db, "Billing API", {"test_commands": tests, "setup_commands": []}
        )
    return await proposed_on_billing(url, "Say hello", {"hello.txt": "hello from the change\n"})


async def open_test_panel(
    app: ProjdeckApp, pilot: Pilot[None], ref: uuid.UUID
) -> tuple[ReviewScreen, TestRunScreen]:
    """The review of ``ref`` opened, and its ``T`` panel showing the plan."""
    screen = ReviewScreen(ref)
    await app.push_screen(screen)
    await wait_until(pilot, lambda: screen.detail is not None, 10)
    await press(pilot, "T")
    panel = app.screen
    assert isinstance(panel, TestRunScreen)
    await wait_until(pilot, lambda: panel.plan is not None, 10)
    return screen, panel


async def test_the_tests_run_on_the_change_from_the_review(demo_url: URL) -> None:
    ref = await proposed(demo_url, ["cat hello.txt", "printf '\\033[2J\\033]0;x\\007done\\n'"])
    async with running_app(demo_url) as (app, pilot):
        screen, panel = await open_test_panel(app, pilot, ref)
        plan = text_of(panel.query_one("#test-run-plan", Static))
        assert "test   cat hello.txt" in plan and "a copy of the stored codebase" in plan

        await pilot.press("enter")
        await wait_until(pilot, lambda: panel.results is not None, 30)
        log = panel.query_one(Log)
        assert list(log.lines) == [
            "$ cat hello.txt",
            "hello from the change",
            "$ printf '\\033[2J\\033]0;x\\007done\\n'",
            "done",
        ]
        assert "Tests passed" in text_of(panel.query_one("#test-run-status", Static))
        await press(pilot, "escape")
        assert app.screen is screen
        await wait_until(
            pilot, lambda: "Run here" in text_of(screen.query_one("#review-summary", Static)), 10
        )
        assert "passed" in text_of(screen.query_one("#review-summary", Static))
    async with opened(demo_url) as db:
        stored = (await get_modification(db, str(ref))).modification.local_test_results
    assert stored is not None and stored["run_by"] == "tester"


async def test_escape_cancels_a_running_test(demo_url: URL) -> None:
    ref = await proposed(demo_url, ["echo started; sleep 30"])
    async with running_app(demo_url) as (app, pilot):
        screen, panel = await open_test_panel(app, pilot, ref)
        # (Keys pressed without waiting for the app to settle: the run is a
        # worker until it ends.)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "started" in list(panel.query_one(Log).lines), 10)
        await pilot.press("escape")
        await wait_until(pilot, lambda: panel.results is not None, 15)
        assert panel.results is not None and panel.results["outcome"] == "cancelled"
        assert panel.results["commands"][0]["exit_code"] is None
        await press(pilot, "escape")
        assert app.screen is screen
