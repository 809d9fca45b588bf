"""Linking a project to a git repository: a working tree or a bare one, the
branch and its tip, and how far the branch has moved since a commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.errors import NotFound, ValidationError
from store.vcs import Distance, branch_tip, distance, inspect_repository
from tests.git_support import commit_all, git, head, make_bare, write

FILES = {"README.md": "hello\n"}


def test_inspect_reads_the_branch_head_points_to_and_its_tip(repo: Path) -> None:
    link = inspect_repository(repo)

    assert link.path == str(repo.resolve())
    assert link.bare is False
    assert link.branch == "main"
    assert link.tip == head(repo)


def test_inspect_gives_the_resolved_top_folder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.parent)

    assert inspect_repository("project/./").path == str(repo.resolve())


def test_inspect_names_another_branch_when_asked(repo: Path) -> None:
    git(repo, "branch", "release")
    write(repo, {"README.md": "changed\n"})
    commit_all(repo)

    link = inspect_repository(repo, branch="release")

    assert link.branch == "release"
    assert link.tip == head(repo, "release")
    assert link.tip != head(repo)


def test_inspect_opens_a_bare_repository(repo: Path, tmp_path: Path) -> None:
    bare = make_bare(repo, tmp_path / "bare.git")

    link = inspect_repository(bare)

    assert link.bare is True
    assert link.path == str(bare.resolve())
    assert (link.branch, link.tip) == ("main", head(repo))


def test_inspect_refuses_a_folder_that_is_not_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()

    with pytest.raises(ValidationError) as caught:
        inspect_repository(tmp_path / "plain")

    assert caught.value.field == "path"
    assert "is not a git repository" in caught.value.problem


def test_inspect_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        inspect_repository(tmp_path / "nowhere")

    assert caught.value.field == "path"
    assert "is not a folder" in caught.value.problem


def test_inspect_refuses_a_folder_inside_a_working_tree(repo: Path) -> None:
    (repo / "src").mkdir()

    with pytest.raises(ValidationError) as caught:
        inspect_repository(repo / "src")

    assert caught.value.field == "path"


def test_inspect_refuses_a_missing_branch(repo: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        inspect_repository(repo, branch="nope")

    assert caught.value.field == "branch"
    assert "no branch 'nope'" in caught.value.problem


@pytest.mark.parametrize("name", ["../main", "a b", "x\ny", "", "main.lock"])
def test_inspect_refuses_a_branch_name_git_would_refuse(repo: Path, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        inspect_repository(repo, branch=name)

    assert caught.value.field == "branch"


def test_inspect_without_a_branch_refuses_a_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "trunk", "empty")

    with pytest.raises(ValidationError) as caught:
        inspect_repository(tmp_path / "empty")

    assert caught.value.field == "branch"
    assert "'trunk', which has no commits yet" in caught.value.problem


def test_inspect_without_a_branch_refuses_a_detached_head(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")

    with pytest.raises(ValidationError) as caught:
        inspect_repository(repo)

    assert caught.value.field == "branch"
    assert "detached" in caught.value.problem
    assert inspect_repository(repo, branch="main").tip == head(repo)


def test_branch_tip_follows_new_commits(repo: Path) -> None:
    before = branch_tip(repo, branch="main")
    write(repo, {"new.txt": "new\n"})
    after = commit_all(repo)

    assert branch_tip(repo, branch="main") == after != before


def test_distance_counts_commits_since_a_commit(repo: Path) -> None:
    since = head(repo)
    for number in range(3):
        write(repo, {f"file{number}.txt": "x\n"})
        commit_all(repo)

    assert distance(repo, since=since, branch="main") == Distance(ahead=3, behind=0)


def test_distance_counts_rewritten_history_as_behind(repo: Path) -> None:
    write(repo, {"a.txt": "a\n"})
    proposal_commit = commit_all(repo)
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    write(repo, {"b.txt": "b\n"})
    commit_all(repo)

    moved = distance(repo, since=proposal_commit, branch="main")

    assert (moved.ahead, moved.behind) == (1, 1)


def test_distance_says_when_the_commit_is_gone(repo: Path) -> None:
    with pytest.raises(NotFound) as caught:
        distance(repo, since="0123456789abcdef0123456789abcdef01234567", branch="main")

    assert "commit 0123456789ab is no longer in the repository" in str(caught.value)
