"""Agent activity services: conversations and their messages (role, model,
tokens, exact cost) and agent runs with their test results, each write one
transaction with its audit row; and the reads the activity screens and
``projdeck agent`` need (runs newest first, a run's detail, a conversation's
messages). What they add up to (costs, runs per status, pass rates) is in
agent_stats.py; webhook deliveries are in webhooks.py.

Message contents and run tasks are stored verbatim; messages' metadata and
runs' errors and test results are stored with their credentials redacted
(``store.redaction``). Contents and errors are never written to the audit
log: it records their length. Starting a conversation, recording
messages and starting, beginning or finishing a run move the project's
``last_active_at`` (never back).

Conversations and runs stay in one module because they are one record of
what an agent did: a run can be started in a conversation (``start_run``
checks it is about the run's project or none) and its detail names that
conversation, and both are written through the same helpers here (ids by
prefix, the audit row about the row and its project). What a script hands
them is checked first in ``store.services.agent_input``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from store import audit, validation
from store.config import current_actor
from store.engine import Database
from store.errors import InvalidTransition, NotFound, ValidationError
from store.ids import checked_id_prefix, full_id, only_match, short_id
from store.models import AgentRun, Conversation, ConversationStatus, Message, RunStatus, Severity
from store.money import from_micros, parse_amount, to_micros
from store.redaction import redact, redact_text
from store.repositories import ModificationRepository, ProjectRepository
from store.repositories.agents import (
    AgentActivityRepository,
    ConversationRow,
    RunFilter,
    RunRow,
    find_by_id_prefix,
)
from store.repositories.base import Page
from store.repositories.modifications import ModificationFilter, ModificationRow
from store.services.agent_input import (
    MAX_BATCH,
    _label,
    _message_values,
    _optional_label,
    check_test_results,
)

# The CLI reads a script's messages here, with the services that write them.
from store.services.agent_input import MessageInput as MessageInput
from store.services.agent_input import messages_from_jsonl as messages_from_jsonl
from store.services.project_reads import require_writable, resolve_project
from store.types import utcnow

M = TypeVar("M", bound=SQLModel)

FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
UNFINISHED = (RunStatus.QUEUED, RunStatus.RUNNING)


# -- outputs -----------------------------------------------------------------


@dataclass
class ConversationDetail:
    conversation: Conversation
    project_name: str | None
    messages: int
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal


@dataclass
class RunDetail:
    """A run with its project, its conversation and the modifications it proposed."""

    run: AgentRun
    project_name: str
    conversation_title: str | None
    modifications: list[ModificationRow]

    @property
    def cost(self) -> Decimal:
        return from_micros(self.run.cost_micros)

    @property
    def duration(self) -> timedelta | None:
        if self.run.started_at is None or self.run.finished_at is None:
            return None
        return self.run.finished_at - self.run.started_at


# -- resolving ids -------------------------------------------------------------


async def _resolve(session: AsyncSession, model: type[M], ref: str, what: str) -> M:
    """A row by full id or unique id prefix (6+ characters)."""
    ref = ref.strip() if isinstance(ref, str) else ""
    row_id = full_id(ref)
    if row_id is None:
        prefix = checked_id_prefix(ref, what, field=what)
        matches = await find_by_id_prefix(session, model, prefix)
        return only_match(matches, ref, what, field=what)
    found = await session.get(model, row_id)
    if found is None:
        raise NotFound(f"no {what} with id {ref}")
    return found


async def resolve_conversation(session: AsyncSession, ref: str) -> Conversation:
    return await _resolve(session, Conversation, ref, "conversation")


async def resolve_run(session: AsyncSession, ref: str) -> AgentRun:
    return await _resolve(session, AgentRun, ref, "run")


async def _project_name(session: AsyncSession, project_id: uuid.UUID | None) -> str | None:
    if project_id is None:
        return None
    project = await ProjectRepository(session).get(project_id)
    return project.name if project is not None else None


async def _run_label(session: AsyncSession, run: AgentRun) -> str:
    """A run as its audit rows name it: ``run 1a2b3c4d of agent 'devin' on
    project 'Billing API'``."""
    project_name = await _project_name(session, run.project_id)
    return f"run {short_id(run.id)} of agent {run.agent!r} on project {project_name!r}"


async def _mark_active(session: AsyncSession, project_id: uuid.UUID | None, at: datetime) -> None:
    """An agent's conversation, message or run is activity on its project:
    the project's ``last_active_at`` moves to ``at`` (never back, nor past
    now)."""
    if project_id is not None:
        await ProjectRepository(session).move_forward(project_id, last_active_at=min(at, utcnow()))


async def _record(
    session: AsyncSession,
    row: Conversation | AgentRun,
    *,
    actor: str,
    event_type: str,
    description: str,
    details: dict[str, Any],
    severity: Severity = Severity.INFO,
    active_at: datetime | None = None,
) -> None:
    """The audit row of a change to a conversation (or its messages) or an
    agent run: about the row and its project. An agent's activity
    (``active_at``: when it happened) also moves the project's
    ``last_active_at`` (``_mark_active``)."""
    if active_at is not None:
        await _mark_active(session, row.project_id, active_at)
    await audit.record(
        session,
        actor=actor,
        event_type=event_type,
        description=description,
        project_id=row.project_id,
        entity_type="conversation" if isinstance(row, Conversation) else "agent_run",
        entity_id=row.id,
        severity=severity,
        details=details,
    )


# -- conversations and messages ------------------------------------------------


async def start_conversation(
    db: Database,
    project_ref: str | None,
    *,
    title: str,
    intent: str | None = None,
    actor: str | None = None,
) -> Conversation:
    """A new active conversation, about a project or (``None``) about none."""
    actor = actor or current_actor()
    clean_title = _label("title", title, limit=validation.MAX_NAME)
    clean_intent = _optional_label("intent", intent)
    async with db.transaction() as session:
        project = None
        if project_ref is not None:
            project = await resolve_project(session, project_ref)
            require_writable(project)
        now = utcnow()
        conversation = Conversation(
            project_id=project.id if project else None,
            title=clean_title,
            intent=clean_intent,
            started_by=_label("started_by", actor, limit=validation.MAX_NAME),
            created_at=now,
            updated_at=now,
        )
        AgentActivityRepository(session).add(conversation)
        await session.flush()
        where = f" on project {project.name!r}" if project else ""
        await _record(
            session,
            conversation,
            actor=actor,
            active_at=now,
            event_type="conversation.started",
            description=f"started conversation {short_id(conversation.id)}{where}",
            details={"title": clean_title, "intent": clean_intent},
        )
    return conversation


async def close_conversation(db: Database, ref: str, *, actor: str | None = None) -> Conversation:
    actor = actor or current_actor()
    async with db.transaction() as session:
        conversation = await resolve_conversation(session, ref)
        if conversation.status != ConversationStatus.ACTIVE:
            raise InvalidTransition("conversation", str(conversation.status), "close")
        conversation.status = ConversationStatus.CLOSED
        conversation.updated_at = utcnow()
        totals = await AgentActivityRepository(session).message_totals(conversation.id)
        await _record(
            session,
            conversation,
            actor=actor,
            event_type="conversation.closed",
            description=f"closed conversation {short_id(conversation.id)}",
            details={"messages": totals[0], "cost": str(from_micros(totals[3]))},
        )
    return conversation


async def add_messages(
    db: Database,
    conversation_ref: str,
    items: Sequence[MessageInput],
    *,
    labels: Sequence[str] | None = None,
    actor: str | None = None,
) -> list[Message]:
    """Record messages of an active conversation in one transaction, with
    one audit row (counts, tokens and cost; never the contents). A bad
    message is named by its label (``line 7``), else by its index."""
    actor = actor or current_actor()
    if not items:
        raise ValidationError("messages", "give at least one message")
    if len(items) > MAX_BATCH:
        raise ValidationError("messages", f"{len(items)} at once; at most {MAX_BATCH:,}")
    rows = []
    for index, item in enumerate(items):
        try:
            rows.append(_message_values(item))
        except ValidationError as error:
            if labels is not None:
                raise ValidationError(f"{labels[index]}: {error.field}", error.problem) from None
            if len(items) == 1:
                raise
            raise ValidationError(f"messages[{index}].{error.field}", error.problem) from None
    async with db.transaction() as session:
        conversation = await resolve_conversation(session, conversation_ref)
        if conversation.status != ConversationStatus.ACTIVE:
            raise InvalidTransition("conversation", str(conversation.status), "add a message to")
        messages = [Message(conversation_id=conversation.id, **values) for values in rows]
        await AgentActivityRepository(session).insert_messages(
            [message.model_dump() for message in messages]
        )
        # Recorded times are never ahead of now (validation.recorded_time).
        conversation.updated_at = utcnow()
        cost = from_micros(sum(message.cost_micros for message in messages))
        details: dict[str, Any] = {
            "messages": len(messages),
            "prompt_tokens": sum(message.prompt_tokens for message in messages),
            "completion_tokens": sum(message.completion_tokens for message in messages),
            "cost": str(cost),
            "length": sum(len(message.content) for message in messages),
        }
        if len(messages) == 1:
            only = messages[0]
            details.update(
                message_id=str(only.id),
                role=str(only.role),
                model=only.model_used,
                metadata_keys=sorted(only.details),
            )
        else:
            details["models"] = sorted({m.model_used for m in messages if m.model_used})
        await _record(
            session,
            conversation,
            actor=actor,
            active_at=max(message.created_at for message in messages),
            event_type="conversation.messages_added",
            description=f"added {len(messages)} message{'s' if len(messages) != 1 else ''} "
            f"to conversation {short_id(conversation.id)}",
            details=details,
        )
    return messages


async def add_message(
    db: Database, conversation_ref: str, item: MessageInput, *, actor: str | None = None
) -> Message:
    return (await add_messages(db, conversation_ref, [item], actor=actor))[0]


async def get_conversation(db: Database, ref: str) -> ConversationDetail:
    async with db.reading() as session:
        conversation = await resolve_conversation(session, ref)
        count, prompt, completion, cost = await AgentActivityRepository(session).message_totals(
            conversation.id
        )
        name = await _project_name(session, conversation.project_id)
    return ConversationDetail(
        conversation=conversation,
        project_name=name,
        messages=count,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost=from_micros(cost),
    )


async def list_messages(
    db: Database,
    conversation_ref: str,
    *,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[Message]:
    """A page of a conversation's messages in the order they were recorded;
    with ``search``, only those whose content or model contains it."""
    search = search.strip() if search else None
    async with db.reading() as session:
        conversation = await resolve_conversation(session, conversation_ref)
        activity = AgentActivityRepository(session)
        items = await activity.list_messages(
            conversation.id, search=search, limit=limit, offset=offset
        )
        total = await activity.count_messages(conversation.id, search=search)
    return Page(items=items, total=total, offset=offset, limit=limit)


async def list_conversations(
    db: Database,
    *,
    project_ref: str | None = None,
    without_run: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page[ConversationRow]:
    """Conversations, most recently active first, with the total count; with
    ``without_run`` only those no agent run belongs to (recorded on their
    own, or whose runs are gone), which the runs' lists do not reach."""
    async with db.reading() as session:
        project_id = (await resolve_project(session, project_ref)).id if project_ref else None
        activity = AgentActivityRepository(session)
        items = await activity.list_conversations(
            project_id=project_id, without_run=without_run, limit=limit, offset=offset
        )
        total = await activity.count_conversations(project_id=project_id, without_run=without_run)
    return Page(items=items, total=total, offset=offset, limit=limit)


async def list_conversations_without_run(
    db: Database, *, project_ref: str | None = None, limit: int = 50, offset: int = 0
) -> Page[ConversationRow]:
    """Conversations no agent run belongs to (see ``list_conversations``)."""
    return await list_conversations(
        db, project_ref=project_ref, without_run=True, limit=limit, offset=offset
    )


# -- runs ------------------------------------------------------------------------


async def start_run(
    db: Database,
    project_ref: str,
    *,
    agent: str,
    task: str,
    conversation_ref: str | None = None,
    started_at: datetime | None = None,
    queued: bool = False,
    actor: str | None = None,
) -> AgentRun:
    """A running agent run on an active project, optionally part of one of
    its conversations; ``queued`` records it as waiting to start (see
    ``begin_run``), ``started_at`` then being when it was queued."""
    actor = actor or current_actor()
    clean_agent = _label("agent", agent)
    clean_task = validation.text("task", task).strip()
    if not clean_task:
        raise ValidationError("task", "must not be empty")
    started = validation.recorded_time("started_at", started_at)
    async with db.transaction() as session:
        project = await resolve_project(session, project_ref)
        require_writable(project)
        conversation = None
        if conversation_ref is not None:
            conversation = await resolve_conversation(session, conversation_ref)
            if conversation.project_id not in (None, project.id):
                other = await _project_name(session, conversation.project_id)
                raise ValidationError(
                    "conversation",
                    f"{short_id(conversation.id)} is about project {other!r}, not {project.name!r}",
                )
        run = AgentRun(
            project_id=project.id,
            conversation_id=conversation.id if conversation else None,
            agent=clean_agent,
            task=clean_task,
            status=RunStatus.QUEUED if queued else RunStatus.RUNNING,
            created_at=started,
            started_at=None if queued else started,
        )
        AgentActivityRepository(session).add(run)
        await session.flush()
        await _record(
            session,
            run,
            actor=actor,
            active_at=started,
            event_type="run.queued" if queued else "run.started",
            description=f"{'queued' if queued else 'started'} run {short_id(run.id)} "
            f"of agent {clean_agent!r} on project {project.name!r}",
            details={
                "agent": clean_agent,
                "conversation": str(conversation.id) if conversation else None,
                "task_length": len(clean_task),
            },
        )
    return run


async def begin_run(
    db: Database, ref: str, *, started_at: datetime | None = None, actor: str | None = None
) -> AgentRun:
    """A queued run starts running."""
    actor = actor or current_actor()
    started = validation.recorded_time("started_at", started_at)
    async with db.transaction() as session:
        run = await resolve_run(session, ref)
        if run.status is not RunStatus.QUEUED:
            raise InvalidTransition("run", str(run.status), "begin")
        if started < run.created_at:
            raise ValidationError("started_at", "is before the run was queued")
        run.status = RunStatus.RUNNING
        run.started_at = started
        await _record(
            session,
            run,
            actor=actor,
            active_at=started,
            event_type="run.started",
            description=f"started queued {await _run_label(session, run)}",
            details={"from": str(RunStatus.QUEUED), "to": str(RunStatus.RUNNING)},
        )
    return run


async def finish_run(
    db: Database,
    ref: str,
    *,
    status: RunStatus | str,
    test_results: Mapping[str, Any] | None = None,
    error: str | None = None,
    cost: Decimal | str | int | None = None,
    finished_at: datetime | None = None,
    actor: str | None = None,
) -> AgentRun:
    """End a queued or running run as succeeded, failed or cancelled, with
    its test results, error text and cost (replacing any recorded before)."""
    actor = actor or current_actor()
    target: RunStatus = validation.enum_value("status", status, RunStatus)
    if target not in FINISHED:
        raise ValidationError(
            "status", f"a run finishes as one of: {', '.join(s.value for s in FINISHED)}"
        )
    tests = redact(check_test_results(test_results)) if test_results is not None else None
    clean_error = None
    if error is not None:
        clean_error = redact_text(validation.text("error", error).strip()) or None
        if clean_error is not None and target is RunStatus.SUCCEEDED:
            raise ValidationError("error", "a succeeded run has no error; finish it as failed")
    micros = to_micros(parse_amount("cost", cost)) if cost is not None else None
    finished = validation.recorded_time("finished_at", finished_at)
    async with db.transaction() as session:
        run = await resolve_run(session, ref)
        if run.status not in UNFINISHED:
            raise InvalidTransition("run", str(run.status), "finish")
        if run.started_at is not None and finished < run.started_at:
            raise ValidationError("finished_at", "is before the run started")
        previous = run.status
        run.status = target
        run.finished_at = finished
        if tests is not None:
            run.test_results = tests
        if clean_error is not None:
            run.error = clean_error
        if micros is not None:
            run.cost_micros = micros
        await _record(
            session,
            run,
            actor=actor,
            active_at=finished,
            event_type=f"run.{target.value}",
            description=f"{await _run_label(session, run)} {target.value}",
            severity=Severity.WARNING if target is RunStatus.FAILED else Severity.INFO,
            details={
                "from": str(previous),
                "to": str(target),
                "tests": {key: tests[key] for key in ("passed", "failed", "skipped")}
                if tests
                else None,
                "error_length": len(clean_error) if clean_error else 0,
                "cost": str(from_micros(run.cost_micros)),
            },
        )
    return run


async def list_runs(
    db: Database,
    *,
    project_ref: str | None = None,
    agent: str | None = None,
    statuses: Sequence[RunStatus | str] = (),
    limit: int = 50,
    offset: int = 0,
) -> Page[RunRow]:
    """Runs across projects (or of one), newest first, with the total count."""
    wanted = [validation.enum_value("status", status, RunStatus) for status in statuses]
    async with db.reading() as session:
        project_id = (await resolve_project(session, project_ref)).id if project_ref else None
        filters = RunFilter(project_id=project_id, agent=agent or None, statuses=wanted)
        activity = AgentActivityRepository(session)
        items = await activity.list_runs(filters, limit=limit, offset=offset)
        total = await activity.count_runs(filters)
    return Page(items=items, total=total, offset=offset, limit=limit)


async def get_run(db: Database, ref: str) -> RunDetail:
    async with db.reading() as session:
        run = await resolve_run(session, ref)
        name = await _project_name(session, run.project_id)
        title = None
        if run.conversation_id is not None:
            conversation = await AgentActivityRepository(session).get_conversation(
                run.conversation_id
            )
            title = conversation.title if conversation else None
        modifications = await ModificationRepository(session).list_rows(
            ModificationFilter(run_id=run.id), limit=500
        )
    return RunDetail(
        run=run, project_name=name or "", conversation_title=title, modifications=modifications
    )
