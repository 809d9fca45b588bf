"""Scratch folders for running a project's commands on a proposed change:
one per run under the user's cache folder (``PROJDECK_SCRATCH_DIR`` points
elsewhere), made private to the user, always removed after the run, and
found and removed by the next run or ``projdeck doctor`` when a killed
process left one behind.

A run's folder holds ``owner`` (the process id of the run, so a folder
whose process is gone is known to be left over), ``repository`` (for a
git worktree: the repository it belongs to), ``junit.xml`` (where the
commands may write their report) and ``tree/`` (the files the commands run
in).

Writing the files of a change into ``tree/`` never goes through a link the
tree holds (a repository may track ``src -> /etc``): a link on the way to a
file is refused, a link at the file's own place is replaced by the file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from store.config import APP_NAME
from store.errors import StoreError, ValidationError
from store.outputs import process_running

ROOT_ENV = "PROJDECK_SCRATCH_DIR"
PREFIX = "projdeck-test-"
EXECUTABLE = 0o100755


def root() -> Path:
    given = os.environ.get(ROOT_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False) / "test-runs"


@dataclass(frozen=True)
class Scratch:
    """One run's folder: ``name`` (also the git worktree's name),
    ``tree`` where the commands run, ``junit`` the report's path."""

    name: str
    folder: Path

    @property
    def tree(self) -> Path:
        return self.folder / "tree"

    @property
    def junit(self) -> Path:
        return self.folder / "junit.xml"


def make(label: str) -> Scratch:
    """A new scratch folder owned by this process (``tree`` not made yet:
    a git worktree is made in its place, or ``write_files`` makes it)."""
    base = root()
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    safe = "".join(char for char in label if char.isascii() and char.isalnum())[:12]
    name = f"{PREFIX}{safe}-{secrets.token_hex(4)}"
    folder = base / name
    folder.mkdir(mode=0o700)
    (folder / "owner").write_text(f"{os.getpid()}\n", encoding="utf-8")
    return Scratch(name, folder)


def mark_worktree(scratch: Scratch, repository: str) -> None:
    """Record that ``scratch.tree`` is a worktree of ``repository``."""
    (scratch.folder / "repository").write_text(repository, encoding="utf-8")


def worktree_of(folder: Path) -> str | None:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return (folder / "repository").read_text(encoding="utf-8")
    return None


def _running(folder: Path) -> bool:
    """Whether the process that made ``folder`` is still running."""
    try:
        pid = int((folder / "owner").read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return False
    return process_running(pid)


def running() -> set[str]:
    """The names of the scratch folders whose runs are still going."""
    base = root()
    if not base.is_dir():
        return set()
    return {
        entry.name
        for entry in base.iterdir()
        if entry.name.startswith(PREFIX) and entry.is_dir() and _running(entry)
    }


def left_over() -> list[Path]:
    """Scratch folders whose process is gone (a run that was killed)."""
    base = root()
    if not base.is_dir():
        return []
    return sorted(
        entry
        for entry in base.iterdir()
        if entry.name.startswith(PREFIX)
        and entry.is_dir()
        and not entry.is_symlink()
        and not _running(entry)
    )


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _real_folder(tree: Path, parts: list[str]) -> Path:
    """The folder ``parts`` names inside ``tree``, made where missing; a
    link or a file on the way is refused."""
    here = tree
    for part in parts:
        here = here / part
        try:
            info = here.lstat()
        except FileNotFoundError:
            here.mkdir(mode=0o755)
            continue
        if not stat.S_ISDIR(info.st_mode):
            raise ValidationError(
                "files",
                f"{here.relative_to(tree)} is a link or a file in the tree, not a folder: "
                "nothing is written through it",
            )
    return here


def write_files(
    tree: Path, files: Mapping[str, str | None], modes: Mapping[str, int] | None = None
) -> None:
    """Write ``files`` (path -> content; None deletes) into ``tree``, as
    text (UTF-8), with the git modes in ``modes`` (executable or not)."""
    tree.mkdir(exist_ok=True, mode=0o755)
    for path, content in files.items():
        *parents, leaf = path.split("/")
        folder = _real_folder(tree, parents)
        target = folder / leaf
        if target.is_dir() and not target.is_symlink():
            raise ValidationError("files", f"{path} is a folder in the tree, not a file")
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        if content is None:
            continue
        mode = 0o755 if (modes or {}).get(path) == EXECUTABLE else 0o644
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        handle = os.open(target, flags, mode)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(content)
        os.chmod(target, mode)


def clean_left_over() -> list[str]:
    """Remove the scratch folders (and the git worktrees made in them) of
    runs that were killed; their names. The next run and ``projdeck
    doctor`` call this."""
    from store.vcs import worktree

    going = running()
    removed = []
    for folder in left_over():
        repository = worktree_of(folder)
        if repository is not None:
            # A repository that is gone took its worktree records with it.
            with contextlib.suppress(StoreError):
                worktree.prune_left(repository, keep=going, within=root())
        discard(folder)
        removed.append(folder.name)
    return removed
