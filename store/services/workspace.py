"""Whole-workspace services: backup, restore, export, import and transfer
between databases. Each one writes an audit row, reports progress through a
callback, and leaves no half-written target behind: files are written under a
temporary name and renamed at the end; database writes are one transaction.

These five ways a whole workspace leaves or enters a database share their
safeguards: one consistent snapshot read with its schema revision
(``_snapshot``: export, transfer), every incoming row checked the same way
(``row_checks.check_row``: import, transfer), and a safety copy before
anything is replaced (``_safety_path``: restore). The SQLite files
themselves are copied and checked by ``store.sqlite_files``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from store import audit, migrate, outputs, portability, schema_check
from store.config import current_actor, normalize_url
from store.engine import Database, open_database
from store.errors import Conflict, StoreUnavailable, ValidationError
from store.models import AuditCategory, Severity
from store.portability import ImportStats, Progress, RowWriter
from store.redaction import mask_url, redact_row
from store.services import row_checks
from store.services.audit import verify_chain
from store.services.proposals import files_digest
from store.sqlite_files import _copy_sqlite, _inspect_sqlite_file, _restore_into, _safety_path
from store.sqlite_files import is_sqlite_file as is_sqlite_file
from store.types import utcnow


@dataclass
class ExportResult:
    path: Path
    counts: dict[str, int]


@dataclass
class ImportResult:
    path: Path
    stats: ImportStats
    schema_revision: str | None


@dataclass
class BackupResult:
    path: Path
    revision: str | None
    size: int
    kind: str  # "sqlite" (a database file) or "export" (a logical export)


@dataclass
class RestoreResult:
    source: Path
    safety_backup: Path
    revision: str | None  # the restored workspace's, after any upgrade
    source_revision: str | None = None  # the backup's or export's own


@dataclass
class TransferResult:
    source_counts: dict[str, int]
    target_counts: dict[str, int]
    inserted: dict[str, int] = field(default_factory=dict)
    chain_rows: int = 0


# -- files written safely ---------------------------------------------------


def _absolute(path: Path) -> Path:
    return path.expanduser().resolve()


async def _size(path: Path) -> int:
    return (await asyncio.to_thread(path.stat)).st_size


class _LineFile:
    """Blocking writes of a JSON lines file, run in a thread by the caller."""

    def __init__(self, path: Path) -> None:
        self.handle: IO[str] = path.open("w", encoding="utf-8")

    def write(self, lines: list[str]) -> None:
        self.handle.writelines(lines)

    def finish(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()

    def abandon(self) -> None:
        self.handle.close()


@contextlib.asynccontextmanager
async def _snapshot(database: Database) -> AsyncIterator[AsyncConnection]:
    """A connection that sees one consistent state of every table."""
    async with database.engine.connect() as connection:
        if database.backend == "postgresql":
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            yield connection


async def _revision(connection: AsyncConnection) -> str | None:
    has_table = await connection.run_sync(
        lambda sync: sync.dialect.has_table(sync, "alembic_version")
    )
    if not has_table:
        return None
    result = await connection.execute(text("SELECT version_num FROM alembic_version"))
    value = result.scalar_one_or_none()
    return None if value is None else str(value)


async def _record(
    session: AsyncSession,
    actor: str | None,
    event_type: str,
    description: str,
    details: dict[str, Any],
    *,
    category: AuditCategory = AuditCategory.COMPLIANCE,
    severity: Severity = Severity.INFO,
) -> None:
    """The audit row of the workspace copied out or in (by the current
    actor unless one is named)."""
    await audit.record(
        session,
        event_type=event_type,
        description=description,
        entity_type="workspace",
        category=category,
        severity=severity,
        details=details,
        actor=actor or current_actor(),
    )


# -- export and import ------------------------------------------------------


async def export_workspace(
    db: Database,
    path: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    actor: str | None = None,
) -> ExportResult:
    """Write every table to ``path`` as JSON lines (secrets stay encrypted,
    what agents and webhooks wrote is redacted: ``store.redaction``); an
    existing file is replaced only with ``force`` (see ``store.outputs``)."""
    path = outputs.check_output(path, protected=outputs.protected_by(db.url), force=force)
    with outputs.partial_beside(path) as temporary:
        output = await asyncio.to_thread(_LineFile, temporary)
        try:
            async with _snapshot(db) as connection:
                revision = await _revision(connection)
                counts = await portability.count_rows(connection)
                first = portability.header(revision, db.backend, utcnow())
                await asyncio.to_thread(output.write, [json.dumps(first) + "\n"])
                for table in portability.workspace_tables():
                    batch: list[dict[str, Any]] = []
                    async for row in portability.read_rows(connection, table):
                        batch.append(redact_row(table.name, row))
                        if len(batch) >= portability.BATCH_ROWS:
                            await _write_rows(output, table.name, batch, progress)
                            batch = []
                    await _write_rows(output, table.name, batch, progress)
            closing = {"end": True, "counts": counts}
            await asyncio.to_thread(output.write, [json.dumps(closing) + "\n"])
            await asyncio.to_thread(output.finish)
        except BaseException:
            output.abandon()
            raise
        outputs.publish(temporary, path, force=force)
    async with db.transaction() as session:
        await _record(
            session,
            actor,
            "workspace.exported",
            f"exported the workspace to {path.name}",
            {"file": str(path), "rows": counts, "schema_revision": revision},
            # Secrets leave sealed, but they leave: a security event.
            category=AuditCategory.SECURITY
            if counts.get("project_secrets")
            else AuditCategory.COMPLIANCE,
        )
    return ExportResult(path=path, counts=counts)


async def _write_rows(
    output: _LineFile, table: str, rows: list[dict[str, Any]], progress: Progress | None
) -> None:
    if not rows:
        return
    await asyncio.to_thread(output.write, list(portability.dump_lines(table, rows)))
    if progress is not None:
        progress(len(rows))


async def import_workspace(
    db: Database,
    path: Path,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    actor: str | None = None,
) -> ImportResult:
    """Load an export into ``db`` in one transaction. Rows already present
        and identical are skipped, so importing twice changes nothing; a bad line
        aborts everything with its line number. ``replace`` empties every table
        first (used by restore). The SQLite files themselves are copied and checked by
    ``store.sqlite_files``."""
    path = _absolute(path)
    reader = portability.DumpReader(path)
    first = await asyncio.to_thread(reader.open)
    try:
        revision = first.get("schema_revision")
        known = {info.revision for info in migrate.history()}
        if revision not in known:
            raise ValidationError(
                "file",
                f"{path.name} was exported at schema revision {revision!r}, which this projdeck does not know",
            )
        seen: dict[str, int] = {}
        async with db.transaction() as session:
            connection = await session.connection()
            if replace:
                for table in reversed(portability.workspace_tables()):
                    await connection.execute(delete(table))
            writer = RowWriter(connection, progress, check=row_checks.check_row)
            while True:
                batch = await asyncio.to_thread(reader.batch)
                if not batch:
                    break
                for line in batch:
                    if revision in _BEFORE_DIGESTS and line.table == "modifications":
                        _add_approved_digest(line.row)
                    await writer.add(line.table, line.row, line.number)
                    seen[line.table] = seen.get(line.table, 0) + 1
            stats = await writer.finish()
            expected = reader.counts or {}
            for table_name, count in expected.items():
                if seen.get(table_name, 0) != count:
                    raise ValidationError(
                        "file",
                        f"its closing line counts {count} {table_name} rows but it holds {seen.get(table_name, 0)}",
                    )
            if stats.total_inserted or replace:
                await _record(
                    session,
                    actor,
                    "workspace.restored" if replace else "workspace.imported",
                    f"{'restored' if replace else 'imported'} the workspace from {path.name}",
                    {
                        "file": str(path),
                        "inserted": stats.inserted,
                        "unchanged": stats.unchanged,
                    },
                    severity=Severity.WARNING if replace else Severity.INFO,
                )
    finally:
        reader.close()
    return ImportResult(path=path, stats=stats, schema_revision=revision)


# Exports written before revision 0008 recorded no digest of approved files.
_BEFORE_DIGESTS = {"0001", "0002", "0003", "0004", "0005", "0006", "0007"}


def _add_approved_digest(row: Any) -> None:
    """An approved modification from an export older than 0008 gets the
    digest of its files, as the migration gives those in a database."""
    if (
        isinstance(row, dict)
        and row.get("status") == "approved"
        and row.get("approved_digest") is None
        and isinstance(row.get("modified_files"), dict)
    ):
        row["approved_digest"] = files_digest(row["modified_files"])


# -- backup and restore -----------------------------------------------------


def _sqlite_path(db: Database) -> Path:
    assert db.url.database is not None
    return Path(db.url.database).expanduser().resolve()


def _threadsafe(progress: Progress | None) -> Progress | None:
    """``progress`` called back on the event loop from a worker thread."""
    if progress is None:
        return None
    loop = asyncio.get_running_loop()

    def report(done: int) -> None:
        loop.call_soon_threadsafe(progress, done)

    return report


async def backup_database(
    db: Database,
    path: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    actor: str | None = None,
) -> BackupResult:
    """SQLite: a consistent, checked copy of the file while others keep
    writing. PostgreSQL: a logical export (pg_dump makes physical ones).
    An existing file is replaced only with ``force``."""
    if db.backend != "sqlite":
        exported = await export_workspace(db, path, force=force, progress=progress, actor=actor)
        return BackupResult(
            path=exported.path,
            revision=migrate.HEAD_REVISION,
            size=await _size(exported.path),
            kind="export",
        )
    path = outputs.check_output(path, protected=outputs.protected_by(db.url), force=force)
    with outputs.partial_beside(path) as temporary:
        revision = await asyncio.to_thread(
            _copy_sqlite,
            _sqlite_path(db),
            temporary,
            read_only=False,
            progress=_threadsafe(progress),
        )
        outputs.publish(temporary, path, force=force)
    size = await _size(path)
    async with db.transaction() as session:
        await _record(
            session,
            actor,
            "workspace.backed_up",
            f"backed up the database to {path.name}",
            {"file": str(path), "schema_revision": revision, "bytes": size},
        )
    return BackupResult(path=path, revision=revision, size=size, kind="sqlite")


async def restore_database(
    db: Database, path: Path, *, progress: Progress | None = None, actor: str | None = None
) -> RestoreResult:
    """Replace the workspace with a backup (SQLite file) or an export,
    after checking it and saving the current workspace beside it."""
    _refuse_team_target(db, "database", "restore")
    path = _absolute(path)
    if not await asyncio.to_thread(path.is_file):
        raise ValidationError("file", f"{path} does not exist")
    is_sqlite = await asyncio.to_thread(is_sqlite_file, path)
    if not is_sqlite:
        # A logical export: its header is checked before anything is saved
        # or touched; the rest is checked by importing it into the live
        # database in one transaction that first empties it.
        reader = portability.DumpReader(path)
        await asyncio.to_thread(reader.open)
        reader.close()
        if db.backend == "sqlite":
            live = _sqlite_path(db)
            safety = _safety_path(live, ".db")
        else:
            safety = _safety_path(path, ".jsonl")
        await backup_database(db, safety, actor=actor)
        imported = await import_workspace(db, path, replace=True, progress=progress, actor=actor)
        return RestoreResult(
            source=path,
            safety_backup=safety,
            revision=await _live_revision(db),
            source_revision=imported.schema_revision,
        )
    if db.backend != "sqlite":
        raise ValidationError(
            "file",
            f"{path.name} is a SQLite database; to move it to PostgreSQL use: "
            f"projdeck transfer --from sqlite:///{path} --to URL",
        )
    revision = await asyncio.to_thread(_inspect_sqlite_file, path)
    await schema_check.refuse_foreign_objects(path, revision)
    live = _sqlite_path(db)
    safety = _safety_path(live, ".db")
    with outputs.partial_beside(live) as staged:
        await asyncio.to_thread(
            _copy_sqlite, path, staged, read_only=True, progress=_threadsafe(progress)
        )
        staged_db = await open_database(normalize_url(f"sqlite:///{staged}"))
        try:
            if revision != migrate.HEAD_REVISION:
                await migrate.upgrade(staged_db)
            # The audit row goes in with the restored data, so the swap
            # brings it: a restore killed just after the swap is on record.
            async with staged_db.transaction() as session:
                await _record(
                    session,
                    actor,
                    "workspace.restored",
                    f"restored the database from {path.name}",
                    {"file": str(path), "schema_revision": revision, "safety_backup": str(safety)},
                    severity=Severity.WARNING,
                )
        finally:
            await staged_db.dispose()
        await backup_database(db, safety, actor=actor)
        await db.engine.dispose()
        await asyncio.to_thread(_restore_into, staged, live, _threadsafe(progress))
    return RestoreResult(
        source=path,
        safety_backup=safety,
        revision=await _live_revision(db),
        source_revision=revision,
    )


def _refuse_team_target(db: Database, field: str, what: str) -> None:
    """Said before anything is saved or copied: a team database's audit log
    is append-only (store.team), so the rows a restore empties or a
    transfer brings with its own chain would be refused half-way."""
    if db.team is None:
        return
    raise ValidationError(
        field,
        f"{db.masked_url} is a team database: its audit log is append-only, so a {what} "
        "into it is refused; "
        f"{what} into a new, empty database, then run projdeck team init there "
        "(and projdeck team add for its members)",
    )


async def _live_revision(db: Database) -> str | None:
    async with db.reading() as session:
        return await _revision(await session.connection())


# -- transfer between databases --------------------------------------------


async def transfer_workspace(
    source: Database,
    target: Database,
    *,
    merge: bool = False,
    progress: Progress | None = None,
    actor: str | None = None,
) -> TransferResult:
    """Copy every row from ``source`` into ``target`` (migrated to head
    first), keeping ids, timestamps and the audit chain, in one target
    transaction: interrupted, the target stays as it was."""
    if source.url == target.url:
        raise ValidationError("to", "the target is the source database")
    _refuse_team_target(target, "to", "transfer")
    await migrate.upgrade(target)
    async with target.reading() as session:
        before = await portability.count_rows(await session.connection())
    if sum(before.values()) and not merge:
        raise Conflict(
            f"the target {target.masked_url} is not empty ({sum(before.values())} rows); "
            "use --merge to add to it"
        )
    async with _snapshot(source) as reader:
        source_counts = await portability.count_rows(reader)
        async with target.transaction() as session:
            connection = await session.connection()
            writer = RowWriter(
                connection, progress, check=row_checks.check_row, transfer=True, merge=merge
            )
            number = 0
            for table in portability.workspace_tables():
                async for row in portability.read_rows(reader, table):
                    number += 1
                    await writer.add(table.name, row, number)
            stats = await writer.finish()
            await _record(
                session,
                actor,
                "workspace.transferred",
                f"copied the workspace in from {mask_url(source.url)}",
                {"from": mask_url(source.url), "inserted": stats.inserted},
            )
    async with target.reading() as session:
        target_counts = await portability.count_rows(await session.connection())
    for name, count in source_counts.items():
        if target_counts.get(name, 0) < count:
            raise StoreUnavailable(
                f"transfer check failed: {name} has {target_counts.get(name, 0)} rows in the target, "
                f"{count} in the source"
            )
    chain = await verify_chain(target)
    if not chain.ok:
        raise StoreUnavailable(
            f"transfer check failed: the target's audit chain does not verify: {chain.problem}"
        )
    return TransferResult(
        source_counts=source_counts,
        target_counts=target_counts,
        inserted=stats.inserted,
        chain_rows=chain.verified,
    )


async def count_workspace(db: Database) -> dict[str, int]:
    """Rows per table (for progress bars and reports)."""
    async with db.reading() as session:
        return await portability.count_rows(await session.connection())
