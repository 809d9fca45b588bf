"""A snapshot of the text files git tracks at a commit, for a project's
codebase: what was skipped is listed with the reason, nothing is followed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum

import pygit2

from store.errors import ValidationError
from store.progress import OnStep, Step, ignore
from store.validation import MAX_FILE_BYTES
from store.vcs.paths import SUBMODULE, SYMLINK, TREE, repository_path
from store.vcs.repository import open_repository, resolve_commit

_STEP_EVERY = 500


class SkipReason(StrEnum):
    SYMLINK = "symlink"
    SUBMODULE = "submodule"
    BINARY = "binary"
    TOO_LARGE = "too large"
    NOT_UTF8 = "not UTF-8"
    UNSAFE_PATH = "unsafe path"


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: SkipReason


@dataclass(frozen=True)
class Snapshot:
    """The commit read, its text files (path -> content, byte-exact UTF-8,
    in path order) and the tracked entries left out."""

    commit: str
    files: dict[str, str] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def _entries(tree: pygit2.Tree) -> list[tuple[str, int, pygit2.Oid]]:
    """Every non-folder entry of ``tree`` with its full path, by a walk of
    the trees (measured faster than reading the tree into an index)."""
    found: list[tuple[str, int, pygit2.Oid]] = []
    stack: list[tuple[str, pygit2.Tree]] = [("", tree)]
    while stack:
        prefix, current = stack.pop()
        for entry in current:
            raw = entry.raw_name or b""
            name = raw.decode("utf-8", errors="surrogateescape")
            if entry.filemode == TREE:
                assert isinstance(entry, pygit2.Tree)
                stack.append((f"{prefix}{name}/", entry))
            else:
                found.append((prefix + name, entry.filemode, entry.id))
    found.sort()
    return found


def _unsafe(path: str) -> bool:
    try:
        return repository_path(path, "path") != path
    except ValidationError:
        return True


def read_snapshot(
    path: str | os.PathLike[str],
    *,
    commit: str,
    max_file_bytes: int = MAX_FILE_BYTES,
    on_step: OnStep = ignore,
) -> Snapshot:
    """The text files tracked at ``commit`` (so ignored files never enter),
    decoded as UTF-8 exactly as stored (CRLF kept). Symbolic links and
    submodules are listed as skipped, never followed; so are binary files
    (a NUL byte), files over ``max_file_bytes``, files that are not UTF-8 and
    paths the store would refuse."""
    if isinstance(max_file_bytes, bool) or not isinstance(max_file_bytes, int):
        raise ValidationError("max_file_bytes", "must be a whole number of bytes")
    if max_file_bytes < 0:
        raise ValidationError("max_file_bytes", "must not be negative")
    repo = open_repository(path)
    found = resolve_commit(repo, commit, field="commit")
    entries = _entries(found.tree)
    total = len(entries)
    on_step(Step("reading files", 0, total))
    files: dict[str, str] = {}
    skipped: list[Skipped] = []
    odb = repo.odb
    # libgit2 hashes every object it reads again to check it (git itself does
    # not when reading): that doubles the time of a snapshot, whose objects a
    # damaged repository would give as wrong text, not as a danger.
    pygit2.settings.enable_strict_hash_verification(False)
    try:
        for done, (name, mode, oid) in enumerate(entries, start=1):
            if done % _STEP_EVERY == 0:
                on_step(Step("reading files", done, total))
            reason = _skip_reason(odb, name, mode, oid, max_file_bytes)
            if isinstance(reason, SkipReason):
                skipped.append(Skipped(name, reason))
            else:
                files[name] = reason
    finally:
        pygit2.settings.enable_strict_hash_verification(True)
    on_step(Step("reading files", total, total))
    return Snapshot(commit=str(found.id), files=files, skipped=skipped)


def _skip_reason(
    odb: pygit2.Odb, name: str, mode: int, oid: pygit2.Oid, limit: int
) -> SkipReason | str:
    """Why the entry is skipped, or its text."""
    if mode == SYMLINK:
        return SkipReason.SYMLINK
    if mode == SUBMODULE:
        return SkipReason.SUBMODULE
    if _unsafe(name):
        return SkipReason.UNSAFE_PATH
    _kind, size = odb.read_header(oid)
    if size > limit:
        return SkipReason.TOO_LARGE
    _kind, data = odb.read(oid)
    if b"\x00" in data:
        return SkipReason.BINARY
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return SkipReason.NOT_UTF8
