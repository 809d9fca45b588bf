"""The errors of the git layer, in the store's vocabulary: a change that
conflicts with the branch, a working tree with edits in the way, a branch
that already holds the change, a commit its working tree could not follow."""

from __future__ import annotations

from dataclasses import dataclass

from store.errors import Conflict, StoreError

_LISTED = 10


@dataclass(frozen=True)
class ConflictHunk:
    """One region of a file that the branch and the change both rewrote:
    where it starts in the branch's version (1-based), and each side's lines."""

    line: int
    branch_text: str
    change_text: str


@dataclass(frozen=True)
class ConflictedFile:
    """A file the change cannot be merged into, why, and the hunks in
    conflict (none when the whole file is: deleted on one side, binary)."""

    path: str
    reason: str
    hunks: tuple[ConflictHunk, ...] = ()

    def describe(self) -> str:
        lines = ", ".join(str(hunk.line) for hunk in self.hunks)
        where = f" (line {lines})" if len(self.hunks) == 1 else f" (lines {lines})"
        return f"{self.path}: {self.reason}{where if self.hunks else ''}"


def _listed(items: list[str]) -> str:
    shown = "; ".join(items[:_LISTED])
    more = len(items) - _LISTED
    return shown + (f"; and {more} more" if more > 0 else "")


class MergeConflict(Conflict):
    """The branch moved since the change's base, and the change collides
    with what moved it; nothing was written to the branch."""

    def __init__(self, branch: str, files: tuple[ConflictedFile, ...]) -> None:
        self.branch = branch
        self.files = files
        super().__init__(
            f"the change conflicts with commits on branch {branch!r} since its base: "
            + _listed([item.describe() for item in files])
        )


class DirtyWorktree(Conflict):
    """A working tree with the branch checked out has uncommitted edits to
    files the change touches; nothing was written."""

    def __init__(self, worktree: str, files: tuple[str, ...]) -> None:
        self.worktree = worktree
        self.files = files
        super().__init__(
            f"the working tree {worktree} has uncommitted edits to files this change "
            f"touches: {_listed(list(files))}; commit or stash them first"
        )


class NothingToCommit(Conflict):
    """The branch already holds everything the change would write."""

    def __init__(self, branch: str) -> None:
        self.branch = branch
        super().__init__(f"branch {branch!r} already holds this change; there is nothing to commit")


class WorktreeNotUpdated(StoreError):
    """The commit is on the branch, but a working tree with the branch
    checked out could not be brought up to it (its files show the change
    as undone until it is: ``git checkout -- <files>`` there)."""

    def __init__(self, commit: str, worktree: str, problem: str) -> None:
        self.commit = commit
        self.worktree = worktree
        super().__init__(
            f"committed {commit[:12]}, but the working tree {worktree} could not be "
            f"updated to it: {problem}"
        )
