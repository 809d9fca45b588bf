"""What agent activity adds up to, summed by SQL: messages, tokens and cost
per project, model or UTC day (``projdeck agent costs``, the Activity
screen's Costs tab, a project's Runs tab), and runs per status and the test
pass rate per day (``projdeck agent stats``). Reads only; the conversations
and runs they sum are recorded in agents.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from store import validation
from store.engine import Database
from store.errors import ValidationError
from store.models import RunStatus
from store.money import from_micros
from store.repositories.agents import AgentActivityRepository, CostGrouping
from store.services.project_reads import resolve_project


@dataclass
class CostRow:
    """One group of a cost report; ``key`` is a project id, a model name or a
    day (None: no project, or no model)."""

    key: uuid.UUID | str | date | None
    label: str
    messages: int
    runs: int
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal


@dataclass
class CostReport:
    by: CostGrouping
    since: datetime | None
    until: datetime | None
    rows: list[CostRow]
    messages: int
    runs: int
    prompt_tokens: int
    completion_tokens: int
    total: Decimal


@dataclass
class PassRateDay:
    day: date
    runs: int
    passed: int
    failed: int
    skipped: int

    @property
    def pass_rate(self) -> float | None:
        """Passed among passed and failed (skipped tests do not count)."""
        ran = self.passed + self.failed
        return self.passed / ran if ran else None


async def runs_per_status(
    db: Database,
    *,
    project_ref: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[RunStatus, int]:
    """How many runs are in each status (every status present, 0 when none)."""
    async with db.reading() as session:
        project_id = (await resolve_project(session, project_ref)).id if project_ref else None
        counts = await AgentActivityRepository(session).runs_per_status(
            project_id=project_id, since=since, until=until
        )
    return {status: counts.get(status, 0) for status in RunStatus}


async def pass_rate_per_day(
    db: Database,
    *,
    project_ref: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[PassRateDay]:
    """Test results of finished runs summed per UTC day, oldest day first."""
    async with db.reading() as session:
        project_id = (await resolve_project(session, project_ref)).id if project_ref else None
        sums = await AgentActivityRepository(session).test_sums_per_day(
            project_id=project_id, since=since, until=until
        )
    return [
        PassRateDay(day=s.day, runs=s.runs, passed=s.passed, failed=s.failed, skipped=s.skipped)
        for s in sums
    ]


def _check_period(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and until <= since:
        raise ValidationError("until", "must be after since")


async def cost_report(
    db: Database,
    *,
    by: CostGrouping | str = CostGrouping.PROJECT,
    project_ref: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> CostReport:
    """Messages, tokens and cost (messages plus runs' own cost) per project,
    model or UTC day, for ``since <= time < until``. Each grouping adds up
    to the same total."""
    grouping: CostGrouping = validation.enum_value("by", by, CostGrouping)
    _check_period(since, until)
    async with db.reading() as session:
        project_id = (await resolve_project(session, project_ref)).id if project_ref else None
        sums = await AgentActivityRepository(session).cost_sums(
            grouping, project_id=project_id, since=since, until=until
        )
    rows = [
        CostRow(
            key=s.key,
            label=_cost_label(grouping, s.key, s.label),
            messages=s.messages,
            runs=s.runs,
            prompt_tokens=s.prompt_tokens,
            completion_tokens=s.completion_tokens,
            cost=from_micros(s.cost_micros),
        )
        for s in sums
    ]
    return CostReport(
        by=grouping,
        since=since,
        until=until,
        rows=rows,
        messages=sum(s.messages for s in sums),
        runs=sum(s.runs for s in sums),
        prompt_tokens=sum(s.prompt_tokens for s in sums),
        completion_tokens=sum(s.completion_tokens for s in sums),
        total=from_micros(sum(s.cost_micros for s in sums)),
    )


def _cost_label(grouping: CostGrouping, key: Any, label: str | None) -> str:
    if grouping is CostGrouping.DAY:
        return str(key)
    if grouping is CostGrouping.PROJECT:
        return label if label is not None else "(no project)"
    return label if label is not None else "(no model)"
