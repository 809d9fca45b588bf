"""Reading the audit log: list and search with filters, stream an export
(JSON lines or CSV), and verify the hash chain; and adding a script's own
event to it.

    await list_audit(db, AuditQuery(project="billing", category="security")) -> Page[AuditEntry]
    await audit_page(db, query) -> list[AuditEntry]; await count_audit(db, query) -> int
    await export_audit(db, out, fmt="jsonl", query=AuditQuery()) -> int   # rows written
    await verify_chain(db) -> ChainReport                                  # first bad row, if any
    await record_event(db, EventInput(...)) -> AuditEntry               # a script's own event

Exports and verification read the rows with a server-side cursor, a few
hundred at a time, so memory stays flat however long the log is.
"""

from __future__ import annotations

import csv
import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, outputs, validation
from store import text as text_safety
from store.config import current_actor
from store.engine import Database
from store.errors import NotFound, StoreError, ValidationError
from store.models import AuditCategory, AuditEntry, Severity
from store.repositories import AuditRepository
from store.repositories.audit import AuditFilter
from store.repositories.base import Page
from store.services import shapes
from store.services.project_reads import resolve_project

_STREAM_BATCH = 500
_RELATIVE = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class ExportOutputError(StoreError):
    """The export's destination failed (closed pipe, full disk), not the database."""

    def __init__(self, error: OSError, rows: int) -> None:
        self.closed = isinstance(error, BrokenPipeError)
        self.rows = rows
        reason = "the output was closed" if self.closed else error.strerror or str(error)
        super().__init__(f"cannot write the export after {rows} rows: {reason}")


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


CSV_COLUMNS = [
    "id",
    "at",
    "actor",
    "event_type",
    "category",
    "severity",
    "project_id",
    "entity_type",
    "entity_id",
    "description",
    "metadata",
    "prev_hash",
    "hash",
]


# What a spreadsheet reads as the start of a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that a spreadsheet shows as text: one that
    would start a formula gets a leading apostrophe; None is empty."""
    cell = "" if value is None else str(value)
    return f"'{cell}" if cell.startswith(_FORMULA_START) else cell


@dataclass
class AuditQuery:
    """Filters on the audit log, as a person gives them (all optional)."""

    project: str | None = None
    category: AuditCategory | str | None = None
    severity: Severity | str | None = None
    actor: str | None = None
    event_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None


def parse_time(field: str, value: str, *, now: datetime | None = None) -> datetime:
    """An ISO date or date-time (UTC unless it names a zone), or an age such
    as ``30m``, ``12h``, ``7d``, ``2w`` meaning that long ago."""
    value = value.strip()
    relative = _RELATIVE.fullmatch(value)
    if relative:
        amount, unit = relative.groups()
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            field, f"{value!r} is not a date (2026-01-31), a date-time or an age (30m, 12h, 7d)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _project_id(session: AsyncSession, ref: str) -> uuid.UUID:
    try:
        return (await resolve_project(session, ref)).id
    except NotFound:
        # A purged project's trail stays; its full id still selects it.
        try:
            return uuid.UUID(ref.strip())
        except ValueError:
            raise NotFound(f"no project matches {ref!r}") from None


async def _filter(session: AsyncSession, query: AuditQuery) -> AuditFilter:
    return AuditFilter(
        project_id=await _project_id(session, query.project) if query.project else None,
        actor=_text("actor", query.actor),
        event_type=_text("event", query.event_type),
        category=(
            validation.enum_value("category", query.category, AuditCategory)
            if query.category
            else None
        ),
        severity=(
            validation.enum_value("severity", query.severity, Severity) if query.severity else None
        ),
        since=query.since,
        until=query.until,
        search=_text("search", query.search),
    )


def _text(field: str, value: str | None) -> str | None:
    """A filter's text as given (a lone surrogate, which a command line that
    is not UTF-8 gives, refused by name rather than failing in the driver)."""
    return None if value is None else validation.text(field, value)


async def list_audit(
    db: Database, query: AuditQuery | None = None, *, limit: int = 50, offset: int = 0
) -> Page[AuditEntry]:
    """A page of audit rows, newest first, with the total that match."""
    async with db.reading() as session:
        filters = await _filter(session, query or AuditQuery())
        rows, total = await AuditRepository(session).page_and_count(
            filters, limit=limit, offset=offset
        )
    return Page(items=rows, total=total, offset=offset, limit=limit)


async def audit_page(
    db: Database, query: AuditQuery | None = None, *, limit: int = 50, offset: int = 0
) -> list[AuditEntry]:
    """A page of audit rows, newest first, without counting every match: a
    screen shows it at once and asks ``count_audit`` for the total apart.
    On the light read path (no snapshot shared with the count)."""

    async def read(session: AsyncSession) -> list[AuditEntry]:
        filters = await _filter(session, query or AuditQuery())
        return await AuditRepository(session).list(filters, limit=limit, offset=offset)

    return await db.read(read)


async def count_audit(db: Database, query: AuditQuery | None = None) -> int:
    """How many audit rows match (at a million rows, tens of milliseconds)."""

    async def read(session: AsyncSession) -> int:
        filters = await _filter(session, query or AuditQuery())
        return await AuditRepository(session).count(filters)

    return await db.read(read)


# A script's event: namespace.event, lower-case words, as projdeck's own.
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)+")
# The namespaces of the events projdeck writes itself: a script's event may
# not pass for one of them (a forged secret.revealed, say).
OWN_EVENT_NAMESPACES = frozenset(
    {
        "audit",
        "conversation",
        "demo",
        "modification",
        "project",
        "run",
        "schema",
        "secret",
        "settings",
        "template",
        "templates",
        "webhook",
        "workspace",
    }
)
# Written by ``record_deployment``, which also moves the project's times.
_DEPLOYED_EVENT = "deployment.succeeded"
MAX_EVENT_METADATA_BYTES = 64 * 1024
MAX_EVENT_DESCRIPTION = 2000


@dataclass
class EventInput:
    """An event a script or an agent adds to the audit log, about a project."""

    event_type: str
    category: AuditCategory | str
    severity: Severity | str
    project: str
    description: str
    metadata: dict[str, Any] | None = None


def event_name(value: str) -> str:
    """A script's event name: lower-case words joined by dots, at most 100
    characters, outside projdeck's own namespaces."""
    name = value.strip() if isinstance(value, str) else ""
    if len(name) > 100:
        raise ValidationError("event", f"is {len(name)} characters long; at most 100 allowed")
    if not _EVENT_NAME.fullmatch(name):
        raise ValidationError(
            "event",
            f"{name!r} is not an event name: lower-case words (a-z, 0-9, _, "
            "-) joined by dots, such as deployment.failed or ci.tests_passed",
        )
    if name == _DEPLOYED_EVENT:
        raise ValidationError(
            "event", f"record a deployment with 'projdeck project deployed', not as {name}"
        )
    namespace = name.split(".", 1)[0]
    if namespace in OWN_EVENT_NAMESPACES:
        raise ValidationError(
            "event",
            f"{namespace}.* events are projdeck's own; give yours another namespace "
            "(ci.*, deployment.*, compliance.*, ...)",
        )
    return name


async def record_event(db: Database, event: EventInput, *, actor: str | None = None) -> AuditEntry:
    """Append a script's own event to the audit chain, about a project,
    under the current actor: its name, category, severity, a one-line
    description and a JSON object of details (at most 64 KiB; redacted as
    every row's metadata is)."""
    actor = actor or current_actor()
    name = event_name(event.event_type)
    category = validation.enum_value("category", event.category, AuditCategory)
    severity = validation.enum_value("severity", event.severity, Severity)
    description = validation.name("description", event.description, limit=MAX_EVENT_DESCRIPTION)
    details = validation.json_object("metadata", event.metadata or {})
    size = len(json.dumps(details, ensure_ascii=False).encode("utf-8"))
    if size > MAX_EVENT_METADATA_BYTES:
        raise ValidationError(
            "metadata", f"is {size:,} bytes as JSON; at most {MAX_EVENT_METADATA_BYTES:,} (64 KiB)"
        )
    async with db.transaction() as session:
        project = await resolve_project(session, event.project)
        return await audit.record_project(
            session,
            project,
            actor=actor,
            event_type=name,
            description=description,
            category=category,
            severity=severity,
            details=details,
        )


async def _stream(session: AsyncSession, filters: AuditFilter | None) -> AsyncIterator[AuditEntry]:
    """Rows oldest first, read through a server-side cursor in batches as
    plain rows (not kept in the session), so memory does not grow with the log."""
    table: Any = AuditEntry.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    statement = (filters or AuditFilter()).apply(select(table), dialect)
    statement = statement.order_by(table.c.id).execution_options(yield_per=_STREAM_BATCH)
    result = await session.stream(statement)
    async for row in result.mappings():
        values = dict(row)
        values["details"] = values.pop("metadata")
        yield AuditEntry(**values)


async def export_audit(
    db: Database,
    out: TextIO,
    *,
    fmt: ExportFormat | str = ExportFormat.JSONL,
    query: AuditQuery | None = None,
    actor: str | None = None,
) -> int:
    """Write the matching rows, oldest first, to ``out``; returns how many.
    The export itself is then recorded in the log (category compliance)."""
    fmt = validation.enum_value("format", fmt, ExportFormat)
    query = query or AuditQuery()
    count = 0
    async with db.reading() as session:
        filters = await _filter(session, query)
        writer = csv.writer(out, lineterminator="\n") if fmt == ExportFormat.CSV else None
        try:
            if writer is not None:
                writer.writerow(CSV_COLUMNS)
            async for entry in _stream(session, filters):
                data = shapes.audit_entry_as_dict(entry)
                if writer is not None:
                    data["metadata"] = json.dumps(
                        data["metadata"], sort_keys=True, ensure_ascii=False
                    )
                    writer.writerow([csv_cell(data[key]) for key in CSV_COLUMNS])
                else:
                    line = json.dumps(data, sort_keys=True, ensure_ascii=False)
                    # The same JSON, safe to print: hidden characters as \u escapes.
                    out.write(text_safety.json_escaped(line) + "\n")
                count += 1
            out.flush()
        except OSError as error:
            # Not the database's fault: say so rather than let it read as one.
            raise ExportOutputError(error, count) from None
    async with db.transaction() as session:
        await audit.record(
            session,
            actor=actor or current_actor(),
            event_type="audit.exported",
            description=f"exported {count} audit rows as {fmt}",
            entity_type="audit_log",
            category=AuditCategory.COMPLIANCE,
            details={
                "format": str(fmt),
                "rows": count,
                "filters": {k: v for k, v in vars(query).items() if v is not None},
            },
        )
    return count


async def export_audit_file(
    db: Database,
    path: Path,
    *,
    fmt: ExportFormat | str = ExportFormat.JSONL,
    query: AuditQuery | None = None,
    force: bool = False,
    actor: str | None = None,
) -> tuple[Path, int]:
    """``export_audit`` into the file ``path``, which appears only when
    complete; an existing file is replaced only with ``force`` (see
    ``store.outputs``). Returns the file written and the rows in it."""
    target = outputs.check_output(
        path, protected=outputs.protected_by(db.url), force=force, field="output"
    )
    with outputs.partial_beside(target) as partial:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            count = await export_audit(db, stream, fmt=fmt, query=query, actor=actor)
            stream.flush()
            os.fsync(stream.fileno())
        outputs.publish(partial, target, force=force, field="output")
    return target, count


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the chain: ``ok`` and the rows verified, or the
    first bad row and what is wrong with it."""

    ok: bool
    verified: int
    head_hash: str | None
    bad_row_id: int | None = None
    problem: str | None = None


async def verify_chain(db: Database, *, anchor: str | None = None) -> ChainReport:
    """Walk the log oldest first and check that every row links to the one
    before it and matches its own hash. Stops at the first bad row.

    An edited row fails its hash; a deleted, inserted, replayed or moved row
    breaks the link of the row where it happened. (Rows removed from the very
    end leave a shorter, valid chain: pass a ``head_hash`` kept from an
    earlier run as ``anchor``, and the chain must still contain it.)
    """
    anchor = anchor.strip().lower() if anchor else None
    anchor_seen = False
    expected_prev = audit.GENESIS_HASH
    previous_id: int | None = None
    verified = 0
    async with db.reading() as session:
        async for entry in _stream(session, None):
            where = f"row {entry.id} ({entry.event_type} at {entry.at:%Y-%m-%d %H:%M:%S})"
            problem = None
            if entry.prev_hash != expected_prev:
                if previous_id is None:
                    problem = f"{where} is not the start of the chain: rows before it were deleted, or it was inserted"
                else:
                    problem = (
                        f"{where} does not link to row {previous_id}, the row before it: a row "
                        "between them was deleted, or this row was inserted or moved"
                    )
            elif entry.hash is None:
                problem = f"{where} has no hash: it was inserted or its hash was erased"
            elif audit.chain_hash(expected_prev, entry) != entry.hash:
                problem = f"{where} was edited: its contents no longer match its hash"
            if problem is not None:
                return ChainReport(
                    ok=False,
                    verified=verified,
                    head_hash=expected_prev,
                    bad_row_id=entry.id,
                    problem=problem,
                )
            assert entry.hash is not None
            anchor_seen = anchor_seen or entry.hash == anchor
            expected_prev = entry.hash
            previous_id = entry.id
            verified += 1
    head = None if verified == 0 else expected_prev
    if anchor is not None and not anchor_seen:
        return ChainReport(
            ok=False,
            verified=verified,
            head_hash=head,
            problem=(
                f"the chain no longer holds the row with hash {anchor[:16]}...: rows were "
                "removed from its end, or the log was rebuilt"
            ),
        )
    return ChainReport(ok=True, verified=verified, head_hash=head)
