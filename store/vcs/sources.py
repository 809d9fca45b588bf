"""Changes proposed from git itself: a branch, a commit or a range of the
linked repository, or the uncommitted work in an agent's working tree."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import replace

import pygit2
from pygit2.enums import FileStatus, FilterMode, RevSpecFlag

from store.errors import ValidationError
from store.validation import MAX_CODEBASE_FILES, MAX_FILE_BYTES
from store.vcs.change import Change, change_between
from store.vcs.paths import (
    EXECUTABLE,
    FILE_MODES,
    REGULAR,
    TREE,
    kind_of_mode,
    repository_path,
)
from store.vcs.repository import (
    branch_reference,
    open_repository,
    rev_text,
    tip_of,
    where,
)


def split_message(message: str) -> tuple[str | None, str | None]:
    """A commit message's subject (its first line) and body (the rest)."""
    subject, _newline, rest = message.strip().partition("\n")
    return subject.strip() or None, rest.strip() or None


def _commit(repo: pygit2.Repository, found: pygit2.Object | None, rev: str) -> pygit2.Commit:
    try:
        if found is None:
            raise ValueError(rev)
        return found.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        raise ValidationError("rev", f"{rev!r} names no commit in {where(repo)}") from None


def _endpoints(
    repo: pygit2.Repository, rev: str, tip: pygit2.Oid, branch: str
) -> tuple[pygit2.Commit, pygit2.Commit]:
    """The commits a change is taken between, by what ``rev`` is: a range
    ``A..B`` (A to B), ``A...B`` (their merge base to B), or one revision
    (its merge base with the branch to it, as ``git diff branch...rev``)."""
    try:
        spec = repo.revparse(rev)
    except (KeyError, ValueError, pygit2.GitError):
        raise ValidationError("rev", f"{rev!r} names no commit in {where(repo)}") from None
    flags = RevSpecFlag(spec.flags)
    if flags & RevSpecFlag.RANGE:
        start = _commit(repo, spec.from_object, rev)
        end = _commit(repo, spec.to_object, rev)
        if flags & RevSpecFlag.MERGE_BASE:
            base = repo.merge_base(start.id, end.id)
            if base is None:
                raise ValidationError("rev", f"the two sides of {rev!r} share no history")
            start = repo[base].peel(pygit2.Commit)
        return start, end
    end = _commit(repo, spec.from_object, rev)
    base = repo.merge_base(tip, end.id)
    if base is None:
        raise ValidationError("rev", f"{rev!r} shares no history with branch {branch!r}")
    return repo[base].peel(pygit2.Commit), end


def change_from_git(
    path: str | os.PathLike[str],
    *,
    rev: str,
    branch: str,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_files: int = MAX_CODEBASE_FILES,
) -> Change:
    """The change ``rev`` holds for ``branch``. One revision (a branch, a
    commit): what it changed since it left the branch, like ``git diff
    branch...rev``; the base is that merge base. A range ``A..B``: the diff
    from A to B, based on A (the commit the range's changes were written
    against, which a later three-way merge needs as the ancestor); ``A...B``
    starts from their merge base instead. The message and author are the
    last commit's. Binary files, symbolic links and submodules in it are
    refused (ValidationError "rev")."""
    repo = open_repository(path)
    name = branch_reference(repo, branch).shorthand
    tip = tip_of(branch_reference(repo, branch))
    text = rev_text(rev, "rev")
    start, end = _endpoints(repo, text, tip, name)
    change = change_between(
        repo, start.tree, end.tree, field="rev", max_file_bytes=max_file_bytes, max_files=max_files
    )
    if not change.files:
        if start.id == end.id:
            raise ValidationError(
                "rev", f"{text!r} is already on branch {name!r}: nothing to propose"
            )
        raise ValidationError("rev", f"{text!r} changes no file")
    subject, body = split_message(end.message)
    return replace(
        change,
        base=str(start.id),
        subject=subject,
        body=body,
        author_name=end.author.name,
        author_email=end.author.email,
    )


def _read_inside(root: str, path: str, limit: int) -> tuple[bytes, int] | None:
    """The bytes and git mode of the regular file ``path`` under ``root``,
    or None when there is none; never following a symbolic link on the way
    (a link is refused, so a working tree cannot point the reading elsewhere)."""
    parts = path.split("/")
    folder = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
            except OSError as error:
                if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                    return None  # not a folder (or a link to one): the file is gone
                raise
            os.close(folder)
            folder = inner
        try:
            info = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(info.st_mode):
            raise ValidationError(
                "worktree", f"{path!r} is a symbolic link; only regular files can be proposed"
            )
        if stat.S_ISDIR(info.st_mode):
            raise ValidationError(
                "worktree", f"{path!r} is a folder holding another git repository; not proposable"
            )
        if not stat.S_ISREG(info.st_mode):
            raise ValidationError("worktree", f"{path!r} is not a regular file")
        if info.st_size > limit:
            raise ValidationError(
                "worktree", f"{path!r} is {info.st_size} bytes; at most {limit} per file"
            )
        handle = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)
        with os.fdopen(handle, "rb") as file:
            data = file.read(limit + 1)
        if len(data) > limit:
            raise ValidationError("worktree", f"{path!r} is over {limit} bytes")
        return data, EXECUTABLE if info.st_mode & stat.S_IXUSR else REGULAR
    finally:
        os.close(folder)


def _clean(repo: pygit2.Repository, path: str, data: bytes) -> bytes:
    """The bytes ``git add`` would store (line-ending conversion applied)."""
    if b"\x00" in data:
        raise ValidationError(
            "worktree", f"{path!r} is a binary file; only text files can be proposed"
        )
    filters = repo.load_filter_list(path, FilterMode.TO_ODB)
    return filters.apply_to_buffer(data) if filters is not None else data


def change_from_worktree(
    worktree: str | os.PathLike[str],
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_files: int = MAX_CODEBASE_FILES,
) -> Change:
    """The uncommitted work of a working tree (staged, unstaged and new
    files git does not ignore) against its HEAD commit, which is the base:
    the files as they are on disk. A file moved unchanged is a rename."""
    repo = open_repository(worktree, field="worktree")
    if repo.is_bare or repo.workdir is None:
        raise ValidationError("worktree", f"{where(repo)} is a bare repository, not a working tree")
    if repo.head_is_unborn:
        raise ValidationError("worktree", f"{where(repo)} has no commit yet to compare with")
    head = repo.head.peel(pygit2.Commit)
    root = repo.workdir
    files: dict[str, str | None] = {}
    modes: dict[str, int] = {}
    added: dict[pygit2.Oid, str] = {}
    deleted: dict[pygit2.Oid, str] = {}
    for raw, flags in sorted(repo.status(untracked_files="all", ignored=False).items()):
        if flags in (FileStatus.CURRENT, FileStatus.IGNORED):
            continue
        path = repository_path(raw.rstrip("/"), "worktree")
        if raw.endswith("/"):
            raise ValidationError("worktree", f"{path!r} is another git repository inside it")
        try:
            entry = head.tree[path]
        except KeyError:
            entry = None
        if entry is not None and entry.filemode == TREE:
            entry = None  # a file (or link) where HEAD has a folder: judged by what is on disk
        if entry is not None and entry.filemode not in FILE_MODES:
            raise ValidationError(
                "worktree",
                f"{path!r} is {kind_of_mode(entry.filemode)} in HEAD; only regular files "
                "can be proposed",
            )
        found = _read_inside(root, path, max_file_bytes)
        if found is None:
            if entry is not None:
                files[path] = None
                deleted[entry.id] = path
            continue
        data, mode = found
        data = _clean(repo, path, data)
        oid = pygit2.hash(data)
        if entry is not None and entry.id == oid and entry.filemode == mode:
            continue
        try:
            files[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("worktree", f"{path!r} is not UTF-8 text") from None
        if entry is None or entry.filemode != mode:
            modes[path] = mode
        if entry is None:
            added.setdefault(oid, path)
        if len(files) > max_files:
            raise ValidationError("worktree", f"changes more than {max_files} files")
    if not files:
        raise ValidationError("worktree", f"{where(repo)} has no uncommitted changes")
    renames = {new: deleted[oid] for oid, new in added.items() if oid in deleted}
    return Change(files=files, modes=modes, renames=renames, base=str(head.id))
