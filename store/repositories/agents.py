"""Queries on the agent-activity tables: ``conversations``, ``messages``,
``agent_runs`` and ``webhook_deliveries``, and the SQL aggregates over them
(costs, runs per status, test pass rate per day)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    cast,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlmodel import SQLModel, col

from store.models import (
    AgentRun,
    Conversation,
    Message,
    Project,
    RunStatus,
    WebhookDelivery,
)
from store.money import from_micros
from store.repositories.base import Repository, clamp_limit, contains_any

M = TypeVar("M", bound=SQLModel)
AnySelect = Select[*tuple[Any, ...]]
Q = TypeVar("Q", bound=AnySelect)


def utc_day(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column, computed by the database.
    SQLite stores UTC text already; PostgreSQL is told to read it in UTC
    whatever the session's time zone."""
    if dialect == "postgresql":
        # Inline 'UTC' (not a bind parameter) so GROUP BY repeats the same expression.
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.date(column)


def as_date(value: Any) -> date:
    """A day as the driver returns it (a date on PostgreSQL, text on SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def find_by_id_prefix(
    session: AsyncSession, model: type[M], prefix: str, limit: int = 2
) -> list[M]:
    """Rows of ``model`` whose id (hex, without dashes) starts with ``prefix``."""
    id_column = col(model.id)  # type: ignore[attr-defined]
    hex_id = func.replace(cast(id_column, String), "-", "")
    query = select(model).where(hex_id.like(f"{prefix}%")).limit(limit)
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class RunRow:
    """A run as the activity list shows it: no test details, no error text."""

    id: uuid.UUID
    project_id: uuid.UUID
    project_name: str
    conversation_id: uuid.UUID | None
    agent: str
    task: str
    status: RunStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cost_micros: int

    @property
    def cost(self) -> Decimal:
        return from_micros(self.cost_micros)

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


_RUN_COLUMNS = (
    col(AgentRun.id),
    col(AgentRun.project_id),
    col(Project.name),
    col(AgentRun.conversation_id),
    col(AgentRun.agent),
    col(AgentRun.task),
    col(AgentRun.status),
    col(AgentRun.created_at),
    col(AgentRun.started_at),
    col(AgentRun.finished_at),
    col(AgentRun.cost_micros),
)


@dataclass
class RunFilter:
    project_id: uuid.UUID | None = None
    agent: str | None = None
    statuses: Sequence[RunStatus] = ()

    def apply(self, query: Q) -> Q:
        if self.project_id is not None:
            query = query.where(col(AgentRun.project_id) == self.project_id)
        if self.agent is not None:
            query = query.where(col(AgentRun.agent) == self.agent)
        if self.statuses:
            query = query.where(col(AgentRun.status).in_(list(self.statuses)))
        return query


@dataclass(frozen=True)
class ConversationRow:
    id: uuid.UUID
    project_id: uuid.UUID | None
    project_name: str | None
    title: str
    intent: str | None
    status: str
    started_by: str
    created_at: datetime
    updated_at: datetime


_CONVERSATION_COLUMNS: tuple[Any, ...] = (
    col(Conversation.id),
    col(Conversation.project_id),
    col(Project.name),
    col(Conversation.title),
    col(Conversation.intent),
    col(Conversation.status),
    col(Conversation.started_by),
    col(Conversation.created_at),
    col(Conversation.updated_at),
)


def _conversations(query: Any, project_id: uuid.UUID | None, without_run: bool) -> Any:
    """``query`` kept to one project's conversations (``project_id``) and to
    those no run names (``without_run``)."""
    if project_id is not None:
        query = query.where(col(Conversation.project_id) == project_id)
    if without_run:
        has_run = select(col(AgentRun.id)).where(
            col(AgentRun.conversation_id) == col(Conversation.id)
        )
        query = query.where(~has_run.exists())
    return query


class CostGrouping(StrEnum):
    PROJECT = "project"
    MODEL = "model"
    DAY = "day"


@dataclass(frozen=True)
class CostSums:
    """Sums of one group, straight from SQL (cost in micro-units)."""

    key: Any
    label: str | None
    messages: int
    runs: int
    prompt_tokens: int
    completion_tokens: int
    cost_micros: int


@dataclass(frozen=True)
class TestSums:
    day: date
    runs: int
    passed: int
    failed: int
    skipped: int


class AgentActivityRepository(Repository):
    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    async def get_conversation(self, conversation_id: uuid.UUID) -> Conversation | None:
        return await self.session.get(Conversation, conversation_id)

    async def get_run(self, run_id: uuid.UUID) -> AgentRun | None:
        return await self.session.get(AgentRun, run_id)

    async def insert_messages(self, rows: Sequence[dict[str, Any]]) -> None:
        """Many messages in one executemany."""
        if rows:
            await self.session.execute(insert(Message), list(rows))

    async def list_messages(
        self,
        conversation_id: uuid.UUID,
        *,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Message]:
        """A page of a conversation's messages, oldest first; ``search``
        keeps those whose content or model contains it (any case)."""
        query = _messages_of(conversation_id, search, select(Message))
        query = (
            query.order_by(col(Message.created_at).asc(), col(Message.id).asc())
            .limit(clamp_limit(limit))
            .offset(max(offset, 0))
        )
        return list((await self.session.execute(query)).scalars())

    async def count_messages(self, conversation_id: uuid.UUID, *, search: str | None = None) -> int:
        query = _messages_of(conversation_id, search, select(func.count()).select_from(Message))
        return int((await self.session.execute(query)).scalar_one())

    async def message_totals(self, conversation_id: uuid.UUID) -> tuple[int, int, int, int]:
        """Messages, prompt tokens, completion tokens and cost of a conversation."""
        query = select(
            func.count(),
            func.coalesce(func.sum(col(Message.prompt_tokens)), 0),
            func.coalesce(func.sum(col(Message.completion_tokens)), 0),
            func.coalesce(func.sum(col(Message.cost_micros)), 0),
        ).where(col(Message.conversation_id) == conversation_id)
        count, prompt, completion, cost = (await self.session.execute(query)).one()
        return int(count), int(prompt), int(completion), int(cost)

    async def list_conversations(
        self,
        *,
        project_id: uuid.UUID | None = None,
        without_run: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ConversationRow]:
        """A page of conversations, most recently active first; with
        ``without_run`` only those no run names."""
        query = _conversations(
            select(*_CONVERSATION_COLUMNS).outerjoin(
                Project, col(Project.id) == col(Conversation.project_id)
            ),
            project_id,
            without_run,
        )
        query = (
            query.order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc())
            .limit(clamp_limit(limit))
            .offset(max(offset, 0))
        )
        return [ConversationRow(*tuple(row)) for row in await self.session.execute(query)]

    async def count_conversations(
        self, *, project_id: uuid.UUID | None = None, without_run: bool = False
    ) -> int:
        query = _conversations(
            select(func.count()).select_from(Conversation), project_id, without_run
        )
        return int((await self.session.execute(query)).scalar_one())

    async def list_runs(
        self, filters: RunFilter, *, limit: int = 50, offset: int = 0
    ) -> list[RunRow]:
        """A page of runs, newest first, with their project's name."""
        query = filters.apply(
            select(*_RUN_COLUMNS).join(Project, col(Project.id) == col(AgentRun.project_id))
        )
        query = (
            query.order_by(col(AgentRun.created_at).desc(), col(AgentRun.id).desc())
            .limit(clamp_limit(limit))
            .offset(max(offset, 0))
        )
        return [RunRow(*tuple(row)) for row in await self.session.execute(query)]

    async def count_runs(self, filters: RunFilter) -> int:
        query = filters.apply(select(func.count()).select_from(AgentRun))
        return int((await self.session.execute(query)).scalar_one())

    async def runs_per_status(
        self,
        *,
        project_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[RunStatus, int]:
        query = select(col(AgentRun.status), func.count()).group_by(col(AgentRun.status))
        query = _period(query, col(AgentRun.created_at), since, until)
        if project_id is not None:
            query = query.where(col(AgentRun.project_id) == project_id)
        return {
            RunStatus(status): int(count) for status, count in await self.session.execute(query)
        }

    async def list_deliveries(
        self, project_id: uuid.UUID, *, limit: int = 50, offset: int = 0
    ) -> list[WebhookDelivery]:
        query = (
            select(WebhookDelivery)
            .where(col(WebhookDelivery.project_id) == project_id)
            .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc())
            .limit(clamp_limit(limit))
            .offset(max(offset, 0))
        )
        return list((await self.session.execute(query)).scalars())

    async def count_deliveries(self, project_id: uuid.UUID) -> int:
        query = (
            select(func.count())
            .select_from(WebhookDelivery)
            .where(col(WebhookDelivery.project_id) == project_id)
        )
        return int((await self.session.execute(query)).scalar_one())

    async def cost_sums(
        self,
        grouping: CostGrouping,
        *,
        project_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[CostSums]:
        """Messages and runs together, summed per project, model or UTC day.

        Every message counts under its model; a run's own cost counts under
        no model. Each grouping therefore adds up to the same total.
        """
        dialect = self.dialect
        message_project = col(Conversation.project_id)
        messages = select(
            message_project.label("project_id"),
            col(Message.model_used).label("model"),
            utc_day(col(Message.created_at), dialect).label("day"),
            literal_column("1", Integer).label("is_message"),
            literal_column("0", Integer).label("is_run"),
            col(Message.prompt_tokens).label("prompt_tokens"),
            col(Message.completion_tokens).label("completion_tokens"),
            col(Message.cost_micros).label("cost_micros"),
        ).join(Conversation, col(Conversation.id) == col(Message.conversation_id))
        messages = _period(messages, col(Message.created_at), since, until)
        runs = select(
            col(AgentRun.project_id).label("project_id"),
            cast(null(), String).label("model"),
            utc_day(col(AgentRun.created_at), dialect).label("day"),
            literal_column("0", Integer).label("is_message"),
            literal_column("1", Integer).label("is_run"),
            literal_column("0", Integer).label("prompt_tokens"),
            literal_column("0", Integer).label("completion_tokens"),
            col(AgentRun.cost_micros).label("cost_micros"),
        )
        runs = _period(runs, col(AgentRun.created_at), since, until)
        if project_id is not None:
            messages = messages.where(message_project == project_id)
            runs = runs.where(col(AgentRun.project_id) == project_id)
        ledger = union_all(messages, runs).subquery("ledger")
        sums = (
            func.coalesce(func.sum(ledger.c.is_message), 0),
            func.coalesce(func.sum(ledger.c.is_run), 0),
            func.coalesce(func.sum(ledger.c.prompt_tokens), 0),
            func.coalesce(func.sum(ledger.c.completion_tokens), 0),
            func.coalesce(func.sum(ledger.c.cost_micros), 0),
        )
        query: AnySelect
        if grouping is CostGrouping.PROJECT:
            query = (
                select(ledger.c.project_id, col(Project.name), *sums)
                .select_from(ledger)
                .outerjoin(Project, col(Project.id) == ledger.c.project_id)
                .group_by(ledger.c.project_id, col(Project.name))
                .order_by(sums[4].desc(), col(Project.name).asc())
            )
        elif grouping is CostGrouping.MODEL:
            query = (
                select(ledger.c.model, ledger.c.model, *sums)
                .group_by(ledger.c.model)
                .order_by(sums[4].desc(), ledger.c.model.asc())
            )
        else:
            query = (
                select(ledger.c.day, ledger.c.day, *sums)
                .group_by(ledger.c.day)
                .order_by(ledger.c.day.asc())
            )
        rows = await self.session.execute(query)
        return [
            CostSums(
                key=as_date(key) if grouping is CostGrouping.DAY else key,
                label=None if label is None else str(label),
                messages=int(count),
                runs=int(run_count),
                prompt_tokens=int(prompt),
                completion_tokens=int(completion),
                cost_micros=int(cost),
            )
            for key, label, count, run_count, prompt, completion, cost in rows
        ]

    async def test_sums_per_day(
        self,
        *,
        project_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[TestSums]:
        """Passed, failed and skipped tests of the runs that reported
        results, per UTC day of the run's finish."""
        finished = col(AgentRun.finished_at)
        day = utc_day(finished, self.dialect)
        results = col(AgentRun.test_results)
        passed = func.coalesce(results["passed"].as_integer(), 0)
        failed = func.coalesce(results["failed"].as_integer(), 0)
        skipped = func.coalesce(results["skipped"].as_integer(), 0)
        query = (
            select(
                day,
                func.count(),
                func.sum(cast(passed, Integer)),
                func.sum(cast(failed, Integer)),
                func.sum(cast(skipped, Integer)),
            )
            .where(finished.is_not(None), results["passed"].as_integer().is_not(None))
            .group_by(day)
            .order_by(day.asc())
        )
        query = _period(query, finished, since, until)
        if project_id is not None:
            query = query.where(col(AgentRun.project_id) == project_id)
        return [
            TestSums(
                day=as_date(value),
                runs=int(runs),
                passed=int(p or 0),
                failed=int(f or 0),
                skipped=int(s or 0),
            )
            for value, runs, p, f, s in await self.session.execute(query)
        ]


def _messages_of(conversation_id: uuid.UUID, search: str | None, query: Q) -> Q:
    query = query.where(col(Message.conversation_id) == conversation_id)
    if search:
        query = query.where(contains_any(search, col(Message.content), col(Message.model_used)))
    return query


def _period(query: Q, column: Any, since: datetime | None, until: datetime | None) -> Q:
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query
