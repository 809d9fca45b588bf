"""Proposing a change from git: an agent's branch or commit range, a working
tree's uncommitted work, or a patch; the modification records the commit it
was made against, and the request and author default to the commit's."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from store.engine import Database
from store.errors import ValidationError
from store.repositories.audit import AuditFilter, AuditRepository
from store.services import git as git_service
from store.services import projects as project_service
from store.services import review as review_service
from tests.cli import Projdeck
from tests.git_support import (
    commit_all,
    commit_as_agent,
    git,
    head,
    linked_billing,
    make_repo,
    write,
)

FILES = {
    "README.md": "# Billing\n",
    "src/rates.py": "RATE = 1\n",
    "old_name.txt": "moving\n",
    "gone.txt": "to delete\n",
}


def agent_branch(repository: Path) -> str:
    """An agent's branch off main with two commits: an edit, a new nested
    file, a deletion, a rename and a new executable script."""
    git(repository, "checkout", "-q", "-b", "agent/rates")
    write(repository, {"src/rates.py": "RATE = 2\n", "src/deep/new/table.py": "T = []\n"})
    commit_all(repository, "Raise the rate")
    write(repository, {"gone.txt": None, "tool.sh": "#!/bin/sh\n"})
    git(repository, "mv", "old_name.txt", "new_name.txt")
    (repository / "tool.sh").chmod(0o755)
    tip = commit_as_agent(repository, "Rates from the table\n\nThe table replaces the constant.")
    git(repository, "checkout", "-q", "main")
    return tip


async def test_a_branch_is_proposed_as_its_change_since_it_left_main(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    base = head(repository)
    agent_branch(repository)
    write(repository, {"README.md": "# Billing, moved on\n"})
    commit_all(repository, "Main moves on")

    created = await git_service.propose_from_git(
        database, "billing", git_service.GitSource(rev="agent/rates")
    )
    assert created.base_commit == base
    assert created.request == "Rates from the table\n\nThe table replaces the constant."
    assert created.requested_by == "Agent Smith <agent@example.org>"
    assert created.modified_files == {
        "src/rates.py": "RATE = 2\n",
        "src/deep/new/table.py": "T = []\n",
        "gone.txt": None,
        "old_name.txt": None,
        "new_name.txt": "moving\n",
        "tool.sh": "#!/bin/sh\n",
    }
    assert created.file_modes is not None and created.file_modes["tool.sh"] == 0o100755
    # README moved on main only: not part of the agent's change.
    assert "README.md" not in created.modified_files
    async with database.reading() as session:
        [proposed] = await AuditRepository(session).list(
            AuditFilter(event_type="modification.proposed"), limit=5
        )
    assert proposed.details["base_commit"] == base
    assert proposed.details["source"] == {"rev": "agent/rates"}


async def test_a_range_is_proposed_against_its_first_commit(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    agent_branch(repository)
    first = head(repository, "agent/rates~1")
    created = await git_service.propose_from_git(
        database,
        "billing",
        git_service.GitSource(rev="agent/rates~1..agent/rates"),
        request="Only the second commit",
    )
    assert created.base_commit == first
    assert created.request == "Only the second commit"
    assert "src/rates.py" not in created.modified_files
    assert created.modified_files["gone.txt"] is None


async def test_a_worktrees_uncommitted_work_is_proposed_against_its_head(
    database: Database, repository: Path, tmp_path: Path
) -> None:
    await linked_billing(database, repository)
    worktree = tmp_path / "agent-worktree"
    git(repository, "worktree", "add", "-q", "-b", "agent/wt", str(worktree))
    write(worktree, {"src/rates.py": "RATE = 3\n", "notes/plan.md": "plan\n"})
    created = await git_service.propose_from_git(
        database,
        "billing",
        git_service.GitSource(worktree=str(worktree)),
        request="Rate three",
        requested_by="worktree-agent",
    )
    assert created.base_commit == head(repository)
    assert created.modified_files == {"src/rates.py": "RATE = 3\n", "notes/plan.md": "plan\n"}
    assert created.requested_by == "worktree-agent"


async def test_a_worktree_of_another_repository_is_refused(
    database: Database, repository: Path, tmp_path: Path
) -> None:
    await linked_billing(database, repository)
    other = make_repo(tmp_path / "other", {"a.txt": "a\n"})
    write(other, {"a.txt": "b\n"})
    with pytest.raises(ValidationError) as error:
        await git_service.propose_from_git(
            database, "billing", git_service.GitSource(worktree=str(other)), request="x"
        )
    assert error.value.field == "worktree"
    assert "not a working tree of the linked repository" in error.value.message


async def test_an_unlinked_project_takes_a_patch_against_its_codebase_only(
    database: Database, repository: Path
) -> None:
    await project_service.create_project_with_settings(
        database,
        project_service.ProjectCreate(
            name="loose", type="api", owner_id="alice", codebase={"a.txt": "one\ntwo\n"}
        ),
    )
    patch = (
        "diff --git a/a.txt b/a.txt\n"
        "--- a/a.txt\n+++ b/a.txt\n"
        "@@ -1,2 +1,2 @@\n one\n-two\n+three\n"
    )
    created = await git_service.propose_from_git(
        database, "loose", git_service.GitSource(patch=patch), request="Three"
    )
    assert created.modified_files == {"a.txt": "one\nthree\n"}
    assert created.base_commit is None
    with pytest.raises(ValidationError, match="not linked"):
        await git_service.propose_from_git(
            database, "loose", git_service.GitSource(rev="main"), request="x"
        )


async def test_a_patch_that_does_not_apply_stores_nothing(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    patch = (
        "diff --git a/src/rates.py b/src/rates.py\n"
        "--- a/src/rates.py\n+++ b/src/rates.py\n"
        "@@ -1 +1 @@\n-RATE = 7\n+RATE = 8\n"
    )
    with pytest.raises(ValidationError) as error:
        await git_service.propose_from_git(
            database, "billing", git_service.GitSource(patch=patch), request="x"
        )
    assert error.value.field == "patch"
    assert "src/rates.py" in error.value.message
    page = await review_service.list_modifications(database, project_ref="billing")
    assert page.items == []


def test_cli_proposes_a_git_diff_and_a_format_patch_email(
    database_url: URL, repository: Path
) -> None:
    cli = Projdeck(database_url)
    cli.ok("project", "create", "--name", "billing", "--type", "api", "--owner", "alice")
    cli.ok("project", "link", "billing", str(repository))
    write(repository, {"src/rates.py": "RATE = 5\n"})
    diff = git(repository, "diff")
    git(repository, "checkout", "-q", "--", ".")
    modification_id = cli.ok(
        "mod", "propose", "billing", "--patch", "-", "--request", "Rate five", input=diff
    ).strip()
    shown = cli.json("mod", "show", modification_id, "--json")
    assert shown["modified_files"] == {"src/rates.py": "RATE = 5\n"}
    assert shown["base_commit"] == head(repository)

    tip = agent_branch(repository)
    email = git(repository, "format-patch", "--stdout", f"{tip}~1..{tip}")
    data = cli.json("mod", "propose", "billing", "--patch", "-", "--json", input=email)
    assert data["request"].startswith("Rates from the table")
    assert data["requested_by"] == "Agent Smith <agent@example.org>"

    error = cli.fails("mod", "propose", "billing", "--from-git", "no-such-branch")
    assert "error: rev:" in error
    usage = cli.fails("mod", "propose", "billing", "--from-git", "main", "--file", "a=b", code=2)
    assert "--from-git gives the files; drop --file" in usage


async def test_the_change_is_reviewed_against_the_commit_it_was_made_against(
    database: Database, repository: Path
) -> None:
    await linked_billing(database, repository)
    agent_branch(repository)
    write(repository, {"src/rates.py": "RATE = 1\nEXTRA = True\n"})
    commit_all(repository, "Main moves on")
    await git_service.sync_project(database, "billing")
    created = await git_service.propose_from_git(
        database, "billing", git_service.GitSource(rev="agent/rates")
    )
    detail = await review_service.get_modification(database, str(created.id))
    assert detail.against == "base commit"
    [rates] = [change for change in detail.files if change.path == "src/rates.py"]
    # Not the snapshot's newer content: the lines the agent changed.
    assert (rates.before, rates.after) == ("RATE = 1\n", "RATE = 2\n")
    assert (rates.added, rates.removed) == (1, 1)
