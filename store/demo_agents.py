"""The agents' part of the demo workspace (``projdeck demo``, ``--demo``):
conversations, messages, runs with their costs and test results, and
webhook deliveries, added to the demo's projects by ``store.demo``."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from store import audit
from store.engine import Database
from store.models import (
    AgentRun,
    AuditCategory,
    Conversation,
    ConversationStatus,
    Message,
    MessageRole,
    Modification,
    Project,
    ProjectStatus,
    RunStatus,
    WebhookDelivery,
)
from store.redaction import mask_url
from store.repositories.agents import AgentActivityRepository
from store.types import utcnow

# (model, micro-dollars per million prompt tokens, per million completion tokens)
_DEMO_MODELS = (
    ("claude-sonnet-4", 3_000_000, 15_000_000),
    ("gpt-4.1", 2_000_000, 8_000_000),
    ("gpt-4.1-mini", 400_000, 1_600_000),
    ("claude-haiku-3.5", 800_000, 4_000_000),
)
_DEMO_AGENTS = ("claude-code", "codex", "aider", "review-bot")
_DEMO_TASKS = (
    "Add request validation to the public endpoints",
    "Fix the flaky integration test around retries",
    "Upgrade dependencies and fix deprecation warnings",
    "Add pagination to the list endpoint",
    "Write tests for the configuration loader",
    "Refactor the error handling into one module",
    "Document the deployment steps in the README",
    "Speed up the slow startup path",
)
_DEMO_TURNS = (
    ("user", "Can you look at {task_lower}?"),
    (
        "assistant",
        "I read the relevant modules. Here is my plan:\n1. Inspect the current code\n2. Make the change\n3. Run the tests",
    ),
    ("tool", "$ pytest -q\n{passed} passed, {failed} failed in {seconds}s"),
    ("assistant", "The change is ready. {failed_note}"),
    ("user", "Looks good, please open it for review."),
    ("assistant", "Done: I proposed the modification for review."),
)
_DEMO_EVENTS = ("modification.proposed", "modification.applied", "run.finished", "push")


def _first_line(text: str, width: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "Change the codebase"
    return line[:width]


def _demo_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


async def fill_agent_demo(db: Database, *, rng_seed: int = 7, now: datetime | None = None) -> None:
    """Add realistic conversations, messages, runs (some linked to the
    projects' existing modifications), costs and webhook deliveries to the
    projects already in ``db``. The same database and seed give the same
    rows, with times relative to ``now`` (default: the present). One audit
    row, dated ``now``, records the fill."""
    rng = random.Random(rng_seed)  # noqa: S311 - fixed demo data, not security
    now = (now or utcnow()).replace(microsecond=0)
    counts = {"conversations": 0, "messages": 0, "runs": 0, "webhook_deliveries": 0}
    async with db.transaction() as session:
        projects = list(
            (
                await session.execute(
                    select(Project)
                    .where(col(Project.status) != ProjectStatus.DELETED)
                    .order_by(col(Project.name))
                )
            ).scalars()
        )
        activity = AgentActivityRepository(session)
        for project in projects:
            modifications = list(
                (
                    await session.execute(
                        select(Modification)
                        .where(
                            col(Modification.project_id) == project.id,
                            col(Modification.run_id).is_(None),
                        )
                        .order_by(col(Modification.requested_at), col(Modification.id))
                    )
                ).scalars()
            )
            for number in range(rng.randint(2, 4)):
                await _demo_run(session, activity, rng, project, now, number, modifications, counts)
            for attempt_group in range(rng.randint(1, 3)):
                _demo_webhooks(activity, rng, project, now, attempt_group, counts)
        await session.flush()
        # Dated like the rows it describes, so a demo history ending at a
        # fixed moment draws alike every day (the time is part of the hash).
        await audit.record(
            session,
            actor="demo",
            event_type="demo.agent_activity_added",
            description=f"added demo agent activity to {len(projects)} projects",
            entity_type="workspace",
            category=AuditCategory.SYSTEM,
            details=counts,
            at=now,
        )


async def _demo_run(
    session: AsyncSession,
    activity: AgentActivityRepository,
    rng: random.Random,
    project: Project,
    now: datetime,
    number: int,
    modifications: list[Modification],
    counts: dict[str, int],
) -> None:
    task = rng.choice(_DEMO_TASKS)
    agent = rng.choice(_DEMO_AGENTS)
    model, prompt_price, completion_price = rng.choice(_DEMO_MODELS)
    started = now - timedelta(days=rng.randint(0, 13), minutes=rng.randint(60, 23 * 60))
    status = rng.choice([RunStatus.SUCCEEDED] * 5 + [RunStatus.FAILED] * 2 + [RunStatus.CANCELLED])
    if number == 0 and rng.random() < 0.3:
        status = RunStatus.RUNNING
        started = now - timedelta(minutes=rng.randint(15, 45))
    proposed = None
    if modifications and status is RunStatus.SUCCEEDED:
        # The run that proposed a modification ran shortly before it was requested.
        proposed = modifications.pop(0)
        task = _first_line(proposed.request)
        started = proposed.requested_at - timedelta(minutes=rng.randint(15, 90))
    passed = rng.randint(20, 240)
    failed = 0 if status is RunStatus.SUCCEEDED else rng.randint(1, 4)
    conversation = Conversation(
        id=_demo_id(rng),
        project_id=project.id,
        title=task,
        intent=rng.choice(["feature", "bugfix", "maintenance", "docs"]),
        status=ConversationStatus.ACTIVE
        if status is RunStatus.RUNNING
        else ConversationStatus.CLOSED,
        started_by=agent,
        created_at=started,
        updated_at=started,
    )
    activity.add(conversation)
    # No relationship() links these tables: flush parents before children.
    await session.flush()
    counts["conversations"] += 1
    at = started
    total_micros = 0
    turns = _DEMO_TURNS if status is not RunStatus.RUNNING else _DEMO_TURNS[:3]
    for role, template in turns:
        at += timedelta(seconds=rng.randint(5, 240))
        prompt = rng.randint(800, 24_000) if role == "assistant" else 0
        completion = rng.randint(150, 3_000) if role == "assistant" else 0
        micros = (prompt * prompt_price + completion * completion_price) // 1_000_000
        total_micros += micros
        content = template.format(
            task_lower=task[0].lower() + task[1:],
            passed=passed,
            failed=failed,
            seconds=rng.randint(3, 90),
            failed_note="All tests pass." if not failed else f"{failed} tests still fail.",
        )
        activity.add(
            Message(
                id=_demo_id(rng),
                conversation_id=conversation.id,
                role=MessageRole(role),
                content=content,
                model_used=model if role == "assistant" else None,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_micros=micros,
                created_at=at,
            )
        )
        counts["messages"] += 1
    conversation.updated_at = at
    finished = None if status is RunStatus.RUNNING else at + timedelta(seconds=rng.randint(5, 60))
    run = AgentRun(
        id=_demo_id(rng),
        project_id=project.id,
        conversation_id=conversation.id,
        agent=agent,
        task=task,
        status=status,
        created_at=started,
        started_at=started,
        finished_at=finished,
        error="pytest exited with status 1" if status is RunStatus.FAILED else None,
        test_results={}
        if status in (RunStatus.RUNNING, RunStatus.CANCELLED)
        else {
            "passed": passed,
            "failed": failed,
            "skipped": rng.choice([0, 0, 2, 5]),
            "failing": [
                f"tests/test_{rng.choice(['api', 'config', 'retry'])}.py::test_{i}"
                for i in range(failed)
            ],
        },
        # Compute beyond the model calls: the sandbox the agent ran in.
        cost_micros=rng.randint(0, 40) * 1_000,
    )
    activity.add(run)
    await session.flush()
    counts["runs"] += 1
    if proposed is not None:
        proposed.run_id = run.id
        session.add(proposed)


def _demo_webhooks(
    activity: AgentActivityRepository,
    rng: random.Random,
    project: Project,
    now: datetime,
    group: int,
    counts: dict[str, int],
) -> None:
    event = rng.choice(_DEMO_EVENTS)
    slug = "-".join(project.name.lower().split())
    url = mask_url(project.webhook_url or f"https://hooks.example.com/{slug}")
    first = now - timedelta(days=rng.randint(0, 13), minutes=rng.randint(10, 1_000))
    attempts = rng.choice([1, 1, 1, 2, 3])
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        code = rng.choice([200, 202, 204]) if last else rng.choice([500, 502, 503, 504])
        at = first + timedelta(seconds=30 * (2**attempt))
        activity.add(
            WebhookDelivery(
                id=_demo_id(rng),
                project_id=project.id,
                event=event,
                url=url,
                status_code=code,
                attempt=attempt,
                delivered_at=at if code < 300 else None,
                response_excerpt='{"ok": true}' if code < 300 else "upstream unavailable",
                created_at=at,
            )
        )
        counts["webhook_deliveries"] += 1
