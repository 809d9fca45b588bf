"""The Activity screen, the conversation view and a project's Runs tab,
driven by keys under Pilot on a copy of the demo database; each test
checks what the screen shows against the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.engine import URL
from textual.pilot import Pilot
from textual.widgets import Collapsible, Select, Static
from textual.widgets._footer import FooterKey

from store.engine import Database, open_database
from store.money import format_amount
from store.services import agent_stats, agents
from tests.app_support import (
    FIXED_NOW,
    open_project,
    press,
    running_app,
    text_of,
    wait_until,
)
from tui.screens.activity import ActivityScreen
from tui.screens.conversation import ConversationScreen, is_long
from tui.screens.help import HelpScreen
from tui.screens.review import ReviewScreen
from tui.widgets.runs import ConversationTable, RunTable


async def service(url: URL, call: Any) -> Any:
    db: Database = await open_database(url)
    try:
        return await call(db)
    finally:
        await db.dispose()


async def press_each(pilot: Pilot[None], *keys: str) -> None:
    """Press keys one at a time, letting each key's workers finish (a worker
    cancelled mid-read by the next key is not what these tests are about)."""
    for key in keys:
        await press(pilot, key)


async def test_activity_lists_every_run_newest_first_and_filters_by_agent(demo_url: URL) -> None:
    everything = await service(demo_url, lambda db: agents.list_runs(db, limit=500))
    codex = await service(demo_url, lambda db: agents.list_runs(db, agent="codex", limit=500))
    assert 0 < codex.total < everything.total
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "6")
        screen = app.screen
        assert isinstance(screen, ActivityScreen)
        table = screen.query_one(RunTable)
        assert [row.id for row in table.items] == [row.id for row in everything.items]
        started = [row.created_at for row in table.items]
        assert started == sorted(started, reverse=True)
        assert f"{everything.total} runs" in text_of(
            screen.query_one("#activity-status-line", Static)
        )

        await press(pilot, "a", *"codex", "enter")
        assert [row.id for row in table.items] == [row.id for row in codex.items]
        assert {row.agent for row in table.items} == {"codex"}
        assert table.has_focus

        await press(pilot, "escape")
        assert len(table.items) == everything.total


async def test_activity_filters_by_status_and_project(demo_url: URL) -> None:
    failed = await service(demo_url, lambda db: agents.list_runs(db, statuses=["failed"]))
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "6")
        screen = app.screen
        table = screen.query_one(RunTable)
        # The status list: prompt, queued, running, succeeded, failed.
        await press(pilot, "s", "enter", "down", "down", "down", "down", "enter")
        assert screen.query_one("#activity-status", Select).value == "failed"
        assert [row.id for row in table.items] == [row.id for row in failed.items]

        project = table.items[0].project_name
        # The project picker: enter opens it, typing narrows, enter picks.
        screen.query_one("#activity-project").focus()
        await press(pilot, "enter", *project, "enter")
        one = await service(
            demo_url, lambda db: agents.list_runs(db, project_ref=project, statuses=["failed"])
        )
        assert [row.id for row in table.items] == [row.id for row in one.items]
        assert {row.project_name for row in table.items} == {project}


async def test_run_detail_shows_task_tests_cost_and_opens_its_modification(
    demo_url: URL,
) -> None:
    runs = await service(demo_url, lambda db: agents.list_runs(db, limit=500))
    details = [
        await service(demo_url, lambda db, ref=str(row.id): agents.get_run(db, ref))
        for row in runs.items
    ]
    position, detail = next(
        (index, detail) for index, detail in enumerate(details) if detail.modifications
    )
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "6")
        await press_each(pilot, *["down"] * position)
        shown = text_of(app.screen.query_one("#activity-run", Static))
        assert detail.run.task in shown
        assert format_amount(detail.cost) in shown
        assert f"{detail.run.test_results['passed']} passed" in shown

        await press(pilot, "m")
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.current == detail.modifications[0].id
        summary = text_of(app.screen.query_one("#review-summary", Static))
        assert detail.modifications[0].request.splitlines()[0] in summary

        await press(pilot, "escape")
        assert isinstance(app.screen, ActivityScreen)


async def test_conversation_shows_messages_in_order_folds_long_ones_and_searches(
    demo_url: URL,
) -> None:
    runs = await service(demo_url, lambda db: agents.list_runs(db, limit=500))
    run = next(row for row in runs.items if row.status == "failed")
    position = runs.items.index(run)
    ref = str(run.conversation_id)
    messages = await service(demo_url, lambda db: agents.list_messages(db, ref))
    matching = await service(demo_url, lambda db: agents.list_messages(db, ref, search="pytest"))
    conversation = await service(demo_url, lambda db: agents.get_conversation(db, ref))
    async with running_app(demo_url) as (app, pilot):
        await press_each(pilot, "6", *["down"] * position, "enter")
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        assert screen.conversation_id == run.conversation_id
        folds = list(screen.query(Collapsible))
        assert len(folds) == messages.total == conversation.messages
        for fold, message in zip(folds, messages.items, strict=True):
            assert str(message.role) in fold.title
            if message.model_used:
                assert message.model_used in fold.title
            assert fold.collapsed == is_long(message.content)
        summary = text_of(screen.query_one("#conversation-summary", Static))
        assert format_amount(conversation.cost) in summary
        assert any(fold.collapsed for fold in folds)

        await pilot.press("x")
        await pilot.pause()
        assert not any(fold.collapsed for fold in screen.query(Collapsible))

        await press(pilot, "slash", *"pytest", "enter")
        assert len(screen.query(Collapsible)) == matching.total == 1
        assert "matching 'pytest'" in text_of(screen.query_one("#conversation-status", Static))

        await press(pilot, "escape")
        assert isinstance(app.screen, ActivityScreen)


async def test_costs_tab_totals_the_chosen_period_per_project_and_model(demo_url: URL) -> None:
    week = await service(
        demo_url,
        lambda db: agent_stats.cost_report(
            db, since=FIXED_NOW - timedelta(days=7), until=FIXED_NOW
        ),
    )
    month = await service(
        demo_url,
        lambda db: agent_stats.cost_report(
            db, by="model", since=FIXED_NOW - timedelta(days=30), until=FIXED_NOW
        ),
    )
    assert week.total < month.total
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "6", "c")
        screen = app.screen
        total = text_of(screen.query_one(".costs-total", Static))
        assert f"last 30 days: {format_amount(month.total, 2)}" in total
        by_model = text_of(screen.query_one(".costs-by-model", Static))
        for row in month.rows:
            assert row.label in by_model
            assert format_amount(row.cost, 2) in by_model

        # The period list: 7, 30, 90 days, all time.
        await press(pilot, "enter", "up", "enter")
        total = text_of(screen.query_one(".costs-total", Static))
        assert f"last 7 days: {format_amount(week.total, 2)}" in total
        by_project = text_of(screen.query_one(".costs-by-project", Static))
        for row in week.rows:
            assert row.label in by_project


async def test_project_runs_tab_lists_the_projects_runs_and_opens_a_conversation(
    demo_url: URL,
) -> None:
    async with running_app(demo_url) as (app, pilot):
        screen = await open_project(pilot)
        ref = str(screen.project_id)
        runs = await service(demo_url, lambda db: agents.list_runs(db, project_ref=ref))
        costs = await service(
            demo_url, lambda db: agent_stats.cost_report(db, by="model", project_ref=ref)
        )
        await press(pilot, *["right_square_bracket"] * 6)
        table = screen.query_one("#project-runs", RunTable)
        # The tab focuses its table once its rows have loaded (a worker).
        wanted = [row.id for row in runs.items]
        await wait_until(
            pilot, lambda: table.has_focus and [row.id for row in table.items] == wanted, 10
        )
        shown = text_of(screen.query_one("#project-costs", Static))
        assert format_amount(costs.rows[0].cost, 2) in shown

        await press(pilot, "enter")
        assert isinstance(app.screen, ConversationScreen)
        assert app.screen.conversation_id == runs.items[0].conversation_id


async def test_conversations_without_a_run_are_listed_and_open(demo_url: URL) -> None:
    """A conversation recorded without a run (none of the runs' lists reach
    it) is listed on the Activity screen's `w` tab; enter opens it."""

    async def record(db: Database) -> Any:
        lone = await agents.start_conversation(db, "Metrics Pipeline", title="Planning, no run")
        await agents.add_message(
            db, str(lone.id), agents.MessageInput(role="user", content="What should we do?")
        )
        none = await agents.start_conversation(db, None, title="About no project")
        return lone, none

    lone, about_none = await service(demo_url, record)
    runs = await service(demo_url, lambda db: agents.list_runs(db, limit=500))
    with_run = {row.conversation_id for row in runs.items} - {None}
    without = await service(demo_url, lambda db: agents.list_conversations_without_run(db))
    listed = [row.id for row in without.items]
    assert {lone.id, about_none.id} <= set(listed)
    assert not with_run & set(listed)
    async with running_app(demo_url) as (app, pilot):
        await press_each(pilot, "6", "w")
        screen = app.screen
        assert isinstance(screen, ActivityScreen)
        table = screen.query_one(ConversationTable)
        assert table.has_focus
        assert [row.id for row in table.items] == listed
        line = text_of(screen.query_one("#activity-conversations-line", Static))
        assert f"{without.total} conversation" in line
        shown = [table.get_row_at(index) for index in range(table.row_count)]
        position = listed.index(lone.id)
        assert "Planning, no run" in str(shown[position][2])
        assert "no project" in str(shown[listed.index(about_none.id)][1])

        await press_each(pilot, *["down"] * position, "enter")
        conversation = app.screen
        assert isinstance(conversation, ConversationScreen)
        assert conversation.conversation_id == lone.id
        assert len(conversation.query(Collapsible)) == 1

        await press_each(pilot, "escape")
        assert app.screen is screen
        # The key is in the footer and in the help.
        footer = [key.key for key in screen.query(FooterKey)]
        assert "w" in footer
        await press_each(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert dict(app.screen.keys)["w"] == "No-run"
