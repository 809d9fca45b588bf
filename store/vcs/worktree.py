"""Scratch checkouts of a linked repository: a git worktree whose HEAD is
detached at a commit (a test run builds a modification there), and their
removal, also of those a killed process left behind.

libgit2 makes a worktree on a branch only; the branch made for it is
deleted as soon as the worktree's HEAD is detached, so what is left in the
repository while the run lasts is the worktree alone (``git worktree list``
shows it, named ``projdeck-test-...``), and nothing once it is removed."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pygit2
from pygit2.enums import CheckoutStrategy

from store.errors import StoreError
from store.vcs.repository import open_repository, resolve_commit

PREFIX = "projdeck-test-"


def add_detached(
    path: str | os.PathLike[str],
    *,
    commit: str,
    folder: Path,
    name: str,
    tree: str | None = None,
) -> None:
    """A worktree of the repository at ``path`` in ``folder`` (which must
    not exist yet), named ``name`` (starting with PREFIX), its HEAD detached
    at ``commit`` and its files checked out: those of ``tree`` if given (a
    change applied on the commit, left uncommitted), else the commit's."""
    if not name.startswith(PREFIX):
        raise ValueError(f"worktree names start with {PREFIX!r}")
    repo = open_repository(path)
    target = resolve_commit(repo, commit, field="commit")
    branch = repo.branches.local.create(name, target)
    try:
        repo.add_worktree(name, str(folder), branch)
        inside = pygit2.Repository(str(folder))
        inside.set_head(target.id)
        if tree is not None:
            inside.checkout_tree(inside[tree], strategy=CheckoutStrategy.FORCE)  # type: ignore[no-untyped-call]
    except pygit2.GitError as error:
        raise StoreError(f"could not make a worktree of {path} at {commit[:12]}: {error}") from None
    finally:
        with contextlib.suppress(pygit2.GitError, KeyError):
            repo.branches.local.delete(name)


def remove(path: str | os.PathLike[str], *, name: str, folder: Path) -> None:
    """Remove the worktree ``name`` (its folder and git's record of it, and
    the branch made for it if a crash left it)."""
    shutil.rmtree(folder, ignore_errors=True)
    repo = open_repository(path)
    _forget(repo, name)


def _forget(repo: pygit2.Repository, name: str) -> None:
    with contextlib.suppress(pygit2.GitError, KeyError):
        repo.lookup_worktree(name).prune(True)
    with contextlib.suppress(pygit2.GitError, KeyError):
        repo.branches.local.delete(name)


def ours(path: str | os.PathLike[str]) -> list[str]:
    """The names of projdeck's scratch worktrees the repository records."""
    repo = open_repository(path)
    return sorted(name for name in repo.list_worktrees() if name.startswith(PREFIX))


def prune_left(path: str | os.PathLike[str], *, keep: set[str], within: Path) -> list[str]:
    """Forget projdeck's worktrees of the repository but those in ``keep``
    (runs still going), removing their folders when they are inside
    ``within`` (the scratch folders); the names forgotten."""
    repo = open_repository(path)
    gone = []
    for name in repo.list_worktrees():
        if not name.startswith(PREFIX) or name in keep:
            continue
        with contextlib.suppress(pygit2.GitError, KeyError):
            folder = Path(repo.lookup_worktree(name).path).resolve()
            if folder.is_relative_to(within.resolve()):
                shutil.rmtree(folder, ignore_errors=True)
        _forget(repo, name)
        gone.append(name)
    return gone
