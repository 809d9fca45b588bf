"""Modification services on both backends: proposal and its validation,
every transition allowed and refused, apply with conflicts and atomicity,
reopen, revert, the reads for the review screens, audit rows, the change
probe for live refresh, and the migration that added the workflow columns."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL

from store import migrate
from store.engine import Database
from store.errors import Conflict, InvalidTransition, NotFound, ValidationError
from store.models import AuditEntry, Modification, ModificationStatus
from store.repositories.audit import AuditFilter, AuditRepository
from store.services import modifications as service
from store.services import projects, review, shapes
from store.services.changes import ChangeProbe
from store.validation import MAX_FILE_BYTES
from tests.store_support import insert_old_project, opened, raw_id

CODEBASE = {
    "app.py": "print('hello')\n",
    "lib/util.py": "def add(a, b):\n    return a + b\n",
    "README.md": "# Demo\n",
}


async def make_project(db: Database, name: str = "Demo", **codebase: str) -> uuid.UUID:
    created = await projects.create_project_with_settings(
        db,
        projects.ProjectCreate(
            name=name, type="api", owner_id="alice", codebase=dict(codebase) or dict(CODEBASE)
        ),
    )
    return created.project.id


async def propose(
    db: Database, project: uuid.UUID | str, files: dict[str, str | None], **extra: Any
) -> Modification:
    return await service.propose_modification(
        db,
        str(project),
        service.ModificationProposal(
            request=extra.pop("request", "Change things"), modified_files=files, **extra
        ),
        actor="agent-7",
    )


async def codebase_of(db: Database, project: uuid.UUID) -> dict[str, str]:
    return (await projects.get_project(db, str(project))).codebase


async def status_of(db: Database, modification: Modification) -> ModificationStatus:
    return (await review.get_modification(db, str(modification.id))).modification.status


async def audit_rows(db: Database) -> list[AuditEntry]:
    async with db.reading() as session:
        rows = await AuditRepository(session).list(AuditFilter(), limit=500)
    return list(reversed(rows))


async def modification_count(db: Database) -> int:
    async with db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(Modification))).one()[0])


async def test_propose_records_base_affected_files_and_audit(database: Database) -> None:
    project = await make_project(database)
    created = await propose(
        database,
        project,
        {"app.py": "print('bye')\n", "new/./module.py": "x = 1\n", "README.md": None},
        impact_analysis={"risk": "low", "summary": "tiny"},
        test_results={"passed": 3, "failed": 0},
    )
    detail = await review.get_modification(database, str(created.id))
    mod = detail.modification
    assert mod.status == ModificationStatus.PENDING
    assert mod.requested_by == "agent-7"
    assert mod.affected_files == ["README.md", "app.py", "new/module.py"]
    assert mod.modified_files["new/module.py"] == "x = 1\n"
    assert mod.modified_files["README.md"] is None
    assert mod.base["new/module.py"] == "absent"
    assert mod.base["app.py"] == service.content_hash(CODEBASE["app.py"])
    assert mod.base["app.py"].startswith("sha256:")
    assert mod.impact_analysis == {"risk": "low", "summary": "tiny"}
    assert detail.project_name == "Demo"
    [row] = [r for r in await audit_rows(database) if r.entity_type == "modification"]
    assert row.event_type == "modification.proposed"
    assert row.actor == "agent-7"
    assert row.entity_id == str(mod.id)
    assert row.details["files"] == {
        "added": ["new/module.py"],
        "deleted": ["README.md"],
        "modified": ["app.py"],
    }


async def test_affected_files_may_name_more_than_the_modified_files(database: Database) -> None:
    project = await make_project(database)
    created = await propose(
        database, project, {"app.py": "x\n"}, affected_files=["app.py", "lib/util.py"]
    )
    assert created.affected_files == ["app.py", "lib/util.py"]
    assert set(created.base) == {"app.py", "lib/util.py"}


@pytest.mark.parametrize(
    ("files", "extra", "field"),
    [
        ({"/etc/passwd": "x"}, {}, "modified_files"),
        ({"../up.py": "x"}, {}, "modified_files"),
        ({}, {}, "modified_files"),
        ({"big.txt": "a" * (MAX_FILE_BYTES + 1)}, {}, "modified_files[big.txt]"),
        ({"bin.dat": "a\x00b"}, {}, "modified_files[bin.dat]"),
        ({"gone.py": None}, {}, "modified_files"),
        ({"app.py": "x"}, {"request": "   "}, "request"),
        ({"app.py": "x"}, {"affected_files": ["README.md"]}, "affected_files"),
        ({"app.py": "x"}, {"impact_analysis": ["not", "an", "object"]}, "impact_analysis"),
        ({"app.py": "x"}, {"test_results": {"n": float("nan")}}, "test_results"),
        ({"app.py": "x"}, {"requested_by": "two\nlines"}, "requested_by"),
    ],
)
async def test_bad_proposals_name_the_field_and_store_nothing(
    database: Database, files: dict[str, str | None], extra: dict[str, Any], field: str
) -> None:
    project = await make_project(database)
    before = len(await audit_rows(database))
    with pytest.raises(ValidationError) as caught:
        await propose(database, project, files, **extra)
    assert caught.value.field == field
    assert await modification_count(database) == 0
    assert len(await audit_rows(database)) == before


async def test_propose_to_unknown_or_archived_project_is_refused(database: Database) -> None:
    with pytest.raises(NotFound, match="no project matches"):
        await propose(database, "nonexistent", {"a.py": "x"})
    project = await make_project(database)
    await projects.archive_project(database, str(project))
    with pytest.raises(InvalidTransition, match="is archived; unarchive it first"):
        await propose(database, project, {"a.py": "x"})
    assert await modification_count(database) == 0


async def test_payload_with_unknown_or_missing_fields_is_refused() -> None:
    with pytest.raises(ValidationError, match="colour: is not a proposal field"):
        service.proposal_from_payload({"request": "r", "modified_files": {}, "colour": 1})
    with pytest.raises(ValidationError, match="modified_files: is required"):
        service.proposal_from_payload({"request": "r"})
    with pytest.raises(ValidationError, match="payload: must be a JSON object"):
        service.proposal_from_payload(["r"])
    proposal = service.proposal_from_payload(
        {"request": "r", "modified_files": {"a": None}, "impact_analysis": None}
    )
    assert proposal.impact_analysis == {}


async def test_approve_then_apply_writes_the_codebase_and_moves_the_version(
    database: Database,
) -> None:
    project = await make_project(database)
    before = await projects.get_project(database, str(project))
    mod = await propose(database, project, {"app.py": "print('bye')\n", "README.md": None})
    approved = await service.approve_modification(
        database, str(mod.id)[:8], comment="looks fine", actor="bob"
    )
    assert approved.status == ModificationStatus.APPROVED
    assert approved.reviewed_by == "bob"
    assert approved.reviewed_at is not None
    assert approved.review_comment == "looks fine"
    applied = await service.apply_modification(database, str(mod.id), actor="bob")
    assert applied.status == ModificationStatus.APPLIED
    assert applied.applied_at is not None
    assert applied.previous_contents == {
        "app.py": CODEBASE["app.py"],
        "README.md": CODEBASE["README.md"],
    }
    after = await projects.get_project(database, str(project))
    assert after.codebase == {"app.py": "print('bye')\n", "lib/util.py": CODEBASE["lib/util.py"]}
    assert after.version == before.version + 1
    assert after.updated_at > before.updated_at
    events = [r.event_type for r in await audit_rows(database) if r.entity_type == "modification"]
    assert events == ["modification.proposed", "modification.approved", "modification.applied"]


async def test_reject_needs_a_comment_and_is_final(database: Database) -> None:
    project = await make_project(database)
    mod = await propose(database, project, {"app.py": "x\n"})
    with pytest.raises(ValidationError, match="comment: a rejection needs a comment"):
        await service.reject_modification(database, str(mod.id), comment="  ")
    assert await status_of(database, mod) == ModificationStatus.PENDING
    rejected = await service.reject_modification(
        database, str(mod.id), comment="too risky", actor="carol"
    )
    assert rejected.status == ModificationStatus.REJECTED
    assert rejected.review_comment == "too risky"
    assert rejected.reviewed_by == "carol"
    rows = [r for r in await audit_rows(database) if r.event_type == "modification.rejected"]
    assert rows[0].details["comment"] == "too risky"
    assert await codebase_of(database, project) == CODEBASE


async def reach(db: Database, project: uuid.UUID, state: ModificationStatus) -> Modification:
    """A modification of ``project`` brought to ``state`` through the services."""
    mod = await propose(db, project, {"app.py": f"# {uuid.uuid4()}\n"})
    ref = str(mod.id)
    if state == ModificationStatus.PENDING:
        return mod
    if state == ModificationStatus.REJECTED:
        return await service.reject_modification(db, ref, comment="no")
    await service.approve_modification(db, ref)
    if state == ModificationStatus.APPROVED:
        return mod
    if state == ModificationStatus.FAILED:
        other = await propose(db, project, {"app.py": f"other {uuid.uuid4()}\n"})
        await service.approve_modification(db, str(other.id))
        await service.apply_modification(db, str(other.id))
    done = await service.apply_modification(db, ref)
    assert done.status == state
    return done


ACTIONS: dict[str, Callable[[Database, str], Awaitable[Modification]]] = {
    "approve": lambda db, ref: service.approve_modification(db, ref),
    "reject": lambda db, ref: service.reject_modification(db, ref, comment="no"),
    "apply": lambda db, ref: service.apply_modification(db, ref),
    "reopen": lambda db, ref: service.reopen_modification(db, ref),
    "revert": lambda db, ref: service.revert_modification(db, ref),
    "attach test results to": lambda db, ref: service.attach_test_results(db, ref, {"passed": 1}),
}
ALLOWED = {
    ModificationStatus.PENDING: {"approve", "reject", "attach test results to"},
    ModificationStatus.APPROVED: {"apply", "attach test results to"},
    ModificationStatus.FAILED: {"reopen", "attach test results to"},
    ModificationStatus.APPLIED: {"revert"},
    ModificationStatus.REJECTED: set(),
}


@pytest.mark.parametrize("state", list(ModificationStatus))
async def test_every_transition_not_allowed_is_refused_and_changes_nothing(
    database: Database, state: ModificationStatus
) -> None:
    project = await make_project(database)
    mod = await reach(database, project, state)
    codebase = await codebase_of(database, project)
    audit_count = len(await audit_rows(database))
    for action, run in ACTIONS.items():
        if action in ALLOWED[state]:
            continue
        with pytest.raises(InvalidTransition) as caught:
            await run(database, str(mod.id))
        assert str(caught.value) == f"cannot {action} a modification that is {state.value}"
        assert await status_of(database, mod) == state
    assert await codebase_of(database, project) == codebase
    assert len(await audit_rows(database)) == audit_count


@pytest.mark.parametrize("state", list(ModificationStatus))
async def test_every_allowed_transition_succeeds_with_an_audit_row(
    database: Database, state: ModificationStatus
) -> None:
    project = await make_project(database)
    expected = {
        "approve": ModificationStatus.APPROVED,
        "reject": ModificationStatus.REJECTED,
        "apply": ModificationStatus.APPLIED,
        "reopen": ModificationStatus.PENDING,
        "attach test results to": state,
    }
    for action in sorted(ALLOWED[state]):
        mod = await reach(database, project, state)
        audit_count = len(await audit_rows(database))
        result = await ACTIONS[action](database, str(mod.id))
        if action == "revert":
            assert result.reverts_id == mod.id
            assert result.status == ModificationStatus.PENDING
        else:
            assert result.id == mod.id
            assert result.status == expected[action]
        rows = await audit_rows(database)
        assert len(rows) == audit_count + 1
        assert rows[-1].entity_id == str(result.id)


async def test_apply_fails_when_file_changed_since_proposal(database: Database) -> None:
    project = await make_project(database)
    first = await propose(database, project, {"app.py": "first\n", "new.py": "1\n"})
    second = await propose(database, project, {"app.py": "second\n", "other.py": "2\n"})
    for mod in (first, second):
        await service.approve_modification(database, str(mod.id))
    assert (await service.apply_modification(database, str(first.id))).status == "applied"
    version = (await projects.get_project(database, str(project))).version
    failed = await service.apply_modification(database, str(second.id))
    assert failed.status == ModificationStatus.FAILED
    assert failed.failure_reason == "conflict: changed since the proposal: app.py"
    assert failed.applied_at is None
    after = await projects.get_project(database, str(project))
    assert after.codebase["app.py"] == "first\n"
    assert "other.py" not in after.codebase
    assert after.version == version
    row = (await audit_rows(database))[-1]
    assert row.event_type == "modification.failed"
    assert row.severity == "warning"
    assert row.details["conflicts"] == ["app.py"]


async def test_apply_conflicts_when_an_absent_file_appeared(database: Database) -> None:
    project = await make_project(database)
    first = await propose(database, project, {"new.py": "a\n"})
    second = await propose(database, project, {"new.py": "b\n"})
    for mod in (first, second):
        await service.approve_modification(database, str(mod.id))
    await service.apply_modification(database, str(first.id))
    failed = await service.apply_modification(database, str(second.id))
    assert failed.failure_reason == "conflict: changed since the proposal: new.py"


async def test_apply_to_an_archived_project_is_refused(database: Database) -> None:
    project = await make_project(database)
    mod = await reach(database, project, ModificationStatus.APPROVED)
    await projects.archive_project(database, str(project))
    with pytest.raises(InvalidTransition, match="is archived; unarchive it first"):
        await service.apply_modification(database, str(mod.id))
    assert await status_of(database, mod) == ModificationStatus.APPROVED


async def test_a_failure_during_apply_leaves_codebase_and_modification_unchanged(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = await make_project(database)
    mod = await reach(database, project, ModificationStatus.APPROVED)
    before = await projects.get_project(database, str(project))
    real_record = service.audit.record

    async def failing_record(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("event_type") == "modification.applied":
            raise RuntimeError("disk full")
        return await real_record(*args, **kwargs)

    monkeypatch.setattr(service.audit, "record", failing_record)
    with pytest.raises(RuntimeError, match="disk full"):
        await service.apply_modification(database, str(mod.id))
    monkeypatch.undo()
    after = await projects.get_project(database, str(project))
    assert after.codebase == before.codebase
    assert after.version == before.version
    detail = await review.get_modification(database, str(mod.id))
    assert detail.modification.status == ModificationStatus.APPROVED
    assert detail.modification.applied_at is None
    assert detail.modification.previous_contents is None


async def test_reopen_clears_the_review_and_recomputes_the_base(database: Database) -> None:
    project = await make_project(database)
    mod = await reach(database, project, ModificationStatus.FAILED)
    assert mod.failure_reason
    reopened = await service.reopen_modification(database, str(mod.id), actor="dave")
    assert reopened.status == ModificationStatus.PENDING
    assert reopened.reviewed_by is None
    assert reopened.reviewed_at is None
    assert reopened.review_comment is None
    assert reopened.failure_reason is None
    current = (await codebase_of(database, project))["app.py"]
    assert current.startswith("other")
    assert reopened.base["app.py"] == service.content_hash(current)
    await service.approve_modification(database, str(mod.id))
    applied = await service.apply_modification(database, str(mod.id))
    assert applied.status == ModificationStatus.APPLIED
    assert (await codebase_of(database, project))["app.py"] == mod.modified_files["app.py"]


async def test_revert_proposes_the_previous_contents_linked_to_the_original(
    database: Database,
) -> None:
    project = await make_project(database)
    mod = await propose(
        database,
        project,
        {"app.py": "changed\n", "added.py": "new\n", "README.md": None},
        request="Rework the app\nwith details",
    )
    await service.approve_modification(database, str(mod.id))
    await service.apply_modification(database, str(mod.id))
    revert = await service.revert_modification(database, str(mod.id), actor="erin")
    assert revert.reverts_id == mod.id
    assert revert.status == ModificationStatus.PENDING
    assert revert.request == f"Revert {str(mod.id)[:8]}: Rework the app"
    assert revert.modified_files == {
        "app.py": CODEBASE["app.py"],
        "added.py": None,
        "README.md": CODEBASE["README.md"],
    }
    with pytest.raises(Conflict, match="already has a revert waiting"):
        await service.revert_modification(database, str(mod.id))
    await service.approve_modification(database, str(revert.id))
    await service.apply_modification(database, str(revert.id))
    assert await codebase_of(database, project) == CODEBASE
    row = next(r for r in await audit_rows(database) if r.entity_id == str(revert.id))
    assert row.details["reverts"] == str(mod.id)


async def test_revert_is_refused_when_files_changed_since_the_apply(database: Database) -> None:
    project = await make_project(database)
    mod = await reach(database, project, ModificationStatus.APPLIED)
    later = await propose(database, project, {"app.py": "later\n"})
    await service.approve_modification(database, str(later.id))
    await service.apply_modification(database, str(later.id))
    with pytest.raises(Conflict, match=r"changed since it was applied: app\.py"):
        await service.revert_modification(database, str(mod.id))


async def test_modification_ids_accept_a_unique_prefix_of_six(database: Database) -> None:
    project = await make_project(database)
    mod = await propose(database, project, {"app.py": "x\n"})
    found = await review.get_modification(database, str(mod.id)[:6].upper())
    assert found.modification.id == mod.id
    with pytest.raises(ValidationError, match="at least 6"):
        await review.get_modification(database, str(mod.id)[:5])
    with pytest.raises(NotFound):
        await review.get_modification(database, str(uuid.uuid4()))
    missing = "0" * 8 if not str(mod.id).startswith("0") else "f" * 8
    with pytest.raises(NotFound, match="no modification matches"):
        await review.get_modification(database, missing)
    async with database.transaction() as session:
        for suffix in ("1", "2"):
            twin = Modification(
                id=uuid.UUID(f"abcdef0{suffix}-0000-4000-8000-000000000000"),
                project_id=project,
                request="twin",
                requested_by="x",
                modified_files={"app.py": "x"},
            )
            session.add(twin)
    with pytest.raises(ValidationError, match="matches several modifications"):
        await review.get_modification(database, "abcdef")
    found = await review.get_modification(database, "abcdef02")
    assert found.modification.request == "twin"


async def test_get_shows_change_kinds_line_counts_and_unified_diffs(database: Database) -> None:
    project = await make_project(database, **{"a.py": "one\ntwo\nthree\n", "gone.py": "x\ny\n"})
    mod = await propose(
        database,
        project,
        {"a.py": "one\n2\nthree\nfour", "b.py": "new\n", "gone.py": None},
    )
    detail = await review.get_modification(database, str(mod.id))
    assert detail.against == "codebase"
    changes = {change.path: change for change in detail.files}
    assert [c.path for c in detail.files] == ["a.py", "b.py", "gone.py"]
    a = changes["a.py"]
    assert (a.kind, a.added, a.removed) == ("modified", 2, 1)
    assert a.diff.startswith("--- a/a.py\n+++ b/a.py\n@@ ")
    assert "-two\n+2\n" in a.diff
    assert a.diff.endswith("+four\n\\ No newline at end of file\n")
    b = changes["b.py"]
    assert (b.kind, b.added, b.removed) == ("added", 1, 0)
    assert b.diff.startswith("--- /dev/null\n+++ b/b.py\n")
    gone = changes["gone.py"]
    assert (gone.kind, gone.added, gone.removed) == ("deleted", 0, 2)
    assert gone.diff.startswith("--- a/gone.py\n+++ /dev/null\n")
    data = shapes.modification_detail_as_dict(detail, with_diff=True)
    json.dumps(data)
    assert data["files"][0] == {
        "path": "a.py",
        "kind": "modified",
        "added": 2,
        "removed": 1,
        "diff": a.diff,
    }


async def test_an_applied_modification_is_compared_with_what_it_replaced(
    database: Database,
) -> None:
    project = await make_project(database)
    mod = await reach(database, project, ModificationStatus.APPLIED)
    detail = await review.get_modification(database, str(mod.id))
    assert detail.against == "before apply"
    [change] = detail.files
    assert (change.kind, change.added, change.removed) == ("modified", 1, 1)
    assert change.before == CODEBASE["app.py"]


async def test_statuses_of_given_modifications_leave_out_unknown_ids(
    database: Database,
) -> None:
    project = await make_project(database)
    pending = await propose(database, project, {"app.py": "a\n"})
    rejected = await propose(database, project, {"README.md": "d\n"})
    await service.reject_modification(database, str(rejected.id), comment="no")
    unknown = uuid.uuid4()
    statuses = await review.modification_statuses(database, [pending.id, rejected.id, unknown])
    assert statuses == {
        pending.id: ModificationStatus.PENDING,
        rejected.id: ModificationStatus.REJECTED,
    }
    assert await review.modification_statuses(database, []) == {}


async def test_inbox_groups_waiting_modifications_by_project_oldest_first(
    database: Database,
) -> None:
    first = await make_project(database, "First")
    second = await make_project(database, "Second")
    a = await propose(database, second, {"app.py": "a\n"})
    b = await propose(database, first, {"app.py": "b\n"})
    c = await propose(database, second, {"lib/util.py": "c\n"})
    await service.approve_modification(database, str(c.id))
    rejected = await propose(database, first, {"README.md": "d\n"})
    await service.reject_modification(database, str(rejected.id), comment="no")
    inbox = await review.waiting_modifications(database)
    assert (inbox.pending, inbox.approved, inbox.waiting) == (2, 1, 3)
    assert [group.project_name for group in inbox.groups] == ["Second", "First"]
    assert [row.id for row in inbox.groups[0].items] == [a.id, c.id]
    assert (inbox.groups[0].pending, inbox.groups[0].approved) == (1, 1)
    assert [row.id for row in inbox.groups[1].items] == [b.id]
    # A shorter inbox lists fewer rows but still counts every waiting one.
    short = await review.waiting_modifications(database, limit=1)
    assert (short.pending, short.approved) == (2, 1)
    assert [(group.project_name, group.pending, group.approved) for group in short.groups] == [
        ("Second", 1, 1)
    ]

    page = await review.list_modifications(database, project_ref="First")
    assert page.total == 2
    assert [row.id for row in page.items] == [b.id, rejected.id]
    page = await review.list_modifications(
        database, statuses=[ModificationStatus.REJECTED, ModificationStatus.APPROVED]
    )
    assert {row.id for row in page.items} == {c.id, rejected.id}
    newest = await review.list_modifications(database, oldest_first=False, limit=1)
    assert newest.items[0].id == rejected.id
    assert newest.total == 4
    assert shapes.modification_row_as_dict(newest.items[0])["project"] == "First"


async def test_attach_tests_replaces_the_results_and_audits_only_their_keys(
    database: Database,
) -> None:
    project = await make_project(database)
    mod = await propose(database, project, {"app.py": "x\n"}, test_results={"old": 1})
    results = {"passed": 10, "failed": 1, "failures": [{"name": "t", "message": "api_key=abc"}]}
    updated = await service.attach_test_results(database, str(mod.id), results)
    assert updated.test_results == results
    row = (await audit_rows(database))[-1]
    assert row.event_type == "modification.tests_attached"
    assert row.details["keys"] == ["failed", "failures", "passed"]


async def test_audit_rows_never_hold_file_contents(database: Database) -> None:
    project = await make_project(database)
    secret = "AWS_SECRET=wJalrXUtnFEMI-very-secret"
    mod = await propose(database, project, {"config.env": secret + "\n"})
    await service.approve_modification(database, str(mod.id))
    await service.apply_modification(database, str(mod.id))
    await service.revert_modification(database, str(mod.id))
    for row in await audit_rows(database):
        assert "wJalrXUtnFEMI" not in json.dumps(row.details) + row.description


async def test_change_probe_moves_on_every_write_from_any_connection(
    database: Database, database_url: URL
) -> None:
    project = await make_project(database)
    async with ChangeProbe(database) as probe:
        assert await probe.changed() is False
        first = await probe.token()
        assert await probe.token() == first
        assert await probe.changed() is False
        mod = await propose(database, project, {"app.py": "x\n"})
        assert await probe.changed() is True
        assert await probe.changed() is False
        async with opened(database_url) as other:  # as another process would
            await service.approve_modification(other, str(mod.id))
        assert await probe.changed() is True
        assert await probe.token() != first


async def test_migration_0002_keeps_existing_modifications(empty_database_url: URL) -> None:
    project_id, mod_id = uuid.uuid4().hex, uuid.uuid4().hex
    async with opened(empty_database_url) as database:
        await migrate.upgrade(database, "0001")
        async with database.transaction() as session:
            await insert_old_project(session, database, uuid.UUID(project_id))
            await session.execute(
                text(
                    "INSERT INTO modifications (id, project_id, request, requested_by,"
                    " requested_at, impact_analysis, affected_files, status, modified_files,"
                    " base, test_results) VALUES (:id, :project, 'old change', 'agent',"
                    " CURRENT_TIMESTAMP, '{}', '[\"a.py\"]', 'applied', '{\"a.py\": \"x\"}',"
                    " '{}', '{}')"
                ),
                {
                    "id": raw_id(database, uuid.UUID(mod_id)),
                    "project": raw_id(database, uuid.UUID(project_id)),
                },
            )
        # Up to whatever is head now: later revisions must keep the rows too.
        assert await migrate.upgrade(database) == migrate.head_revisions()[0]
        detail = await review.get_modification(database, mod_id)
        assert detail.modification.request == "old change"
        assert detail.modification.modified_files == {"a.py": "x"}
        assert detail.modification.previous_contents is None
        assert detail.modification.reverts_id is None
        with pytest.raises(ValidationError, match="without its previous contents"):
            await service.revert_modification(database, mod_id)
        assert await migrate.downgrade(database, "0001") == "0001"
        async with database.reading() as session:
            count = (await session.execute(text("SELECT count(*) FROM modifications"))).one()[0]
        assert count == 1


async def test_concurrent_applies_of_conflicting_modifications_apply_exactly_one(
    database: Database,
) -> None:
    project = await make_project(database)
    first = await propose(database, project, {"app.py": "first\n"})
    second = await propose(database, project, {"app.py": "second\n"})
    for mod in (first, second):
        await service.approve_modification(database, str(mod.id))
    results = await asyncio.gather(
        service.apply_modification(database, str(first.id)),
        service.apply_modification(database, str(second.id)),
    )
    statuses = sorted(result.status for result in results)
    assert statuses == [ModificationStatus.APPLIED, ModificationStatus.FAILED]
    [winner] = [result for result in results if result.status == ModificationStatus.APPLIED]
    assert (await codebase_of(database, project))["app.py"] == winner.modified_files["app.py"]


async def test_purging_a_project_removes_its_modifications_and_their_revert_links(
    database: Database,
) -> None:
    project = await make_project(database)
    keep = await make_project(database, "Keep")
    mod = await reach(database, project, ModificationStatus.APPLIED)
    revert = await service.revert_modification(database, str(mod.id))
    assert revert.reverts_id == mod.id
    kept = await propose(database, keep, {"app.py": "kept\n"})
    await projects.purge_project(database, str(project))
    assert await modification_count(database) == 1
    assert (await review.get_modification(database, str(kept.id))).modification.id == kept.id
