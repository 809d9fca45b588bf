"""Applying a modification of a linked project as a commit on its branch:
author, committer and trailers as git shows them, a three-way merge onto a
branch that moved, conflicts and uncommitted edits that refuse it, the
working tree following, and a commit the database missed reconciled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from store import vcs
from store.engine import Database
from store.errors import Conflict, ValidationError
from store.models import ModificationStatus
from store.repositories.audit import AuditFilter, AuditRepository
from store.services import git as git_service
from store.services import linked
from store.services import modifications as service
from store.services import projects as project_service
from store.services import review as review_service
from tests.cli import Projdeck
from tests.git_support import (
    BILLING,
    commit_all,
    git,
    head,
    linked_billing,
    make_bare,
    status,
    write,
)

FILES = BILLING


def committed_by_a_killed_apply(repository: Path, ref: str) -> vcs.Applied:
    """The commit an apply of ``ref`` (TAX = 0.3) made before its process was
    killed, the database never told."""
    return vcs.commit_change(
        repository,
        branch="main",
        base=head(repository),
        change=vcs.Change(files={"src/taxes.py": "TAX = 0.3\n"}),
        message=vcs.commit_message("Tax three", modification_id=ref, reviewer="rita"),
        author=vcs.Identity("Agent Smith", "agent@example.org"),
    )


async def approved(db: Database, files: dict[str, str | None], request: str) -> str:
    proposal = service.ModificationProposal(
        request=request, modified_files=files, requested_by="Agent Smith <agent@example.org>"
    )
    created = await service.propose_modification(db, "billing", proposal, actor="agent")
    await service.approve_modification(db, str(created.id), actor="rita")
    return str(created.id)


async def test_apply_commits_the_change_on_the_branch_and_the_worktree_follows(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    before = head(repository)
    ref = await approved(
        database, {"src/taxes.py": "TAX = 0.25\n", "docs/new.md": "new\n"}, "Raise the tax"
    )
    result = await service.apply_modification(database, ref, actor="rita")
    assert result.status == ModificationStatus.APPLIED
    assert result.applied_commit == head(repository)
    assert git(repository, "rev-parse", "HEAD~1").strip() == before
    shown = git(repository, "log", "-1", "--format=%an <%ae>|%cn|%s|%(trailers:only,unfold)")
    assert shown.startswith("Agent Smith <agent@example.org>|rita|Raise the tax|")
    assert f"Projdeck-Modification: {ref}" in shown
    assert "Reviewed-by: rita" in shown
    assert (repository / "src/taxes.py").read_text() == "TAX = 0.25\n"
    assert (repository / "docs/new.md").read_text() == "new\n"
    assert status(repository) == ""
    git(repository, "fsck", "--strict")
    config = await project_service.get_project_full_config(database, "billing")
    assert config.project.snapshot_commit == result.applied_commit
    assert config.project.codebase["src/taxes.py"] == "TAX = 0.25\n"
    assert result.previous_contents == {"src/taxes.py": "TAX = 0.2\n", "docs/new.md": None}
    async with database.reading() as session:
        [row] = await AuditRepository(session).list(
            AuditFilter(event_type="modification.applied"), limit=5
        )
    assert row.details["commit"] == result.applied_commit


async def test_apply_merges_onto_a_branch_moved_by_other_lines(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    ref = await approved(
        database,
        {"src/rates.py": "RATE = 2\n\n\ndef rate():\n    return RATE\n"},
        "Rate two",
    )
    write(repository, {"src/rates.py": "RATE = 1\n\n\ndef rate():\n    return RATE * 1\n"})
    moved = commit_all(repository, "Someone else edits the function")
    result = await service.apply_modification(database, ref, actor="rita")
    assert result.status == ModificationStatus.APPLIED
    assert git(repository, "rev-parse", "HEAD~1").strip() == moved
    merged = (repository / "src/rates.py").read_text()
    assert merged == "RATE = 2\n\n\ndef rate():\n    return RATE * 1\n"
    git(repository, "fsck", "--strict")


async def test_apply_fails_on_a_conflict_and_leaves_the_branch_alone(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    ref = await approved(database, {"src/taxes.py": "TAX = 0.3\n"}, "Tax three")
    write(repository, {"src/taxes.py": "TAX = 0.4\n"})
    moved = commit_all(repository, "Tax four")
    result = await service.apply_modification(database, ref, actor="rita")
    assert result.status == ModificationStatus.FAILED
    assert result.failure_reason is not None
    assert "src/taxes.py" in result.failure_reason
    assert result.applied_commit is None
    assert head(repository) == moved


async def test_uncommitted_edits_to_touched_files_refuse_the_apply(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    tip = head(repository)
    ref = await approved(database, {"src/taxes.py": "TAX = 0.3\n"}, "Tax three")
    write(repository, {"src/taxes.py": "TAX = 9  # local experiment\n"})
    with pytest.raises(Conflict, match=r"uncommitted edits .*src/taxes\.py"):
        await service.apply_modification(database, ref, actor="rita")
    assert head(repository) == tip
    assert (await review_service.get_modification(database, ref)).modification.status == (
        ModificationStatus.APPROVED
    )
    assert (repository / "src/taxes.py").read_text() == "TAX = 9  # local experiment\n"


async def test_a_bare_repository_gets_the_commit(
    database: Database, repository: Path, tmp_path: Path
) -> None:
    bare = make_bare(repository, tmp_path / "bare.git")
    await linked_billing(database, bare)
    ref = await approved(database, {"README.md": "# Billing v2\n"}, "Title")
    result = await service.apply_modification(database, ref, actor="rita")
    assert result.applied_commit == git(bare, "rev-parse", "main").strip()
    assert git(bare, "show", "main:README.md") == "# Billing v2\n"


async def test_a_commit_the_database_missed_is_reconciled_not_made_twice(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    ref = await approved(database, {"src/taxes.py": "TAX = 0.3\n"}, "Tax three")
    made = committed_by_a_killed_apply(repository, ref)
    fixed = await linked.reconcile(database, actor="doctor")
    assert [item.applied_commit for item in fixed] == [made.commit]
    detail = await review_service.get_modification(database, ref)
    assert detail.modification.status == ModificationStatus.APPLIED
    async with database.reading() as session:
        [row] = await AuditRepository(session).list(
            AuditFilter(event_type="modification.reconciled"), limit=5
        )
    assert row.details["commit"] == made.commit
    assert await linked.reconcile(database) == []


async def test_applying_again_after_a_lost_commit_records_it_instead(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    ref = await approved(database, {"src/taxes.py": "TAX = 0.3\n"}, "Tax three")
    made = committed_by_a_killed_apply(repository, ref)
    result = await service.apply_modification(database, ref, actor="rita")
    assert result.applied_commit == made.commit
    assert head(repository) == made.commit


async def test_auto_merge_applies_on_approval(database: Database, repository: Path) -> None:
    await linked_billing(database, repository, auto_merge_enabled=True)
    proposal = service.ModificationProposal(
        request="Tax three", modified_files={"src/taxes.py": "TAX = 0.3\n"}
    )
    created = await service.propose_modification(database, "billing", proposal, actor="agent")
    result = await service.approve_modification(database, str(created.id), actor="rita")
    assert result.status == ModificationStatus.APPLIED
    assert result.applied_commit == head(repository)


async def test_a_project_linked_only_elsewhere_is_not_applied_here(
    database: Database, repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await linked_billing(database, repository)
    ref = await approved(database, {"src/taxes.py": "TAX = 0.3\n"}, "Tax three")
    monkeypatch.setenv("PROJDECK_MACHINE", "another-machine")
    with pytest.raises(ValidationError, match="linked to a git repository on another machine"):
        await service.apply_modification(database, ref, actor="rita")


def linked_by_cli(database_url: URL, folder: Path) -> Projdeck:
    """The CLI, on a database whose project billing is linked to ``folder``
    and synced."""
    cli = Projdeck(database_url)
    cli.ok("project", "create", "--name", "billing", "--type", "api", "--owner", "alice")
    cli.ok("project", "link", "billing", str(folder))
    cli.ok("project", "sync", "billing")
    return cli


def test_cli_applies_as_a_commit_and_shows_it(database_url: URL, repository: Path) -> None:
    cli = linked_by_cli(database_url, repository)
    (repository.parent / "taxes.py").write_text("TAX = 0.3\n")
    modification_id = cli.ok(
        "mod",
        "propose",
        "billing",
        "--request",
        "Tax three",
        "--requested-by",
        "agent-7",
        "--file",
        f"src/taxes.py={repository.parent / 'taxes.py'}",
    ).strip()
    cli.ok("mod", "approve", modification_id)
    out = cli.ok("mod", "apply", modification_id)
    assert out.strip() == f"{modification_id} is now applied as commit {head(repository)}"
    shown = cli.ok("mod", "show", modification_id)
    assert re.search(rf"^commit +{head(repository)}$", shown, re.MULTILINE)


async def test_change_state_says_how_far_the_branch_moved_and_whether_it_applies(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    base = head(repository)
    clean = await approved(database, {"README.md": "# Billing v2\n"}, "Title")
    clashing = await approved(database, {"src/taxes.py": "TAX = 0.3\n"}, "Tax three")
    write(repository, {"src/taxes.py": "TAX = 0.4\n"})
    commit_all(repository, "Tax four")
    state = await git_service.change_state(database, clean)
    assert state is not None
    assert (state.branch, state.base_commit, state.moved_by, state.applies) == (
        "main",
        base,
        1,
        True,
    )
    state = await git_service.change_state(database, clashing)
    assert state is not None and state.applies is False
    assert [conflict.split(":")[0] for conflict in state.conflicts] == ["src/taxes.py"]
    applied = await service.apply_modification(database, clean, actor="rita")
    state = await git_service.change_state(database, clean)
    assert state is not None
    assert (state.applied_commit, state.applies) == (applied.applied_commit, None)


async def test_change_state_is_none_for_a_project_without_a_repository(
    database: Database,
) -> None:
    await project_service.create_project_with_settings(
        database, project_service.ProjectCreate(name="loose", type="api", owner_id="alice")
    )
    proposal = service.ModificationProposal(request="r", modified_files={"a.txt": "a\n"})
    created = await service.propose_modification(database, "loose", proposal)
    assert await git_service.change_state(database, str(created.id)) is None


def test_doctor_records_a_commit_the_database_missed_and_names_a_gone_repository(
    database_url: URL, repository: Path, tmp_path: Path
) -> None:
    cli = linked_by_cli(database_url, repository)
    (tmp_path / "taxes.py").write_text("TAX = 0.3\n")
    ref = cli.ok(
        "mod",
        "propose",
        "billing",
        "--request",
        "Tax",
        "--requested-by",
        "agent-7",
        "--file",
        f"src/taxes.py={tmp_path / 'taxes.py'}",
    ).strip()
    cli.ok("mod", "approve", ref)
    made = committed_by_a_killed_apply(repository, ref)
    report = cli.ok("doctor")
    assert "ok   repositories: 1 linked repository on this machine; recorded as applied" in report
    assert f"{ref[:8]} as {made.commit[:12]}" in report
    assert cli.json("mod", "show", ref, "--json")["applied_commit"] == made.commit
    events = cli.json("audit", "list", "--event", "modification.reconciled", "--json")
    assert [event["entity_id"] for event in events["items"]] == [ref]
    repository.rename(tmp_path / "moved-away")
    failed = cli.run("doctor")
    assert failed.returncode == 1
    assert "FAIL repositories: 1 linked repository on this machine; project 'billing':" in (
        failed.stdout
    )


def test_show_patch_and_export_mbox_are_taken_by_git_apply_and_git_am(
    database_url: URL, repository: Path, tmp_path: Path
) -> None:
    cli = linked_by_cli(database_url, repository)
    git(repository, "checkout", "-q", "-b", "agent")
    write(repository, {"src/taxes.py": "TAX = 0.3\n", "README.md": None, "new/a.txt": "a\n"})
    commit_all(repository, "Taxes and a new file\n\nBody line.")
    git(repository, "checkout", "-q", "main")
    ref = cli.ok(
        "mod",
        "propose",
        "billing",
        "--from-git",
        "agent",
        "--requested-by",
        "Agent Smith <agent@example.org>",
    ).strip()
    patch = cli.ok("mod", "show", ref, "--patch")
    git(repository, "apply", "--check", "-", stdin=patch.encode())
    cli.ok("mod", "approve", ref)
    mbox = cli.ok("mod", "export", ref, "--mbox")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repository), str(clone))
    git(
        clone,
        "-c",
        "user.name=Tess",
        "-c",
        "user.email=t@example.org",
        "am",
        "-q",
        stdin=mbox.encode(),
    )
    shown = git(clone, "log", "-1", "--format=%an <%ae>|%s|%b")
    assert shown.startswith("Agent Smith <agent@example.org>|Taxes and a new file|Body line.")
    assert f"Projdeck-Modification: {ref}" in shown
    assert "Reviewed-by: cli-test" in shown
    assert (clone / "new/a.txt").read_text() == "a\n"
    assert not (clone / "README.md").exists()
    assert cli.fails("mod", "export", ref, code=2)


async def test_revert_of_an_applied_commit_is_merged_onto_the_branch_as_it_is(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    ref = await approved(database, {"src/taxes.py": "TAX = 0.3\n", "new.txt": "n\n"}, "Tax")
    applied = await service.apply_modification(database, ref, actor="rita")
    write(repository, {"README.md": "# Billing, later\n"})
    later = commit_all(repository, "Later work")
    revert = await service.revert_modification(database, ref, actor="sam")
    assert revert.base_commit == applied.applied_commit
    assert revert.modified_files == {"src/taxes.py": "TAX = 0.2\n", "new.txt": None}
    await service.approve_modification(database, str(revert.id), actor="rita")
    result = await service.apply_modification(database, str(revert.id), actor="rita")
    assert result.status == ModificationStatus.APPLIED
    assert git(repository, "rev-parse", "HEAD~1").strip() == later
    assert (repository / "src/taxes.py").read_text() == "TAX = 0.2\n"
    assert not (repository / "new.txt").exists()
    assert (repository / "README.md").read_text() == "# Billing, later\n"
