"""Proposals taken from git: a branch, a commit or a range of the linked
repository (against the right base), and the uncommitted work of an
agent's working tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from store.errors import ValidationError
from store.vcs import change_from_git, change_from_worktree
from tests.git_support import commit_all, commit_as_agent, git, head, make_bare, write

LONG = "".join(f"def f{number}():\n    return {number}\n" for number in range(10))
FILES = {
    "app.py": "print('hi')\n",
    "lib/util.py": LONG,
    "docs/readme.md": "docs\n",
    "obsolete.txt": "bye\n",
    "tool.sh": "#!/bin/sh\n",
    ".gitignore": "*.log\n",
}


@pytest.fixture
def forked(repo: Path) -> tuple[Path, str]:
    """An agent branch of two commits, and main moved on since; gives the
    fork point."""
    fork = head(repo)
    git(repo, "checkout", "-q", "-b", "agent")
    write(repo, {"app.py": "print('hello')\n"})
    commit_all(repo, "Say hello")
    git(repo, "mv", "lib/util.py", "lib/helpers.py")
    write(repo, {"lib/helpers.py": LONG.replace("return 3", "return 33"), "obsolete.txt": None})
    write(repo, {"new/feature.py": "FEATURE = True\n"})
    (repo / "tool.sh").chmod(0o755)
    commit_as_agent(repo, "Add the feature\n\nBecause the issue asked.")
    git(repo, "checkout", "-q", "main")
    write(repo, {"docs/readme.md": "better docs\n"})
    commit_all(repo, "Improve the docs")
    return repo, fork


def test_a_branch_gives_what_it_changed_since_it_left_the_branch(forked: tuple[Path, str]) -> None:
    repo, fork = forked

    change = change_from_git(repo, rev="agent", branch="main")

    assert change.base == fork
    assert change.files == {
        "app.py": "print('hello')\n",
        "lib/util.py": None,
        "lib/helpers.py": LONG.replace("return 3", "return 33"),
        "obsolete.txt": None,
        "new/feature.py": "FEATURE = True\n",
        "tool.sh": "#!/bin/sh\n",
    }
    assert change.renames == {"lib/helpers.py": "lib/util.py"}
    assert change.modes == {
        "lib/helpers.py": 0o100644,
        "new/feature.py": 0o100644,
        "tool.sh": 0o100755,
    }
    assert (change.subject, change.body) == ("Add the feature", "Because the issue asked.")
    assert (change.author_name, change.author_email) == ("Agent Smith", "agent@example.org")


def test_a_commit_gives_its_changes_since_its_merge_base(forked: tuple[Path, str]) -> None:
    repo, fork = forked

    change = change_from_git(repo, rev=head(repo, "agent~1"), branch="main")

    assert change.base == fork
    assert change.files == {"app.py": "print('hello')\n"}
    assert change.subject == "Say hello"


def test_a_range_gives_the_diff_between_its_ends_based_on_its_start(
    forked: tuple[Path, str],
) -> None:
    repo, _fork = forked

    change = change_from_git(repo, rev="agent~1..agent", branch="main")

    assert change.base == head(repo, "agent~1")
    assert "app.py" not in change.files
    assert change.files["new/feature.py"] == "FEATURE = True\n"
    assert change.subject == "Add the feature"


def test_a_symmetric_range_starts_from_the_merge_base(forked: tuple[Path, str]) -> None:
    repo, fork = forked

    change = change_from_git(repo, rev="main...agent", branch="main")

    assert change.base == fork
    assert change == change_from_git(repo, rev="agent", branch="main")


def test_a_bare_repository_gives_the_same_change(forked: tuple[Path, str], tmp_path: Path) -> None:
    repo, _fork = forked
    git(repo, "branch", "-f", "keep", "agent")
    bare = make_bare(repo, tmp_path / "bare.git")
    git(bare, "branch", "-f", "agent", head(repo, "agent"))

    assert change_from_git(bare, rev="agent", branch="main") == change_from_git(
        repo, rev="agent", branch="main"
    )


@pytest.mark.parametrize("rev", ["no-such-branch", "agent..nowhere", "deadbeef" * 5, "-p", "a\nb"])
def test_a_rev_that_names_no_commit_is_refused(forked: tuple[Path, str], rev: str) -> None:
    repo, _fork = forked

    with pytest.raises(ValidationError) as caught:
        change_from_git(repo, rev=rev, branch="main")

    assert caught.value.field == "rev"


def test_a_rev_already_on_the_branch_is_refused(forked: tuple[Path, str]) -> None:
    repo, _fork = forked

    with pytest.raises(ValidationError, match="is already on branch 'main'"):
        change_from_git(repo, rev="main~1", branch="main")


def test_a_rev_with_unrelated_history_is_refused(repo: Path) -> None:
    git(repo, "checkout", "-q", "--orphan", "stranger")
    commit_all(repo, "unrelated")

    with pytest.raises(ValidationError, match="shares no history with branch 'main'"):
        change_from_git(repo, rev="stranger", branch="main")


def test_binary_files_and_symlinks_in_a_rev_are_refused_by_name(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "binary")
    write(repo, {"logo.png": b"\x89PNG\x00\x00"})
    commit_all(repo)
    git(repo, "checkout", "-q", "-b", "linked", "main")
    os.symlink("/etc/passwd", repo / "passwords")
    commit_all(repo)

    with pytest.raises(ValidationError, match=r"'logo\.png' is a binary file"):
        change_from_git(repo, rev="binary", branch="main")
    with pytest.raises(ValidationError, match="'passwords' is a symbolic link"):
        change_from_git(repo, rev="linked", branch="main")


@pytest.fixture
def worktree(repo: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "agent-worktree"
    git(repo, "worktree", "add", "-q", str(folder), "-b", "agent")
    return folder


def test_a_worktree_gives_its_staged_unstaged_and_new_files(repo: Path, worktree: Path) -> None:
    write(worktree, {"app.py": "print('staged')\n"})
    git(worktree, "add", "app.py")
    write(worktree, {"lib/util.py": LONG + "# unstaged\n", "obsolete.txt": None})
    write(worktree, {"new/dir/file.py": "NEW = 1\n", "win.txt": b"a\r\nb\r\n"})
    write(worktree, {"debug.log": "ignored\n"})
    git(worktree, "mv", "docs/readme.md", "docs/README.md")
    (worktree / "tool.sh").chmod(0o755)

    change = change_from_worktree(worktree)

    assert change.base == head(repo)
    assert change.files == {
        "app.py": "print('staged')\n",
        "docs/README.md": "docs\n",
        "docs/readme.md": None,
        "lib/util.py": LONG + "# unstaged\n",
        "new/dir/file.py": "NEW = 1\n",
        "obsolete.txt": None,
        "tool.sh": "#!/bin/sh\n",
        "win.txt": "a\r\nb\r\n",
    }
    assert change.modes == {
        "docs/README.md": 0o100644,
        "new/dir/file.py": 0o100644,
        "tool.sh": 0o100755,
        "win.txt": 0o100644,
    }
    assert change.renames == {"docs/README.md": "docs/readme.md"}


def test_a_worktree_symlink_is_refused_not_followed(worktree: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private\n")
    os.symlink(secret, worktree / "innocent.txt")

    with pytest.raises(ValidationError) as caught:
        change_from_worktree(worktree)

    assert caught.value.field == "worktree"
    assert "'innocent.txt' is a symbolic link" in caught.value.problem


def test_a_folder_replaced_by_a_symlink_is_refused_not_followed(
    worktree: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "util.py").write_text("stolen\n")
    for path in (worktree / "lib").iterdir():
        path.unlink()
    (worktree / "lib").rmdir()
    os.symlink(elsewhere, worktree / "lib")

    with pytest.raises(ValidationError, match="'lib' is a symbolic link"):
        change_from_worktree(worktree)


def test_a_clean_worktree_has_nothing_to_propose(worktree: Path) -> None:
    with pytest.raises(ValidationError, match="has no uncommitted changes"):
        change_from_worktree(worktree)


def test_a_bare_repository_is_not_a_worktree(repo: Path, tmp_path: Path) -> None:
    bare = make_bare(repo, tmp_path / "bare.git")

    with pytest.raises(ValidationError) as caught:
        change_from_worktree(bare)

    assert caught.value.field == "worktree"
