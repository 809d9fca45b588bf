"""Schema migrations: the ``projdeck db ...`` commands over Alembic.

Alembic is imported only inside these functions: it costs about 0.3 s and
the everyday path (open a database already at head) never needs it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from store.engine import Database, create_engine_for, translate
from store.errors import SchemaOutOfDate, ValidationError
from store.progress import OnStep, Step, ignore

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in migrations/versions; a test keeps them in step.
HEAD_REVISION = "0013"

_PACKAGE_DIR = Path(__file__).resolve().parent


def _locations() -> tuple[Path, Path]:
    """alembic.ini and the migrations folder: inside the installed package
    (wheel), else at the top of the source tree (editable install)."""
    packaged = _PACKAGE_DIR / "migrations"
    if packaged.is_dir():
        return _PACKAGE_DIR / "alembic.ini", packaged
    root = _PACKAGE_DIR.parent
    return root / "alembic.ini", root / "migrations"


def alembic_config(database: Database, stdout: io.StringIO | None = None) -> Config:
    from alembic.config import Config

    ini, scripts = _locations()
    config = Config(str(ini), stdout=stdout or io.StringIO())
    config.set_main_option("script_location", str(scripts))
    config.set_main_option(
        "sqlalchemy.url", database.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    config.attributes["quiet_logging"] = True
    return config


async def _run(database: Database, work: Any) -> Any:
    """Run ``work(sync_connection)`` in one transaction on a migration
    connection (foreign keys off on SQLite, see create_engine_for)."""
    engine = create_engine_for(database.url, foreign_keys=False)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    except DBAPIError as error:
        raise translate(error, database.url) from None
    finally:
        await engine.dispose()


async def current_revision(database: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    try:
        async with database.engine.connect() as connection:
            has_table = await connection.run_sync(
                lambda sync: sync.dialect.has_table(sync, "alembic_version")
            )
            if not has_table:
                return None
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return result.scalar_one_or_none()
    except DBAPIError as error:
        raise translate(error, database.url) from None


async def _alembic(database: Database, name: str, revision: str, actor: str | None) -> str | None:
    """Run one Alembic command, then record it in the audit log, unless it
    created the schema from nothing or removed it (no log to write to)."""
    from alembic import command
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    def work(connection: Connection) -> None:
        config = alembic_config(database)
        config.attributes["connection"] = connection
        # Who a revision's own audit row names (0011's redaction).
        config.attributes["actor"] = actor
        getattr(command, name)(config, revision)

    if not revision.strip():
        raise ValidationError("revision", "is empty; give a revision id, head or base")
    before = await current_revision(database)
    try:
        await _run(database, work)
    except (CommandError, RevisionError) as error:
        raise ValidationError("revision", _revision_problem(name, revision, str(error))) from None
    after = await current_revision(database)
    if before is not None and after is not None and before != after:
        await _record_schema_change(database, name, before, after, actor)
    return after


def _revision_problem(name: str, revision: str, message: str) -> str:
    if message.startswith("Can't locate revision"):
        return f"{revision!r} is not a known revision (projdeck db history lists them)"
    return f"cannot {name} to {revision!r}: {message}"


async def _record_schema_change(
    database: Database, name: str, before: str, after: str, actor: str | None
) -> None:
    from store import audit
    from store.config import current_actor
    from store.models import AuditCategory, Severity

    past = {"upgrade": "upgraded", "downgrade": "downgraded", "stamp": "stamped"}[name]
    async with database.transaction() as session:
        await audit.record(
            session,
            actor=actor or current_actor(),
            event_type=f"schema.{past}",
            description=f"schema {past} from revision {before} to {after}",
            category=AuditCategory.SYSTEM,
            severity=Severity.INFO if name == "upgrade" else Severity.WARNING,
            entity_type="schema",
            entity_id=after,
            details={"from": before, "to": after},
        )


async def upgrade(
    database: Database, revision: str = "head", *, actor: str | None = None
) -> str | None:
    return await _alembic(database, "upgrade", revision, actor)


@dataclass(frozen=True)
class Upgraded:
    """What ``db upgrade`` did: the revision the schema is at, and on a team
    database the version of the team setup applied again (None: no team
    here, or not run by the database's owner, who alone may apply it)."""

    revision: str | None
    team_version: int | None = None


async def upgrade_database(
    database: Database, revision: str = "head", *, actor: str | None = None
) -> Upgraded:
    """``projdeck db upgrade``: the schema upgraded, then on a team database
    opened by its owner the team setup applied again, as ``team init`` does,
    so a table a revision added gets its grants and its triggers: every
    member keeps the privileges of their role, and no more."""
    current = await upgrade(database, revision, actor=actor)
    if database.team is None or database.team.role is not None:
        return Upgraded(current)
    from store import team

    async with database.transaction() as session:
        applied = await team.apply(session, why="db upgrade")
    return Upgraded(current, applied.version)


async def downgrade(database: Database, revision: str, *, actor: str | None = None) -> str | None:
    return await _alembic(database, "downgrade", revision, actor)


async def stamp(database: Database, revision: str, *, actor: str | None = None) -> str | None:
    return await _alembic(database, "stamp", revision, actor)


async def check(database: Database) -> list[str]:
    """Differences between the models and the database (empty when they
    agree). ``schema_check.database_problems`` adds the schema objects the
    migrations do not create."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    from store.models import managed_by_hand

    def include_object(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
        return not managed_by_hand(name, type_)

    def work(connection: Connection) -> list[str]:
        context = MigrationContext.configure(
            connection,
            opts={"include_object": include_object, "compare_type": True},
        )
        return [_describe_diff(diff) for diff in compare_metadata(context, SQLModel.metadata)]

    result: list[str] = await _run(database, work)
    return result


def _describe_diff(diff: Any) -> str:
    if isinstance(diff, list):
        return "; ".join(_describe_diff(item) for item in diff)
    kind, *rest = diff
    names = [getattr(item, "name", None) or str(item) for item in rest[:3]]
    return f"{kind} {' '.join(str(n) for n in names)}"


@dataclass
class RevisionInfo:
    revision: str
    down_revision: str | None
    message: str
    is_head: bool


def history() -> list[RevisionInfo]:
    from alembic.script import ScriptDirectory

    _ini, scripts = _locations()
    directory = ScriptDirectory(str(scripts))
    heads = set(directory.get_heads())
    revisions = []
    for script in directory.walk_revisions():
        down = script.down_revision
        revisions.append(
            RevisionInfo(
                revision=script.revision,
                down_revision=down if isinstance(down, str) or down is None else ",".join(down),
                message=script.doc or "",
                is_head=script.revision in heads,
            )
        )
    return revisions


def head_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    _ini, scripts = _locations()
    return list(ScriptDirectory(str(scripts)).get_heads())


async def ensure_schema(
    database: Database, *, auto_upgrade: bool, on_step: OnStep = ignore
) -> bool:
    """Make sure the schema is at head before the app or CLI uses it; True
    when it has just been created in an empty database.

    SQLite files are upgraded on the spot (a newcomer's first run just works);
    PostgreSQL is never migrated behind a team's back: the error says what to run.
    """
    revision = await current_revision(database)
    if revision == HEAD_REVISION:
        return False
    if auto_upgrade:
        from alembic.util.exc import CommandError

        on_step(
            Step(
                "Creating the database…"
                if revision is None
                else f"Upgrading the database from revision {revision} to {HEAD_REVISION}…"
            )
        )
        try:
            await upgrade(database)
        except CommandError as error:
            raise SchemaOutOfDate(
                f"cannot upgrade {database.masked_url} from revision {revision}: {error}; "
                "is this database from a newer projdeck?"
            ) from None
        return revision is None
    where = "empty" if revision is None else f"at revision {revision}"
    raise SchemaOutOfDate(
        f"the database {database.masked_url} is {where}, not at {HEAD_REVISION}; "
        f"run: projdeck --db-url '{database.masked_url}' db upgrade"
    )
