"""Applying a change as a commit on a branch: on its base, or merged three
ways onto a branch that moved; the branch moved only from the tip it was
read at; working trees with the branch checked out brought along. Also
the commit message with its trailers, and the commits that carry them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import CheckoutStrategy, FileStatus, RepositoryState, SortMode

from store.errors import Conflict, ValidationError
from store.validation import has_control
from store.vcs import errors
from store.vcs.change import Change, checked, tree_with_change
from store.vcs.identity import Identity, checked_identity, signature
from store.vcs.repository import (
    branch_reference,
    open_repository,
    resolve_commit,
    tip_of,
    where,
)
from store.vcs.sources import split_message

TRAILER = "Projdeck-Modification"
REVIEWED_BY = "Reviewed-by"
SUBJECT_LIMIT = 72
_MAX_MESSAGE = 1024 * 1024


@dataclass(frozen=True)
class Applied:
    """The commit made, its parent (the branch's tip before), and whether
    the change was merged onto a branch that had moved since its base."""

    commit: str
    parent: str
    merged: bool


@dataclass(frozen=True)
class Applicability:
    """Whether the change would commit cleanly now: how many commits the
    branch has gained since the base, the files that would conflict, the
    files with uncommitted edits in a working tree in the way, and whether
    the branch already holds the change."""

    clean: bool
    moved_by: int
    conflicts: tuple[errors.ConflictedFile, ...] = ()
    dirty: tuple[str, ...] = ()
    already_applied: bool = False


@dataclass(frozen=True)
class AppliedCommit:
    modification_id: str
    commit: str


@dataclass
class _Plan:
    """What committing a change would do, worked out before writing anything
    but objects: the tree to commit (None on conflicts) and what is in the way."""

    reference: pygit2.Reference
    branch: str
    tip: pygit2.Oid
    tree: pygit2.Oid | None
    merged: bool
    conflicts: tuple[errors.ConflictedFile, ...]
    touched: list[str]
    checkouts: list[pygit2.Repository]
    dirty: list[tuple[str, tuple[str, ...]]]


def _one_line(field: str, value: object, *, limit: int = 255) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must not be empty")
    if len(value) > limit or has_control(value):
        raise ValidationError(field, f"must be one line of at most {limit} characters")
    return value.strip()


def _shorten(line: str) -> str:
    if len(line) <= SUBJECT_LIMIT:
        return line
    cut = line[: SUBJECT_LIMIT - 3]
    if " " in cut[SUBJECT_LIMIT // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-") + "..."


def _tame(line: str) -> str:
    # A line starting "---" ends a message where trailers are looked for
    # (libgit2 and git both stop there): the request must not hide ours.
    return " " + line if line.startswith("---") else line


def commit_message(request: str, *, modification_id: str, reviewer: str) -> str:
    """The message of a modification's commit: the request's first line as
    the subject (shortened to 72 characters at a word, the full line then
    opens the body), the rest as the body, then the trailers
    ``Projdeck-Modification: <id>`` and ``Reviewed-by: <reviewer>``."""
    if not isinstance(request, str) or not request.strip():
        raise ValidationError("request", "must not be empty")
    if "\x00" in request or len(request) > _MAX_MESSAGE:
        raise ValidationError("request", "must be text without NUL, at most 1 MiB")
    ident = _one_line("modification_id", modification_id)
    who = _one_line("reviewer", reviewer)
    first, _newline, rest = request.strip().replace("\r\n", "\n").partition("\n")
    first = " ".join("".join(" " if has_control(c) else c for c in first).split())
    subject = _shorten(first)
    paragraphs = [first] if subject != first else []
    if rest.strip():
        paragraphs.append("\n".join(_tame(line.rstrip()) for line in rest.strip().splitlines()))
    body = "".join(f"{paragraph}\n\n" for paragraph in paragraphs)
    return f"{subject}\n\n{body}{TRAILER}: {ident}\n{REVIEWED_BY}: {who}\n"


def _common(repo: pygit2.Repository) -> pygit2.Repository:
    """The main repository of a linked working tree (itself otherwise)."""
    pointer = Path(repo.path, "commondir")
    if not pointer.is_file():
        return repo
    common = (Path(repo.path) / pointer.read_text(encoding="utf-8").strip()).resolve()
    return pygit2.Repository(str(common))


def _checkouts(repo: pygit2.Repository, refname: str) -> list[pygit2.Repository]:
    """Every working tree (the main one, linked ones) whose HEAD is ``refname``."""
    common = _common(repo)
    candidates = [] if common.is_bare else [common]
    for name in common.list_worktrees():
        try:
            candidates.append(pygit2.Repository(common.lookup_worktree(name).path))
        except (pygit2.GitError, KeyError, ValueError):
            continue  # a working tree deleted without `git worktree prune`
    found: dict[str, pygit2.Repository] = {}
    for candidate in candidates:
        if candidate.workdir is None:
            continue
        head = candidate.lookup_reference("HEAD").target
        if head == refname:
            found.setdefault(os.path.realpath(candidate.workdir), candidate)
    return list(found.values())


def _in_the_way(root: str, path: str, touched: set[str]) -> bool:
    """Whether something git does not track blocks writing ``path``: a file
    or link where one of its folders must go."""
    parts = path.split("/")
    for end in range(1, len(parts)):
        prefix = "/".join(parts[:end])
        full = os.path.join(root, prefix)
        blocking = os.path.islink(full) or (os.path.lexists(full) and not os.path.isdir(full))
        if prefix not in touched and blocking:
            return True
    return os.path.lexists(os.path.join(root, path))


def _dirty(checkout: pygit2.Repository, paths: list[str]) -> tuple[str, ...]:
    """The touched files a working tree holds edits to (staged or not), or
    has untracked or ignored files in the way of."""
    state = checkout.state()
    if state != RepositoryState.NONE:
        raise Conflict(
            f"the working tree {where(checkout)} is in the middle of a "
            f"{state.name.lower().replace('_', ' ')}; finish or abort it first"
        )
    root = checkout.workdir or ""
    touched = set(paths)
    dirty = []
    for path in paths:
        try:
            flags = checkout.status_file(path)
        except KeyError:  # neither tracked nor on disk, unless its folder is a file
            if _in_the_way(root, path, touched):
                dirty.append(path)
            continue
        except (pygit2.GitError, ValueError):  # a folder where the file goes
            dirty.append(path)
            continue
        if flags != FileStatus.CURRENT:
            dirty.append(path)
    return tuple(dirty)


def _hunks(merged: str) -> tuple[errors.ConflictHunk, ...]:
    """The conflict regions of a file merged with markers, with the line
    where each starts in the branch's version."""
    hunks: list[errors.ConflictHunk] = []
    line_number = 0
    state = ""
    start = 0
    ours: list[str] = []
    theirs: list[str] = []
    for line in merged.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if not state and line.startswith("<<<<<<<"):
            state, start, ours, theirs = "branch", line_number + 1, [], []
        elif state == "branch" and line.startswith("|||||||"):
            state = "ancestor"
        elif state in ("branch", "ancestor") and bare == "=======":
            state = "change"
        elif state == "change" and line.startswith(">>>>>>>"):
            hunks.append(errors.ConflictHunk(start, "".join(ours), "".join(theirs)))
            state = ""
        elif state == "branch":
            ours.append(line)
            line_number += 1
        elif state == "change":
            theirs.append(line)
        elif not state:
            line_number += 1
    return tuple(hunks)


def _conflicts(repo: pygit2.Repository, index: pygit2.Index) -> tuple[errors.ConflictedFile, ...]:
    assert index.conflicts is not None
    files: list[errors.ConflictedFile] = []
    for ancestor, ours, theirs in index.conflicts:
        entry = ours or theirs or ancestor
        assert entry is not None
        path = str(entry.path)
        if ours is None:
            reason = "deleted on the branch, changed by this change"
        elif theirs is None:
            reason = "changed on the branch, deleted by this change"
        else:
            reason = "changed on both sides" if ancestor else "added on both sides, differently"
            try:
                merged = repo.merge_file_from_index(ancestor, ours, theirs, use_deprecated=False)
            except UnicodeDecodeError:
                files.append(errors.ConflictedFile(path, f"{reason} (not UTF-8 text)"))
                continue
            hunks = _hunks(merged.contents)
            if not hunks and ours.mode != theirs.mode:
                reason = "its mode changed on both sides"
            files.append(errors.ConflictedFile(path, reason, hunks))
            continue
        files.append(errors.ConflictedFile(path, reason))
    return tuple(sorted(files, key=lambda item: item.path))


def _touched(repo: pygit2.Repository, old: pygit2.Oid, new: pygit2.Oid) -> list[str]:
    diff = repo[old].peel(pygit2.Tree).diff_to_tree(repo[new].peel(pygit2.Tree))
    paths: set[str] = set()
    for delta in diff.deltas:
        paths.update((delta.old_file.path, delta.new_file.path))
    return sorted(paths)


def _plan(repo: pygit2.Repository, branch: str, base: str, change: Change) -> _Plan:
    reference = branch_reference(repo, branch)
    tip = tip_of(reference)
    base_commit = resolve_commit(repo, base, field="base")
    tip_tree = repo[tip].peel(pygit2.Commit).tree
    theirs = tree_with_change(repo, base_commit.tree, change)
    conflicts: tuple[errors.ConflictedFile, ...] = ()
    tree: pygit2.Oid | None = theirs
    merged = tip != base_commit.id
    if merged:
        index = repo.merge_trees(base_commit.tree, tip_tree, theirs)
        if index.conflicts is not None:
            conflicts, tree = _conflicts(repo, index), None
        else:
            tree = index.write_tree(repo)
    touched = _touched(repo, tip_tree.id, tree) if tree is not None else sorted(change.files)
    checkouts = _checkouts(repo, reference.name)
    dirty = [(where(item), _dirty(item, touched)) for item in checkouts]
    return _Plan(
        reference=reference,
        branch=reference.shorthand,
        tip=tip,
        tree=tree,
        merged=merged,
        conflicts=conflicts,
        touched=touched,
        checkouts=checkouts,
        dirty=[(folder, files) for folder, files in dirty if files],
    )


def check_applies(
    path: str | os.PathLike[str], *, branch: str, base: str, change: Change
) -> Applicability:
    """Whether ``change`` (made at commit ``base``) would commit cleanly on
    ``branch`` now, for the review screen; writes nothing but objects."""
    repo = open_repository(path)
    plan = _plan(repo, branch, base, checked(change))
    ahead, _behind = repo.ahead_behind(plan.tip, resolve_commit(repo, base, field="base").id)
    dirty = tuple(sorted({file for _folder, files in plan.dirty for file in files}))
    already = plan.tree is not None and not plan.touched
    return Applicability(
        clean=not plan.conflicts and not dirty and not already,
        moved_by=ahead,
        conflicts=plan.conflicts,
        dirty=dirty,
        already_applied=already,
    )


@dataclass(frozen=True)
class OnTip:
    """What applying a change would make of a branch now: its tip and the
    tree the commit would hold (base + change, merged onto a moved tip)."""

    tip: str
    tree: str
    merged: bool


def change_on_tip(path: str | os.PathLike[str], *, branch: str, base: str, change: Change) -> OnTip:
    """The tree applying ``change`` (made at commit ``base``) onto
    ``branch`` would commit now, as ``commit_change`` makes it (writes
    nothing but objects); MergeConflict when it would not apply."""
    repo = open_repository(path)
    plan = _plan(repo, branch, base, checked(change))
    if plan.conflicts or plan.tree is None:
        raise errors.MergeConflict(plan.branch, plan.conflicts)
    return OnTip(tip=str(plan.tip), tree=str(plan.tree), merged=plan.merged)


def _message(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("message", "must not be empty")
    if "\x00" in value or len(value) > _MAX_MESSAGE:
        raise ValidationError("message", "must be text without NUL, at most 1 MiB")
    return value if value.endswith("\n") else value + "\n"


def _move(plan: _Plan, commit: pygit2.Oid, subject: str) -> None:
    """Point the branch at ``commit`` if it still points at the tip read in
    the plan: libgit2 compares the old id under the reference's lock."""
    try:
        plan.reference.set_target(commit, f"projdeck: {subject}")
    except pygit2.GitError as error:
        raise Conflict(
            f"branch {plan.branch!r} moved or was locked by another writer while the change "
            f"was being committed ({error}); the branch was left as it was: try again"
        ) from None
    except OSError as error:
        # libgit2 says a lock file it cannot create as an OSError: another
        # git is writing the branch, or one was killed and left its lock.
        raise Conflict(
            f"branch {plan.branch!r} is locked ({error}); the branch was left as it was. If "
            "no git command is running on this repository, a killed one left the lock file: "
            "remove it and try again"
        ) from None


def _follow(checkout: pygit2.Repository, tree: pygit2.Oid, paths: list[str], commit: str) -> None:
    """Bring the touched files of a working tree (disk and index) to ``tree``."""
    try:
        checkout.checkout_tree(  # type: ignore[no-untyped-call]
            checkout[tree],
            paths=paths,
            strategy=CheckoutStrategy.FORCE | CheckoutStrategy.DISABLE_PATHSPEC_MATCH,
        )
    except (pygit2.GitError, OSError) as error:
        raise errors.WorktreeNotUpdated(commit, where(checkout), str(error)) from None


def commit_change(
    path: str | os.PathLike[str],
    *,
    branch: str,
    base: str,
    change: Change,
    message: str,
    author: Identity,
    committer: Identity | None = None,
) -> Applied:
    """Commit ``change`` (made at commit ``base``) on ``branch``. On an
    unmoved branch the commit holds base + change; on a moved one the change
    is merged three ways (ancestor: base, ours: the tip, theirs: base +
    change) and committed on the tip when clean, else MergeConflict. A
    working tree with the branch checked out and uncommitted edits to the
    touched files: DirtyWorktree, before anything is written; otherwise its
    touched files follow the commit. The branch moves only from the tip read
    at the start (Conflict if another writer moved it)."""
    repo = open_repository(path)
    change = checked(change)
    text = _message(message)
    author = checked_identity(author, "author")
    committer = checked_identity(committer or author, "committer")
    plan = _plan(repo, branch, base, change)
    if plan.conflicts or plan.tree is None:
        raise errors.MergeConflict(plan.branch, plan.conflicts)
    if not plan.touched:
        raise errors.NothingToCommit(plan.branch)
    for folder, files in plan.dirty:
        raise errors.DirtyWorktree(folder, files)
    commit = repo.create_commit(
        None, signature(author), signature(committer), text, plan.tree, [plan.tip]
    )
    subject, _body = split_message(text)
    _move(plan, commit, subject or "commit")
    for checkout in plan.checkouts:
        _follow(checkout, plan.tree, plan.touched, str(commit))
    return Applied(commit=str(commit), parent=str(plan.tip), merged=plan.merged)


def catch_up(path: str | os.PathLike[str], *, branch: str, commit: str) -> list[str]:
    """Bring the working trees that have ``branch`` checked out up to
    ``commit`` for the files it touched, where they were left behind: a
    process killed after moving the branch but before (or while) updating
    them leaves their index at the parent's version (git shows the change
    undone, staged). Only files whose index still holds the parent's
    version, and whose disk holds the parent's, the commit's or the start
    of the commit's (caught mid-write), are written; edits made since are
    left alone. Gives the files written."""
    repo = open_repository(path)
    reference = branch_reference(repo, branch)
    target = resolve_commit(repo, commit, field="commit")
    if not target.parents:
        return []
    parent_tree, tree = target.parents[0].tree, target.tree
    touched = _touched(repo, parent_tree.id, tree.id)
    written: list[str] = []
    for checkout in _checkouts(repo, reference.name):
        behind = [file for file in touched if _left_behind(checkout, file, parent_tree, tree)]
        if behind:
            _follow(checkout, tree.id, behind, commit)
            _stage(checkout, tree, behind, commit)
            written += [f"{where(checkout)}/{file}" for file in behind]
    return written


def _stage(checkout: pygit2.Repository, tree: pygit2.Tree, files: list[str], commit: str) -> None:
    """The index entries of ``files`` as ``tree`` holds them: a checkout
    killed after writing a file but before the index leaves the disk at the
    commit, and libgit2, finding nothing to write there, leaves the index."""
    try:
        index = checkout.index
        index.read(False)
        for file in files:
            if _entry(tree, file) is None:
                if file in index:
                    index.remove(file)
            else:
                index.add(file)  # from the working tree, which holds the commit's now
        index.write()
    except (pygit2.GitError, OSError) as error:
        raise errors.WorktreeNotUpdated(commit, where(checkout), str(error)) from None


def _entry(tree: pygit2.Tree, file: str) -> tuple[str, int] | None:
    try:
        found = tree[file]
    except (KeyError, ValueError):
        return None
    return (str(found.id), int(found.filemode))


def _left_behind(
    checkout: pygit2.Repository, file: str, parent: pygit2.Tree, tree: pygit2.Tree
) -> bool:
    before, after = _entry(parent, file), _entry(tree, file)
    index = checkout.index
    index.read(False)
    try:
        staged: tuple[str, int] | None = (str(index[file].id), int(index[file].mode))
    except KeyError:
        staged = None
    if staged != before:
        return False
    full = os.path.join(checkout.workdir or "", file)
    if os.path.islink(full) or (os.path.lexists(full) and not os.path.isfile(full)):
        return False
    if not os.path.isfile(full):
        return True  # absent: as the parent left it, or as the commit deletes it
    with open(full, "rb") as handle:
        data = handle.read()
    if before is not None and str(pygit2.hash(data)) == before[0]:
        return True
    if after is None:
        return False
    # The commit's version, or the start of it: a file the killed checkout
    # was writing (emptied, then written) when it stopped.
    wanted = checkout[after[0]].peel(pygit2.Blob).data
    return wanted.startswith(data)


def applied_commits(
    path: str | os.PathLike[str], *, branch: str, since: str | None = None, limit: int = 1000
) -> list[AppliedCommit]:
    """The commits on ``branch`` carrying a ``Projdeck-Modification``
    trailer, newest first, walking back from the tip to ``since`` (not
    included) or over at most ``limit`` commits."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError("limit", "must be a whole number of at least 1")
    repo = open_repository(path)
    walker = repo.walk(tip_of(branch_reference(repo, branch)), SortMode.TOPOLOGICAL)
    if since is not None:
        walker.hide(resolve_commit(repo, since, field="since").id)
    found: list[AppliedCommit] = []
    for seen, commit in enumerate(walker):
        if seen >= limit:
            break
        try:
            trailers = commit.message_trailers
        except (pygit2.GitError, ValueError):
            continue
        value = trailers.get(TRAILER, "").strip()
        if value:
            found.append(AppliedCommit(modification_id=value, commit=str(commit.id)))
    return found
