"""Who a team database (PostgreSQL after ``projdeck team init``) is open
as: the four projdeck roles from the least they may do to the most, the
connected role and its projdeck role (``TeamMember``), found when a
Database opens (``join_team``). ``store.team`` holds the setup that makes
the roles and the triggers; ``store.engine`` turns their refusals into
``NotPermitted``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from store.errors import NotPermitted

# A team database's roles, from the least they may do to the most
# (store.team creates them; each may do what those before it may).
TEAM_ROLES = ("projdeck_viewer", "projdeck_agent", "projdeck_reviewer", "projdeck_admin")
# What each role is for, in the words of ``TeamMember.require``.
TEAM_LEVELS = {"view": 0, "propose": 1, "review": 2, "admin": 3}
# The SQLSTATE of the team triggers' refusals (store.team), whose message is
# the refusal in words; 42501 is PostgreSQL's own (a privilege not granted).
REFUSED_SQLSTATE = "PDT01"
PRIVILEGE_SQLSTATE = "42501"

# Whether ``projdeck team init`` has been run (store.team makes the schema),
# and the connected role's projdeck role.
TEAM_SCHEMA = "projdeck_team"
_TEAM_SETUP = f"SELECT session_user::text, to_regclass('{TEAM_SCHEMA}.setup') IS NOT NULL"
_TEAM_ROLE = f"SELECT {TEAM_SCHEMA}.role_of(session_user)"


@dataclass(frozen=True)
class TeamMember:
    """Who a team database is open as: the connected role (``session_user``)
    and its projdeck role (None: not a member of one, as the database's
    owner)."""

    login: str
    role: str | None

    def describe(self) -> str:
        if self.role is None:
            return f"role {self.login!r} (not a member of a projdeck role)"
        return f"role {self.login!r} ({self.role})"

    def may(self, level: str) -> bool:
        if self.role is None:
            return True
        return TEAM_ROLES.index(self.role) >= TEAM_LEVELS[level]

    def require(self, level: str, what: str) -> None:
        """A NotPermitted saying so unless the role may act at ``level``
        ("view", "propose", "review", "admin"): the database refuses it
        too, and this says it in words before anything is sent."""
        if not self.may(level):
            raise NotPermitted(f"{self.describe()} may not {what}")


async def join_team(connection: AsyncConnection) -> TeamMember | None:
    """On a team database, who it is open as, and the connected role made
    the actor of every write (the database refuses any other name); None
    on a database without the team setup."""
    from store import config

    found: Any = (await connection.exec_driver_sql(_TEAM_SETUP)).one()
    login, team = found[0], found[1]
    if team:
        role = (await connection.exec_driver_sql(_TEAM_ROLE)).scalar_one()
    await connection.rollback()
    if not team:
        return None
    member = TeamMember(str(login), None if role is None else str(role))
    config.use_database_actor(member.login)
    return member
