"""``projdeck doctor``: is the database reachable, current and healthy?"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import Pool, QueuePool

from store import migrate
from store.engine import Database, translate


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    database: str
    backend: str
    findings: list[Finding] = field(default_factory=list)
    # PostgreSQL's connection pool as numbers (``pool_figures``); None on SQLite.
    pool: dict[str, int | float] | None = None

    @property
    def ok(self) -> bool:
        return all(finding.ok for finding in self.findings)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.findings.append(Finding(name, ok, detail))

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "backend": self.backend,
            "ok": self.ok,
            "findings": [asdict(finding) for finding in self.findings],
            "pool": self.pool,
        }


async def examine(database: Database) -> Report:
    report = Report(database=database.masked_url, backend=database.backend)
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        report.add("reachable", True, database.masked_url)
    except DBAPIError as error:
        report.add("reachable", False, translate(error, database.url).message)
        return report

    revision = await migrate.current_revision(database)
    if revision == migrate.HEAD_REVISION:
        report.add("schema", True, f"at head ({revision})")
    else:
        where = "empty" if revision is None else f"at {revision}"
        report.add(
            "schema", False, f"{where}, head is {migrate.HEAD_REVISION}: run 'projdeck db upgrade'"
        )

    if revision is not None and revision in {info.revision for info in migrate.history()}:
        await _examine_schema_objects(database, revision, report)

    if database.backend == "sqlite":
        await _examine_sqlite(database, report)
    else:
        await _examine_postgres(database, report)
    if revision == migrate.HEAD_REVISION:
        await _examine_keys(database, report)
        await _examine_repositories(database, report)
    await asyncio.to_thread(_clean_test_runs, report)
    return report


def _clean_test_runs(report: Report) -> None:
    """Scratch folders and git worktrees that killed test runs (``mod
    test``) left: removed."""
    from store import scratch

    removed = scratch.clean_left_over()
    report.add(
        "test runs",
        True,
        f"removed {len(removed)} scratch folders killed test runs left in {scratch.root()}"
        if removed
        else f"no scratch folders left over in {scratch.root()}",
    )


async def _examine_repositories(database: Database, report: Report) -> None:
    """The git repositories projects are linked to on this machine: each
    still there, and every modification committed on its branch known as
    applied (a process killed between the commit and the database leaves
    one unknown: it is recorded now, with an audit row saying so)."""
    from store.services import linked

    found = await linked.examine(database)
    if not found.links:
        report.add("repositories", True, "no project is linked to a repository on this machine")
        return
    detail = f"{found.links} linked repositor{'ies' if found.links != 1 else 'y'} on this machine"
    if found.reconciled:
        applied = ", ".join(found.reconciled)
        detail += f"; recorded as applied, found committed on their branches: {applied}"
    if found.problems:
        report.add("repositories", False, f"{detail}; " + "; ".join(found.problems))
        return
    report.add("repositories", True, detail)


async def _examine_schema_objects(database: Database, revision: str, report: Report) -> None:
    """Objects the migrations do not create (a trigger brought in with a
    backup, say) act on every write while every other check reads ok."""
    from store import schema_check

    async with database.engine.connect() as connection:
        problems = await schema_check.connection_problems(connection, revision)
    report.add(
        "schema objects",
        not problems,
        "; ".join(problems) if problems else "as the migrations create them",
    )


async def _examine_keys(database: Database, report: Report) -> None:
    """Whether every secret is under a key projdeck has (secrets under a
    key that is gone cannot be read, and nothing else says so until asked)."""
    from store.services.secret_keys import keys_in_use

    usage = await keys_in_use(database)
    if usage.problem is not None:
        report.add("secret keys", False, usage.problem)
    elif not usage.counts:
        report.add("secret keys", True, "no secrets")
    else:
        total = sum(usage.counts.values())
        detail = f"{total} secret{'s' if total != 1 else ''}, each under a key in {usage.source}"
        if usage.older:
            moved = sum(usage.older.values())
            detail += f"; {moved} under older keys (projdeck secret rotate-key moves them)"
        report.add("secret keys", True, detail)


def _examine_leftovers(database: Database, report: Report) -> None:
    """Hidden partial files a killed backup, export or restore left beside
    the database (the next one written there removes those it can tell are
    abandoned)."""
    from store.outputs import stale_partials

    assert database.url.database is not None
    folder = Path(database.url.database).expanduser().resolve().parent
    found = stale_partials(folder)
    if not found:
        report.add("leftover files", True, f"no partial files in {folder}")
        return
    names = ", ".join(path.name for path in found[:5]) + (", ..." if len(found) > 5 else "")
    size = sum(path.stat().st_size for path in found if path.exists())
    report.add(
        "leftover files",
        False,
        f"{len(found)} partial files ({size} bytes) left in {folder} by a backup, export or "
        f"restore that was stopped: {names}; remove them (the next backup or export there does)",
    )


async def _examine_sqlite(database: Database, report: Report) -> None:
    async with database.engine.connect() as connection:
        journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        try:
            integrity = [
                str(row[0]) for row in await connection.execute(text("PRAGMA integrity_check"))
            ]
        except DBAPIError as error:
            # A file damaged badly enough fails the check itself.
            integrity = [translate(error, database.url).message]
    report.add("journal mode", journal == "wal", str(journal))
    report.add("foreign keys", foreign_keys == 1, "on" if foreign_keys == 1 else "off")
    report.add(
        "integrity",
        integrity == ["ok"],
        "ok" if integrity == ["ok"] else "; ".join(integrity[:5]),
    )
    _examine_leftovers(database, report)


async def _examine_postgres(database: Database, report: Report) -> None:
    async with database.engine.connect() as connection:
        server = (await connection.execute(text("SHOW server_version"))).scalar_one()
    report.add("server", True, f"PostgreSQL {server}")
    await _examine_team(database, report)
    figures = pool_figures(database.engine.pool)
    if figures is None:
        return
    report.pool = figures
    report.add(
        "pool",
        True,
        f"{figures['size']} connections, up to {figures['max_overflow']} more when busy; "
        f"{figures['checked_out']} checked out, {figures['idle']} idle, "
        f"{figures['overflow']} beyond the size; a command waits up to "
        f"{figures['timeout_seconds']:g} s for one (PROJDECK_POOL_SIZE, "
        "PROJDECK_POOL_MAX_OVERFLOW, PROJDECK_POOL_TIMEOUT)",
    )


async def _examine_team(database: Database, report: Report) -> None:
    """Who the database is open as, in which projdeck role, and whether
    ``team init`` has been run and is current."""
    from store.services.team import team_status
    from store.team import TEAM_VERSION

    status = await team_status(database)
    if status.version is None:
        report.add(
            "team",
            True,
            f"connected as {status.login!r}; team init not run (every role with the "
            "connection string may do everything: projdeck team init sets up the roles)",
        )
        return
    role = status.role or "not a member of a projdeck role (the owner)"
    report.add("role", True, f"connected as {status.login!r}: {role}")
    if status.current:
        report.add("team", True, f"team init run, current (version {TEAM_VERSION})")
    else:
        report.add(
            "team",
            False,
            f"team init out of date (version {status.version}, current {TEAM_VERSION}): "
            "the database's owner runs projdeck team init again",
        )


def pool_figures(pool: Pool) -> dict[str, int | float] | None:
    """A queue pool's state as numbers: its size and the overflow it may
    open beyond it, the connections checked out, idle in the pool, and open
    beyond the size now, and how long a checkout waits (seconds)."""
    if not isinstance(pool, QueuePool):
        return None
    return {
        "size": pool.size(),
        # The pool keeps it to itself; a negative one means no limit.
        "max_overflow": int(getattr(pool, "_max_overflow", 0)),
        "checked_out": pool.checkedout(),
        "idle": pool.checkedin(),
        # SQLAlchemy counts it from -size (connections not yet opened).
        "overflow": max(pool.overflow(), 0),
        "timeout_seconds": pool.timeout(),
    }
