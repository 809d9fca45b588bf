"""A logical, portable form of a workspace: every table's rows as JSON
objects, written as JSON lines, read back on SQLite or PostgreSQL.

The same row stream serves ``export`` (to a file), ``import`` (from one) and
``transfer`` (database to database), so all three agree on what a row is.

File layout, one JSON document a line::

    {"format": "projdeck-export", "format_version": 1, "schema_revision": "0001", ...}
    {"table": "projects", "row": {...}}
    ...
    {"end": true, "counts": {"projects": 12, ...}}

The closing line proves the file is complete: a truncated export is refused.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum as PyEnum
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Enum,
    LargeBinary,
    Table,
    UniqueConstraint,
    Uuid,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers every table on SQLModel.metadata)
from store import validation
from store.errors import Conflict, ValidationError
from store.redaction import redact_row
from store.types import UTCDateTime

FORMAT = "projdeck-export"
FORMAT_VERSION = 1
BATCH_ROWS = 500
# One line holds one row; the largest (a project with a full codebase) is
# below this even with its text escaped. A longer line (an endless file such
# as /dev/zero) is refused before it fills the memory.
MAX_LINE_CHARS = 2 * (validation.MAX_CODEBASE_BYTES + validation.MAX_JSON_BYTES)

Progress = Callable[[int], None]
# Raises a ValidationError naming the column of a row that may not be stored.
RowCheck = Callable[[str, dict[str, Any]], None]


def workspace_tables() -> list[Table]:
    """Every projdeck table, parents before children."""
    return list(SQLModel.metadata.sorted_tables)


def _table(name: str, line: int) -> Table:
    table = SQLModel.metadata.tables.get(name)
    if table is None:
        raise ValidationError(f"line {line}", f"unknown table {name!r}")
    return table


def encode_row(table: Table, row: Any) -> dict[str, Any]:
    """A database row as JSON-ready values (UUIDs and times as text, bytes
    as base64)."""
    data: dict[str, Any] = {}
    for column in table.columns:
        value = row[column.name]
        if value is None:
            data[column.name] = None
        elif isinstance(value, uuid.UUID):
            data[column.name] = str(value)
        elif isinstance(value, datetime):
            data[column.name] = value.isoformat()
        elif isinstance(value, bytes | memoryview):
            data[column.name] = base64.b64encode(bytes(value)).decode("ascii")
        elif isinstance(value, PyEnum):
            data[column.name] = value.value
        else:
            data[column.name] = value
    return data


def decode_row(table: Table, data: Any, line: int) -> dict[str, Any]:
    """JSON values back into what the table's columns take; every problem
    names the line."""
    where = f"line {line}"
    if not isinstance(data, dict):
        raise ValidationError(where, "the row is not a JSON object")
    unknown = set(data) - set(table.columns.keys())
    if unknown:
        raise ValidationError(where, f"table {table.name} has no column {sorted(unknown)[0]!r}")
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.name not in data:
            if not column.nullable and column.server_default is None and not column.autoincrement:
                raise ValidationError(where, f"{table.name}.{column.name} is missing")
            continue
        value = data[column.name]
        try:
            values[column.name] = _decode_value(column.type, value)
        except (TypeError, ValueError) as error:
            raise ValidationError(where, f"{table.name}.{column.name}: {error}") from None
    return values


def _decode_value(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, Uuid):
        return uuid.UUID(str(value))
    if isinstance(kind, UTCDateTime):
        moment = datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone")
        return moment
    if isinstance(kind, LargeBinary):
        return base64.b64decode(str(value), validate=True)
    if isinstance(kind, Enum) and kind.enum_class is not None:
        return kind.enum_class(value)
    return value


# Columns ordering a table's rows before its key, where rows refer to others
# of the same table.
_FIRST_BY = {"modifications": ("revision",)}


def _primary_key(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


async def read_rows(
    connection: AsyncConnection, table: Table, batch: int = BATCH_ROWS
) -> AsyncIterator[dict[str, Any]]:
    """Every row of ``table`` in primary-key order, streamed, encoded; rows
    another row of the table refers to come before it (a modification's
    revision N revises one of revision N - 1)."""
    first = [table.c[name] for name in _FIRST_BY.get(table.name, ())]
    query = select(table).order_by(*first, *table.primary_key.columns)
    result = await connection.stream(query.execution_options(yield_per=batch))
    async for row in result.mappings():
        yield encode_row(table, row)


async def count_rows(connection: AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in workspace_tables():
        counts[table.name] = int(
            (await connection.execute(select(func.count()).select_from(table))).scalar_one()
        )
    return counts


@dataclass
class ImportStats:
    inserted: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    @property
    def total_inserted(self) -> int:
        return sum(self.inserted.values())


class RowWriter:
    """Inserts decoded rows table by table in batches, inside the caller's
    transaction. Rows already present and identical are skipped (so an
    import can run twice); a present row that differs is a Conflict.

    Every row is redacted as the services redact what they store
    (``store.redaction.redact_row``: an export written before that rule
    brings no credential in), decoded and then checked by ``check`` (the
    services' own checks of what a person gives them) before anything is
    written.
    ``transfer`` words messages for a database-to-database copy (no line
    numbers). ``merge`` adds to a target that has its own rows: a template
    whose name the target already has keeps the target's, and audit rows are
    appended after the target's with new ids, linked into its hash chain
    (rows the target already holds, same moment and content, are skipped)."""

    def __init__(
        self,
        connection: AsyncConnection,
        progress: Progress | None = None,
        *,
        check: RowCheck,
        transfer: bool = False,
        merge: bool = False,
    ) -> None:
        self.connection = connection
        self.progress = progress
        self.check = check
        self.transfer = transfer
        self.merge = merge
        self.stats = ImportStats()
        self._pending: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        self._table: Table | None = None
        self._chain_end: tuple[int, str] | None = None

    async def add(self, table_name: str, data: Any, line: int) -> None:
        table = _table(table_name, line)
        if self._table is not None and table is not self._table:
            await self.flush()
        self._table = table
        data = redact_row(table.name, data)
        values = decode_row(table, data, line)
        try:
            self.check(table.name, values)
        except ValidationError as error:
            where = _describe(table, values) if self.transfer else f"line {line}"
            raise ValidationError(where, error.message) from None
        self._pending.append((line, data, values))
        if len(self._pending) >= BATCH_ROWS:
            await self.flush()

    async def flush(self) -> None:
        if not self._pending or self._table is None:
            return
        table, pending = self._table, self._pending
        self._pending = []
        if self.merge and table.name == "audit_log":
            fresh, unchanged = await self._append_to_chain(table, pending)
        else:
            fresh, unchanged = await self._new_rows(table, pending)
        await self._insert(table, fresh)
        self.stats.inserted[table.name] = self.stats.inserted.get(table.name, 0) + len(fresh)
        self.stats.unchanged[table.name] = self.stats.unchanged.get(table.name, 0) + unchanged
        if self.progress is not None:
            self.progress(len(pending))

    async def _new_rows(
        self, table: Table, pending: list[tuple[int, dict[str, Any], dict[str, Any]]]
    ) -> tuple[list[tuple[int, dict[str, Any]]], int]:
        keys = _primary_key(table)
        existing = await self._existing(table, keys, [values for _, _, values in pending])
        kept_names: set[str] = set()
        if self.merge and table.name == "templates":
            names = [values["name"] for _, _, values in pending]
            result = await self.connection.execute(
                select(table.c.name).where(table.c.name.in_(names))
            )
            kept_names = {str(name) for name in result.scalars()}
        fresh: list[tuple[int, dict[str, Any]]] = []
        unchanged = 0
        for line, data, values in pending:
            key = tuple(str(values[name]) for name in keys)
            if key in existing:
                if _comparable(existing[key]) != _comparable(data):
                    raise Conflict(self._differs(table, key, data, line))
                unchanged += 1
            elif values.get("name") in kept_names:
                unchanged += 1
            else:
                fresh.append((line, values))
        return fresh, unchanged

    def _differs(self, table: Table, key: tuple[str, ...], data: dict[str, Any], line: int) -> str:
        if not self.transfer:
            return (
                f"line {line}: {table.name} row {', '.join(key)} already exists with "
                "different content; import into an empty database"
            )
        return (
            f"{_describe(table, data)} is in both databases with different content; "
            "a merge only adds what the target lacks, so make them agree (or remove one) first"
        )

    async def _append_to_chain(
        self, table: Table, pending: list[tuple[int, dict[str, Any], dict[str, Any]]]
    ) -> tuple[list[tuple[int, dict[str, Any]]], int]:
        from store import audit
        from store.models import AuditEntry

        if self._chain_end is None:
            # Serialize with every other append to the target's chain.
            await audit.lock_chain(self.connection)
            last = (
                await self.connection.execute(
                    select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)
                )
            ).first()
            self._chain_end = (
                (0, audit.GENESIS_HASH)
                if last is None
                else (int(last[0]), str(last[1] or audit.GENESIS_HASH))
            )
        moments = [values["at"] for _, _, values in pending]
        result = await self.connection.execute(select(table).where(table.c.at.in_(moments)))
        held = {_event(encode_row(table, row)) for row in result.mappings()}
        last_id, last_hash = self._chain_end
        fresh: list[tuple[int, dict[str, Any]]] = []
        unchanged = 0
        for line, data, values in pending:
            if _event(data) in held:
                unchanged += 1
                continue
            last_id += 1
            fields = {name: value for name, value in values.items() if name != "metadata"}
            fields.update(id=last_id, prev_hash=last_hash, hash=None)
            entry = AuditEntry(**fields, details=values.get("metadata") or {})
            last_hash = audit.chain_hash(last_hash, entry)
            fresh.append(
                (line, {**values, "id": last_id, "prev_hash": entry.prev_hash, "hash": last_hash})
            )
        self._chain_end = (last_id, last_hash)
        return fresh, unchanged

    async def _existing(
        self, table: Table, keys: list[str], rows: list[dict[str, Any]]
    ) -> dict[tuple[str, ...], dict[str, Any]]:
        columns = [table.columns[name] for name in keys]
        if len(columns) == 1:
            condition = columns[0].in_([row[keys[0]] for row in rows])
        else:
            condition = tuple_(*columns).in_([tuple(row[name] for name in keys) for row in rows])
        result = await self.connection.execute(select(table).where(condition))
        found = {}
        for row in result.mappings():
            encoded = encode_row(table, row)
            found[tuple(str(row[name]) for name in keys)] = encoded
        return found

    async def _insert(self, table: Table, rows: list[tuple[int, dict[str, Any]]]) -> None:
        if not rows:
            return
        try:
            async with self.connection.begin_nested():
                await self.connection.execute(table.insert(), [values for _, values in rows])
        except (IntegrityError, DBAPIError):
            # Find the row at fault, one at a time, for the message.
            for line, values in rows:
                try:
                    async with self.connection.begin_nested():
                        await self.connection.execute(table.insert(), [values])
                except IntegrityError as error:
                    problem = await self._taken(table, values) or _first_line(error)
                    if self.transfer:
                        raise Conflict(
                            f"{_describe(table, values)} cannot be added to the target: {problem}"
                        ) from None
                    raise Conflict(f"line {line}: {table.name}: {problem}") from None
                except DBAPIError as error:
                    if self.transfer:
                        raise ValidationError(
                            table.name, f"{_describe(table, values)}: {_first_line(error)}"
                        ) from None
                    raise ValidationError(
                        f"line {line}", f"{table.name}: {_first_line(error)}"
                    ) from None
            raise

    async def _taken(self, table: Table, values: dict[str, Any]) -> str | None:
        """Which unique field(s) of ``values`` another row of the target
        already holds, in words (None: no unique field clashes). Asked of
        the data, not read from the driver's message, so both backends say
        the same."""
        for constraint in table.constraints:
            if not isinstance(constraint, UniqueConstraint):
                continue
            columns = list(constraint.columns)
            if any(values.get(column.name) is None for column in columns):
                continue  # NULLs never clash
            found = await self.connection.execute(
                select(*table.primary_key.columns)
                .where(*(column == values[column.name] for column in columns))
                .limit(1)
            )
            if found.first() is None:
                continue
            names = [column.name for column in columns]
            shown = "/".join(str(values[name]) for name in names)
            what = "project" if table.name == "projects" else f"{table.name} row"
            rule = (
                f"{names[0]} must be unique" if len(names) == 1 else "they must be unique together"
            )
            return (
                f"another {what} there has the same {' and '.join(names)} {shown!r} "
                f"({rule}; rename one of them first)"
            )
        return None

    async def finish(self) -> ImportStats:
        await self.flush()
        if self.connection.dialect.name == "postgresql":
            await _reset_sequences(self.connection)
        return self.stats


def _describe(table: Table, row: dict[str, Any]) -> str:
    """A row as a person knows it, for messages."""
    if table.name == "projects":
        return f"project {row.get('name')!r} ({row.get('id')})"
    if table.name == "templates":
        return f"template {row.get('name')!r}"
    if table.name == "project_settings":
        return f"the settings of project {row.get('project_id')}"
    if table.name == "project_secrets":
        return f"secret {row.get('key_name')!r} of project {row.get('project_id')}"
    keys = ", ".join(str(row.get(name)) for name in _primary_key(table))
    return f"{table.name} row {keys}"


def _event(data: dict[str, Any]) -> str:
    """An audit row without its place in a chain (id and hashes)."""
    return _comparable({k: v for k, v in data.items() if k not in ("id", "prev_hash", "hash")})


def _first_line(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__


def _comparable(data: dict[str, Any]) -> str:
    """Rows compared as canonical JSON, with times compared as instants and
    whole floats as integers (JSONB and SQLite disagree on both)."""

    def normal(value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, dict):
            return {key: normal(item) for key, item in value.items()}
        if isinstance(value, list):
            return [normal(item) for item in value]
        if (
            isinstance(value, str)
            and len(value) >= 19
            and value[4:5] == "-"
            and value[10:11] == "T"
        ):
            try:
                return datetime.fromisoformat(value).timestamp()
            except ValueError:
                return value
        return value

    return json.dumps(normal(data), sort_keys=True)


async def _reset_sequences(connection: AsyncConnection) -> None:
    """After rows were inserted with their own ids, move PostgreSQL's
    sequences past them."""
    for table in workspace_tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and column.type.python_type is int
            ):
                # Names come from our own metadata, never from input.
                highest = f"SELECT MAX({column.name}) FROM {table.name}"  # noqa: S608
                await connection.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence(:table, :column), "
                        f"COALESCE(({highest}), 0) + 1, false)"
                    ),
                    {"table": table.name, "column": column.name},
                )


def header(schema_revision: str | None, backend: str, created_at: datetime) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_revision": schema_revision,
        "source_backend": backend,
        "created_at": created_at.isoformat(),
        "tables": [table.name for table in workspace_tables()],
    }


@dataclass
class DumpLine:
    number: int
    table: str
    row: Any


class DumpReader:
    """Reads an export file line by line (blocking; callers run it in a
    thread) and checks its header and closing line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self.line = 0
        self.header: dict[str, Any] = {}
        self.counts: dict[str, int] | None = None

    def open(self) -> dict[str, Any]:
        try:
            self._file = self.path.open("r", encoding="utf-8")
        except OSError as error:
            raise ValidationError("file", f"cannot read {self.path}: {error.strerror}") from None
        try:
            first = self._next_document()
        except ValidationError:
            first = None
        if (
            not isinstance(first, dict)
            or first.get("format") != FORMAT
            or not isinstance(first.get("format_version"), int)
        ):
            self.close()
            raise ValidationError("file", f"{self.path} is not a projdeck export")
        if first["format_version"] > FORMAT_VERSION:
            self.close()
            raise ValidationError(
                "file",
                f"{self.path} uses export format {first['format_version']}; this projdeck reads up to {FORMAT_VERSION}",
            )
        self.header = first
        return first

    def _next_document(self) -> Any:
        assert self._file is not None
        while True:
            try:
                raw = self._file.readline(MAX_LINE_CHARS + 1)
            except UnicodeDecodeError:
                raise ValidationError(f"line {self.line + 1}", "is not UTF-8 text") from None
            if raw == "":
                return None
            self.line += 1
            if len(raw) > MAX_LINE_CHARS:
                raise ValidationError(
                    f"line {self.line}", f"is longer than {MAX_LINE_CHARS} characters"
                )
            if raw.strip():
                break
        return validation.parse_json(f"line {self.line}", raw)

    def batch(self, size: int = BATCH_ROWS) -> list[DumpLine]:
        """Up to ``size`` rows; an empty list at the (checked) end."""
        rows: list[DumpLine] = []
        while len(rows) < size and self.counts is None:
            document = self._next_document()
            if document is None:
                raise ValidationError(
                    f"line {self.line}",
                    "the file ends without its closing line (truncated export?)",
                )
            if isinstance(document, dict) and document.get("end") is True:
                counts = document.get("counts")
                if not isinstance(counts, dict):
                    raise ValidationError(f"line {self.line}", "the closing line has no counts")
                self.counts = {str(key): int(value) for key, value in counts.items()}
                if self._next_document() is not None:
                    raise ValidationError(f"line {self.line}", "text after the closing line")
                break
            if not isinstance(document, dict) or not isinstance(document.get("table"), str):
                raise ValidationError(f"line {self.line}", 'expected {"table": ..., "row": {...}}')
            rows.append(DumpLine(self.line, document["table"], document.get("row")))
        return rows

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def dump_lines(table: str, rows: Sequence[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps({"table": table, "row": row}, ensure_ascii=False, sort_keys=True) + "\n"
