"""Whether a database holds exactly the schema objects projdeck's migrations
create. A restored backup, or a database someone has edited, may carry
objects of its own: a trigger that rewrites a project's codebase whenever a
modification is applied, a view, an index, a table. They act on every write
while the integrity check, ``db check`` and ``audit verify`` all read ok.

SQLite: every entry of ``sqlite_master`` (type, name, table, SQL with
spacing, quoting and case normalized) is compared with those of a fresh
database migrated to the same revision, built once per process and revision.
PostgreSQL: triggers, rules and views in the schema (the migrations create
none) and tables and indexes the models and migrations do not name.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from store.errors import ValidationError

if TYPE_CHECKING:
    from store.engine import Database


@dataclass(frozen=True)
class SchemaObject:
    type: str  # table, index, trigger, view
    name: str
    table: str
    sql: str  # normalized; empty for SQLite's own automatic indexes

    def describe(self) -> str:
        if self.type in ("table", "view") or self.table == self.name:
            return f"{self.type} {self.name!r}"
        return f"{self.type} {self.name!r} on {self.table!r}"


_SPACE = re.compile(r"\s+")
_AROUND_PUNCTUATION = re.compile(r"\s*([(),;=])\s*")
_QUOTED_NAME = re.compile(r'"([^"]*)"|`([^`]*)`|\[([^\]]*)\]')


def normalize_sql(sql: str | None) -> str:
    """The same statement however it is spaced, quoted or cased; a table's
    columns and constraints in a fixed order (Alembic's batch mode, which
    rebuilds SQLite tables, writes the constraints in no fixed order)."""
    if not sql:
        return ""
    unquoted = _QUOTED_NAME.sub(lambda m: next(g for g in m.groups() if g is not None), sql)
    spaced = _AROUND_PUNCTUATION.sub(r"\1", _SPACE.sub(" ", unquoted)).strip().lower()
    if not spaced.startswith("create table ") or not spaced.endswith(")"):
        return spaced
    opening = spaced.find("(")
    items = _top_level_items(spaced[opening + 1 : -1])
    return f"{spaced[: opening + 1]}{','.join(sorted(items))})"


def _top_level_items(body: str) -> list[str]:
    """``body`` split at the commas outside parentheses and string literals."""
    items, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(body):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(body[start:index])
            start = index + 1
    items.append(body[start:])
    return items


def _ignored(name: str) -> bool:
    # The query planner's statistics (ANALYZE, PRAGMA optimize): data, not code.
    return name.startswith("sqlite_stat")


def sqlite_objects(connection: sqlite3.Connection) -> dict[tuple[str, str], SchemaObject]:
    """Every schema object of a SQLite database by (type, name)."""
    rows = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {
        (str(kind), str(name)): SchemaObject(str(kind), str(name), str(table), normalize_sql(sql))
        for kind, name, table, sql in rows
        if not _ignored(str(name))
    }


def differences(
    found: dict[tuple[str, str], SchemaObject], expected: dict[tuple[str, str], SchemaObject]
) -> list[str]:
    """Each object not as the migrations create it, in words."""
    problems = []
    for key in sorted(found.keys() - expected.keys()):
        problems.append(f"{found[key].describe()} is not created by projdeck's migrations")
    for key in sorted(found.keys() & expected.keys()):
        if found[key] != expected[key]:
            problems.append(f"{found[key].describe()} differs from what the migrations create")
    for key in sorted(expected.keys() - found.keys()):
        problems.append(f"{expected[key].describe()} is missing")
    return problems


_expected: dict[str, dict[tuple[str, str], SchemaObject]] = {}


async def expected_sqlite_objects(revision: str) -> dict[tuple[str, str], SchemaObject]:
    """The objects of a fresh SQLite database migrated to ``revision``."""
    cached = _expected.get(revision)
    if cached is not None:
        return cached
    from store import migrate
    from store.config import normalize_url
    from store.engine import open_database

    with tempfile.TemporaryDirectory(prefix="projdeck-schema-") as folder:
        path = Path(folder) / "expected.db"
        database = await open_database(normalize_url(f"sqlite:///{path}"))
        try:
            await migrate.upgrade(database, revision)
        finally:
            await database.dispose()
        objects = await asyncio.to_thread(_read_file, path)
    _expected[revision] = objects
    return objects


def _read_file(path: Path) -> dict[tuple[str, str], SchemaObject]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return sqlite_objects(connection)
    finally:
        connection.close()


async def sqlite_file_problems(path: Path, revision: str) -> list[str]:
    """How a SQLite file's schema differs from what the migrations create
    at its revision (empty when it does not)."""
    found = await asyncio.to_thread(_read_file, path)
    return differences(found, await expected_sqlite_objects(revision))


async def refuse_foreign_objects(path: Path, revision: str) -> None:
    """A ValidationError naming each schema object of the SQLite file at
    ``path`` that projdeck's migrations do not create (or create otherwise)."""
    problems = await sqlite_file_problems(path, revision)
    if problems:
        raise ValidationError(
            "file",
            f"{path.name} holds schema objects projdeck does not create, so it is not "
            f"restored: {'; '.join(problems)}",
        )


async def database_problems(database: Database) -> list[str]:
    """Differences between the models and the database (``migrate.check``),
    then the schema objects the migrations do not create (a trigger brought
    in with a backup, say): empty when there are none (``db check``)."""
    from store import migrate

    result = await migrate.check(database)
    revision = await migrate.current_revision(database)
    if revision is not None and revision in {info.revision for info in migrate.history()}:
        async with database.engine.connect() as connection:
            result += await connection_problems(connection, revision)
    return result


async def connection_problems(connection: AsyncConnection, revision: str) -> list[str]:
    """How a live database's schema differs from what the migrations create
    (for ``doctor``)."""
    if connection.dialect.name == "sqlite":
        rows = (
            await connection.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        ).all()
        found = {
            (str(kind), str(name)): SchemaObject(
                str(kind), str(name), str(table), normalize_sql(sql)
            )
            for kind, name, table, sql in rows
            if not _ignored(str(name))
        }
        return differences(found, await expected_sqlite_objects(revision))
    return await _postgres_problems(connection)


# Objects in the current schema (or, for event triggers, the database) that
# projdeck's PostgreSQL migrations never create: any trigger, rule, view,
# event trigger or function (pg_trgm's functions belong to its extension)
# but the functions of POSTGRES_FUNCTIONS.
_PG_EXTRAS = {
    "trigger": """
        SELECT t.tgname, c.relname FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND n.nspname = current_schema()""",
    "rule": """
        SELECT rulename, tablename FROM pg_rules WHERE schemaname = current_schema()""",
    "view": """
        SELECT viewname, viewname FROM pg_views WHERE schemaname = current_schema()
        UNION ALL
        SELECT matviewname, matviewname FROM pg_matviews WHERE schemaname = current_schema()""",
    "event trigger": "SELECT evtname, evtname FROM pg_event_trigger",
    "function": """
        SELECT p.proname, p.proname FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema()
        AND NOT EXISTS (
            SELECT 1 FROM pg_depend d
            WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')""",
}
_PG_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
_PG_COLUMNS = """
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = current_schema()"""
# Indexes behind a constraint (primary keys, unique constraints) are the
# constraint's; ``db check`` compares those with the models.
_PG_INDEXES = """
    SELECT i.relname, c.relname FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class c ON c.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema()
    AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"""


async def _postgres_problems(connection: AsyncConnection) -> list[str]:
    from sqlmodel import SQLModel

    import store.models  # noqa: F401  (registers every table)
    from store.models import POSTGRES_FUNCTIONS, POSTGRES_GIN_INDEXES
    from store.team import TRIGGER_NAMES

    tables = SQLModel.metadata.tables
    problems = []
    for kind, query in _PG_EXTRAS.items():
        for name, table in (await connection.execute(text(query))).all():
            if kind == "function" and name in POSTGRES_FUNCTIONS:
                continue
            # The team's rules (projdeck team init; their functions are in
            # a schema of their own).
            if kind == "trigger" and name in TRIGGER_NAMES:
                continue
            problems.append(SchemaObject(kind, str(name), str(table), "").describe())
    for (name,) in (await connection.execute(text(_PG_TABLES))).all():
        if name not in tables and name != "alembic_version":
            problems.append(SchemaObject("table", str(name), str(name), "").describe())
    for table, column in (await connection.execute(text(_PG_COLUMNS))).all():
        if table in tables and column not in tables[table].columns:
            problems.append(f"column {column!r} of {table!r}")
    known_indexes = set(POSTGRES_GIN_INDEXES) | {
        str(index.name) for table in tables.values() for index in table.indexes
    }
    for name, table in (await connection.execute(text(_PG_INDEXES))).all():
        if name not in known_indexes:
            problems.append(SchemaObject("index", str(name), str(table), "").describe())
    return [f"{problem} is not created by projdeck's migrations" for problem in problems]
