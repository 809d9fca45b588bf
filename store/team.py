"""A team on PostgreSQL: the four projdeck roles, what each may do, and the
triggers that hold every client to it (``projdeck team init`` applies
``statements()``; ``doctor`` compares the version it stored with
``TEAM_VERSION``).

Enforced by the database itself, so a client that is not projdeck meets
the same rules:

- privileges (GRANTs, column privileges on the secrets' sealed values),
  re-applied whole each time, with default privileges so that a table a
  later revision adds (created by the owner) is readable and the admin's;
- the audit log is append-only for everyone, its owner included: no
  UPDATE, DELETE or TRUNCATE (nothing projdeck does changes an audit row;
  purging a project leaves its rows, which have no foreign key to it);
- the actor of an audit row, a modification's requester and the reviewer
  of its verdict are the connected role (``session_user``) for every member
  of a projdeck role;
- only reviewers and admins move a modification past pending, and nobody
  approves a modification they requested.

Refusals are raised with SQLSTATE ``REFUSED_SQLSTATE`` and a message in
words ("role 'ci-agent' (projdeck_agent) may not approve modifications"),
which ``store.engine.translate`` passes on as a ``NotPermitted``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.models import AuditCategory
from store.team_member import REFUSED_SQLSTATE, TEAM_ROLES, TEAM_SCHEMA

# Goes up by one each time ``statements()`` changes what it grants or
# enforces; ``doctor`` says "out of date" until ``team init`` is run again.
TEAM_VERSION = 1

VIEWER, AGENT, REVIEWER, ADMIN = TEAM_ROLES

ROLE_SUMMARIES = {
    ADMIN: "everything, including secrets and purge",
    REVIEWER: "approve, reject, apply, revert; edit projects and settings; reveal secrets",
    AGENT: "propose modifications; record conversations, messages, runs, test results and "
    "webhook deliveries; read projects, settings and secret names",
    VIEWER: "read everything but secret values",
}

# The columns of project_secrets every role may read: all but the sealed
# value (nonce and ciphertext).
SECRET_NAME_COLUMNS = ("id", "project_id", "key_name", "key_id", "created_at", "updated_at")

_ALL = ", ".join(TEAM_ROLES)
_WRITERS = ", ".join((AGENT, REVIEWER, ADMIN))
_REVIEWERS = ", ".join((REVIEWER, ADMIN))
_S = TEAM_SCHEMA


def _create_roles() -> str:
    creates = "\n".join(
        f"    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN\n"  # noqa: S608
        f"        CREATE ROLE {role} NOLOGIN;\n"
        "    END IF;"
        for role in TEAM_ROLES
    )
    return f"DO $$\nBEGIN\n{creates}\nEND\n$$"


_ROLE_OF = f"""
CREATE OR REPLACE FUNCTION {_S}.role_of(who name) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT g.rolname::text FROM pg_roles u
    JOIN pg_roles g ON g.rolname = ANY (ARRAY['{ADMIN}', '{REVIEWER}', '{AGENT}', '{VIEWER}'])
    WHERE u.rolname = who AND NOT u.rolsuper AND pg_has_role(u.oid, g.oid, 'USAGE')
    ORDER BY array_position(ARRAY['{ADMIN}', '{REVIEWER}', '{AGENT}', '{VIEWER}'], g.rolname::text)
    LIMIT 1
$$"""  # noqa: S608 (the module's own constants, as every statement here)


def _plpgsql(signature: str, body: str, declare: str = "") -> str:
    """A PL/pgSQL function of the team's schema (made again on each run)."""
    declared = f"DECLARE\n{declare}\n" if declare else ""
    return (
        f"CREATE OR REPLACE FUNCTION {_S}.{signature} LANGUAGE plpgsql AS $$\n"
        f"{declared}BEGIN\n{body}\nEND\n$$"
    )


_ROLE = f"    role text := {_S}.role_of(session_user);"

_REFUSE = _plpgsql(
    "refuse(what text) RETURNS void",
    f"""    RAISE EXCEPTION USING
        ERRCODE = '{REFUSED_SQLSTATE}',
        MESSAGE = format('role %L (%s) may not %s', session_user::text,
                         coalesce(role, 'not a member of a projdeck role'), what);""",
    declare=_ROLE,
)

_AUDIT_APPEND_ONLY = _plpgsql(
    "audit_append_only() RETURNS trigger",
    f"""    PERFORM {_S}.refuse(CASE TG_OP WHEN 'TRUNCATE' THEN 'truncate the audit log'
        ELSE lower(TG_OP) || ' rows of the audit log' END || ': it is append-only');
    RETURN NULL;""",
)

_AUDIT_ACTOR = _plpgsql(
    "audit_actor() RETURNS trigger",
    f"""    IF {_S}.role_of(session_user) IS NOT NULL AND NEW.actor IS DISTINCT FROM session_user::text
    THEN
        PERFORM {_S}.refuse(format(
            'write an audit row as %L: on a team database the actor is the connected role',
            NEW.actor));
    END IF;
    RETURN NEW;""",
)

_MODIFICATION_RULES = _plpgsql(
    "modification_rules() RETURNS trigger",
    f"""    IF TG_OP = 'INSERT' THEN
        IF role IS NOT NULL AND NEW.requested_by IS DISTINCT FROM session_user::text THEN
            PERFORM {_S}.refuse(format(
                'propose a modification requested by %L: on a team database the requester '
                'is the connected role', NEW.requested_by));
        END IF;
        IF NEW.status <> 'pending' AND NOT reviewing THEN
            PERFORM {_S}.refuse('add a modification that is not pending');
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT reviewing THEN
            PERFORM {_S}.refuse(CASE NEW.status
                WHEN 'approved' THEN 'approve modifications'
                WHEN 'rejected' THEN 'reject modifications'
                WHEN 'applied' THEN 'apply modifications'
                ELSE 'change the status of modifications' END);
        END IF;
        IF OLD.status = 'pending' AND NEW.status = 'approved'
           AND OLD.requested_by = session_user::text THEN
            PERFORM {_S}.refuse(format(
                'approve modification %s, which it requested: another member of the team '
                'approves it', left(OLD.id::text, 8)));
        END IF;
        IF OLD.status = 'pending' AND role IS NOT NULL
           AND NEW.reviewed_by IS DISTINCT FROM session_user::text THEN
            PERFORM {_S}.refuse(format(
                'record a verdict as %L: on a team database the reviewer is the connected role',
                NEW.reviewed_by));
        END IF;
    END IF;
    RETURN NEW;""",
    declare=f"""{_ROLE}
    reviewing boolean := role IS NULL OR role IN ('{REVIEWER}', '{ADMIN}');""",
)

# Trigger name, table, when, function.
TRIGGERS = (
    (
        "projdeck_team_audit_append_only",
        "audit_log",
        "BEFORE UPDATE OR DELETE",
        "FOR EACH ROW",
        "audit_append_only",
    ),
    (
        "projdeck_team_audit_no_truncate",
        "audit_log",
        "BEFORE TRUNCATE",
        "FOR EACH STATEMENT",
        "audit_append_only",
    ),
    ("projdeck_team_audit_actor", "audit_log", "BEFORE INSERT", "FOR EACH ROW", "audit_actor"),
    (
        "projdeck_team_modification_rules",
        "modifications",
        "BEFORE INSERT OR UPDATE",
        "FOR EACH ROW",
        "modification_rules",
    ),
)
TRIGGER_NAMES = frozenset(trigger[0] for trigger in TRIGGERS)


def _triggers() -> list[str]:
    statements = []
    for name, table, when, each, function in TRIGGERS:
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        statements.append(
            f"CREATE TRIGGER {name} {when} ON {table} {each} EXECUTE FUNCTION {_S}.{function}()"
        )
    return statements


def _grants() -> list[str]:
    secret_names = ", ".join(SECRET_NAME_COLUMNS)
    return [
        # Start from nothing, so a privilege a previous version granted and
        # this one does not is gone.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, {_ALL}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, {_ALL}",
        f"GRANT USAGE ON SCHEMA public, {_S} TO {_ALL}",
        f"GRANT SELECT ON {_S}.setup TO PUBLIC",
        # Everyone reads everything, but the secrets' sealed values.
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {_ALL}",
        f"REVOKE SELECT ON project_secrets FROM {VIEWER}, {AGENT}",  # noqa: S608
        f"GRANT SELECT ({secret_names}) ON project_secrets TO {VIEWER}, {AGENT}",
        # Agents record what they do, and propose.
        f"GRANT INSERT ON modifications, conversations, messages, agent_runs, "
        f"webhook_deliveries, audit_log TO {_WRITERS}",
        f"GRANT UPDATE ON conversations, messages, agent_runs, webhook_deliveries TO {_WRITERS}",
        f"GRANT UPDATE (test_results, local_test_results) ON modifications TO {AGENT}",
        # Their activity moves a project's last activity forward, nothing else.
        f"GRANT UPDATE (last_active_at) ON projects TO {AGENT}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {_WRITERS}",
        # Reviewers decide, apply, and edit projects and settings.
        f"GRANT UPDATE ON modifications TO {_REVIEWERS}",
        f"GRANT INSERT, UPDATE ON projects, project_settings, templates TO {_REVIEWERS}",
        f"GRANT INSERT, UPDATE, DELETE ON hunk_decisions, review_comments, repository_links "
        f"TO {_REVIEWERS}",
        # Admins do everything (secrets, purge), but change the audit log.
        f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {ADMIN}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC, {_ALL}",
        # Tables a later revision adds (the owner creates them) are read by
        # everyone and the admin's; team init run again grants the rest.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {_ALL}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO {ADMIN}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {_WRITERS}",
    ]


def statements() -> list[str]:
    """The whole setup, each statement on its own, safe to run again: the
    roles (made only if missing), the schema holding its functions and its
    version, the triggers and every privilege."""
    return [
        _create_roles(),
        f"CREATE SCHEMA IF NOT EXISTS {_S}",
        f"CREATE TABLE IF NOT EXISTS {_S}.setup (version integer NOT NULL, "
        "applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL "
        "DEFAULT session_user)",
        _ROLE_OF,
        _REFUSE,
        _AUDIT_APPEND_ONLY,
        _AUDIT_ACTOR,
        _MODIFICATION_RULES,
        *_triggers(),
        *_grants(),
        f"DELETE FROM {_S}.setup",  # noqa: S608
        f"INSERT INTO {_S}.setup (version) VALUES ({TEAM_VERSION})",  # noqa: S608
    ]


@dataclass(frozen=True)
class Applied:
    """The setup applied by ``login``: the version it was at before (None:
    the first time) and the one it is at now."""

    login: str
    before: int | None
    version: int = TEAM_VERSION


async def installed_version(session: AsyncSession) -> int | None:
    """The version ``team init`` last applied here (None: never)."""
    exists = (
        await session.execute(text(f"SELECT to_regclass('{_S}.setup') IS NOT NULL"))
    ).scalar_one()
    if not exists:
        return None
    query = text(f"SELECT max(version) FROM {_S}.setup")  # noqa: S608 (a constant)
    found = (await session.execute(query)).scalar()
    return None if found is None else int(found)


async def apply(session: AsyncSession, *, why: str = "team init") -> Applied:
    """Every statement of the setup run in ``session`` (the owner's), with
    its audit row; ``why`` names what ran it (team init, db upgrade)."""
    login = str((await session.execute(text("SELECT session_user::text"))).scalar_one())
    before = await installed_version(session)
    connection = await session.connection()
    for statement in statements():
        await connection.exec_driver_sql(statement)
    await audit.record(
        session,
        actor=login,
        event_type="team.initialized",
        description=(
            f"set up the team roles (version {TEAM_VERSION})"
            if before is None
            else f"applied the team roles again (version {before} -> {TEAM_VERSION}) by {why}"
        ),
        category=AuditCategory.SECURITY,
        details={"version": TEAM_VERSION, "previous_version": before, "by": why},
    )
    return Applied(login, before)
