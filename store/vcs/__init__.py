"""The git layer: linking a project to a local repository, reading what it
tracks, taking proposed changes from patches, branches and working trees,
and applying a change as a commit. Services call it; nothing else does.

Built on libgit2 (pygit2); no ``git`` program is run. Every function takes
the repository's path first and keyword arguments after it, returns plain
frozen dataclasses and raises the store's errors (``store.errors``, and
those of ``store.vcs.errors``)."""

from store.vcs.change import Change
from store.vcs.commits import (
    Applicability,
    Applied,
    AppliedCommit,
    OnTip,
    applied_commits,
    catch_up,
    change_on_tip,
    check_applies,
    commit_change,
    commit_message,
)
from store.vcs.errors import (
    ConflictedFile,
    ConflictHunk,
    DirtyWorktree,
    MergeConflict,
    NothingToCommit,
    WorktreeNotUpdated,
)
from store.vcs.identity import Identity, named
from store.vcs.patches import MAX_PATCH_BYTES, change_from_patch, format_mbox, format_patch
from store.vcs.repository import (
    CommitFiles,
    Distance,
    RepositoryLink,
    branch_tip,
    configured_email,
    distance,
    files_at,
    has_commit,
    inspect_repository,
    parent_of,
)
from store.vcs.snapshot import Skipped, SkipReason, Snapshot, read_snapshot
from store.vcs.sources import change_from_git, change_from_worktree

__all__ = [
    "MAX_PATCH_BYTES",
    "Applicability",
    "Applied",
    "AppliedCommit",
    "Change",
    "CommitFiles",
    "ConflictHunk",
    "ConflictedFile",
    "DirtyWorktree",
    "Distance",
    "Identity",
    "MergeConflict",
    "NothingToCommit",
    "OnTip",
    "RepositoryLink",
    "SkipReason",
    "Skipped",
    "Snapshot",
    "WorktreeNotUpdated",
    "applied_commits",
    "branch_tip",
    "catch_up",
    "change_from_git",
    "change_from_patch",
    "change_from_worktree",
    "change_on_tip",
    "check_applies",
    "commit_change",
    "commit_message",
    "configured_email",
    "distance",
    "files_at",
    "format_mbox",
    "format_patch",
    "has_commit",
    "inspect_repository",
    "named",
    "parent_of",
    "read_snapshot",
]
