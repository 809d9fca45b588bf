"""Agent runs: the table of runs, and what a run's detail pane draws."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from store.money import format_amount
from store.services import ConversationRow, RunRow
from store.services.agents import RunDetail
from tui import format
from tui.widgets.tables import ItemTable

RUN_STYLES = {
    "queued": "dim",
    "running": "cyan",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "yellow",
}


def run_status(value: str) -> Text:
    return format.safe(str(value), style=RUN_STYLES.get(str(value), ""))


def duration(value: timedelta | None) -> str:
    """``1h 04m``, ``12m 05s``, ``40s``; ``—`` while a run has not finished."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def tests_text(results: dict[str, Any]) -> Text:
    """``212 passed · 2 failed · 5 skipped``; ``no test results`` when none."""
    if not results:
        return format.safe("no test results", style="dim")
    text = format.safe()
    for key, style in (("passed", "green"), ("failed", "red"), ("skipped", "yellow")):
        count = int(results.get(key, 0) or 0)
        if text:
            text.append(", ")
        text.append(f"{count} {key}", style=style if count else "dim")
    return text


class RunTable(ItemTable[RunRow]):
    """Runs, newest first: status, project, agent, task, started, cost."""

    COLUMNS = (
        ("Status", "status"),
        ("Project", "project"),
        ("Agent", "agent"),
        ("Task", "task"),
        ("Started", "started"),
        ("Cost", "cost"),
    )

    def column_width(self, key: str) -> int | None:
        if key == "task":
            return 22 if self.with_project else 48
        return None

    def cells(self, row: RunRow, now: datetime) -> list[object]:
        # Text, not str: DataTable reads strings as markup, names are as typed.
        return [
            run_status(row.status),
            format.safe(row.project_name),
            format.safe(row.agent),
            format.safe(row.task, overflow="ellipsis", no_wrap=True),
            format.ago(row.started_at or row.created_at, now),
            format.safe(format_amount(row.cost, 2), justify="right"),
        ]


class ConversationTable(ItemTable[ConversationRow]):
    """Conversations, most recently active first: last active, project,
    title, who started it, status."""

    COLUMNS = (
        ("Active", "active"),
        ("Project", "project"),
        ("Title", "title"),
        ("Started by", "started_by"),
        ("Status", "status"),
    )

    def column_width(self, key: str) -> int | None:
        return 40 if key == "title" else None

    def cells(self, row: ConversationRow, now: datetime) -> list[object]:
        return [
            format.ago(row.updated_at, now),
            format.safe(row.project_name or "no project", style="" if row.project_name else "dim"),
            format.safe(row.title, overflow="ellipsis", no_wrap=True),
            format.safe(row.started_by),
            format.safe(str(row.status)),
        ]


def render_run(detail: RunDetail, now: datetime) -> RenderableType:
    """A run's task, times, tests, cost, error and conversation."""
    run = detail.run
    fields = Table.grid(padding=(0, 1))
    fields.add_column(style="bold", no_wrap=True)
    fields.add_column()
    for label, value in (
        ("Status", run_status(run.status)),
        ("Project", format.safe(detail.project_name)),
        ("Agent", format.safe(run.agent)),
        (
            "Started",
            format.safe(f"{format.stamp(run.started_at)} ({format.ago(run.started_at, now)})"),
        ),
        ("Finished", format.safe(format.stamp(run.finished_at))),
        ("Duration", format.safe(duration(detail.duration))),
        ("Tests", tests_text(run.test_results)),
        ("Cost", format.safe(format_amount(detail.cost))),
        ("Conversation", format.safe(detail.conversation_title or "—")),
    ):
        fields.add_row(label, value)
    parts: list[RenderableType] = [format.safe(run.task, style="bold"), format.safe(""), fields]
    failing = [str(name) for name in run.test_results.get("failing", []) or []]
    if failing:
        parts += [format.safe(""), format.safe("Failing tests", style="bold underline")]
        parts += [format.safe(f"  {name}", style="red") for name in failing]
    if run.error:
        parts += [
            format.safe(""),
            format.safe("Error", style="bold underline"),
            format.safe(run.error, style="red"),
        ]
    return Group(*parts)
