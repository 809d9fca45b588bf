"""A project linked to a real git repository: link and unlink (per machine),
sync of the codebase from the branch's tip, and how far the branch has
moved since; checked against what git itself says."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from store.engine import Database
from store.errors import Conflict, InvalidTransition, NotFound, ValidationError
from store.models import AuditEntry
from store.repositories.audit import AuditFilter, AuditRepository
from store.services import git as git_service
from store.services import projects as project_service
from tests.cli import Projdeck
from tests.git_support import commit_all, git, head


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A working tree on ``main`` holding text, CRLF, an executable, a
    unicode path, a binary file, a link, an ignored file and a large file."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    git(folder, "config", "core.autocrlf", "false")
    (folder / "README.md").write_text("# Billing\n")
    (folder / "src" / "billing" / "deep").mkdir(parents=True)
    (folder / "src" / "billing" / "deep" / "rates.py").write_text("RATE = 1\n")
    (folder / "windows.txt").write_bytes(b"one\r\ntwo\r\n")
    (folder / "no-newline.txt").write_bytes(b"last line")
    script = folder / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    (folder / "docs").mkdir()
    (folder / "docs" / "café.md").write_text("crème\n")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    (folder / "big.txt").write_text("x" * 2000 + "\n")
    os.symlink("README.md", folder / "readme-link")
    (folder / ".gitignore").write_text("local.env\n")
    (folder / "local.env").write_text("TOKEN=not-for-projdeck\n")
    commit_all(folder, "First")
    return folder


async def new_project(db: Database, name: str = "billing") -> str:
    created = await project_service.create_project_with_settings(
        db, project_service.ProjectCreate(name=name, type="api", owner_id="alice")
    )
    return str(created.project.id)


async def audit_events(db: Database, project_id: str) -> list[AuditEntry]:
    async with db.reading() as session:
        return await AuditRepository(session).list(
            AuditFilter(project_id=uuid.UUID(project_id)), limit=100
        )


async def test_link_stores_the_path_and_makes_the_branch_the_projects(
    database: Database, repository: Path
) -> None:
    project_id = await new_project(database)
    git(repository, "branch", "release")
    link = await git_service.link_project(
        database, "billing", repository, branch="release", actor="bob"
    )
    assert link.path == str(repository.resolve())
    assert link.branch == "release"
    config = await project_service.get_project_full_config(database, "billing")
    assert config.settings.branch_name == "release"
    assert await git_service.linked_repository(database, project_id) == link
    [linked, _] = await audit_events(database, project_id)
    assert linked.event_type == "project.linked"
    assert linked.actor == "bob"
    assert linked.details["path"] == str(repository.resolve())
    assert linked.details["tip"] == head(repository, "release")


async def test_link_without_a_branch_keeps_the_projects_branch_when_the_repository_has_it(
    database: Database, repository: Path
) -> None:
    await new_project(database)
    link = await git_service.link_project(database, "billing", repository)
    assert link.branch == "main"


async def test_link_refuses_what_is_not_a_repository_or_not_a_branch(
    database: Database, repository: Path, tmp_path: Path
) -> None:
    await new_project(database)
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(ValidationError) as not_git:
        await git_service.link_project(database, "billing", plain)
    assert not_git.value.field == "path"
    assert "not a git repository" in not_git.value.message
    with pytest.raises(ValidationError) as no_branch:
        await git_service.link_project(database, "billing", repository, branch="nope")
    assert no_branch.value.field == "branch"
    assert "nope" in no_branch.value.message
    assert await git_service.linked_repository(database, "billing") is None


async def test_one_repository_is_linked_to_one_project_per_machine(
    database: Database, repository: Path
) -> None:
    await new_project(database, "billing")
    await new_project(database, "payments")
    await git_service.link_project(database, "billing", repository)
    with pytest.raises(Conflict, match="already linked to project 'billing'"):
        await git_service.link_project(database, "payments", repository / ".." / "repo")
    assert await git_service.linked_repository(database, "payments") is None


async def test_links_are_per_machine(
    database: Database, repository: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await new_project(database)
    await git_service.link_project(database, "billing", repository)
    monkeypatch.setenv("PROJDECK_MACHINE", "another-machine")
    assert await git_service.linked_repository(database, "billing") is None
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repository), str(clone))
    theirs = await git_service.link_project(database, "billing", clone)
    assert theirs.path == str(clone.resolve())
    monkeypatch.setenv("PROJDECK_MACHINE", "test-machine")
    mine = await git_service.linked_repository(database, "billing")
    assert mine is not None and mine.path == str(repository.resolve())


async def test_sync_stores_what_git_tracks_at_the_tip_and_counts_what_it_leaves_out(
    database: Database, repository: Path
) -> None:
    project_id = await new_project(database)
    await git_service.link_project(database, "billing", repository)
    synced = await git_service.sync_project(database, "billing", max_file_bytes=1000)
    tip = head(repository)
    assert synced.commit == tip
    config = await project_service.get_project_full_config(database, "billing")
    codebase = config.project.codebase
    assert config.project.snapshot_commit == tip
    assert sorted(codebase) == [
        ".gitignore",
        "README.md",
        "docs/café.md",
        "no-newline.txt",
        "run.sh",
        "src/billing/deep/rates.py",
        "windows.txt",
    ]
    assert codebase["windows.txt"] == "one\r\ntwo\r\n"
    assert codebase["no-newline.txt"] == "last line"
    assert "local.env" not in codebase
    left_out = dict(synced.skipped_paths)
    assert set(left_out) == {"logo.png", "big.txt", "readme-link"}
    assert sum(synced.skipped.values()) == 3
    assert synced.added == 7 and synced.removed == 0
    events = await audit_events(database, project_id)
    assert events[0].event_type == "project.synced"
    assert events[0].details["commit"] == tip
    assert events[0].details["files"] == 7


async def test_sync_again_counts_changes_and_status_says_how_far_the_branch_moved(
    database: Database, repository: Path
) -> None:
    await new_project(database)
    await git_service.link_project(database, "billing", repository)
    first = await git_service.sync_project(database, "billing")
    status = await git_service.repository_status(database, "billing")
    assert status is not None
    assert (status.snapshot_commit, status.tip, status.ahead) == (first.commit, first.commit, 0)

    (repository / "README.md").write_text("# Billing, v2\n")
    git(repository, "rm", "-q", "windows.txt")
    (repository / "NEW.md").write_text("new\n")
    commit_all(repository, "Second")
    (repository / "NEW.md").write_text("newer\n")
    third = commit_all(repository, "Third")
    status = await git_service.repository_status(database, "billing")
    assert status is not None
    assert (status.tip, status.ahead) == (third, 2)

    again = await git_service.sync_project(database, "billing")
    assert again.commit == third
    assert (again.added, again.changed, again.removed) == (1, 1, 1)


async def test_status_says_when_the_repository_is_gone(
    database: Database, repository: Path, tmp_path: Path
) -> None:
    await new_project(database)
    await git_service.link_project(database, "billing", repository)
    await git_service.sync_project(database, "billing")
    repository.rename(tmp_path / "moved")
    status = await git_service.repository_status(database, "billing")
    assert status is not None
    assert status.tip is None
    assert status.problem is not None and "not a folder" in status.problem
    with pytest.raises(ValidationError) as error:
        await git_service.sync_project(database, "billing")
    assert error.value.field == "path"


async def test_unlink_forgets_the_folder_but_keeps_the_snapshot(
    database: Database, repository: Path
) -> None:
    project_id = await new_project(database)
    await git_service.link_project(database, "billing", repository)
    synced = await git_service.sync_project(database, "billing")
    unlinked = await git_service.unlink_project(database, "billing")
    assert unlinked.path == str(repository.resolve())
    assert await git_service.linked_repository(database, "billing") is None
    assert await git_service.repository_status(database, "billing") is None
    config = await project_service.get_project_full_config(database, project_id)
    assert config.project.snapshot_commit == synced.commit
    assert (await audit_events(database, project_id))[0].event_type == "project.unlinked"
    with pytest.raises(NotFound, match="not linked"):
        await git_service.unlink_project(database, "billing")
    with pytest.raises(ValidationError, match="not linked"):
        await git_service.sync_project(database, "billing")


async def test_a_deleted_project_cannot_be_linked(database: Database, repository: Path) -> None:
    await new_project(database)
    await project_service.delete_project(database, "billing")
    with pytest.raises(InvalidTransition):
        await git_service.link_project(database, "billing", repository)


def test_cli_links_syncs_and_shows_the_snapshot(database_url: URL, repository: Path) -> None:
    cli = Projdeck(database_url)
    cli.ok("project", "create", "--name", "billing", "--type", "api", "--owner", "alice")
    out = cli.ok("project", "link", "billing", str(repository))
    assert f"linked billing to {repository.resolve()} (branch main)" in out
    out = cli.ok("project", "sync", "billing", "--max-file-size", "1000")
    tip = head(repository)
    assert f"synced billing at {tip[:12]}: 7 files (7 added, 0 changed, 0 removed)" in out
    assert "left out 3:" in out
    shown = cli.ok("project", "show", "billing")
    assert f"{tip[:12]} (the tip of main)" in shown
    (repository / "MORE.md").write_text("more\n")
    commit_all(repository, "More")
    data = cli.json("project", "show", "billing", "--json")
    assert data["snapshot_commit"] == tip
    assert data["repository"]["commits_since_snapshot"] == 1
    assert "has moved 1 commit since" in cli.ok("project", "show", "billing")
    error = cli.fails("project", "link", "billing", str(repository / "docs"))
    assert "error: path:" in error and "not a git repository" in error
    assert "unlinked billing" in cli.ok("project", "unlink", "billing")


def test_create_with_repo_makes_a_linked_project_or_nothing(
    database_url: URL, repository: Path
) -> None:
    cli = Projdeck(database_url)
    create = ("project", "create", "--name", "billing", "--type", "api", "--owner", "alice")
    error = cli.fails(*create, "--repo", str(repository), "--branch", "nope")
    assert "error: branch:" in error
    assert cli.json("project", "list", "--json")["items"] == []
    created = cli.json(*create, "--repo", str(repository), "--json")
    assert created["settings"]["branch_name"] == "main"
    shown = cli.json("project", "show", "billing", "--json")
    assert shown["repository"]["path"] == str(repository.resolve())
    events = cli.json("audit", "list", "--project", "billing", "--json")["items"]
    assert [event["event_type"] for event in events] == ["project.linked", "project.created"]
