"""An archived project is read-only, a deleted one accepts nothing but
restore and purge: every write to the project, its settings, secrets and
modifications is refused with one message saying how to get it back, and
leaves the database as it was (no row, no audit entry); reads still work.
On both backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from store import dotenv
from store.engine import Database
from store.errors import InvalidTransition, ProjectReadOnly
from store.models import AuditEntry, HunkVerdict, ModificationStatus
from store.services import agents, hunk_review, projects, secrets, webhooks
from store.services import modifications as service

NAME = "Ledger"
Write = Callable[[Database, dict[str, str]], Awaitable[Any]]


async def _project(database: Database) -> dict[str, str]:
    """The project with a secret, a pending, an approved and a failed
    modification; their ids by status."""
    await projects.create_project_with_settings(
        database,
        projects.ProjectCreate(
            name=NAME, type="api", owner_id="alice", codebase={"app.py": "x = 1\n"}
        ),
    )
    await secrets.set_secret(database, NAME, "API_KEY", "s3cret-value")
    ids: dict[str, str] = {}
    for status in ("pending", "approved", "failed", "applied"):
        created = await service.propose_modification(
            database,
            NAME,
            service.ModificationProposal(
                request=f"to {status}", modified_files={f"{status}.py": f"# {status}\n"}
            ),
            actor="agent-7",
        )
        ids[status] = str(created.id)
    for status in ("approved", "failed", "applied"):
        await service.approve_modification(database, ids[status])
    await service.apply_modification(database, ids["applied"])
    # The failed one: its file appears in the codebase meanwhile.
    await projects.update_project(
        database, NAME, {}, files={"failed.py": "# written by hand\n"}, removed_files=()
    )
    assert (
        await service.apply_modification(database, ids["failed"])
    ).status == ModificationStatus.FAILED
    return ids


WRITES: dict[str, Write] = {
    "project update": lambda db, ids: projects.update_project(db, NAME, {"owner_id": "bob"}),
    "settings set": lambda db, ids: projects.update_settings(db, NAME, {"branch_name": "dev"}),
    "deployed": lambda db, ids: projects.record_deployment(db, NAME),
    "secret set": lambda db, ids: secrets.set_secret(db, NAME, "OTHER", "v"),
    "secret import": lambda db, ids: secrets.import_secrets(db, NAME, dotenv.parse("OTHER=v\n")),
    "secret delete": lambda db, ids: secrets.delete_secret(db, NAME, "API_KEY"),
    "propose": lambda db, ids: service.propose_modification(
        db, NAME, service.ModificationProposal(request="more", modified_files={"b.py": "b\n"})
    ),
    "approve": lambda db, ids: service.approve_modification(db, ids["pending"]),
    "reject": lambda db, ids: service.reject_modification(db, ids["pending"], comment="no"),
    "apply": lambda db, ids: service.apply_modification(db, ids["approved"]),
    "reopen": lambda db, ids: service.reopen_modification(db, ids["failed"]),
    "revert": lambda db, ids: service.revert_modification(db, ids["applied"]),
    "test results": lambda db, ids: service.attach_test_results(
        db, ids["pending"], {"passed": 1, "failed": 0}
    ),
    "decide hunks": lambda db, ids: hunk_review.decide_hunks(
        db, ids["pending"], verdict=HunkVerdict.ACCEPTED, numbers=[1]
    ),
    "comment": lambda db, ids: hunk_review.add_comment(
        db, ids["pending"], path="pending.py", line=1, text="why?"
    ),
    "approve in part": lambda db, ids: hunk_review.approve_in_part(db, ids["pending"], numbers=[1]),
    "start run": lambda db, ids: agents.start_run(db, NAME, agent="bot", task="more"),
    "start conversation": lambda db, ids: agents.start_conversation(db, NAME, title="more"),
    "webhook delivery": lambda db, ids: webhooks.record_webhook_delivery(
        db, NAME, webhooks.WebhookInput(event="push", url="https://example.com/h", status_code=200)
    ),
}


async def _audit_rows(database: Database) -> int:
    async with database.reading() as session:
        return int((await session.execute(select(func.count(AuditEntry.id)))).scalar_one())


@pytest.mark.parametrize(
    ("status", "way_back"), [("archived", "unarchive"), ("deleted", "restore")]
)
@pytest.mark.parametrize("write", list(WRITES))
async def test_a_write_to_an_archived_or_deleted_project_is_refused(
    database: Database, status: str, way_back: str, write: str
) -> None:
    ids = await _project(database)
    if status == "archived":
        await projects.archive_project(database, NAME)
    else:
        await projects.delete_project(database, NAME)
    before = await projects.get_project_full_config(database, NAME)
    rows = await _audit_rows(database)

    with pytest.raises(ProjectReadOnly) as refused:
        await WRITES[write](database, ids)

    assert refused.value.message == f"project {NAME!r} is {status}; {way_back} it first"
    assert isinstance(refused.value, InvalidTransition)  # the CLI's exit code for it
    after = await projects.get_project_full_config(database, NAME)
    assert after.project.version == before.project.version
    assert after.project.codebase == before.project.codebase
    assert after.settings == before.settings
    assert await _audit_rows(database) == rows


async def test_an_archived_project_is_still_read_and_comes_back(database: Database) -> None:
    ids = await _project(database)
    await projects.archive_project(database, NAME)

    assert [item.key_name for item in await secrets.list_secrets(database, NAME)] == ["API_KEY"]
    revealed = await secrets.reveal_secret(database, NAME, "API_KEY")
    assert revealed.reveal() == "s3cret-value"
    review = await hunk_review.modification_hunks(database, ids["pending"])
    assert [item.path for item in review.hunks] == ["pending.py"]
    assert (await hunk_review.feedback(database, ids["pending"])).verdict == "pending"

    await projects.unarchive_project(database, NAME)
    approved = await service.approve_modification(database, ids["pending"])
    assert approved.status == ModificationStatus.APPROVED


async def test_an_archived_project_may_be_deleted_and_a_deleted_one_purged(
    database: Database,
) -> None:
    await _project(database)
    await projects.archive_project(database, NAME)
    await projects.delete_project(database, NAME)
    restored = await projects.restore_project(database, NAME)
    assert restored.status == "active"
    await projects.delete_project(database, NAME)
    await projects.purge_project(database, NAME)
    assert [page.name for page in (await projects.list_projects(database)).items] == []
