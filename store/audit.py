"""Writing audit rows. Every service calls ``record`` inside its own
transaction, so the row exists exactly when the change does.

The rows form a hash chain: each stores the hash of the row before it
(``prev_hash``) and its own ``hash``, a SHA-256 over that previous hash and a
canonical serialization of its fields (id included, so rows cannot be
reordered). Appends are serialized so the chain never forks: SQLite write
transactions already hold the write lock from their first statement (BEGIN
IMMEDIATE), and on PostgreSQL ``record`` takes a transaction-level advisory
lock before it reads the previous hash.

Under that lock ``record`` also learns the id the new row takes (the last
id plus one on SQLite, the id sequence's next value on PostgreSQL), so the
row is written once, hash included. On PostgreSQL the same statement sends
a notification on ``store.notify.CHANNEL`` (the row's id and project),
which the server delivers to listening apps when the transaction commits,
and drops if it rolls back; writers that append rows themselves send one
through ``lock_chain``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from store import validation
from store.ids import short_id
from store.models import AuditCategory, AuditEntry, Modification, Project, Severity
from store.notify import CHANNEL, payload
from store.redaction import redact

# The hash a first row links to.
GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key that serializes appends to the chain (any fixed bigint).
CHAIN_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"projdeck.audit_log.chain").digest()[:8], "big", signed=True
)


_CHAIN_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_CHAIN_LOCK_AND_NOTIFY = text("SELECT pg_advisory_xact_lock(:key), pg_notify(:channel, :payload)")


async def lock_chain(executor: AsyncSession | AsyncConnection) -> None:
    """Serialize with every other append to the audit chain until the
    transaction ends: on PostgreSQL, the transaction-level advisory lock that
    ``record`` takes, and a notification that the database changed (sent at
    commit); on SQLite nothing (a write transaction holds the database's
    write lock already). For writers that append rows themselves (a
    workspace merge)."""
    bind = executor.get_bind() if isinstance(executor, AsyncSession) else executor
    if bind.dialect.name == "postgresql":
        await executor.execute(
            _CHAIN_LOCK_AND_NOTIFY,
            {"key": CHAIN_LOCK_KEY, "channel": CHANNEL, "payload": payload(None, None)},
        )


def _plain_json(value: Any) -> Any:
    """``value`` as it will read back from a JSON column (enums, UUIDs and
    dates as text), so the hash covers what is stored."""
    return json.loads(json.dumps(value, default=str))


def _canonical_number(value: Any) -> Any:
    # PostgreSQL's JSONB prints 1e16 as 10000000000000000: a whole float and
    # the equal integer must serialize alike.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _canonical_number(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_number(item) for item in value]
    return value


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def canonical_fields(entry: AuditEntry) -> bytes:
    """The row's fields, serialized the same way on every backend and read-back."""
    at: datetime = entry.at
    fields = {
        "id": entry.id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "event_type": entry.event_type,
        "category": _text(entry.category),
        "severity": _text(entry.severity),
        "project_id": _text(entry.project_id),
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "description": entry.description,
        "metadata": _canonical_number(entry.details),
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_fields(entry))
    return digest.hexdigest()


# The statements of every append, built once. On PostgreSQL the chain's end
# and the new row's id come with the notification of the change (the fields
# of ``store.notify.payload``), in one round trip.
_PG_CHAIN_END = text(
    "WITH next AS (SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) AS id) "
    "SELECT (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), next.id, "
    "pg_notify(:channel, json_build_object('audit', next.id, 'project', "
    "CAST(:project AS text))::text) FROM next"
)
_CHAIN_END = (
    select(col(AuditEntry.id), col(AuditEntry.hash)).order_by(col(AuditEntry.id).desc()).limit(1)
)


async def _lock_and_read_chain_end(
    session: AsyncSession, project_id: uuid.UUID | None
) -> tuple[str, int]:
    """The hash the new row links to, and the id it takes."""
    if session.get_bind().dialect.name == "postgresql":
        # Rows added earlier in this transaction must be in the table first.
        await session.flush()
        await session.execute(_CHAIN_LOCK, {"key": CHAIN_LOCK_KEY})
        # A new statement, so it sees every append committed before the lock was ours.
        project = None if project_id is None else str(project_id)
        last_hash, next_id, _ = (
            await session.execute(_PG_CHAIN_END, {"channel": CHANNEL, "project": project})
        ).one()
        return str(last_hash or GENESIS_HASH), int(next_id)
    last = (await session.execute(_CHAIN_END)).first()
    if last is None:
        return GENESIS_HASH, 1
    return str(last[1] or GENESIS_HASH), int(last[0] or 0) + 1


async def record_step(
    session: AsyncSession,
    modification: Modification,
    project: Project,
    *,
    actor: str,
    event_type: str,
    description: str,
    severity: Severity = Severity.INFO,
    details: Mapping[str, Any] | None = None,
) -> None:
    """The row of one step of a modification (proposed, approved, applied,
    ...): "<description> modification <id> of project <name>", with the
    status it is left in."""
    await record(
        session,
        actor=actor,
        event_type=event_type,
        description=(
            f"{description} modification {short_id(modification.id)} of project {project.name!r}"
        ),
        project_id=project.id,
        entity_type="modification",
        entity_id=modification.id,
        severity=severity,
        details={"status": str(modification.status), **(details or {})},
    )


async def record_project(
    session: AsyncSession,
    project: Project,
    *,
    actor: str,
    event_type: str,
    description: str,
    category: AuditCategory = AuditCategory.GENERAL,
    severity: Severity = Severity.INFO,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """A row about a project as a whole (its entity is the project)."""
    return await record(
        session,
        actor=actor,
        event_type=event_type,
        description=description,
        project_id=project.id,
        entity_type="project",
        entity_id=project.id,
        category=category,
        severity=severity,
        details=details,
    )


async def record_applied(
    session: AsyncSession,
    modification: Modification,
    project: Project,
    *,
    actor: str,
    how: str,
    details: Mapping[str, Any],
) -> None:
    """The row of an apply: "applied<how> modification ..." (``how`` says
    where to, as " as commit abc on main"), ``details`` what it wrote."""
    await record_step(
        session,
        modification,
        project,
        actor=actor,
        event_type="modification.applied",
        description=f"applied{how}",
        details=details,
    )


async def record_failed_apply(
    session: AsyncSession,
    modification: Modification,
    project: Project,
    *,
    actor: str,
    details: Mapping[str, Any],
) -> None:
    """The row of an apply that could not be made (a conflict): the
    modification is left failed, ``details`` say why."""
    await record_step(
        session,
        modification,
        project,
        actor=actor,
        event_type="modification.failed",
        description="could not apply",
        severity=Severity.WARNING,
        details=details,
    )


async def record(
    session: AsyncSession,
    *,
    actor: str,
    event_type: str,
    description: str,
    project_id: uuid.UUID | None = None,
    entity_type: str | None = None,
    entity_id: str | uuid.UUID | None = None,
    category: AuditCategory = AuditCategory.GENERAL,
    severity: Severity = Severity.INFO,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one row to the audit chain, in the caller's transaction. The
    row is written as returned: changing the returned entry changes nothing
    stored. ``at`` (default: now) dates it otherwise (the demo's history).
    ``actor`` is checked as a name: an actor the row could not hold, or one
    with control characters, fails the caller's transaction. ``details``
    are stored redacted (``store.redaction.redact``: credentials by key and
    by shape, URLs masked)."""
    actor = validation.name("actor", actor)
    prev_hash, entry_id = await _lock_and_read_chain_end(session, project_id)
    entry = AuditEntry(
        id=entry_id,
        actor=actor,
        event_type=event_type,
        category=category,
        severity=severity,
        project_id=project_id,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else None,
        description=description,
        details=_plain_json(redact(dict(details or {}))),
        prev_hash=prev_hash,
    )
    if at is not None:
        entry.at = at
    entry.hash = chain_hash(prev_hash, entry)
    # One INSERT of the finished row, not through the session's unit of work
    # (which would track the object, then build the INSERT at flush): the row
    # is written once and never changed. Reading the chain's end above has
    # already flushed whatever the caller added that the row may refer to.
    await session.execute(_INSERT_AUDIT, {column: getattr(entry, key) for key, column in _COLUMNS})
    return entry


_INSERT_AUDIT = insert(AuditEntry.__table__)  # type: ignore[attr-defined]
# (attribute, column) pairs: the model's ``details`` is the ``metadata`` column.
_COLUMNS = [
    (attribute.key, attribute.columns[0].key) for attribute in inspect(AuditEntry).column_attrs
]
