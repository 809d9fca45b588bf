"""Paths inside a git repository as the git layer accepts them: relative, no
``..``, nothing in ``.git``, no hidden or control characters."""

from __future__ import annotations

from typing import Any

from store import validation
from store.errors import ValidationError

REGULAR = 0o100644
EXECUTABLE = 0o100755
SYMLINK = 0o120000
SUBMODULE = 0o160000
TREE = 0o040000
FILE_MODES = frozenset({REGULAR, EXECUTABLE})


def _is_git_dir(component: str) -> bool:
    # ".GIT", ".git." and ".git " name the same folder on case-insensitive or
    # Windows file systems, and "git~1" is its 8.3 short name.
    lowered = component.lower()
    return lowered.rstrip(". ") == ".git" or lowered == "git~1"


def repository_path(value: Any, field: str) -> str:
    """A file path inside a repository (see ``store.validation.codebase_path``),
    never inside its ``.git`` folder; ValidationError(field) otherwise."""
    path = validation.codebase_path(value, field)
    if any(_is_git_dir(component) for component in path.split("/")):
        raise ValidationError(field, f"path {path!r} is inside .git, which git itself manages")
    return path


def file_mode(value: Any, field: str, path: str) -> int:
    """A regular file's git mode: 0o100644, or 0o100755 for an executable."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in FILE_MODES:
        shown = oct(value) if isinstance(value, int) else repr(value)
        raise ValidationError(
            field, f"mode {shown} of {path!r} is not 0o100644 (a file) or 0o100755 (an executable)"
        )
    return value


def kind_of_mode(mode: int) -> str:
    """What a git mode names, in words for a message."""
    if mode == SYMLINK:
        return "a symbolic link"
    if mode == SUBMODULE:
        return "a submodule"
    if mode == TREE:
        return "a folder"
    return "a file"
