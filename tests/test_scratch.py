"""Scratch folders for test runs (store.scratch) and the git worktrees made
in them (store.vcs.worktree): files written without going through links,
left-over folders and worktrees found and removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from store import scratch
from store.errors import ValidationError
from store.vcs import worktree
from tests.git_support import BILLING, git, make_repo


def test_files_are_written_with_their_modes_and_deletions(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    scratch.write_files(tree, {"a/b/c.txt": "one\n", "run.sh": "#!/bin/sh\n", "gone": "x"})
    scratch.write_files(tree, {"gone": None, "a/b/c.txt": "two\r\n"}, {"run.sh": 0o100755})

    assert (tree / "a/b/c.txt").read_bytes() == b"two\r\n"
    assert not (tree / "gone").exists()
    assert not os.access(tree / "run.sh", os.X_OK)
    scratch.write_files(tree, {"run.sh": "#!/bin/sh\n"}, {"run.sh": 0o100755})
    assert os.access(tree / "run.sh", os.X_OK)


def test_nothing_is_written_through_a_link_in_the_tree(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "src").symlink_to(outside)
    (tree / "link.txt").symlink_to(outside / "target.txt")

    with pytest.raises(ValidationError, match="src is a link or a file"):
        scratch.write_files(tree, {"src/evil.py": "x"})
    scratch.write_files(tree, {"link.txt": "replaced\n"})

    assert list(outside.iterdir()) == []
    assert not (tree / "link.txt").is_symlink()
    assert (tree / "link.txt").read_text() == "replaced\n"


def test_a_folder_whose_process_is_gone_is_left_over() -> None:
    mine = scratch.make("abc123")
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    other = scratch.make("def456")
    (other.folder / "owner").write_text(done.stdout)

    assert mine.name.startswith(scratch.PREFIX + "abc123-")
    assert oct(mine.folder.stat().st_mode & 0o777) == oct(0o700)
    assert scratch.left_over() == [other.folder]
    assert scratch.running() == {mine.name}


def test_a_worktree_is_detached_at_the_commit_and_removed_without_a_trace(
    tmp_path: Path,
) -> None:
    repository = make_repo(tmp_path / "repo", BILLING)
    tip = git(repository, "rev-parse", "HEAD").strip()
    git(repository, "commit", "-q", "--allow-empty", "-m", "later")
    run = scratch.make("mod1")

    worktree.add_detached(repository, commit=tip, folder=run.tree, name=run.name)

    assert (run.tree / "src/rates.py").read_text() == BILLING["src/rates.py"]
    assert git(run.tree, "rev-parse", "HEAD").strip() == tip
    assert git(run.tree, "symbolic-ref", "-q", "HEAD", check=False).strip() == ""
    assert run.name not in git(repository, "branch", "--list")
    assert worktree.ours(repository) == [run.name]

    worktree.remove(repository, name=run.name, folder=run.tree)

    assert not run.tree.exists()
    assert worktree.ours(repository) == []
    assert git(repository, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_worktrees_left_by_a_killed_run_are_pruned(tmp_path: Path) -> None:
    repository = make_repo(tmp_path / "repo", BILLING)
    tip = git(repository, "rev-parse", "HEAD").strip()
    left, going = scratch.make("left"), scratch.make("going")
    for run in (left, going):
        worktree.add_detached(repository, commit=tip, folder=run.tree, name=run.name)

    gone = worktree.prune_left(repository, keep={going.name}, within=scratch.root())

    assert gone == [left.name]
    assert not left.tree.exists() and going.tree.exists()
    assert worktree.ours(repository) == [going.name]
