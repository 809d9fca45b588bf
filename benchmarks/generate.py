"""A large, valid workspace for the benchmarks.

    python -m benchmarks.generate --db-url sqlite+aiosqlite:////tmp/projdeck-bench.db \\
        --projects 100000 --modifications 200000 --audit 1000000 --secrets 50000

Rows are made for the current schema (the database is brought to head
first) and written with SQLAlchemy Core ``executemany`` in batches, one
transaction per table. Audit rows continue the hash chain already in the
database (``projdeck audit verify`` passes); secrets are encrypted with the
master key like ``projdeck secret set`` does.

In the same run, every batch is also written with the stdlib ``sqlite3``
``executemany`` into a scratch SQLite file with the same schema, so the rate
printed at the end is compared with the physical limit on the same rows.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL

from store import audit, crypto, migrate
from store.config import normalize_url
from store.engine import Database, open_database
from store.models import AuditEntry, Modification, Project, ProjectSecret, ProjectSettings
from store.services.modifications import content_hash

BATCH = 5000
_AHEAD = 4
WORDS = [
    "atlas",
    "billing",
    "cedar",
    "delta",
    "ember",
    "falcon",
    "garnet",
    "harbor",
    "iris",
    "jade",
    "kestrel",
    "lumen",
    "maple",
    "nova",
    "orbit",
    "pilot",
    "quartz",
    "raven",
    "sierra",
    "tango",
    "umber",
    "vector",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
    "ledger",
    "payments",
    "search",
    "inventory",
    "checkout",
    "gateway",
    "metrics",
    "notify",
    "auth",
    "profile",
    "catalog",
]
OWNERS = [f"{word}-team" for word in WORDS] + [f"dev{n:03d}" for n in range(460)]
GITHUB_ORGS = [f"{word}-org" for word in WORDS]
ACTORS = ["alice", "bob", "carol", "dave", "erin", "agent:claude", "agent:codex", "ci-bot"]
TYPES = ["api", "web_app", "cli", "library", "data", "mobile", "microservice", "other"]
EVENTS = [
    ("project.created", "general", "info", "created project {name!r}"),
    ("project.updated", "general", "info", "updated test_coverage of project {name!r}"),
    ("modification.proposed", "general", "info", "proposed a change to {name!r}: {words}"),
    ("modification.approved", "compliance", "info", "approved modification of {name!r}"),
    ("modification.applied", "general", "info", "applied modification to {name!r}"),
    ("modification.rejected", "compliance", "warning", "rejected {words} for {name!r}"),
    ("secret.revealed", "security", "warning", "revealed secret API_TOKEN of {name!r}"),
    ("secret.set", "security", "info", "set secret DATABASE_URL of {name!r}"),
    ("auth.failed", "access", "error", "failed sign-in while {words}"),
]
MOD_STATUSES = ["pending"] * 4 + ["approved"] + ["applied"] * 3 + ["rejected", "failed"]


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def project_name(index: int) -> str:
    # Unique by its number (a later run continues the numbering). No tag
    # shared by a whole run: a few letters in every name, and so in most
    # audit rows, is no workspace's shape and makes every text search read
    # the index entries of those letters.
    return f"{WORDS[index % len(WORDS)]}-{WORDS[(index // 7) % len(WORDS)]}-{index:06d}"


def codebase_for(index: int) -> dict[str, str]:
    """A few small files; the same for a given project every time (the
    modifications' bases are hashes of it)."""
    name = WORDS[index % len(WORDS)]
    files = {
        "README.md": f"# {name}\n\nService {index} of the {name} family.\n",
        "pyproject.toml": f'[project]\nname = "{name}-{index}"\nversion = "0.{index % 9}.0"\n',
        f"src/{name}/__init__.py": f'"""{name}."""\n\nVERSION = {index}\n',
    }
    if index % 3 == 0:
        files[f"tests/test_{name}.py"] = f"def test_{name}():\n    assert {index} >= 0\n"
    return files


@dataclass
class Workspace:
    """What later tables refer to: the generated projects."""

    project_ids: list[uuid.UUID] = field(default_factory=list)
    first_index: int = 0


def project_rows(ws: Workspace, start: int, count: int, rng: random.Random, now: datetime):
    projects, settings = [], []
    for index in range(start, start + count):
        project_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        ws.project_ids.append(project_id)
        name = project_name(index)
        created = now - timedelta(days=730, seconds=-index * 300)
        updated = created + timedelta(seconds=rng.randrange(0, 600 * 86400))
        updated = min(updated, now)
        on_github = index % 4 != 0
        status = "active" if index % 10 < 8 else ("archived" if index % 10 == 8 else "deleted")
        projects.append(
            {
                "id": project_id,
                "name": name,
                "type": TYPES[index % len(TYPES)],
                "status": status,
                "owner_id": OWNERS[index % len(OWNERS)],
                "github_owner": GITHUB_ORGS[index % len(GITHUB_ORGS)] if on_github else None,
                "github_repo": name if on_github else None,
                "webhook_url": f"https://hooks.example.com/{name}" if index % 5 == 0 else None,
                "auto_merge_enabled": index % 7 == 0,
                "auto_confirm_plans": index % 11 == 0,
                "codebase": codebase_for(index),
                "dependencies": rng.sample(
                    [
                        "fastapi",
                        "httpx",
                        "pydantic",
                        "sqlalchemy",
                        "click",
                        "rich",
                        "numpy",
                        "pytest",
                    ],
                    3,
                ),
                "environment_vars": {"LOG_LEVEL": "info", "REGION": rng.choice(["eu", "us"])},
                "deployment_config": {"replicas": 1 + index % 4, "target": "k8s"},
                "state": {
                    "phase": rng.choice(["build", "test", "ship"]),
                    "open_issues": index % 17,
                },
                "test_coverage": round(rng.uniform(20, 99), 1),
                "security_score": round(rng.uniform(40, 100), 1),
                "performance_score": round(rng.uniform(30, 100), 1),
                "version": 1 + index % 5,
                "created_at": created,
                "updated_at": updated,
                "last_deployed_at": updated if index % 3 == 0 else None,
                "last_active_at": updated,
            }
        )
        settings.append(
            {
                "project_id": project_id,
                "planning_statement": f"Keep {name} small and tested.",
                "repository_rules": "No direct pushes to main.",
                "setup_commands": ["pip install -e .", "pytest -q"],
                "branch_name": "main",
                "updated_at": created,
            }
        )
    return projects, settings


def modification_rows(ws: Workspace, count: int, rng: random.Random, now: datetime):
    rows = []
    for _ in range(count):
        which = rng.randrange(len(ws.project_ids))
        index = ws.first_index + which
        codebase = codebase_for(index)
        path = rng.choice(sorted(codebase))
        new_content = codebase[path] + f"# {_words(rng, 4)}\n"
        status = rng.choice(MOD_STATUSES)
        requested = now - timedelta(seconds=rng.randrange(1, 365 * 86400))
        reviewed = status != "pending"
        row = {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "project_id": ws.project_ids[which],
            "request": f"Please {_words(rng, 6)}",
            "requested_by": rng.choice(ACTORS),
            "requested_at": requested,
            "impact_analysis": {"risk": rng.choice(["low", "medium", "high"]), "files": 1},
            "affected_files": [path],
            "status": status,
            "reviewed_by": rng.choice(ACTORS[:5]) if reviewed else None,
            "reviewed_at": requested + timedelta(hours=1) if reviewed else None,
            "review_comment": "looks fine" if reviewed else None,
            "applied_at": requested + timedelta(hours=2) if status == "applied" else None,
            "modified_files": {path: new_content},
            "base": {path: content_hash(codebase[path])},
            "test_results": {"passed": rng.randrange(0, 200), "failed": 0},
            "failure_reason": "tests failed" if status == "failed" else None,
            "previous_contents": {path: codebase[path]} if status == "applied" else None,
            "reverts_id": None,
        }
        rows.append(row)
    return rows


@dataclass
class Chain:
    next_id: int
    prev_hash: str
    at: datetime


def audit_rows(ws: Workspace, chain: Chain, count: int, rng: random.Random):
    rows = []
    for _ in range(count):
        which = rng.randrange(len(ws.project_ids)) if ws.project_ids else None
        event, category, severity, template = rng.choice(EVENTS)
        name = project_name(ws.first_index + which) if which is not None else "-"
        chain.at += timedelta(microseconds=rng.randrange(1, 30_000_000))
        entry = SimpleNamespace(
            id=chain.next_id,
            at=chain.at,
            actor=rng.choice(ACTORS),
            event_type=event,
            category=category,
            severity=severity,
            project_id=ws.project_ids[which] if which is not None else None,
            entity_type=event.split(".")[0],
            entity_id=str(ws.project_ids[which]) if which is not None else None,
            description=template.format(name=name, words=_words(rng, 3)),
            details={"version": rng.randrange(1, 50), "source": rng.choice(["app", "cli"])},
            prev_hash=chain.prev_hash,
        )
        entry.hash = audit.chain_hash(chain.prev_hash, entry)  # type: ignore[arg-type]
        chain.prev_hash = entry.hash
        chain.next_id += 1
        row = vars(entry)
        row["metadata"] = row.pop("details")
        rows.append(row)
    return rows


def secret_rows(
    ws: Workspace, start: int, count: int, key: crypto.MasterKey, rng: random.Random, now: datetime
) -> list[dict[str, Any]]:
    rows = []
    names = ["API_TOKEN", "DATABASE_URL", "STRIPE_KEY", "SENTRY_DSN", "SMTP_PASSWORD"]
    projects = len(ws.project_ids)
    for number in range(start, start + count):
        # Round-robin over the projects: the n-th lap gives each its n-th secret.
        project_id = ws.project_ids[number % projects]
        lap = number // projects
        key_name = f"{names[lap % len(names)]}_{lap}"
        value = crypto.SecretValue(f"sk-{rng.getrandbits(128):032x}")
        sealed = crypto.encrypt(key, project_id, key_name, value)
        rows.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "project_id": project_id,
                "key_name": key_name,
                "nonce": sealed.nonce,
                "ciphertext": sealed.ciphertext,
                "key_id": sealed.key_id,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def _sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy stores it in SQLite, for the stdlib comparison."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


class StdlibMirror:
    """The same rows through stdlib sqlite3 ``executemany`` into a scratch
    file with the same schema; only the ``executemany`` calls are timed."""

    def __init__(self, folder: Path, schema_from: str | None) -> None:
        self.path = folder / "stdlib-mirror.db"
        if schema_from is not None:
            # The target's own schema: its indexes, full-text table and triggers.
            source = sqlite3.connect(schema_from)
            ddl = source.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' "
                # FTS5 makes its shadow tables itself.
                "AND NOT (type = 'table' AND name GLOB 'audit_log_fts_*') "
                "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid"
            ).fetchall()
            source.close()
            target = sqlite3.connect(self.path)
            for (statement,) in ddl:
                target.execute(statement)
            target.commit()
            target.close()
        else:
            from sqlmodel import SQLModel

            engine = create_engine(f"sqlite:///{self.path}")
            SQLModel.metadata.create_all(engine)
            engine.dispose()
        self.connection = sqlite3.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.seconds = 0.0
        self.rows = 0

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        columns = list(rows[0])
        tuples = [tuple(_sqlite_value(row[c]) for c in columns) for row in rows]
        quoted = ", ".join(f'"{c}"' for c in columns)
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join('?' * len(columns))})"
        started = time.perf_counter()
        self.connection.execute("BEGIN")
        self.connection.executemany(sql, tuples)
        self.connection.execute("COMMIT")
        self.seconds += time.perf_counter() - started
        self.rows += len(rows)

    def close(self) -> None:
        self.connection.close()


async def _chain_start(db: Database) -> Chain:
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    async with db.engine.connect() as connection:
        last = (
            await connection.execute(
                select(table.c.id, table.c.hash, table.c.at).order_by(table.c.id.desc()).limit(1)
            )
        ).first()
    if last is None:
        return Chain(1, audit.GENESIS_HASH, datetime.now(UTC) - timedelta(days=365))
    return Chain(int(last[0]) + 1, str(last[1]), last[2])


async def _existing_projects(db: Database) -> int:
    async with db.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(Project))).scalar())


@dataclass
class Counts:
    projects: int
    modifications: int
    audit: int
    secrets: int


async def generate(
    url: URL, counts: Counts, *, seed: int = 8, mirror: bool = True
) -> dict[str, Any]:
    db = await open_database(url)
    try:
        if await migrate.current_revision(db) != migrate.HEAD_REVISION:
            await migrate.upgrade(db, actor="benchmarks")
        existing = await _existing_projects(db)
        key = crypto.load_keyring().current
        chain = await _chain_start(db)
        now = datetime.now(UTC)
        scratch = tempfile.TemporaryDirectory(prefix="projdeck-gen-")
        stdlib = (
            StdlibMirror(Path(scratch.name), url.database if db.backend == "sqlite" else None)
            if mirror
            else None
        )
        tables = [
            ("projects", (Project, ProjectSettings), counts.projects),
            ("modifications", (Modification,), counts.modifications if counts.projects else 0),
            ("audit", (AuditEntry,), counts.audit),
            ("secrets", (ProjectSecret,), counts.secrets if counts.projects else 0),
        ]
        # Rows are made (hashed, encrypted) in a second process while this one
        # writes the previous batch: the two cores work side by side.
        maker = ProcessPoolExecutor(
            max_workers=1,
            initializer=_start_maker,
            initargs=(seed, existing, chain, key, now),
            mp_context=multiprocessing.get_context("spawn"),
        )
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(maker, _ready)
        head_hash = chain.prev_hash
        written = 0
        written_by_table: dict[str, int] = {}
        started = time.perf_counter()
        mirror_seconds = 0.0
        columns = [
            TextColumn("{task.description:<14}"),
            BarColumn(),
            TextColumn("{task.completed:>9,}/{task.total:,}"),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, transient=False) as progress:
            for label, models, total in tables:
                task = progress.add_task(label, total=total)
                # The maker works a few batches ahead (bounded, to keep memory flat).
                queued = collections.deque(
                    (start, min(BATCH, total - start)) for start in _batches(total)
                )
                ahead: collections.deque[asyncio.Future[Any]] = collections.deque()
                async with db.engine.begin() as connection:
                    while queued or ahead:
                        while queued and len(ahead) < _AHEAD:
                            start, size = queued.popleft()
                            ahead.append(loop.run_in_executor(maker, _make, label, start, size))
                        batches, head = await ahead.popleft()
                        n = len(batches[0])
                        for model, rows in zip(models, batches, strict=True):
                            await connection.execute(model.__table__.insert(), rows)
                            written += len(rows)
                            written_by_table[model.__tablename__] = written_by_table.get(
                                model.__tablename__, 0
                            ) + len(rows)
                            if stdlib is not None:
                                mark = time.perf_counter()
                                stdlib.write(model.__tablename__, rows)
                                mirror_seconds += time.perf_counter() - mark
                        progress.advance(task, n)
                        if label == "audit":
                            head_hash = head
        if db.backend == "postgresql" and counts.audit:
            async with db.engine.begin() as connection:
                await connection.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
                        "(SELECT max(id) FROM audit_log))"
                    )
                )
        elapsed = time.perf_counter() - started - mirror_seconds
        if db.backend == "sqlite":
            # Statistics for the query planner, as a workspace this size would have.
            async with db.engine.connect() as connection:
                await connection.exec_driver_sql("ANALYZE")
                await connection.commit()
        result = {
            "rows": written,
            "by_table": written_by_table,
            "seconds": elapsed,
            "rate": written / elapsed if elapsed else 0.0,
            "stdlib_rate": stdlib.rows / stdlib.seconds if stdlib and stdlib.seconds else None,
            "head_hash": head_hash,
        }
        maker.shutdown()
        if stdlib is not None:
            stdlib.close()
        scratch.cleanup()
        return result
    finally:
        await db.dispose()


_MAKER: dict[str, Any] = {}


def _start_maker(
    seed: int, existing: int, chain: Chain, key: crypto.MasterKey, now: datetime
) -> None:
    rng = random.Random(seed)
    _MAKER.update(
        rng=rng,
        ws=Workspace(first_index=existing),
        chain=chain,
        key=key,
        now=now,
    )


def _ready() -> None:
    """Nothing: waiting for it waits for the maker process to start."""


def _make(label: str, start: int, n: int) -> tuple[list[list[dict[str, Any]]], str]:
    """One batch of rows for ``label`` (in the maker process), and the chain head."""
    rng, ws, chain, now = _MAKER["rng"], _MAKER["ws"], _MAKER["chain"], _MAKER["now"]
    if label == "projects":
        batches = list(project_rows(ws, ws.first_index + start, n, rng, now))
    elif label == "modifications":
        batches = [modification_rows(ws, n, rng, now)]
    elif label == "audit":
        batches = [audit_rows(ws, chain, n, rng)]
    else:
        batches = [secret_rows(ws, start, n, _MAKER["key"], rng, now)]
    return batches, chain.prev_hash


def _batches(total: int) -> Iterator[int]:
    return iter(range(0, total, BATCH))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db-url", required=True, help="database to fill (brought to head first)")
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--modifications", type=int, default=4000)
    parser.add_argument("--audit", type=int, default=20000)
    parser.add_argument("--secrets", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--no-compare", action="store_true", help="skip the stdlib sqlite3 comparison"
    )
    args = parser.parse_args(argv)
    counts = Counts(args.projects, args.modifications, args.audit, args.secrets)
    result = asyncio.run(
        generate(normalize_url(args.db_url), counts, seed=args.seed, mirror=not args.no_compare)
    )
    print(
        f"wrote {result['rows']:,} rows in {result['seconds']:.1f} s: {result['rate']:,.0f} rows/s"
    )
    for table, rows in result["by_table"].items():
        print(f"  {table:<18} {rows:>10,}")
    if result["stdlib_rate"]:
        ratio = result["rate"] / result["stdlib_rate"]
        print(
            f"stdlib sqlite3 executemany of the same rows: {result['stdlib_rate']:,.0f} rows/s "
            f"(generator at {ratio:.2f}x of it; target >= 0.5x)"
        )
    print(f"audit chain head: {result['head_hash']}")


if __name__ == "__main__":
    main()
