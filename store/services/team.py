"""A team on PostgreSQL: setting up the four projdeck roles (``team
init``), adding a person's or an agent's login role to one of them,
listing the members and removing one. Each is one transaction with its
audit row; a generated password is returned once and never stored or
audited. What the roles may do, and how the database holds every client
to it, is in ``store.team``."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store import team as team_setup
from store.engine import Database
from store.errors import NotFound, NotPermitted, ValidationError
from store.models import AuditCategory
from store.repositories.base import Page
from store.team import TEAM_VERSION
from store.team_member import TEAM_ROLES, TeamMember

# What ``team add --role`` takes: the roles without their prefix.
ROLE_NAMES = {role.removeprefix("projdeck_"): role for role in TEAM_ROLES}
# PostgreSQL's limit on a role's name; the characters a name may hold here
# (a person's or an agent's name, no quoting surprises).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,62}")


@dataclass(frozen=True)
class Member:
    """A login role of the team and its projdeck role."""

    name: str
    role: str
    can_login: bool

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "can_login": self.can_login}


@dataclass(frozen=True)
class Added:
    """A member added: the password made for a new login role (None when
    the role existed or was given its password), shown once, kept nowhere."""

    member: Member
    created: bool
    password: str | None


@dataclass(frozen=True)
class TeamStatus:
    """Whether ``team init`` has been run on this database, at which
    version, and who it is open as."""

    login: str
    role: str | None
    version: int | None

    @property
    def current(self) -> bool:
        return self.version == TEAM_VERSION


@dataclass(frozen=True)
class Permission:
    """A write and the level of projdeck role it needs on a team database
    ("view", "propose", "review", "admin"), in the words its refusal uses."""

    level: str
    what: str


# The writes the app and the services check up front, each in one place so
# that the app's greyed key and the store's refusal say the same words.
PROPOSE = Permission("propose", "propose modifications")
RECORD_TESTS = Permission("propose", "record test results")
APPROVE = Permission("review", "approve modifications")
REJECT = Permission("review", "reject modifications")
APPLY = Permission("review", "apply modifications")
REOPEN = Permission("review", "reopen modifications")
REVERT = Permission("review", "revert modifications")
DECIDE_HUNKS = Permission("review", "decide on hunks")
COMMENT = Permission("review", "comment on modifications")
CHANGE_PROJECTS = Permission("review", "change projects")
RECORD_DEPLOYMENTS = Permission("review", "record deployments")
PURGE_PROJECTS = Permission("admin", "purge projects")
CHANGE_SETTINGS = Permission("review", "change project settings")
CHANGE_TEMPLATES = Permission("review", "change templates")
REMOVE_TEMPLATES = Permission("admin", "remove templates")
REVEAL_SECRETS = Permission("review", "reveal secret values")
CHANGE_SECRETS = Permission("admin", "change secrets")


def member_of(db: Database) -> TeamMember | None:
    """Who a team database is open as (None: SQLite, or PostgreSQL without
    team init: anyone who can open it may do everything)."""
    return db.team


def refusal(db: Database, permission: Permission) -> str | None:
    """Why the connected role may not do ``permission`` here, in the
    store's words (None: it may)."""
    if db.team is None or db.team.may(permission.level):
        return None
    return f"{db.team.describe()} may not {permission.what}"


def require(db: Database, permission: Permission) -> None:
    """A NotPermitted with ``refusal``'s words unless the role may."""
    refused = refusal(db, permission)
    if refused is not None:
        raise NotPermitted(refused)


def _require_postgres(db: Database) -> None:
    if db.backend != "postgresql":
        raise ValidationError(
            "database",
            "teams need PostgreSQL: on SQLite the file's owner is the only user "
            "(PROJDECK_ACTOR names them); move the workspace with projdeck transfer",
        )


def _require_team(db: Database) -> TeamMember:
    _require_postgres(db)
    if db.team is None:
        raise ValidationError(
            "database", "no team here yet: the database's owner runs projdeck team init first"
        )
    return db.team


def role_name(value: str) -> str:
    """``admin``, ``reviewer``, ``agent`` or ``viewer`` (or the full name
    ``projdeck_agent``) as the PostgreSQL role."""
    key = value.strip().lower().removeprefix("projdeck_")
    if key not in ROLE_NAMES:
        raise ValidationError("role", f"must be one of {', '.join(ROLE_NAMES)}, not {value!r}")
    return ROLE_NAMES[key]


def member_name(value: str) -> str:
    """A login role's name: letters, digits, ``_``, ``.`` and ``-``, at most
    63 characters, not one of projdeck's roles nor PostgreSQL's own (pg_)."""
    name = value.strip()
    if not _NAME.fullmatch(name):
        raise ValidationError(
            "name",
            f"{name!r} is not a role name: letters, digits, _ . - (at most 63), "
            "starting with a letter or _",
        )
    if name in TEAM_ROLES or name.lower().startswith("pg_"):
        raise ValidationError("name", f"{name!r} is reserved; choose another name")
    return name


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _run(session: AsyncSession, statement: str) -> None:
    connection = await session.connection()
    await connection.exec_driver_sql(statement)


async def _login(session: AsyncSession) -> str:
    return str((await session.execute(text("SELECT session_user::text"))).scalar_one())


async def init_team(db: Database) -> TeamStatus:
    """Create the projdeck roles and apply their privileges and triggers
    (again, when run before: a database upgraded since gets its new tables'
    grants); run by the database's owner."""
    _require_postgres(db)
    if db.team is not None and db.team.role is not None:
        raise NotPermitted(f"{db.team.describe()} may not run team init: the database's owner does")
    async with db.transaction() as session:
        applied = await team_setup.apply(session)
    login = applied.login
    db.team = TeamMember(login, None)
    from store import config

    config.use_database_actor(login)
    return TeamStatus(login, None, TEAM_VERSION)


async def team_status(db: Database) -> TeamStatus:
    """Who the database is open as and whether (and at which version) team
    init has been run (``doctor``)."""
    _require_postgres(db)
    async with db.reading() as session:
        login = await _login(session)
        version = await team_setup.installed_version(session)
    return TeamStatus(login, db.team.role if db.team is not None else None, version)


def _require_admin(db: Database, what: str) -> None:
    member = _require_team(db)
    member.require("admin", what)


_MEMBERS = f"""
    SELECT u.rolname::text, g.rolname::text, u.rolcanlogin FROM pg_roles u
    JOIN pg_auth_members m ON m.member = u.oid
    JOIN pg_roles g ON g.oid = m.roleid
    WHERE g.rolname IN ({", ".join(f"'{role}'" for role in TEAM_ROLES)})"""  # noqa: S608


async def _members(session: AsyncSession, name: str | None = None) -> list[Member]:
    query = _MEMBERS + (" AND u.rolname = :name" if name is not None else "")
    rows = await session.execute(text(query + " ORDER BY 1, 2"), {"name": name})
    return [Member(str(row[0]), str(row[1]), bool(row[2])) for row in rows]


async def _record_member(
    session: AsyncSession, event_type: str, description: str, details: dict[str, Any]
) -> None:
    """The audit row of a change to the team's members (never a password)."""
    await audit.record(
        session,
        actor=await _login(session),
        event_type=event_type,
        description=description,
        entity_type="team member",
        entity_id=details["name"],
        category=AuditCategory.SECURITY,
        details=details,
    )


async def add_member(db: Database, name: str, role: str, *, password: str | None = None) -> Added:
    """Make ``name`` a member of projdeck role ``role`` (and of no other):
    a new login role, with ``password`` or a generated one (returned once),
    or a role that already exists (its password unchanged)."""
    _require_admin(db, "add team members")
    name = member_name(name)
    role = role_name(role)
    if password is not None and not password.strip():
        raise ValidationError("password", "must not be empty")
    async with db.transaction() as session:
        exists = (
            await session.execute(
                text("SELECT rolsuper FROM pg_roles WHERE rolname = :name"), {"name": name}
            )
        ).first()
        if exists is not None and exists[0]:
            raise ValidationError(
                "name", f"{name!r} is a superuser: projdeck's roles bind it to nothing"
            )
        made: str | None = None
        if exists is None:
            made = password if password is not None else secrets.token_urlsafe(24)
            literal = "'" + made.replace("'", "''") + "'"
            await _run(session, f"CREATE ROLE {_quoted(name)} LOGIN PASSWORD {literal}")
        before = await _members(session, name)
        for other in TEAM_ROLES:
            if other != role:
                await _run(session, f"REVOKE {other} FROM {_quoted(name)}")
        await _run(session, f"GRANT {role} TO {_quoted(name)}")
        await _record_member(
            session,
            "team.member_added",
            f"made role {name!r} a member of {role}"
            + (" (a new login role)" if exists is None else ""),
            {
                "name": name,
                "role": role,
                "created": exists is None,
                "previous_roles": [member.role for member in before],
            },
        )
    return Added(
        Member(name, role, True if exists is None else await _can_login(db, name)),
        created=exists is None,
        password=made if password is None else None,
    )


async def _can_login(db: Database, name: str) -> bool:
    async with db.reading() as session:
        found = (
            await session.execute(
                text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :name"), {"name": name}
            )
        ).scalar()
    return bool(found)


async def list_members(db: Database, *, limit: int = 50, offset: int = 0) -> Page[Member]:
    """The team's members, by name, each with its projdeck role."""
    _require_team(db)
    async with db.reading() as session:
        members = await _members(session)
    return Page(
        items=members[offset : offset + limit], total=len(members), offset=offset, limit=limit
    )


async def remove_member(db: Database, name: str, *, drop: bool = False) -> Member:
    """Take ``name`` out of the team (its projdeck role revoked); with
    ``drop`` its login role is dropped too (refused while it owns
    anything)."""
    _require_admin(db, "remove team members")
    name = member_name(name)
    async with db.transaction() as session:
        found = await _members(session, name)
        if not found:
            raise NotFound(f"{name!r} is not a member of the team (projdeck team list)")
        for member in found:
            await _run(session, f"REVOKE {member.role} FROM {_quoted(name)}")
        if drop:
            await _run(session, f"DROP ROLE {_quoted(name)}")
        await _record_member(
            session,
            "team.member_removed",
            f"removed role {name!r} from the team" + (" and dropped it" if drop else ""),
            {"name": name, "roles": [member.role for member in found], "dropped": drop},
        )
    return found[0]
