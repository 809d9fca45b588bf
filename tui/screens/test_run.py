"""Run a project's tests on the modification under review (the review
screen's ``T``): the commands and where they will run are shown first;
``enter`` runs them (``s``: with the project's secrets), their output
scrolls by as text while they run, ``escape`` cancels a run or closes the
panel. The run itself is the service's (``store.services.test_runs``):
the same as ``projdeck mod test``, stored and audited the same way."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Log, Static

from store.services import test_runs
from tui import format
from tui.context import attempt, deck
from tui.widgets.footer import DeckFooter


def plan_text(plan: test_runs.TestPlan) -> str:
    lines = [f"In {plan.describe()}:"]
    lines += [f"  setup  {command}" for command in plan.setup]
    lines += [f"  test   {command}" for command in plan.tests]
    if plan.environment:
        lines.append(f"With the project's environment: {', '.join(plan.environment)}")
    lines.append("enter runs them · s runs them with the project's secrets · escape closes")
    return "\n".join(lines)


def outcome_text(results: dict[str, Any]) -> str:
    said = f"Tests {results['outcome'].replace('_', ' ')} in {results['seconds']:.1f} s"
    counts = results.get("counts")
    if counts:
        said += (
            f": {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['errors']} errors, {counts['skipped']} skipped"
        )
    return said + " (stored with the modification) · escape closes"


class TestRunScreen(ModalScreen[bool]):
    """Dismissed with True when a run ended (the review reads it again)."""

    __test__ = False  # not a pytest class

    BINDINGS = [
        Binding("enter", "run(False)", "Run", id="test_run.run.False"),
        Binding("s", "run(True)", "Run with secrets", id="test_run.run.True"),
        Binding("escape", "close", "Cancel or close", id="test_run.close"),
    ]

    def __init__(self, modification_id: uuid.UUID) -> None:
        super().__init__()
        self.modification_id = modification_id
        self.plan: test_runs.TestPlan | None = None
        self.running = False
        self.results: dict[str, Any] | None = None
        self.cancel = asyncio.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="test-run-box", classes="dialog"):
            yield Static("Run the project's tests on this change", classes="field-label")
            yield Static("Reading the project's commands…", id="test-run-plan", markup=False)
            yield Log(id="test-run-log", highlight=False, max_lines=2000)
            yield Static("", id="test-run-status", markup=False)
        yield DeckFooter()

    def on_mount(self) -> None:
        self.query_one(Log).display = False
        self.load_plan()

    @work(exclusive=True, group="test-plan")
    async def load_plan(self) -> None:
        plan = await attempt(
            self, test_runs.plan_test_run(deck(self).database, str(self.modification_id))
        )
        if plan is None:
            self.query_one("#test-run-plan", Static).update(
                "Nothing to run (see the message) · escape closes"
            )
            return
        self.plan = plan
        self.query_one("#test-run-plan", Static).update(
            format.safe(plan_text(plan), multiline=True)
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run":
            return self.plan is not None and not self.running and self.results is None
        return True

    def action_run(self, with_secrets: bool) -> None:
        if self.plan is None or self.running or self.results is not None:
            return
        self.running = True
        self.refresh_bindings()
        log = self.query_one(Log)
        log.display = True
        log.focus()
        self.query_one("#test-run-status", Static).update("Running… escape cancels")
        self.run_tests(with_secrets)

    @work(exclusive=True, group="test-run")
    async def run_tests(self, with_secrets: bool) -> None:
        log = self.query_one(Log)

        def command(_stage: str, command: str) -> None:
            log.write_line(f"$ {command}")

        def line(text: str) -> None:
            log.write_line(text)

        results = await attempt(
            self,
            test_runs.run_tests(
                deck(self).database,
                str(self.modification_id),
                with_secrets=with_secrets,
                cancel=self.cancel,
                on_command=command,
                on_line=line,
            ),
            title="Tests not run",
        )
        self.running = False
        self.results = results
        status = self.query_one("#test-run-status", Static)
        status.update(
            outcome_text(results)
            if results is not None
            else "The run did not start · escape closes"
        )
        self.refresh_bindings()

    def action_close(self) -> None:
        if self.running:
            self.cancel.set()
            self.query_one("#test-run-status", Static).update("Cancelling…")
            return
        self.dismiss(self.results is not None)
