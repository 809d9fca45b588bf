"""A team on PostgreSQL (issue #23): the database holds every client to the
projdeck roles. Each test connects as a login role of one of them (trust
authentication on the test server: no password needed) to a database of
this module's own, set up by ``projdeck team init``, and checks what the
role may and may not do, through projdeck's services and with plain SQL."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from store.errors import NotPermitted
from store.services import agents, modifications, projects, review, secret_keys, secrets
from store.services import team as team_service
from store.services.agent_input import MessageInput
from tests import team_support
from tests.cli import Projdeck
from tests.conftest import run_blocking
from tests.store_support import audit_rows
from tests.team_support import Team, connected, execute, plain_sql, project_with_proposal

pytestmark = pytest.mark.postgres

# The fixtures: this module's team database, and the key its secrets are sealed with.
team = team_support.team
secret_key = team_support.secret_key


async def test_an_agent_proposes_but_may_not_approve_apply_reveal_or_change_a_project(
    team: Team,
) -> None:
    name, ref = await project_with_proposal(team, team.agent)
    who = re.escape(f"role {team.agent!r} (projdeck_agent)")
    async with connected(team, team.agent) as db:
        assert db.team is not None and db.team.role == "projdeck_agent"
        with pytest.raises(NotPermitted, match=rf"^{who} may not approve modifications$"):
            await modifications.approve_modification(db, ref)
        with pytest.raises(NotPermitted, match=rf"^{who} may not apply modifications$"):
            await modifications.apply_modification(db, ref)
        with pytest.raises(NotPermitted, match=rf"^{who} may not reveal secret values$"):
            await secrets.reveal_secret(db, name, "API_KEY")
        with pytest.raises(NotPermitted, match=rf"^{who} may not change projects"):
            await projects.update_project(db, name, {"owner_id": "mallory"})
        # What it may do: record its work, read the project and its secrets' names.
        conversation = await agents.start_conversation(db, name, title="Print two")
        await agents.add_message(db, str(conversation.id), MessageInput("assistant", "Done."))
        run = await agents.start_run(db, name, agent="codex", task="Print two")
        await agents.finish_run(
            db, str(run.id), status="succeeded", test_results={"passed": 2, "failed": 0}
        )
        await modifications.attach_test_results(db, ref, {"passed": 2, "failed": 0})
        assert (await projects.get_project(db, name)).owner_id == "alice"
        names = await secrets.list_secret_page(db, name)
        assert [secret.key_name for secret in names.items] == ["API_KEY"]
    # Nor behind projdeck's back.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await plain_sql(team, team.agent, "UPDATE modifications SET status = 'approved'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await plain_sql(team, team.agent, "UPDATE projects SET owner_id = 'mallory'")
    async with connected(team) as db:
        assert (await projects.get_project(db, name)).owner_id == "alice"


async def test_deployments_and_a_new_key_file_are_refused_up_front_in_words(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the database would refuse anyway is refused before anything is
    done, naming the role and the write: recording a deployment (reviewers
    and admins), starting a new key file (admins), which leaves no file."""
    name, _ref = await project_with_proposal(team, team.agent)
    monkeypatch.delenv("PROJDECK_SECRET_KEY", raising=False)
    key_file = tmp_path / "keys.json"
    monkeypatch.setenv("PROJDECK_KEY_FILE", str(key_file))
    for login, role in ((team.agent, "projdeck_agent"), (team.viewer, "projdeck_viewer")):
        who = re.escape(f"role {login!r} ({role})")
        async with connected(team, login) as db:
            with pytest.raises(NotPermitted, match=rf"^{who} may not record deployments$"):
                await projects.record_deployment(db, name, environment="production")
            with pytest.raises(NotPermitted, match=rf"^{who} may not change secrets$"):
                await secret_keys.start_key_file(db)
    assert not key_file.exists()
    async with connected(team, team.reviewer) as db:
        with pytest.raises(NotPermitted, match=r"may not change secrets$"):
            await secret_keys.start_key_file(db)
        deployed = await projects.record_deployment(db, name, environment="production")
        rows = await audit_rows(db, deployed.id)
    assert deployed.last_deployed_at is not None
    assert [row.actor for row in rows if row.event_type == "deployment.succeeded"] == [
        team.reviewer
    ]
    assert not key_file.exists()


async def test_the_audit_log_is_append_only_for_every_role_and_its_owner(team: Team) -> None:
    await project_with_proposal(team, team.agent)
    for login in (team.agent, team.admin):
        for statement in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await plain_sql(team, login, statement)
    # The owner has every privilege, and the triggers refuse it all the same.
    owner = team.url.username or "postgres"
    for statement, verb in (
        ("UPDATE audit_log SET actor = 'nobody'", "update rows of"),
        ("DELETE FROM audit_log", "delete rows of"),
        ("TRUNCATE audit_log", "truncate"),
    ):
        with pytest.raises(asyncpg.PostgresError, match=f"may not {verb} the audit log"):
            await plain_sql(team, owner, statement)
    # Through projdeck, the refusal is in words, not a driver's.
    async with connected(team, team.agent) as db:
        with pytest.raises(
            NotPermitted,
            match=rf"^role {team.agent!r} \(projdeck_agent\) may not change the audit log",
        ):
            async with db.transaction() as session:
                await session.execute(text("DELETE FROM audit_log"))
    async with connected(team) as db:
        assert all(row.actor != "nobody" for row in await audit_rows(db))


async def test_a_reviewer_may_not_approve_their_own_proposal_but_another_may(team: Team) -> None:
    _name, ref = await project_with_proposal(team, team.reviewer)
    async with connected(team, team.reviewer) as db:
        with pytest.raises(
            NotPermitted,
            match=rf"^role {team.reviewer!r} \(projdeck_reviewer\) may not approve modification "
            f"{ref[:8]}, which it requested",
        ):
            await modifications.approve_modification(db, ref, allow_self_approval=True)
    # The database refuses it to any client.
    with pytest.raises(asyncpg.PostgresError, match="which it requested"):
        await plain_sql(
            team,
            team.reviewer,
            f"UPDATE modifications SET status = 'approved', reviewed_by = '{team.reviewer}' "
            f"WHERE id = '{ref}'",
        )
    async with connected(team, team.other_reviewer) as db:
        approved = await modifications.approve_modification(db, ref)
    assert approved.reviewed_by == team.other_reviewer
    assert approved.requested_by == team.reviewer


async def test_a_viewer_cannot_read_the_sealed_values_of_secrets_with_plain_sql(
    team: Team,
) -> None:
    name, _ref = await project_with_proposal(team, team.agent)
    for column in ("ciphertext", "nonce", "*"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await plain_sql(team, team.viewer, f"SELECT {column} FROM project_secrets")
    rows = await plain_sql(team, team.viewer, "SELECT key_name, key_id FROM project_secrets")
    assert isinstance(rows, list) and rows
    # Reviewers and admins read them (to reveal a secret).
    assert await plain_sql(team, team.reviewer, "SELECT ciphertext FROM project_secrets")
    async with connected(team, team.reviewer) as db:
        value = await secrets.reveal_secret(db, name, "API_KEY")
    assert value.reveal() == "s3cret-value"


async def test_the_recorded_actor_is_the_connected_role_whatever_projdeck_actor_says(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROJDECK_ACTOR", "someone-else")
    _name, ref = await project_with_proposal(team, team.agent)
    async with connected(team) as db:
        rows = [row for row in await audit_rows(db) if row.entity_id == ref]
        shown = await review.get_modification(db, ref)
    assert [row.actor for row in rows] == [team.agent]
    assert shown.modification.requested_by == team.agent
    async with connected(team, team.agent) as db:
        # An explicit other name is refused by the database, in words.
        with pytest.raises(
            NotPermitted,
            match=rf"^role {team.agent!r} \(projdeck_agent\) may not write an audit row as "
            "'someone-else'",
        ):
            await modifications.attach_test_results(db, ref, {"passed": 1}, actor="someone-else")
    with pytest.raises(asyncpg.PostgresError, match="may not write an audit row as 'mallory'"):
        await plain_sql(
            team,
            team.agent,
            "INSERT INTO audit_log (at, actor, event_type, category, severity, description, "
            "metadata) VALUES (now(), 'mallory', 'x', 'general', 'info', '', '{}')",
        )


def test_the_cli_records_the_role_and_refuses_in_words(team: Team, tmp_path: Path) -> None:
    name, _ref = run_blocking(project_with_proposal(team, team.reviewer))
    agent = Projdeck(team.as_role(team.agent), PROJDECK_ACTOR="mallory")
    (tmp_path / "b.py").write_text("print('b')\n")
    ref = agent.ok(
        "mod", "propose", name, "--request", "More", "--file", f"b.py={tmp_path / 'b.py'}"
    ).strip()
    shown = agent.json("mod", "show", ref)
    assert shown["requested_by"] == team.agent
    events = agent.json("audit", "list", "--limit", "500")["items"]
    assert {event["actor"] for event in events if event["entity_id"] == ref} == {team.agent}
    refused = agent.fails("mod", "approve", ref)
    assert refused.strip() == (
        f"error: role {team.agent!r} (projdeck_agent) may not approve modifications"
    )
    assert "Traceback" not in refused
    doctor = agent.run("doctor")
    assert f"ok   role: connected as {team.agent!r}: projdeck_agent" in doctor.stdout
    assert "ok   team: team init run, current (version 1)" in doctor.stdout


def test_team_members_are_added_listed_and_removed_by_the_cli_with_audit_rows(
    team: Team,
) -> None:
    owner = Projdeck(team.url)
    newcomer = f"nina-{uuid.uuid4().hex[:8]}"
    try:
        out = owner.ok("team", "add", newcomer, "--role", "viewer")
        assert f"created login role {newcomer} is now a member of projdeck_viewer" in out
        password = out.strip().splitlines()[-1].rsplit(": ", 1)[-1]
        assert len(password) >= 24
        listed = owner.json("team", "list")
        assert set(listed) == {"items", "total", "limit", "offset"}
        assert {"name": newcomer, "role": "projdeck_viewer", "can_login": True} in listed["items"]
        second = owner.json("team", "list", "--limit", "1", "--offset", "1")
        assert (second["total"], second["limit"], second["offset"]) == (listed["total"], 1, 1)
        assert second["items"] == listed["items"][1:2]
        # A new role for an existing login: no password made.
        moved = owner.ok("team", "add", newcomer, "--role", "agent")
        assert moved.strip() == f"role {newcomer} is now a member of projdeck_agent"
        assert owner.ok("team", "remove", newcomer).strip() == (
            f"{newcomer} is no longer a member of projdeck_agent"
        )
        events = owner.json("audit", "list", "--limit", "500")["items"]
        mine = [event for event in events if event["entity_id"] == newcomer]
        assert [event["event_type"] for event in mine] == [
            "team.member_removed",
            "team.member_added",
            "team.member_added",
        ]
        assert all(password not in str(event) for event in events)
        # Only an admin adds members.
        agent = Projdeck(team.as_role(team.agent))
        assert agent.fails("team", "add", "eve", "--role", "admin").strip() == (
            f"error: role {team.agent!r} (projdeck_agent) may not add team members"
        )
    finally:
        run_blocking(execute(team.url, f'DROP ROLE IF EXISTS "{newcomer}"'))


async def test_team_init_is_refused_to_members_and_runs_again_for_the_owner(team: Team) -> None:
    async with connected(team, team.admin) as db:
        with pytest.raises(NotPermitted, match="may not run team init"):
            await team_service.init_team(db)
    async with connected(team) as db:
        again = await team_service.init_team(db)
        assert again.current
        status = await team_service.team_status(db)
    assert status.version == again.version


async def test_only_an_admin_purges_a_project_and_its_audit_rows_stay(team: Team) -> None:
    name, ref = await project_with_proposal(team, team.agent)
    async with connected(team, team.reviewer) as db:
        with pytest.raises(
            NotPermitted,
            match=re.escape(f"role {team.reviewer!r} (projdeck_reviewer) may not purge projects"),
        ):
            await projects.purge_project(db, name)
    async with connected(team, team.admin) as db:
        project_id = await projects.purge_project(db, name)
        rows = await audit_rows(db, project_id)
    assert {row.event_type for row in rows} >= {
        "project.created",
        "modification.proposed",
        "project.purged",
    }
    assert ref in {row.entity_id for row in rows}
