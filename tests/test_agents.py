"""Agent activity in the store, on both backends: conversations and
messages with exact costs, agent runs and the modifications they propose,
webhook deliveries with masked URLs, the SQL aggregates (costs per project,
model and UTC day, runs per status, pass rate per day), every validation
error, the demo filler and the migration that added the tables."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL
from sqlmodel import SQLModel

from store import migrate
from store.demo_agents import fill_agent_demo
from store.engine import Database, open_database
from store.errors import InvalidTransition, NotFound, ValidationError
from store.models import (
    AgentRun,
    AuditEntry,
    Conversation,
    ConversationStatus,
    Message,
    MessageRole,
    Modification,
    RunStatus,
    WebhookDelivery,
)
from store.money import format_amount, from_micros, parse_amount, to_micros
from store.redaction import mask_url
from store.repositories.agents import AgentActivityRepository, CostGrouping
from store.services import agent_stats, modifications, projects, shapes, webhooks
from store.services import agents as service
from store.services import audit as audit_service
from tests.store_support import Transfer, opened

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def make_project(db: Database, name: str = "Demo") -> uuid.UUID:
    created = await projects.create_project_with_settings(
        db,
        projects.ProjectCreate(
            name=name, type="api", owner_id="alice", codebase={"app.py": "print('hi')\n"}
        ),
    )
    return created.project.id


async def count(db: Database, model: type[SQLModel]) -> int:
    async with db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def audit_rows(db: Database, event_type: str) -> list[AuditEntry]:
    async with db.reading() as session:
        query = select(AuditEntry).where(AuditEntry.event_type == event_type)  # type: ignore[arg-type]
        return list((await session.execute(query.order_by(AuditEntry.id))).scalars())  # type: ignore[arg-type]


def msg(**overrides: Any) -> service.MessageInput:
    values: dict[str, Any] = {
        "role": "assistant",
        "content": "hello",
        "model_used": "claude-sonnet-4",
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "cost": "0.0123",
    }
    values.update(overrides)
    return service.MessageInput(**values)


# -- money -------------------------------------------------------------------------


def test_amounts_are_exact_decimals_and_bad_ones_name_the_field() -> None:
    assert parse_amount("cost", "0.0123") == Decimal("0.0123")
    assert to_micros(parse_amount("cost", "$1.5")) == 1_500_000
    assert to_micros(parse_amount("cost", "0.1000000")) == 100_000
    assert from_micros(12_300) == Decimal("0.012300")
    assert str(from_micros(0)) == "0.000000"
    assert format_amount(Decimal("1234.56789")) == "$1,234.5679"
    for bad, problem in [
        ("-0.01", "negative"),
        ("NaN", "not an amount"),
        ("inf", "not an amount"),
        ("1e3", "not an amount"),
        ("0.0000001", "more than 6 decimal places"),
        ("1000000.01", "typo"),
        ("", "not an amount"),
        ("\u0661\u0662", "not an amount"),
        (0.1, "never a float"),
        (True, "must be an amount"),
        (Decimal("NaN"), "finite"),
        (Decimal("-1"), "negative"),
    ]:
        with pytest.raises(ValidationError, match=problem) as caught:
            parse_amount("cost", bad)
        assert caught.value.field == "cost"


@given(micros=st.integers(min_value=0, max_value=1_000_000 * 1_000_000))
def test_every_amount_of_whole_micro_dollars_round_trips_exactly(micros: int) -> None:
    amount = from_micros(micros)
    assert to_micros(parse_amount("cost", str(amount))) == micros
    assert to_micros(parse_amount("cost", amount.normalize())) == micros
    assert parse_amount("cost", format(amount, "f")) == amount


# -- conversations and messages ------------------------------------------------------


async def test_conversation_round_trip_with_messages_in_order(database: Database) -> None:
    project = await make_project(database)
    conversation = await service.start_conversation(
        database, "Demo", title="Add pagination", intent="feature", actor="agent-1"
    )
    assert conversation.status == ConversationStatus.ACTIVE
    assert conversation.project_id == project
    assert conversation.started_by == "agent-1"
    prefix = str(conversation.id)[:8]
    first = await service.add_message(
        database, prefix, msg(role="user", content="Please add pagination", model_used=None)
    )
    second = await service.add_message(
        database,
        str(conversation.id),
        msg(content="Done.\n" * 3, metadata={"tool_calls": 2}, intent="answer"),
    )
    assert first.created_at <= second.created_at
    detail = await service.get_conversation(database, prefix)
    assert detail.messages == 2
    assert detail.cost == Decimal("0.024600")
    assert (detail.prompt_tokens, detail.completion_tokens) == (200, 40)
    assert detail.project_name == "Demo"
    page = await service.list_messages(database, prefix, limit=1)
    assert page.total == 2 and page.has_more
    assert [m.content for m in page.items] == ["Please add pagination"]
    rest = await service.list_messages(database, prefix, limit=1, offset=1)
    assert rest.items[0].content == "Done.\n" * 3
    assert rest.items[0].details == {"tool_calls": 2}
    assert rest.items[0].role == MessageRole.ASSISTANT
    found = await service.list_messages(database, prefix, search="PAGINATION")
    assert found.total == 1 and found.items[0].id == first.id
    by_model = await service.list_messages(database, prefix, search="sonnet")
    assert [m.id for m in by_model.items] == [second.id]
    assert (await service.list_messages(database, prefix, search="100%")).total == 0

    closed = await service.close_conversation(database, prefix)
    assert closed.status == ConversationStatus.CLOSED
    with pytest.raises(InvalidTransition, match="closed"):
        await service.add_message(database, prefix, msg())
    with pytest.raises(InvalidTransition):
        await service.close_conversation(database, prefix)
    assert [r.event_type for r in await audit_rows(database, "conversation.closed")] == [
        "conversation.closed"
    ]
    listed = await service.list_conversations(database, project_ref="Demo")
    assert listed.total == 1 and listed.items[0].title == "Add pagination"


async def test_conversation_without_a_project(database: Database) -> None:
    conversation = await service.start_conversation(database, None, title="General question")
    await service.add_message(database, str(conversation.id), msg(cost="0.5"))
    detail = await service.get_conversation(database, str(conversation.id))
    assert detail.project_name is None
    report = await agent_stats.cost_report(database, by="project")
    assert [(r.label, r.cost) for r in report.rows] == [("(no project)", Decimal("0.500000"))]


async def test_conversations_without_a_run_are_listed_newest_first(database: Database) -> None:
    await make_project(database)
    await make_project(database, "Other")
    lone = await service.start_conversation(database, "Demo", title="Planning")
    general = await service.start_conversation(database, None, title="General")
    linked = await service.start_conversation(database, "Demo", title="With a run")
    await service.start_run(
        database, "Demo", agent="codex", task="t", conversation_ref=str(linked.id)
    )
    elsewhere = await service.start_conversation(database, "Other", title="Elsewhere")
    # Talked in last: the most recently active first.
    await service.add_message(database, str(lone.id), msg())

    everything = await service.list_conversations_without_run(database)
    assert [row.id for row in everything.items] == [lone.id, elsewhere.id, general.id]
    assert everything.total == 3
    assert [row.project_name for row in everything.items] == ["Demo", "Other", None]
    demo = await service.list_conversations_without_run(database, project_ref="Demo")
    assert [row.title for row in demo.items] == ["Planning"] and demo.total == 1
    second = await service.list_conversations_without_run(database, limit=1, offset=1)
    assert [row.id for row in second.items] == [elsewhere.id] and second.total == 3


async def test_message_contents_never_reach_the_audit_log(database: Database) -> None:
    await make_project(database)
    conversation = await service.start_conversation(database, "Demo", title="Deploy")
    secret = "export API_TOKEN=sk-live-51HqVeryPrivateValue"
    await service.add_message(
        database,
        str(conversation.id),
        msg(content=secret, metadata={"api_key": "sk-live-other", "step": 1}),
    )
    [row] = await audit_rows(database, "conversation.messages_added")
    dumped = json.dumps(row.details) + row.description
    assert "sk-live" not in dumped
    assert row.details["length"] == len(secret)
    assert row.details["metadata_keys"] == ["api_key", "step"]
    assert row.details["cost"] == "0.012300"
    stored = await service.list_messages(database, str(conversation.id))
    assert stored.items[0].content == secret


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({"role": "robot"}, "role", "not one of"),
        ({"content": "   "}, "content", "empty"),
        ({"content": "a\x00b"}, "content", "NUL"),
        ({"prompt_tokens": -1}, "tokens_in", "negative"),
        ({"completion_tokens": True}, "tokens_out", "whole number"),
        ({"completion_tokens": 10**9}, "tokens_out", "typo"),
        ({"cost": "-0.01"}, "cost", "negative"),
        ({"cost": "NaN"}, "cost", "not an amount"),
        ({"cost": "0.0000001"}, "cost", "decimal places"),
        ({"cost": 0.25}, "cost", "float"),
        ({"cost": "5000000"}, "cost", "typo"),
        ({"model_used": "m" * 101}, "model", "at most 100"),
        ({"intent": "a\nb"}, "intent", "control"),
        ({"metadata": [1, 2]}, "metadata", "JSON object"),
        ({"created_at": datetime(2026, 1, 1)}, "created_at", "time zone"),
        ({"created_at": datetime.now(UTC) + timedelta(days=1)}, "created_at", "future"),
    ],
)
async def test_bad_messages_name_the_field_and_store_nothing(
    database: Database, overrides: dict[str, Any], field: str, problem: str
) -> None:
    await make_project(database)
    conversation = await service.start_conversation(database, "Demo", title="t")
    with pytest.raises(ValidationError, match=problem) as caught:
        await service.add_message(database, str(conversation.id), msg(**overrides))
    assert caught.value.field == field
    assert await count(database, Message) == 0


async def test_a_time_a_little_ahead_of_ours_counts_as_now(database: Database) -> None:
    """Another machine's clock may run a few minutes ahead: such a time is
    stored as the moment it arrived, never after it; one far ahead is refused
    saying what time it is here (one rule for agents' and scripts' times)."""
    await make_project(database)
    conversation = await service.start_conversation(database, "Demo", title="t")
    ahead = datetime.now(UTC) + timedelta(minutes=2)
    stored = await service.add_message(database, str(conversation.id), msg(created_at=ahead))
    run = await service.start_run(database, "Demo", agent="a", task="t", started_at=ahead)
    arrived = datetime.now(UTC)
    assert stored.created_at <= arrived and run.started_at is not None
    assert run.started_at <= arrived < ahead
    with pytest.raises(ValidationError, match=r"is in the future \(it is 20") as caught:
        await service.start_run(
            database, "Demo", agent="a", task="t", started_at=arrived + timedelta(minutes=6)
        )
    assert caught.value.field == "started_at"


async def test_a_bad_message_in_a_batch_stores_none_of_it(database: Database) -> None:
    conversation = await service.start_conversation(database, None, title="t")
    with pytest.raises(ValidationError) as caught:
        await service.add_messages(database, str(conversation.id), [msg(), msg(), msg(cost="-1")])
    assert caught.value.field == "messages[2].cost"
    with pytest.raises(ValidationError, match="at least one"):
        await service.add_messages(database, str(conversation.id), [])
    assert await count(database, Message) == 0


async def test_bad_conversations_are_refused(database: Database) -> None:
    project = await make_project(database)
    with pytest.raises(ValidationError) as caught:
        await service.start_conversation(database, "Demo", title=" ")
    assert caught.value.field == "title"
    with pytest.raises(NotFound):
        await service.start_conversation(database, "Nope", title="t")
    await projects.archive_project(database, str(project))
    with pytest.raises(InvalidTransition, match="archived"):
        await service.start_conversation(database, "Demo", title="t")
    with pytest.raises(ValidationError, match="at least 6") as short:
        await service.get_conversation(database, "abc")
    assert short.value.field == "conversation"
    with pytest.raises(NotFound):
        await service.get_conversation(database, "abcdef12")
    assert await count(database, Conversation) == 0


async def test_ambiguous_id_prefix_asks_for_more(database: Database) -> None:
    clash = [uuid.UUID(f"abcdef0{i}" + uuid.uuid4().hex[8:]) for i in (1, 2)]
    async with database.transaction() as session:
        for conversation_id in clash:
            session.add(Conversation(id=conversation_id, title="clash", started_by="t"))
    with pytest.raises(ValidationError, match="several conversations"):
        await service.get_conversation(database, "abcdef")
    assert (await service.get_conversation(database, str(clash[0]))).conversation.id == clash[0]
    assert (await service.get_conversation(database, "ABCDEF02")).conversation.id == clash[1]


async def test_cost_sums_are_exact_on_thousands_of_messages(database: Database) -> None:
    await make_project(database)
    conversation = await service.start_conversation(database, "Demo", title="long")
    rng = random.Random(42)
    costs = [Decimal(rng.randrange(0, 5_000_000)).scaleb(-6) for _ in range(5000)]
    batch = [
        msg(cost=str(cost), prompt_tokens=i, completion_tokens=1, content=f"m{i}")
        for i, cost in enumerate(costs)
    ]
    await service.add_messages(database, str(conversation.id), batch)
    expected = sum(costs, Decimal(0))
    detail = await service.get_conversation(database, str(conversation.id))
    assert detail.messages == 5000
    assert detail.cost == expected
    report = await agent_stats.cost_report(database, by="model")
    assert report.total == expected
    assert report.rows[0].prompt_tokens == sum(range(5000))
    # 0.1 + 0.2 is exactly 0.3 here, unlike with floats.
    tenth = await service.start_conversation(database, None, title="tenths")
    await service.add_messages(database, str(tenth.id), [msg(cost="0.1"), msg(cost="0.2")])
    assert (await service.get_conversation(database, str(tenth.id))).cost == Decimal("0.3")
    row = (await audit_rows(database, "conversation.messages_added"))[0]
    assert row.details["messages"] == 5000
    assert row.details["cost"] == str(expected.quantize(Decimal("0.000001")))


# -- aggregates ------------------------------------------------------------------------


async def test_cost_report_matches_a_hand_computation_per_project_model_and_day(
    database: Database,
) -> None:
    await make_project(database, "Alpha")
    await make_project(database, "Beta")
    a = await service.start_conversation(database, "Alpha", title="a")
    b = await service.start_conversation(database, "Beta", title="b")
    day1_late = datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=UTC)
    day2_start = datetime(2026, 3, 2, 0, 0, 0, tzinfo=UTC)
    # 01:30 at UTC+2 is 23:30 UTC on March 1st.
    east = datetime(2026, 3, 2, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    await service.add_messages(
        database,
        str(a.id),
        [
            msg(model_used="m1", cost="1.000001", prompt_tokens=10, created_at=day1_late),
            msg(model_used="m2", cost="2.5", prompt_tokens=20, created_at=day2_start),
            msg(model_used="m1", cost="0.000009", prompt_tokens=5, created_at=east),
        ],
    )
    await service.add_messages(
        database,
        str(b.id),
        [msg(model_used="m2", cost="0.25", prompt_tokens=1, created_at=day2_start)],
    )
    run = await service.start_run(
        database, "Beta", agent="bot", task="t", started_at=day2_start + timedelta(hours=1)
    )
    await service.finish_run(database, str(run.id), status="succeeded", cost="0.75")

    by_project = await agent_stats.cost_report(database, by="project")
    assert [(r.label, r.cost, r.messages, r.runs) for r in by_project.rows] == [
        ("Alpha", Decimal("3.500010"), 3, 0),
        ("Beta", Decimal("1.000000"), 1, 1),
    ]
    by_model = await agent_stats.cost_report(database, by="model")
    assert {(r.label, r.cost, r.prompt_tokens) for r in by_model.rows} == {
        ("m2", Decimal("2.750000"), 21),
        ("m1", Decimal("1.000010"), 15),
        ("(no model)", Decimal("0.750000"), 0),
    }
    by_day = await agent_stats.cost_report(database, by="day")
    assert [(r.key, r.cost) for r in by_day.rows] == [
        (date(2026, 3, 1), Decimal("1.000010")),
        (date(2026, 3, 2), Decimal("3.500000")),
    ]
    for report in (by_project, by_model, by_day):
        assert report.total == Decimal("4.500010")
        assert (report.messages, report.runs) == (4, 1)
    # since is inclusive, until exclusive, both on the exact instant.
    day2 = await agent_stats.cost_report(database, by="project", since=day2_start)
    assert day2.total == Decimal("3.500000")
    day1 = await agent_stats.cost_report(database, by="model", until=day2_start)
    assert day1.total == Decimal("1.000010")
    only_beta = await agent_stats.cost_report(database, by="day", project_ref="Beta")
    assert only_beta.total == Decimal("1.000000")
    with pytest.raises(ValidationError) as caught:
        await agent_stats.cost_report(database, by="week")
    assert caught.value.field == "by"
    with pytest.raises(ValidationError) as caught:
        await agent_stats.cost_report(database, since=day2_start, until=day2_start)
    assert caught.value.field == "until"


async def test_day_buckets_are_utc_whatever_the_session_time_zone(database: Database) -> None:
    conversation = await service.start_conversation(database, None, title="tz")
    await service.add_messages(
        database,
        str(conversation.id),
        [
            msg(cost="1", created_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC)),
            msg(cost="2", created_at=datetime(2026, 3, 2, 0, 30, tzinfo=UTC)),
        ],
    )
    async with database.reading() as session:
        if database.backend == "postgresql":
            # Tokyo is 9 hours ahead: a local-time bucket would put both on March 2nd.
            await session.execute(text("SET TIME ZONE 'Asia/Tokyo'"))
        sums = await AgentActivityRepository(session).cost_sums(CostGrouping.DAY)
    assert [(s.key, s.cost_micros) for s in sums] == [
        (date(2026, 3, 1), 1_000_000),
        (date(2026, 3, 2), 2_000_000),
    ]


async def test_runs_per_status_and_pass_rate_per_day(database: Database) -> None:
    await make_project(database, "Alpha")
    await make_project(database, "Beta")
    start = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)

    async def run(project: str, status: str, finished: datetime | None, **tests: int) -> None:
        made = await service.start_run(database, project, agent="bot", task="t", started_at=start)
        if finished is not None:
            await service.finish_run(
                database,
                str(made.id),
                status=status,
                finished_at=finished,
                test_results=tests or None,
            )

    await run(
        "Alpha", "succeeded", datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC), passed=8, failed=0
    )
    await run("Alpha", "failed", datetime(2026, 3, 2, 0, 0, tzinfo=UTC), passed=6, failed=2)
    await run(
        "Beta", "failed", datetime(2026, 3, 2, 1, 0, tzinfo=UTC), passed=3, failed=1, skipped=4
    )
    await run("Beta", "cancelled", datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    await run("Beta", "running", None)

    counts = await agent_stats.runs_per_status(database)
    assert counts == {
        RunStatus.QUEUED: 0,
        RunStatus.RUNNING: 1,
        RunStatus.SUCCEEDED: 1,
        RunStatus.FAILED: 2,
        RunStatus.CANCELLED: 1,
    }
    assert (await agent_stats.runs_per_status(database, project_ref="Alpha"))[RunStatus.FAILED] == 1
    days = await agent_stats.pass_rate_per_day(database)
    assert [(d.day, d.runs, d.passed, d.failed, d.skipped) for d in days] == [
        (date(2026, 3, 1), 1, 8, 0, 0),
        (date(2026, 3, 2), 2, 9, 3, 4),
    ]
    assert days[0].pass_rate == 1.0
    assert days[1].pass_rate == 0.75
    beta = await agent_stats.pass_rate_per_day(database, project_ref="Beta")
    assert [(d.passed, d.failed) for d in beta] == [(3, 1)]


# -- runs --------------------------------------------------------------------------------


async def test_run_lifecycle_with_its_conversation_and_modification(database: Database) -> None:
    project = await make_project(database)
    conversation = await service.start_conversation(database, "Demo", title="Fix it")
    run = await service.start_run(
        database,
        "Demo",
        agent="claude-code",
        task="Fix the greeting",
        conversation_ref=str(conversation.id)[:10],
    )
    assert run.status == RunStatus.RUNNING and run.started_at is not None
    mod = await modifications.propose_modification(
        database,
        "Demo",
        modifications.ModificationProposal(
            request="bye", modified_files={"app.py": "print('bye')\n"}
        ),
        run_ref=str(run.id)[:8],
    )
    assert mod.run_id == run.id
    assert shapes.modification_as_dict(mod)["run_id"] == str(run.id)
    [proposed] = await audit_rows(database, "modification.proposed")
    assert proposed.details["run"] == str(run.id)
    finished = await service.finish_run(
        database,
        str(run.id),
        status="succeeded",
        test_results={"passed": 12, "failed": 0, "failing": [], "duration_seconds": 3.5},
        cost="0.42",
    )
    assert finished.status == RunStatus.SUCCEEDED
    detail = await service.get_run(database, str(run.id)[:8])
    assert detail.project_name == "Demo"
    assert detail.conversation_title == "Fix it"
    assert [m.id for m in detail.modifications] == [mod.id]
    assert detail.cost == Decimal("0.420000")
    assert detail.duration is not None and detail.duration >= timedelta(0)
    assert detail.run.test_results == {
        "passed": 12,
        "failed": 0,
        "skipped": 0,
        "failing": [],
        "duration_seconds": 3.5,
    }
    data = shapes.run_detail_as_dict(detail)
    assert data["modifications"][0]["id"] == str(mod.id)
    assert data["cost"] == "0.420000"
    with pytest.raises(InvalidTransition, match="succeeded"):
        await service.finish_run(database, str(run.id), status="failed")
    events = [
        e.event_type
        for e in (await audit_service.list_audit(database, audit_service.AuditQuery())).items
    ]
    assert {"run.started", "run.succeeded", "conversation.started"} <= set(events)
    # Purging the project removes its conversations and runs with it.
    await projects.purge_project(database, str(project))
    for model in (Conversation, AgentRun, Modification):
        assert await count(database, model) == 0


async def test_a_queued_run_begins_then_finishes_and_each_step_is_audited(
    database: Database,
) -> None:
    await make_project(database, "Alpha")
    queued_at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    queued = await service.start_run(
        database, "Alpha", agent="bot", task="t", started_at=queued_at, queued=True
    )
    assert queued.status == RunStatus.QUEUED and queued.started_at is None
    counts = await agent_stats.runs_per_status(database, project_ref="Alpha")
    assert counts[RunStatus.QUEUED] == 1 and counts[RunStatus.RUNNING] == 0
    with pytest.raises(ValidationError, match="started_at"):
        await service.begin_run(
            database, str(queued.id), started_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
        )
    began = await service.begin_run(
        database, str(queued.id), started_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    )
    assert began.status == RunStatus.RUNNING
    assert began.started_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with pytest.raises(InvalidTransition):
        await service.begin_run(database, str(queued.id))
    await service.finish_run(database, str(queued.id), status="succeeded")
    # A queued run may also be cancelled before it ever starts.
    other = await service.start_run(database, "Alpha", agent="bot", task="t2", queued=True)
    cancelled = await service.finish_run(database, str(other.id), status="cancelled")
    assert cancelled.status == RunStatus.CANCELLED and cancelled.started_at is None
    async with database.reading() as session:
        events = list(
            await session.scalars(
                select(AuditEntry.event_type).where(AuditEntry.entity_type == "agent_run")
            )
        )
    assert sorted(events) == sorted(
        ["run.queued", "run.started", "run.succeeded", "run.queued", "run.cancelled"]
    )


async def test_list_runs_newest_first_filtered_and_paged(database: Database) -> None:
    await make_project(database, "Alpha")
    await make_project(database, "Beta")
    made = []
    for index in range(7):
        run = await service.start_run(
            database,
            "Alpha" if index % 2 else "Beta",
            agent="codex" if index < 3 else "aider",
            task=f"task {index}",
            started_at=T0 + timedelta(minutes=index),
        )
        made.append(run)
    await service.finish_run(database, str(made[6].id), status="failed", error="boom")
    page = await service.list_runs(database, limit=3)
    assert page.total == 7 and page.has_more
    assert [r.task for r in page.items] == ["task 6", "task 5", "task 4"]
    assert page.items[0].project_name == "Beta" and page.items[0].status == RunStatus.FAILED
    rest = await service.list_runs(database, limit=3, offset=6)
    assert [r.task for r in rest.items] == ["task 0"]
    alpha = await service.list_runs(database, project_ref="Alpha")
    assert [r.task for r in alpha.items] == ["task 5", "task 3", "task 1"]
    codex_running = await service.list_runs(database, agent="codex", statuses=["running"])
    assert codex_running.total == 3
    failed = await service.list_runs(database, statuses=[RunStatus.FAILED])
    assert [r.id for r in failed.items] == [made[6].id]
    with pytest.raises(ValidationError) as caught:
        await service.list_runs(database, statuses=["done"])
    assert caught.value.field == "status"
    assert shapes.run_row_as_dict(page.items[0])["status"] == "failed"


@pytest.mark.parametrize(
    ("tests", "field", "problem"),
    [
        ([1, 2], "tests", "JSON object"),
        ({"passed": 1}, "tests.failed", "required"),
        ({"passed": -1, "failed": 0}, "tests.passed", "negative"),
        ({"passed": 1.5, "failed": 0}, "tests.passed", "whole number"),
        ({"passed": 1, "failed": 0, "flaky": 2}, "tests.flaky", "not a test result field"),
        ({"passed": 1, "failed": 1, "failing": ["a", "b"]}, "tests.failing", "names 2"),
        ({"passed": 1, "failed": 1, "failing": "a"}, "tests.failing", "list"),
        ({"passed": 1, "failed": 0, "duration_seconds": -2}, "tests.duration_seconds", "duration"),
    ],
)
async def test_bad_test_results_name_the_field_and_leave_the_run_running(
    database: Database, tests: Any, field: str, problem: str
) -> None:
    await make_project(database)
    run = await service.start_run(database, "Demo", agent="a", task="t")
    with pytest.raises(ValidationError, match=problem) as caught:
        await service.finish_run(database, str(run.id), status="failed", test_results=tests)
    assert caught.value.field == field
    assert (await service.get_run(database, str(run.id))).run.status == RunStatus.RUNNING


async def test_bad_runs_are_refused_and_store_nothing(database: Database) -> None:
    await make_project(database, "Alpha")
    beta = await make_project(database, "Beta")
    other = await service.start_conversation(database, "Beta", title="elsewhere")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"agent": ""}, "agent"),
        ({"task": "  "}, "task"),
        ({"agent": "x" * 101}, "agent"),
        ({"conversation_ref": str(other.id)}, "conversation"),
        ({"conversation_ref": "zz"}, "conversation"),
    ]
    for overrides, field in cases:
        values: dict[str, Any] = {"agent": "bot", "task": "t", **overrides}
        with pytest.raises(ValidationError) as caught:
            await service.start_run(database, "Alpha", **values)
        assert caught.value.field == field
    await projects.archive_project(database, str(beta))
    with pytest.raises(InvalidTransition):
        await service.start_run(database, "Beta", agent="bot", task="t")
    assert await count(database, AgentRun) == 0

    run = await service.start_run(database, "Alpha", agent="bot", task="t")
    for kwargs, field in [
        ({"status": "running"}, "status"),
        ({"status": "exploded"}, "status"),
        ({"status": "succeeded", "error": "oops"}, "error"),
        ({"status": "failed", "cost": "-3"}, "cost"),
        ({"status": "failed", "finished_at": T0 - timedelta(days=400)}, "finished_at"),
    ]:
        with pytest.raises(ValidationError) as caught:
            await service.finish_run(database, str(run.id), **kwargs)
        assert caught.value.field == field
    assert (await service.get_run(database, str(run.id))).run.status == RunStatus.RUNNING
    # A run of another project cannot claim a modification.
    beta_run_project = await make_project(database, "Gamma")
    gamma_run = await service.start_run(database, str(beta_run_project), agent="a", task="t")
    with pytest.raises(ValidationError) as caught:
        await modifications.propose_modification(
            database,
            "Alpha",
            modifications.ModificationProposal(request="r", modified_files={"x.py": "x"}),
            run_ref=str(gamma_run.id),
        )
    assert caught.value.field == "run"
    assert await count(database, Modification) == 0


# -- webhooks ----------------------------------------------------------------------------------


def test_webhook_urls_are_masked_where_they_hold_credentials() -> None:
    mask = mask_url
    assert mask("https://hooks.example.com/ci") == "https://hooks.example.com/ci"
    assert mask("https://bot:hunter2@hooks.example.com/x") == "https://bot:***@hooks.example.com/x"
    assert mask("https://ghp_abc@example.com/x") == "https://***@example.com/x"
    assert (
        mask("https://h.example.com/x?event=push&token=s3cr3t&api_key=k&page=2")
        == "https://h.example.com/x?event=push&token=***&api_key=***&page=2"
    )
    assert (
        mask("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX1234abcd")
        == "https://hooks.slack.com/services/T000/B000/***"
    )
    assert mask("https://h.example.com/cb#access_token=abc&x=1") == (
        "https://h.example.com/cb#access_token=***&x=1"
    )


async def test_webhook_deliveries_are_stored_masked_and_bounded(database: Database) -> None:
    await make_project(database)
    secret_url = "https://ci:pa55word@hooks.example.com/p?signature=abcdef123&event=x"
    ok = await webhooks.record_webhook_delivery(
        database,
        "Demo",
        webhooks.WebhookInput(event="run.finished", url=secret_url, status_code=200, response="ok"),
    )
    assert ok.url == "https://ci:***@hooks.example.com/p?signature=***&event=x"
    assert ok.delivered_at is not None
    retry = await webhooks.record_webhook_delivery(
        database,
        "Demo",
        webhooks.WebhookInput(
            event="run.finished", url=secret_url, status_code=503, attempt=2, response="x" * 5000
        ),
    )
    assert retry.delivered_at is None
    assert retry.response_excerpt is not None and len(retry.response_excerpt) == 2000
    assert retry.response_excerpt.endswith("…")
    page = await webhooks.list_webhook_deliveries(database, "Demo")
    assert page.total == 2
    assert {d.attempt for d in page.items} == {1, 2}
    async with database.reading() as session:
        stored = [
            json.dumps([str(value) for value in row])
            for row in await session.execute(select(WebhookDelivery))
        ] + [
            json.dumps(entry.details) + entry.description
            for entry in (await session.execute(select(AuditEntry))).scalars()
        ]
    assert not any("pa55word" in item or "abcdef123" in item for item in stored)
    [row] = (await audit_rows(database, "webhook.delivery_recorded"))[:1]
    assert row.details["response_length"] == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event": ""}, "event"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "https://user:topsecret@ exa mple.com"}, "url"),
        ({"url": ""}, "url"),
        ({"url": "http://[::1/x"}, "url"),
        ({"url": "https://h.example.com/\ud800"}, "url"),
        ({"url": "https://h.example.com/" + "a" * 3000}, "url"),
        ({"status_code": 99}, "status_code"),
        ({"status_code": 600}, "status_code"),
        ({"attempt": 0}, "attempt"),
        ({"response": "a\x00b"}, "response"),
    ],
)
async def test_bad_webhook_deliveries_name_the_field_and_store_nothing(
    database: Database, overrides: dict[str, Any], field: str
) -> None:
    await make_project(database)
    values: dict[str, Any] = {"event": "push", "url": "https://h.example.com", **overrides}
    with pytest.raises(ValidationError) as caught:
        await webhooks.record_webhook_delivery(database, "Demo", webhooks.WebhookInput(**values))
    assert caught.value.field == field
    assert "topsecret" not in caught.value.message
    assert await count(database, WebhookDelivery) == 0


# -- demo -----------------------------------------------------------------------------------


async def test_agent_demo_is_deterministic_and_links_runs_to_modifications(
    make_database: Any, backend: str
) -> None:
    shapes = []
    for _ in range(2):
        db = await make_database(backend)
        for name in ("Alpha", "Beta"):
            await make_project(db, name)
            await modifications.propose_modification(
                db,
                name,
                modifications.ModificationProposal(request="r", modified_files={"a.py": "a"}),
            )
        await fill_agent_demo(db)
        runs = await service.list_runs(db, limit=500)
        assert runs.total >= 4
        shapes.append(
            sorted(
                (r.project_name, r.agent, r.task, str(r.status), str(r.cost)) for r in runs.items
            )
        )
        report = await agent_stats.cost_report(db, by="model")
        assert report.total > 0 and report.messages > 0
        assert await count(db, WebhookDelivery) > 0
        async with db.reading() as session:
            linked = (
                await session.execute(
                    select(func.count())
                    .select_from(Modification)
                    .where(Modification.run_id.is_not(None))  # type: ignore[union-attr]
                )
            ).scalar_one()
        assert linked >= 1
        now = datetime.now(UTC)
        assert all(r.created_at <= now and (r.finished_at or now) <= now for r in runs.items)
        assert (await audit_service.verify_chain(db)).ok
    assert shapes[0] == shapes[1]


# -- migration ---------------------------------------------------------------------------------


async def test_upgrading_from_0003_keeps_every_row(empty_database_url: URL) -> None:
    async with opened(empty_database_url) as database:
        await migrate.upgrade(database)
        project = await make_project(database)
        await make_project(database, "Other")
        mod = await modifications.propose_modification(
            database,
            "Demo",
            modifications.ModificationProposal(request="r", modified_files={"a.py": "a"}),
            actor="agent-7",
        )
        await modifications.approve_modification(database, str(mod.id), comment="fine")
        await projects.update_settings(database, str(project), {"branch_name": "dev"})
        tables = ("projects", "project_settings", "modifications", "audit_log", "templates")
        newer = (
            "run_id",
            "approved_digest",
            "snapshot_commit",
            "base_commit",
            "applied_commit",
            "file_modes",
            "proposed_files",
            "revises_id",
            "revision",
            "local_test_results",
            "test_commands",
        )

        async def snapshot() -> dict[str, Any]:
            async with database.reading() as session:
                rows = {}
                for table in tables:
                    # Schema changes may log themselves; every other row must stay as it was.
                    where = " WHERE event_type NOT LIKE 'schema.%'" if table == "audit_log" else ""
                    result = await session.execute(text(f"SELECT * FROM {table}{where}"))
                    rows[table] = sorted(
                        json.dumps(
                            # Columns added after 0003 (0008 fills approved_digest, 0009
                            # adds the commits, 0010 proposed_files and revisions, 0013
                            # the test commands and local test results).
                            {k: str(v) for k, v in row._mapping.items() if k not in newer},
                            sort_keys=True,
                        )
                        for row in result
                    )
                return rows

        assert await migrate.downgrade(database, "0003") == "0003"
        # A fresh pool after each schema change (asyncpg caches statement plans).
        await database.dispose()
        database = await open_database(empty_database_url)
        before = await snapshot()
        assert len(before["audit_log"]) >= 4 and len(before["modifications"]) == 1
        assert await migrate.upgrade(database) == migrate.HEAD_REVISION
        await database.dispose()
        database = await open_database(empty_database_url)
        assert await snapshot() == before
        assert (await audit_service.verify_chain(database)).ok
        assert await migrate.check(database) == []
        # The upgraded database takes agent activity at once.
        run = await service.start_run(database, "Demo", agent="a", task="t")
        assert (await service.get_run(database, str(run.id))).modifications == []


@pytest.mark.parametrize("direction", ["sqlite->sqlite", "sqlite->postgresql"])
async def test_transfer_carries_agent_activity_and_exact_costs(transfer: Transfer) -> None:
    from store.services import workspace

    source, target = transfer
    await make_project(source)
    await modifications.propose_modification(
        source,
        "Demo",
        modifications.ModificationProposal(request="r", modified_files={"a.py": "a"}),
    )
    await fill_agent_demo(source)
    await workspace.transfer_workspace(source, target)
    for by in CostGrouping:
        before = await agent_stats.cost_report(source, by=by)
        after = await agent_stats.cost_report(target, by=by)
        assert shapes.cost_report_as_dict(after) == shapes.cost_report_as_dict(before)
    runs = await service.list_runs(source, limit=500)
    copied = await service.list_runs(target, limit=500)
    assert [shapes.run_row_as_dict(r) for r in copied.items] == [
        shapes.run_row_as_dict(r) for r in runs.items
    ]
    linked = [r for r in runs.items if (await service.get_run(source, str(r.id))).modifications]
    assert linked
    assert (await service.get_run(target, str(linked[0].id))).modifications
    for model in (Conversation, Message, WebhookDelivery):
        assert await count(target, model) == await count(source, model)
