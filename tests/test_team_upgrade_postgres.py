"""A team database kept whole (issue #23): ``db upgrade`` by the owner
applies the team setup again, a change proposed from git is requested by
the connected role, restore and transfer into a team database are refused
before anything is touched, and the writes a role may not do are refused in
words up front."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import asyncpg
import pytest

from store import migrate
from store.engine import open_database
from store.errors import NotPermitted, ValidationError
from store.services import git as git_service
from store.services import modifications, projects, secrets, templates, workspace
from tests import team_support
from tests.cli import Projdeck
from tests.conftest import run_blocking
from tests.store_support import audit_rows
from tests.team_support import Team, connected, execute, plain_sql, project_with_proposal

pytestmark = pytest.mark.postgres

# The fixtures: this module's team database, and the key its secrets are sealed with.
team = team_support.team
secret_key = team_support.secret_key


def test_db_upgrade_by_the_owner_gives_back_a_revoked_privilege(team: Team) -> None:
    owner = Projdeck(team.url)
    project = f"upgrade-{uuid.uuid4().hex[:8]}"
    owner.ok("project", "create", "--name", project, "--type", "api", "--owner", "alice")
    agent = Projdeck(team.as_role(team.agent))
    proposal = ("mod", "propose", project, "--request", "More", "--file")
    run_blocking(execute(team.url, "REVOKE INSERT ON modifications FROM projdeck_agent"))
    refused = agent.fails(*proposal, f"a.txt={__file__}")
    assert f"role {team.agent!r} (projdeck_agent) may not" in refused

    out = owner.ok("db", "upgrade")
    assert out.splitlines()[-1] == "team roles applied again (version 1)"
    assert agent.ok(*proposal, f"a.txt={__file__}").strip()
    events = owner.json("audit", "list", "--limit", "500")["items"]
    assert any(
        event["event_type"] == "team.initialized" and "by db upgrade" in event["description"]
        for event in events
    )
    # A member's db upgrade changes nothing of the team and says nothing of it.
    assert "team roles" not in agent.ok("db", "upgrade")


async def test_db_upgrade_makes_again_a_trigger_dropped_since_team_init(team: Team) -> None:
    owner = team.url.username or "postgres"
    await execute(team.url, "DROP TRIGGER projdeck_team_audit_no_truncate ON audit_log")
    async with connected(team) as db:
        upgraded = await migrate.upgrade_database(db)
    assert upgraded.team_version == 1
    with pytest.raises(asyncpg.PostgresError, match="may not truncate the audit log"):
        await plain_sql(team, owner, "TRUNCATE audit_log")


EMAIL_PATCH = """From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001
From: Agent Smith <agent@example.org>
Date: Mon, 1 Jan 2024 00:00:00 +0000
Subject: [PATCH] Print three

---
 app.py | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1 +1 @@
-print(1)
+print(3)
--
2.40.0
"""


async def test_a_patch_proposed_on_a_team_database_is_requested_by_the_connected_role(
    team: Team,
) -> None:
    name, _ref = await project_with_proposal(team, team.agent)
    async with connected(team, team.agent) as db:
        created = await git_service.propose_from_git(
            db, name, git_service.GitSource(patch=EMAIL_PATCH)
        )
    assert created.requested_by == team.agent
    assert created.modified_files == {"app.py": "print(3)\n"}
    async with connected(team) as db:
        rows = [row for row in await audit_rows(db) if row.entity_id == str(created.id)]
    assert [row.details["source"] for row in rows] == [
        {"patch": "given", "author": "Agent Smith <agent@example.org>"}
    ]


async def test_restore_and_transfer_into_a_team_database_are_refused_up_front(
    team: Team, tmp_path: Path
) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text("not even read\n")
    async with connected(team) as db:
        with pytest.raises(ValidationError, match="is a team database: its audit log is append"):
            await workspace.restore_database(db, export)
        source = await open_database(db.url.set(database="postgres"))
        try:
            with pytest.raises(ValidationError, match=r"^to: .* a transfer into it is refused"):
                await workspace.transfer_workspace(source, db)
        finally:
            await source.dispose()
        counts = await workspace.count_workspace(db)
    assert counts["projects"] >= 1
    assert not list(tmp_path.glob("*.bak*")) and not list(tmp_path.glob("*safety*"))


async def test_writes_a_role_may_not_do_are_refused_in_words_before_anything_is_sent(
    team: Team,
) -> None:
    name, ref = await project_with_proposal(team, team.agent)

    def says(login: str, role: str, what: str) -> str:
        return "^" + re.escape(f"role {login!r} ({role}) may not {what}") + "$"

    async with connected(team, team.viewer) as db:
        with pytest.raises(
            NotPermitted, match=says(team.viewer, "projdeck_viewer", "propose modifications")
        ):
            await modifications.propose_modification(
                db,
                name,
                modifications.ModificationProposal(request="x", modified_files={"b": "b"}),
            )
    async with connected(team, team.agent) as db:
        agent = team.agent, "projdeck_agent"
        with pytest.raises(NotPermitted, match=says(*agent, "change projects")):
            await projects.archive_project(db, name)
        with pytest.raises(NotPermitted, match=says(*agent, "change project settings")):
            await projects.update_settings(db, name, {"test_commands": ["pytest"]})
        with pytest.raises(NotPermitted, match=says(*agent, "reveal secret values")):
            await secrets.export_secrets(db, name)
        with pytest.raises(NotPermitted, match=says(*agent, "change templates")):
            await templates.seed_builtin_templates(db)
    async with connected(team, team.reviewer) as db:
        reviewer = team.reviewer, "projdeck_reviewer"
        with pytest.raises(NotPermitted, match=says(*reviewer, "change secrets")):
            await secrets.set_secret(db, name, "OTHER", "value")
        with pytest.raises(NotPermitted, match=says(*reviewer, "change secrets")):
            await secrets.delete_secret(db, name, "API_KEY")
        with pytest.raises(NotPermitted, match=says(*reviewer, "purge projects")):
            await projects.purge_project(db, name)
        # What a reviewer may do goes through.
        await projects.update_settings(db, name, {"test_commands": ["pytest"]})
        await modifications.reject_modification(db, ref, comment="Not now")
    async with connected(team, team.admin) as db:
        await secrets.delete_secret(db, name, "API_KEY")
