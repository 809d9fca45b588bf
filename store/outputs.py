"""Files projdeck writes where it is told to (backups, exports, audit
exports, the safety copy a restore keeps): checked in one place.

A command or an agent may name any path. Whatever it names, projdeck never
writes over the database it runs on, the database's ``-wal``/``-shm``/
``-journal`` files or the master key file; never writes through a symbolic
link into the file it points to (``force`` replaces the link itself); never
writes into a device, a pipe or a folder; replaces an existing file only
with ``force``; and creates every file readable by its owner only (0600),
since backups and exports hold ciphertexts, webhook URLs and deployment
settings. A file is written under a hidden ``.partial`` name beside its
target and appears only when complete; partial files a killed run left are
removed by the next one that writes beside them.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from store.errors import ValidationError
from store.files import sync_folder

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

JOURNAL_SUFFIXES = ("-wal", "-shm", "-journal")
PARTIAL_MARK = ".partial-"
# Hidden, the target's name, the writer's process id (older projdeck wrote
# none), a random tag, and any journal SQLite gave the file.
_PARTIAL_NAME = re.compile(r"\..+\.partial-(?:(\d+)-)?[0-9a-f]{8}(?:-wal|-shm|-journal)?")
_COMPANIONS = {
    "": "the database this command runs on",
    "-wal": "the database's write-ahead log (-wal)",
    "-shm": "the database's shared-memory file (-shm)",
    "-journal": "the database's rollback journal (-journal)",
}


@dataclass(frozen=True)
class Protected:
    """A file no output may replace, and what it is in words."""

    path: Path
    what: str


def protected_files(database: Path | None, key_file: Path | None) -> list[Protected]:
    """The database file (SQLite) and its journal files, and the key file,
    each as named and as its links resolve."""
    found: list[Protected] = []
    if database is not None:
        for name in {_absolute(database), database.expanduser().resolve()}:
            for suffix, what in _COMPANIONS.items():
                found.append(Protected(Path(f"{name}{suffix}"), what))
    if key_file is not None:
        for name in {_absolute(key_file), key_file.expanduser().resolve()}:
            found.append(Protected(name, "the master key file"))
    return found


def protected_by(url: URL) -> list[Protected]:
    """The files no output of a command run on the database at ``url`` may
    replace: its SQLite file and journals, and the key file."""
    from store.crypto import default_key_file

    database = None
    if url.get_backend_name() == "sqlite" and url.database is not None:
        database = Path(url.database)
    return protected_files(database, default_key_file())


def _absolute(path: Path) -> Path:
    """``path`` made absolute, its folder's links resolved but not its own
    name: the entry a write there would replace."""
    absolute = Path(os.path.abspath(path.expanduser()))
    return absolute.parent.resolve() / absolute.name


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_output(
    path: Path, *, protected: list[Protected], force: bool = False, field: str = "file"
) -> Path:
    """The absolute path to write ``path`` at, or a ValidationError naming
    ``field`` and why projdeck will not write there."""
    target = _absolute(Path(path))
    try:
        info: os.stat_result | None = target.lstat()
    except FileNotFoundError:
        info = None
    except OSError as error:
        problem = (error.strerror or type(error).__name__).lower()
        raise ValidationError(field, f"{problem}: {target}") from None
    linked = info is not None and stat.S_ISLNK(info.st_mode)
    for item in protected:
        if target == item.path or (info is not None and not linked and _same_file(info, item.path)):
            raise ValidationError(
                field,
                f"{target} is {item.what}; projdeck never writes over it (name another file)",
            )
    if info is None:
        return target
    if linked:
        if not force:
            raise ValidationError(
                field,
                f"{target} is a symbolic link (to {os.readlink(target)}); projdeck does not "
                "write through links: name the file itself, or add --force to replace the "
                "link (what it points to is left alone)",
            )
        return target
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError(field, f"{target} is {_kind(info.st_mode)}, not a regular file")
    if not force:
        raise ValidationError(field, f"{target} already exists; add --force to replace it")
    return target


def _same_file(info: os.stat_result, other: Path) -> bool:
    """Whether ``other`` is the file ``info`` describes (a hard link to it, say)."""
    try:
        return os.path.samestat(info, other.stat())
    except OSError:
        return False


@contextlib.contextmanager
def partial_beside(target: Path) -> Iterator[Path]:
    """A new, empty, private (0600) hidden file beside ``target``, removed
    (with any journal SQLite gave it) unless it was published."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target.parent)
    partial = target.with_name(f".{target.name}{PARTIAL_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        yield partial
    finally:
        for suffix in ("", *JOURNAL_SUFFIXES):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{partial}{suffix}").unlink()


def publish(partial: Path, target: Path, *, force: bool = False, field: str = "file") -> None:
    """Move a complete ``partial`` to ``target``: replacing what is there
    only with ``force`` (a file that appeared since the check is refused)."""
    if not force:
        try:
            os.link(partial, target)
        except FileExistsError:
            raise ValidationError(
                field, f"{target} appeared while it was being written; add --force to replace it"
            ) from None
        except OSError:
            # A file system without hard links: the check before writing stands.
            os.replace(partial, target)
        else:
            partial.unlink()
    else:
        os.replace(partial, target)
    sync_folder(target.parent)


def stale_partials(folder: Path) -> list[Path]:
    """Partial files in ``folder`` whose writer is no longer running (or
    that do not name it: an older projdeck's)."""
    try:
        names = [entry.name for entry in os.scandir(folder)]
    except OSError:
        return []
    stale = []
    for name in names:
        match = _PARTIAL_NAME.fullmatch(name)
        if match is not None and (
            match.group(1) is None or not process_running(int(match.group(1)))
        ):
            stale.append(folder / name)
    return sorted(stale)


def remove_stale_partials(folder: Path) -> None:
    """Remove what a killed backup, export or restore left in ``folder``."""
    for path in stale_partials(folder):
        with contextlib.suppress(OSError):
            path.unlink()


def process_running(pid: int) -> bool:
    """Whether process ``pid`` is alive (one of another user counts)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
