"""Nobody approves a modification they requested (issue #23), on every
backend: someone else reviews it, unless a person working alone says so
(``--allow-self-approval``, the ``allow_self_approval`` setting). On a
team database it is never allowed (tests/test_team_postgres.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from store.config import normalize_url
from store.engine import Database, open_database
from store.errors import NotPermitted, ValidationError
from store.models import ModificationStatus
from store.services import hunk_review, projects
from store.services import modifications as service
from store.services import team as team_service
from tests.cli import Projdeck

SELF_APPROVAL = "'alice' may not approve modification {short}, which they requested"


async def proposed_by(db: Database, requester: str) -> str:
    await projects.create_project_with_settings(
        db,
        projects.ProjectCreate(
            name="Billing", type="api", owner_id="alice", codebase={"app.py": "print(1)\n"}
        ),
    )
    created = await service.propose_modification(
        db,
        "Billing",
        service.ModificationProposal(request="Print two", modified_files={"app.py": "print(2)\n"}),
        actor=requester,
    )
    return str(created.id)


async def test_a_person_may_not_approve_a_modification_they_requested(
    database: Database,
) -> None:
    ref = await proposed_by(database, "alice")
    with pytest.raises(NotPermitted, match=SELF_APPROVAL.format(short=ref[:8])):
        await service.approve_modification(database, ref, actor="alice")
    with pytest.raises(NotPermitted, match="which they requested"):
        await hunk_review.approve_in_part(database, ref, numbers=[1], actor="alice")
    approved = await service.approve_modification(database, ref, actor="bob")
    assert approved.status == ModificationStatus.APPROVED
    assert approved.reviewed_by == "bob"


async def test_a_requester_may_still_reject_their_own_modification(database: Database) -> None:
    ref = await proposed_by(database, "alice")
    rejected = await service.reject_modification(database, ref, comment="withdrawn", actor="alice")
    assert rejected.status == ModificationStatus.REJECTED


async def test_a_person_working_alone_approves_their_own_when_allowed(database: Database) -> None:
    ref = await proposed_by(database, "alice")
    approved = await service.approve_modification(
        database, ref, actor="alice", allow_self_approval=True
    )
    assert approved.status == ModificationStatus.APPROVED


async def test_the_allow_self_approval_setting_allows_it_and_the_argument_wins(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = await proposed_by(database, "alice")
    monkeypatch.setenv("PROJDECK_ALLOW_SELF_APPROVAL", "true")
    with pytest.raises(NotPermitted):
        await service.approve_modification(database, ref, actor="alice", allow_self_approval=False)
    approved = await hunk_review.approve_in_part(database, ref, numbers=[1], actor="alice")
    assert approved.status == ModificationStatus.APPROVED


def test_a_wrong_allow_self_approval_value_names_the_variable(database_url: URL) -> None:
    cli = Projdeck(database_url, PROJDECK_ALLOW_SELF_APPROVAL="maybe")
    cli.ok("project", "create", "--name", "Billing", "--type", "api", "--owner", "alice")
    ref = cli.ok("mod", "propose", "Billing", "--request", "r", "--file", "a.py=/dev/null").strip()
    assert cli.fails("mod", "approve", ref).strip() == (
        "error: PROJDECK_ALLOW_SELF_APPROVAL: must be true or false, not 'maybe'"
    )


def test_mod_approve_refuses_the_requester_in_words_unless_allowed(
    database_url: URL, tmp_path: Path
) -> None:
    cli = Projdeck(database_url, PROJDECK_ACTOR="alice")
    cli.ok("project", "create", "--name", "Billing", "--type", "api", "--owner", "alice")
    (tmp_path / "a.py").write_text("print(1)\n")
    ref = cli.ok(
        "mod", "propose", "Billing", "--request", "r", "--file", f"a.py={tmp_path / 'a.py'}"
    ).strip()
    refused = cli.fails("mod", "approve", ref)
    assert refused.startswith(f"error: {SELF_APPROVAL.format(short=ref[:8])}: someone else")
    assert "--allow-self-approval" in refused
    assert cli.json("mod", "show", ref)["status"] == "pending"
    assert cli.ok("mod", "approve", ref, "--allow-self-approval").strip() == (
        f"{ref} is now approved"
    )


async def test_teams_need_postgresql(tmp_path: Path) -> None:
    database = await open_database(normalize_url(f"sqlite:///{tmp_path / 'alone.db'}"))
    try:
        with pytest.raises(ValidationError, match="teams need PostgreSQL"):
            await team_service.init_team(database)
        with pytest.raises(ValidationError, match="teams need PostgreSQL"):
            await team_service.list_members(database)
    finally:
        await database.dispose()
