"""``projdeck doctor``: is the database reachable, current and healthy?"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

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

    if database.backend == "sqlite":
        await _examine_sqlite(database, report)
    else:
        await _examine_postgres(database, report)
    return report


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


async def _examine_postgres(database: Database, report: Report) -> None:
    async with database.engine.connect() as connection:
        server = (await connection.execute(text("SHOW server_version"))).scalar_one()
    report.add("server", True, f"PostgreSQL {server}")
    pool = database.engine.pool
    report.add("pool", True, pool.status())
