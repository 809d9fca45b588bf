"""The store, measured against the drivers under it.

    python -m benchmarks.store_bench --sqlite /tmp/projdeck-bench-large.db \\
        [--postgres-url postgresql://postgres@127.0.0.1:5432/projdeck_bench]

Each operation runs three ways on the same SQLite file, in this process,
interleaved call by call so that a busy machine slows all three alike:
through projdeck's services; the same statements written by hand through
raw ``aiosqlite`` (the floor of the async driver); and through the stdlib
``sqlite3`` module (the physical limit). With ``--postgres-url``, the same
operations run through the services and through raw ``asyncpg``.

The hand-written versions do the same work as the services: the same
queries, the audit row with its hash chain, one transaction per action.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sqlite3
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import URL, make_url

from store import audit, redaction
from store.engine import Database, open_database
from store.models import ModificationStatus, ProjectStatus
from store.repositories.base import escape_like
from store.repositories.projects import ProjectFilter
from store.services import modifications as mods
from store.services.audit import AuditQuery, list_audit
from store.services.browse import list_project_rows, pending_modification_counts
from store.services.project_reads import get_project
from store.services.projects import update_project

PAGE = 50
_ROW_COLUMNS = (
    "id, name, type, status, owner_id, github_owner, github_repo, test_coverage, "
    "security_score, performance_score, updated_at"
)


class Raw:
    """Hand-written SQL through one driver connection. SQL is written with
    ``?`` placeholders; the PostgreSQL subclass numbers them."""

    name = ""
    postgres = False

    async def one(self, sql: str, *params: Any) -> Any: ...
    async def all(self, sql: str, *params: Any) -> list[Any]: ...
    async def run(self, sql: str, *params: Any) -> None: ...
    async def close(self) -> None: ...

    def uid(self, value: uuid.UUID) -> Any:
        return value.hex

    def ts(self, value: datetime) -> Any:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def read_uid(self, value: Any) -> uuid.UUID:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(hex=value)

    def read_json(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    async def begin(self) -> None:
        await self.run("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        await self.run("COMMIT")

    def like(self, column: str) -> str:
        return f"lower({column}) LIKE lower(?) ESCAPE '\\'"


class AioRaw(Raw):
    name = "aiosqlite"

    @classmethod
    async def open(cls, path: str) -> AioRaw:
        import aiosqlite

        self = cls()
        self.connection = await aiosqlite.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=5000",
            "synchronous=NORMAL",
        ):
            await self.connection.execute(f"PRAGMA {pragma}")
        return self

    async def one(self, sql: str, *params: Any) -> Any:
        async with self.connection.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def all(self, sql: str, *params: Any) -> list[Any]:
        async with self.connection.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def run(self, sql: str, *params: Any) -> None:
        await self.connection.execute(sql, params)

    async def close(self) -> None:
        await self.connection.close()


class StdlibRaw(Raw):
    """The stdlib module, called directly (the coroutine wrapper costs about a
    microsecond)."""

    name = "sqlite3"

    @classmethod
    async def open(cls, path: str) -> StdlibRaw:
        self = cls()
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=5000",
            "synchronous=NORMAL",
        ):
            self.connection.execute(f"PRAGMA {pragma}")
        return self

    async def one(self, sql: str, *params: Any) -> Any:
        return self.connection.execute(sql, params).fetchone()

    async def all(self, sql: str, *params: Any) -> list[Any]:
        return self.connection.execute(sql, params).fetchall()

    async def run(self, sql: str, *params: Any) -> None:
        self.connection.execute(sql, params)

    async def close(self) -> None:
        self.connection.close()


class PgRaw(Raw):
    name = "asyncpg"
    postgres = True
    _cache: dict[str, str]

    @classmethod
    async def open(cls, dsn: str) -> PgRaw:
        import asyncpg

        self = cls()
        self.connection = await asyncpg.connect(dsn)
        self._cache = {}
        return self

    def _sql(self, sql: str) -> str:
        converted = self._cache.get(sql)
        if converted is None:
            counter = iter(range(1, 1000))
            converted = re.sub(r"\?", lambda _m: f"${next(counter)}", sql)
            self._cache[sql] = converted
        return converted

    def uid(self, value: uuid.UUID) -> Any:
        return value

    def ts(self, value: datetime) -> Any:
        return value

    async def one(self, sql: str, *params: Any) -> Any:
        return await self.connection.fetchrow(self._sql(sql), *params)

    async def all(self, sql: str, *params: Any) -> list[Any]:
        return list(await self.connection.fetch(self._sql(sql), *params))

    async def run(self, sql: str, *params: Any) -> None:
        await self.connection.execute(self._sql(sql), *params)

    async def begin(self) -> None:
        await self.connection.execute("BEGIN")

    def like(self, column: str) -> str:
        return f"{column} ILIKE ? ESCAPE '\\'"

    async def close(self) -> None:
        await self.connection.close()


# The hand-written operations ---------------------------------------------


# The audit row's columns that hold the caller's fields, in the INSERT's order.
_AUDIT_FIELDS = "actor event_type category severity project_id entity_type entity_id description"


async def raw_audit(raw: Raw, *, details: dict[str, Any], **fields: Any) -> None:
    """One audit row on the chain, as store.audit.record writes it: under
    the chain's lock, the previous hash and the new row's id, then the row.
    ``fields``: actor, event_type, description, project_id (a UUID or None),
    entity_type, entity_id, and category and severity (general and info
    unless given)."""
    fields = {"category": "general", "severity": "info", **fields}
    if raw.postgres:
        await raw.run("SELECT pg_advisory_xact_lock(?)", audit.CHAIN_LOCK_KEY)
        last = await raw.one(
            "SELECT (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), "
            "nextval(pg_get_serial_sequence('audit_log', 'id'))"
        )
        prev_hash, entry_id = last[0] or audit.GENESIS_HASH, last[1]
    else:
        last = await raw.one("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
        prev_hash = last[1] if last is not None and last[1] else audit.GENESIS_HASH
        entry_id = last[0] + 1 if last is not None else 1
    at = datetime.now(UTC)
    plain = audit._plain_json(redaction.redact(details))
    entry = SimpleNamespace(id=entry_id, at=at, details=plain, prev_hash=prev_hash, **fields)
    project_id = fields["project_id"]
    bound = {**fields, "project_id": raw.uid(project_id) if project_id else None}
    await raw.run(
        "INSERT INTO audit_log (id, at, actor, event_type, category, severity, project_id, "
        "entity_type, entity_id, description, metadata, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        entry_id,
        raw.ts(at),
        *(bound[name] for name in _AUDIT_FIELDS.split()),
        json.dumps(plain),
        prev_hash,
        audit.chain_hash(prev_hash, entry),
    )


async def raw_get(raw: Raw, project_id: uuid.UUID) -> Any:
    return await raw.one("SELECT * FROM projects WHERE id = ?", raw.uid(project_id))


async def raw_update(raw: Raw, project_id: uuid.UUID, coverage: float) -> None:
    await raw.begin()
    lock = " FOR UPDATE" if raw.postgres else ""
    project = await raw.one(
        f"SELECT id, name, version, test_coverage FROM projects WHERE id = ?{lock}",
        raw.uid(project_id),
    )
    now = datetime.now(UTC)
    await raw.run(
        "UPDATE projects SET test_coverage = ?, updated_at = ?, last_active_at = ?, "
        "version = ? WHERE id = ? AND version = ?",
        coverage,
        raw.ts(now),
        raw.ts(now),
        project[2] + 1,
        raw.uid(project_id),
        project[2],
    )
    await raw_audit(
        raw,
        actor="bench",
        event_type="project.updated",
        description=f"updated test_coverage of project {project[1]!r}",
        project_id=project_id,
        entity_type="project",
        entity_id=str(project_id),
        details={
            "version": project[2] + 1,
            "changes": {"test_coverage": {"from": project[3], "to": coverage}},
        },
    )
    await raw.commit()


async def raw_page(
    raw: Raw,
    owner: str | None,
    offset: int,
    after: tuple[datetime, uuid.UUID] | None = None,
    *,
    count: bool = True,
) -> list[Any]:
    """A page as list_project_rows reads it: the rows, their pending counts,
    and the count of all matches unless the caller has it (a further page)."""
    where, params = "status = ?", ["active"]
    if owner is not None:
        where, params = where + " AND owner_id = ?", [*params, owner]
    keyset, keys = "", []
    if after is not None:
        keyset, keys = " AND (updated_at, id) < (?, ?)", [raw.ts(after[0]), raw.uid(after[1])]
    rows = await raw.all(
        f"SELECT {_ROW_COLUMNS} FROM projects WHERE {where}{keyset} "
        "ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
        *params,
        *keys,
        PAGE,
        offset,
    )
    if count:
        await raw.one(f"SELECT count(*) FROM projects WHERE {where}", *params)
    await raw_pending(raw, [row[0] for row in rows])
    return rows


async def raw_pending(raw: Raw, ids: Sequence[Any]) -> dict[Any, int]:
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = await raw.all(
        f"SELECT project_id, count(*) FROM modifications WHERE project_id IN ({marks}) "
        "AND status = 'pending' GROUP BY project_id",
        *ids,
    )
    return {row[0]: row[1] for row in rows}


async def raw_append(raw: Raw) -> None:
    await raw.begin()
    await raw_audit(
        raw,
        actor="bench",
        event_type="bench.note",
        description="a note from the benchmark",
        project_id=None,
        entity_type="bench",
        entity_id="1",
        details={"n": 1},
    )
    await raw.commit()


async def raw_search(raw: Raw, term: str, fts: bool) -> list[Any]:
    if fts:
        # What the services do when the full-text index exists and the text is
        # the only filter (see store.repositories.audit): the term matched
        # once, the page found among the matches and the matches counted.
        quoted = '"' + term.replace('"', '""') + '"'
        return await raw.all(
            "WITH matches AS (SELECT rowid FROM audit_log_fts WHERE audit_log_fts MATCH ?) "
            "SELECT *, (SELECT count(*) FROM matches) FROM audit_log "
            "WHERE id IN (SELECT rowid FROM matches) ORDER BY id DESC LIMIT ?",
            quoted,
            PAGE,
        )
    pattern = f"%{escape_like(term)}%"
    where = " OR ".join(raw.like(c) for c in ("description", "event_type", "actor"))
    rows = await raw.all(
        f"SELECT * FROM audit_log WHERE {where} ORDER BY id DESC LIMIT ?",
        pattern,
        pattern,
        pattern,
        PAGE,
    )
    await raw.one(f"SELECT count(*) FROM audit_log WHERE {where}", pattern, pattern, pattern)
    return rows


async def raw_workflow(raw: Raw, project_id: uuid.UUID, path: str) -> None:
    lock = " FOR UPDATE" if raw.postgres else ""
    # propose
    await raw.begin()
    project = await raw.one(
        "SELECT name, codebase, version, status FROM projects WHERE id = ?", raw.uid(project_id)
    )
    name, codebase = project[0], raw.read_json(project[1])
    modification_id = uuid.uuid4()
    now = datetime.now(UTC)
    files = {path: "print('benchmark')\n"}
    await raw.run(
        "INSERT INTO modifications (id, project_id, request, requested_by, requested_at, "
        "impact_analysis, affected_files, status, modified_files, base, test_results) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
        raw.uid(modification_id),
        raw.uid(project_id),
        "add a file",
        "bench",
        raw.ts(now),
        "{}",
        json.dumps([path]),
        json.dumps(files),
        json.dumps({path: mods.content_hash(codebase.get(path))}),
        "{}",
    )
    short = str(modification_id)[:8]

    async def modification_audit(verb: str, details: dict[str, Any]) -> None:
        await raw_audit(
            raw,
            actor="bench",
            event_type=f"modification.{verb}",
            description=f"{verb} modification {short} of project {name!r}",
            project_id=project_id,
            entity_type="modification",
            entity_id=str(modification_id),
            details=details,
        )

    await modification_audit(
        "proposed", {"status": "pending", "requested_by": "bench", "files": {"added": [path]}}
    )
    await raw.commit()
    # approve
    await raw.begin()
    await raw.one(f"SELECT * FROM modifications WHERE id = ?{lock}", raw.uid(modification_id))
    await raw.one("SELECT name FROM projects WHERE id = ?", raw.uid(project_id))
    await raw.run(
        "UPDATE modifications SET status = 'approved', reviewed_by = ?, reviewed_at = ?, "
        "review_comment = NULL WHERE id = ?",
        "bench",
        raw.ts(datetime.now(UTC)),
        raw.uid(modification_id),
    )
    await modification_audit("approved", {"status": "approved", "from": "pending", "comment": None})
    await raw.commit()
    # apply
    await raw.begin()
    await raw.one(f"SELECT * FROM modifications WHERE id = ?{lock}", raw.uid(modification_id))
    project = await raw.one(
        f"SELECT name, codebase, version, status FROM projects WHERE id = ?{lock}",
        raw.uid(project_id),
    )
    codebase, version = raw.read_json(project[1]), project[2]
    result = {**codebase, **files}
    now = datetime.now(UTC)
    await raw.run(
        "UPDATE projects SET codebase = ?, updated_at = ?, last_active_at = ?, version = ? "
        "WHERE id = ? AND version = ?",
        json.dumps(result),
        raw.ts(now),
        raw.ts(now),
        version + 1,
        raw.uid(project_id),
        version,
    )
    await raw.run(
        "UPDATE modifications SET status = 'applied', applied_at = ?, previous_contents = ?, "
        "failure_reason = NULL WHERE id = ?",
        raw.ts(now),
        json.dumps({path: None}),
        raw.uid(modification_id),
    )
    await modification_audit(
        "applied", {"status": "applied", "files": {"added": [path]}, "version": version + 1}
    )
    await raw.commit()


# Measuring ----------------------------------------------------------------


@dataclass
class Figure:
    operation: str
    backend: str
    timings: dict[str, list[float]] = field(default_factory=dict)

    def median(self, way: str) -> float:
        return statistics.median(self.timings[way])

    def p95(self, way: str) -> float:
        values = sorted(self.timings[way])
        return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


async def measure(
    operation: str,
    backend: str,
    ways: dict[str, Callable[[int], Awaitable[Any]]],
    rounds: int,
    warmup: int = 3,
) -> Figure:
    figure = Figure(operation, backend, {way: [] for way in ways})
    for index in range(warmup + rounds):
        for way, call in ways.items():
            started = time.perf_counter()
            await call(index)
            elapsed = time.perf_counter() - started
            if index >= warmup:
                figure.timings[way].append(elapsed)
    return figure


@dataclass
class Sample:
    """Rows the operations work on, read once before measuring."""

    read_ids: list[uuid.UUID]
    write_ids: dict[str, list[uuid.UUID]]
    owner: str
    deep_offset: int
    # How many active projects: what the first page told the deep ones.
    active_total: int
    deep_key: tuple[datetime, uuid.UUID]
    search_term: str
    projects: int
    audit_rows: int


async def _sample(db: Database, ways: Sequence[str]) -> Sample:
    from sqlalchemy import text

    async with db.engine.connect() as connection:
        projects = (await connection.execute(text("SELECT count(*) FROM projects"))).scalar_one()
        audit_rows = (await connection.execute(text("SELECT count(*) FROM audit_log"))).scalar_one()
        active = (
            await connection.execute(
                text("SELECT id FROM projects WHERE status = 'active' ORDER BY name LIMIT 2000")
            )
        ).scalars()
        active_ids = [
            value if isinstance(value, uuid.UUID) else uuid.UUID(hex=value) for value in active
        ]
        owner = (
            await connection.execute(
                text(
                    "SELECT owner_id FROM projects WHERE status = 'active' "
                    "GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).scalar_one()
        name = (
            await connection.execute(
                text("SELECT name FROM projects ORDER BY name LIMIT 1 OFFSET :n"),
                {"n": projects // 3},
            )
        ).scalar_one()
    deep_offset = min(40_000, max(projects // 2, 0))
    before = await list_project_rows(
        db, ProjectFilter(status=ProjectStatus.ACTIVE), limit=1, offset=max(deep_offset - 1, 0)
    )
    last = before.items[0]
    random.Random(8).shuffle(active_ids)
    per_way = (len(active_ids) - 500) // max(len(ways), 1)
    write_ids = {
        way: active_ids[500 + i * per_way : 500 + (i + 1) * per_way] for i, way in enumerate(ways)
    }
    return Sample(
        read_ids=active_ids[:500],
        write_ids=write_ids,
        owner=owner,
        deep_offset=deep_offset,
        active_total=before.total,
        deep_key=(last.updated_at, last.id),
        search_term=name,
        projects=projects,
        audit_rows=audit_rows,
    )


async def _has_fts(raw: Raw) -> bool:
    if raw.postgres:
        return False
    return await raw.one("SELECT 1 FROM sqlite_master WHERE name = 'audit_log_fts'") is not None


async def run_backend(
    db: Database, raws: Sequence[Raw], backend: str, rounds: int, search_rounds: int
) -> list[Figure]:
    names = ["services", *(raw.name for raw in raws)]
    sample = await _sample(db, names)
    fts = await _has_fts(raws[0])
    versions: dict[uuid.UUID, int] = {}
    figures = []

    def pick(index: int) -> uuid.UUID:
        return sample.read_ids[index % len(sample.read_ids)]

    def writer(way: str, index: int) -> uuid.UUID:
        ids = sample.write_ids[way]
        return ids[index % len(ids)]

    async def services_update(index: int) -> None:
        project_id = writer("services", index)
        if project_id not in versions:
            versions[project_id] = (await get_project(db, str(project_id))).version
        updated = await update_project(
            db,
            str(project_id),
            {"test_coverage": 50 + index % 50},
            expected_version=versions[project_id],
            actor="bench",
        )
        versions[project_id] = updated.version

    async def services_pending(index: int) -> None:
        ids = sample.read_ids[(index * PAGE) % 450 : (index * PAGE) % 450 + PAGE]
        await pending_modification_counts(db, ids)

    async def services_append(_index: int) -> None:
        async with db.transaction() as session:
            await audit.record(
                session,
                actor="bench",
                event_type="bench.note",
                description="a note from the benchmark",
                entity_type="bench",
                entity_id="1",
                details={"n": 1},
            )

    async def services_workflow(index: int) -> None:
        project_id = writer("services", index + 7)
        proposal = mods.ModificationProposal(
            request="add a file", modified_files={f"bench/s{index}.py": "print('benchmark')\n"}
        )
        modification = await mods.propose_modification(
            db, str(project_id), proposal, actor="bench-agent"
        )
        approved = await mods.approve_modification(db, str(modification.id), actor="bench")
        # A project with auto-merge on (one in seven) applies it on approval.
        if approved.status is ModificationStatus.APPROVED:
            await mods.apply_modification(db, str(modification.id), actor="bench")

    def each(
        make: Callable[[Raw], Callable[[int], Awaitable[Any]]],
    ) -> dict[str, Callable[[int], Awaitable[Any]]]:
        return {raw.name: make(raw) for raw in raws}

    active = ProjectFilter(status=ProjectStatus.ACTIVE)
    by_owner = ProjectFilter(status=ProjectStatus.ACTIVE, owner_id=sample.owner)
    plans: list[tuple[str, dict[str, Callable[[int], Awaitable[Any]]], int]] = [
        (
            "get project by id",
            {
                "services": lambda i: get_project(db, str(pick(i))),
                **each(lambda raw: lambda i: raw_get(raw, pick(i))),
            },
            rounds,
        ),
        (
            "update project (+ audit row, commit)",
            {
                "services": services_update,
                **each(lambda raw: lambda i: raw_update(raw, writer(raw.name, i), 50 + i % 50)),
            },
            rounds,
        ),
        (
            "page of 50 (owner + status, by updated_at)",
            {
                "services": lambda i: list_project_rows(db, by_owner, limit=PAGE),
                **each(lambda raw: lambda i: raw_page(raw, sample.owner, 0)),
            },
            rounds,
        ),
        (
            f"page of 50 deep (status, offset {sample.deep_offset:,})",
            {
                "services": lambda i: list_project_rows(
                    db, active, limit=PAGE, offset=sample.deep_offset, total=sample.active_total
                ),
                **each(lambda raw: lambda i: raw_page(raw, None, sample.deep_offset, count=False)),
            },
            max(rounds // 5, 10),
        ),
        (
            f"page of 50 deep by keyset (status, after row {sample.deep_offset:,})",
            {
                "services": lambda i: list_project_rows(
                    db, active, limit=PAGE, after=sample.deep_key, total=sample.active_total
                ),
                **each(lambda raw: lambda i: raw_page(raw, None, 0, sample.deep_key, count=False)),
            },
            rounds,
        ),
        (
            "pending modifications per project (page of 50)",
            {
                "services": services_pending,
                **each(
                    lambda raw: (
                        lambda i: raw_pending(
                            raw,
                            [
                                raw.uid(p)
                                for p in sample.read_ids[(i * PAGE) % 450 : (i * PAGE) % 450 + PAGE]
                            ],
                        )
                    )
                ),
            },
            rounds,
        ),
        (
            "append an audit row",
            {"services": services_append, **each(lambda raw: lambda i: raw_append(raw))},
            rounds,
        ),
        (
            f"audit text search ({sample.audit_rows:,} rows)",
            {
                "services": lambda i: list_audit(
                    db, AuditQuery(search=sample.search_term), limit=PAGE
                ),
                **each(lambda raw: lambda i: raw_search(raw, sample.search_term, fts)),
            },
            search_rounds,
        ),
        (
            "propose + approve + apply",
            {
                "services": services_workflow,
                **each(
                    lambda raw: (
                        lambda i: raw_workflow(
                            raw,
                            writer(raw.name, i + 7),
                            f"bench/{raw.name}{i}-{uuid.uuid4().hex[:6]}.py",
                        )
                    )
                ),
            },
            max(rounds // 5, 10),
        ),
    ]
    for operation, ways, count in plans:
        figure = await measure(operation, backend, ways, count)
        figures.append(figure)
        print_figure(figure)
    return figures


def print_figure(figure: Figure) -> None:
    ways = list(figure.timings)
    parts = [f"{way} {figure.median(way) * 1000:.3f}/{figure.p95(way) * 1000:.3f}" for way in ways]
    ratios = [f"{figure.median(ways[0]) / figure.median(way):.1f}x {way}" for way in ways[1:]]
    print(
        f"  {figure.operation:<46} {'  '.join(parts)} ms (median/p95); services = {', '.join(ratios)}"
    )


async def bench_sqlite(path: str, rounds: int, search_rounds: int) -> list[Figure]:
    db = await open_database(make_url(f"sqlite+aiosqlite:///{path}"))
    raws: list[Raw] = [await AioRaw.open(path), await StdlibRaw.open(path)]
    try:
        print(f"SQLite {path}")
        return await run_backend(db, raws, "sqlite", rounds, search_rounds)
    finally:
        for raw in raws:
            await raw.close()
        await db.dispose()


async def bench_postgres(url: str, rounds: int, search_rounds: int) -> list[Figure]:
    parsed: URL = make_url(url)
    db = await open_database(parsed.set(drivername="postgresql+asyncpg"))
    raw = await PgRaw.open(
        parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        print(f"PostgreSQL {db.masked_url}")
        return await run_backend(db, [raw], "postgresql", rounds, search_rounds)
    finally:
        await raw.close()
        await db.dispose()


async def run(args: argparse.Namespace) -> list[Figure]:
    figures = await bench_sqlite(args.sqlite, args.rounds, args.search_rounds)
    if args.postgres_url:
        figures += await bench_postgres(args.postgres_url, args.rounds, args.search_rounds)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.store_bench")
    parser.add_argument("--sqlite", required=True, help="path of a generated SQLite workspace")
    parser.add_argument("--postgres-url", help="a generated PostgreSQL workspace")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--search-rounds", type=int, default=10)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
