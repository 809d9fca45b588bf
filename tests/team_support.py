"""What the team tests share (issue #23): a team database of a test
module's own, set up by ``projdeck team init`` with a login role per
projdeck role (trust authentication on the test server: no password
needed), and ways to connect to it as one of them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import pytest
from sqlalchemy.engine import URL

from store import migrate
from store.config import normalize_url
from store.engine import Database, open_database
from store.services import modifications, projects, secrets
from store.services import team as team_service
from tests.conftest import postgres_server_url, run_blocking

SECRET_KEY = "w7IbUa4wb3Ju1mMzgCpZq1OZ6QnX3Vvv5S4pSKsxZ0E="


@dataclass(frozen=True)
class Team:
    """The module's team database: its owner's URL and a login role per
    projdeck role (unique names: roles are shared by the whole server)."""

    url: URL
    agent: str
    reviewer: str
    other_reviewer: str
    viewer: str
    admin: str

    def as_role(self, login: str) -> URL:
        return self.url.set(username=login, password=None)

    @property
    def logins(self) -> tuple[str, ...]:
        return (self.agent, self.reviewer, self.other_reviewer, self.viewer, self.admin)


def dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def execute(url: URL, *statements: str) -> None:
    connection = await asyncpg.connect(dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def team_database() -> Iterator[Team]:
    """A new database with the team set up, dropped afterwards with its login
    roles (skips the test without PROJDECK_TEST_POSTGRES_URL)."""
    server = postgres_server_url()
    if server is None:
        pytest.skip("PostgreSQL tests need PROJDECK_TEST_POSTGRES_URL")
    run = uuid.uuid4().hex[:8]
    admin_url = server.set(database="postgres")
    name = f"projdeck_team_{run}"
    run_blocking(execute(admin_url, f'CREATE DATABASE "{name}"'))
    url = normalize_url(server.set(database=name).render_as_string(hide_password=False))
    made = Team(
        url,
        agent=f"ci-agent-{run}",
        reviewer=f"rita-{run}",
        other_reviewer=f"sam-{run}",
        viewer=f"vera-{run}",
        admin=f"ada-{run}",
    )

    async def build() -> None:
        database = await open_database(url)
        try:
            await migrate.upgrade(database)
            await team_service.init_team(database)
            for login, role in zip(
                made.logins, ("agent", "reviewer", "reviewer", "viewer", "admin"), strict=True
            ):
                await team_service.add_member(database, login, role)
        finally:
            await database.dispose()

    try:
        run_blocking(build())
        yield made
    finally:
        run_blocking(execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        run_blocking(
            execute(admin_url, *(f'DROP ROLE IF EXISTS "{login}"' for login in made.logins))
        )


@contextlib.asynccontextmanager
async def connected(team: Team, login: str | None = None) -> AsyncIterator[Database]:
    """The team database opened as ``login`` (else as its owner)."""
    database = await open_database(team.as_role(login) if login else team.url)
    try:
        yield database
    finally:
        await database.dispose()


async def plain_sql(team: Team, login: str, statement: str) -> object:
    """``statement`` run as ``login`` by a client that is not projdeck."""
    connection = await asyncpg.connect(dsn(team.as_role(login)))
    try:
        return await connection.fetch(statement)
    finally:
        await connection.close()


async def project_with_proposal(team: Team, proposer: str) -> tuple[str, str]:
    """A new project (made by the admin) with a secret, and a modification
    ``proposer`` requested: the project's name and the modification's id."""
    name = f"billing-{uuid.uuid4().hex[:8]}"
    async with connected(team, team.admin) as db:
        await projects.create_project_with_settings(
            db,
            projects.ProjectCreate(
                name=name, type="api", owner_id="alice", codebase={"app.py": "print(1)\n"}
            ),
        )
        await secrets.set_secret(db, name, "API_KEY", "s3cret-value")
    async with connected(team, proposer) as db:
        proposed = await modifications.propose_modification(
            db,
            name,
            modifications.ModificationProposal(
                request="Print two", modified_files={"app.py": "print(2)\n"}
            ),
        )
    return name, str(proposed.id)


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    """The test module's team database (import this fixture to use it)."""
    with team_database() as made:
        yield made


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key the admin sealed the test secrets with (import it to use it)."""
    monkeypatch.setenv("PROJDECK_SECRET_KEY", SECRET_KEY)
