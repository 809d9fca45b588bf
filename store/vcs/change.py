"""A proposed change in one shape for every source (a patch, a branch, a
working tree), its checks, and the trees it makes from a base."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pygit2
from pygit2.enums import DeltaStatus, DiffFind, FileMode

from store.errors import ValidationError
from store.validation import MAX_CODEBASE_FILES, MAX_FILE_BYTES
from store.vcs.paths import FILE_MODES, REGULAR, file_mode, kind_of_mode, repository_path


@dataclass(frozen=True)
class Change:
    """Files with their new text (None: deleted; a rename is the old path
    deleted and the new one written), the git modes of added files and of
    mode changes, renames (new path -> old path), the commit the change was
    made from, and the message and author it came with, where known."""

    files: dict[str, str | None]
    modes: dict[str, int] = field(default_factory=dict)
    renames: dict[str, str] = field(default_factory=dict)
    base: str | None = None
    subject: str | None = None
    body: str | None = None
    author_name: str | None = None
    author_email: str | None = None


def checked(change: Any, *, field: str = "files") -> Change:
    """``change`` if it is a Change whose paths, contents, modes and
    renames hold together; a ValidationError of ``field`` otherwise."""
    if not isinstance(change, Change):
        raise ValidationError(field, "must be a Change")
    if not isinstance(change.files, Mapping) or not change.files:
        raise ValidationError(field, "must change at least one file")
    if len(change.files) > MAX_CODEBASE_FILES:
        raise ValidationError(
            field, f"has {len(change.files)} files; at most {MAX_CODEBASE_FILES} allowed"
        )
    for path, content in change.files.items():
        if repository_path(path, field) != path:
            raise ValidationError(field, f"path {path!r} is not written the way git writes it")
        if content is not None:
            if not isinstance(content, str):
                raise ValidationError(field, f"the content of {path!r} must be text")
            if "\x00" in content:
                raise ValidationError(
                    field, f"{path!r} contains a NUL byte; binary files are refused"
                )
    for path, mode in change.modes.items():
        if change.files.get(path) is None:
            raise ValidationError(
                field, f"a mode is given for {path!r}, which the change does not write"
            )
        file_mode(mode, field, path)
    for new, old in change.renames.items():
        if (
            change.files.get(new) is None
            or old not in change.files
            or change.files[old] is not None
        ):
            raise ValidationError(
                field, f"the rename of {old!r} to {new!r} must delete the one and write the other"
            )
    return change


def tree_with_change(
    repo: pygit2.Repository, base: pygit2.Tree, change: Change, *, field: str = "files"
) -> pygit2.Oid:
    """The tree ``base`` with ``change`` made to it, written to ``repo``.
    A deletion of a file the base lacks, or a file where the base has a
    folder (or the reverse), is a ValidationError of ``field``.

    Only the changed paths are looked up (libgit2 finds each in the index
    it read the base into): a change of a few files on a base of ten
    thousand costs the few, not the ten thousand."""
    index = pygit2.Index()
    index.read_tree(base)
    expected = len(index)
    for path, content in change.files.items():
        present = path in index
        if content is None:
            if not present:
                raise ValidationError(
                    field, f"deletes {path!r}, which the base commit does not have"
                )
            index.remove(path)
            expected -= 1
            continue
        mode = change.modes.get(path) or (index[path].mode if present else REGULAR)
        if mode not in FILE_MODES:
            mode = REGULAR  # a symlink or submodule the change turns into a file
        index.add(
            pygit2.IndexEntry(path, repo.create_blob(content.encode("utf-8")), FileMode(mode))
        )
        expected += 0 if present else 1
    tree = index.write_tree(repo)
    # libgit2 makes room for a file by dropping the files of a folder of the
    # same name, or drops the file when writing the tree, without a word:
    # the tree must hold exactly the files kept and written, so as many.
    written = pygit2.Index()
    written.read_tree(repo[tree].peel(pygit2.Tree))
    if len(written) != expected:
        raise ValidationError(
            field,
            f"{_lost(base, change, written)!r} cannot be kept: a file and a folder would "
            "have the same name",
        )
    return tree


def _lost(base: pygit2.Tree, change: Change, written: pygit2.Index) -> str:
    """The first file (in path order) that should be in ``written`` and is not."""
    before = pygit2.Index()
    before.read_tree(base)
    kept = {entry.path for entry in before if change.files.get(entry.path, "") is not None}
    kept.update(path for path, content in change.files.items() if content is not None)
    lost: list[str] = sorted(kept - {entry.path for entry in written})
    return lost[0]


def _text(repo: pygit2.Repository, oid: pygit2.Oid, path: str, *, field: str, limit: int) -> str:
    _kind, size = repo.odb.read_header(oid)
    if size > limit:
        raise ValidationError(field, f"{path!r} is {size} bytes; at most {limit} per file")
    data = repo.odb.read(oid)[1]
    if b"\x00" in data:
        raise ValidationError(field, f"{path!r} is a binary file; only text files can be proposed")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(
            field,
            f"{path!r} is not UTF-8 text (byte {error.start}); only UTF-8 text can be proposed",
        ) from None


def change_between(
    repo: pygit2.Repository,
    old: pygit2.Tree,
    new: pygit2.Tree,
    *,
    field: str,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_files: int = MAX_CODEBASE_FILES,
) -> Change:
    """The change that turns tree ``old`` into tree ``new`` (renames found
    as git finds them: 50% similar). Symbolic links, submodules, binary and
    oversized files in it are a ValidationError of ``field``."""
    diff = old.diff_to_tree(new, interhunk_lines=0)
    diff.find_similar(DiffFind.FIND_RENAMES)
    files: dict[str, str | None] = {}
    modes: dict[str, int] = {}
    renames: dict[str, str] = {}
    for delta in diff.deltas:
        if len(files) >= max_files:
            raise ValidationError(field, f"changes more than {max_files} files")
        old_path, new_path = delta.old_file.path, delta.new_file.path
        status = delta.status
        for path, mode in ((old_path, delta.old_file.mode), (new_path, delta.new_file.mode)):
            if mode and mode not in FILE_MODES:
                raise ValidationError(
                    field,
                    f"{path!r} is {kind_of_mode(mode)}; only regular files can be proposed",
                )
        if status == DeltaStatus.DELETED:
            files[repository_path(old_path, field)] = None
            continue
        path = repository_path(new_path, field)
        content = _text(repo, delta.new_file.id, path, field=field, limit=max_file_bytes)
        files[path] = content
        if status == DeltaStatus.RENAMED:
            files[repository_path(old_path, field)] = None
            renames[path] = old_path
        added = status in (DeltaStatus.ADDED, DeltaStatus.RENAMED)
        if added or delta.new_file.mode != delta.old_file.mode:
            modes[path] = int(delta.new_file.mode)
    return Change(files=files, modes=modes, renames=renames)
