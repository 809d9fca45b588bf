"""SQLite database files copied and checked: SQLite's online backup (one
consistent snapshot, a step of pages at a time, while others keep writing),
a copy checked for integrity, a file recognised as a projdeck database at a
known schema revision, a restore over a live file, and the name of the
safety copy a restore keeps. Each runs in a worker thread;
``store.services.workspace`` (backup, restore) calls them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store import migrate
from store.errors import StoreUnavailable, ValidationError
from store.portability import Progress
from store.types import utcnow

SQLITE_MAGIC = b"SQLite format 3\x00"

# Pages copied per step of SQLite's online backup (4 MiB at the default page
# size), so progress can be reported while a large file is copied.
BACKUP_STEP_PAGES = 1024


def _online_backup(
    src: sqlite3.Connection, dst: sqlite3.Connection, progress: Progress | None
) -> None:
    """Copy ``src`` into ``dst`` a step of pages at a time, reporting pages
    copied. The read transaction held over every step keeps one consistent
    snapshot, so writers (WAL) carry on and the copy never restarts."""
    src.execute("BEGIN")
    src.execute("SELECT count(*) FROM sqlite_master").fetchone()
    copied = 0

    def step(_status: int, remaining: int, total: int) -> None:
        nonlocal copied
        if progress is not None and total - remaining > copied:
            progress(total - remaining - copied)
            copied = total - remaining

    try:
        src.backup(dst, pages=BACKUP_STEP_PAGES, progress=step, sleep=0)
    finally:
        src.execute("COMMIT")


def _copy_sqlite(
    source: Path, target: Path, *, read_only: bool, progress: Progress | None = None
) -> str | None:
    """A consistent copy through SQLite's online backup, checked; returns
    the copy's schema revision. Runs in a thread."""
    uri = f"file:{source}?mode=ro" if read_only else f"file:{source}"
    src = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    try:
        dst = sqlite3.connect(target)
        try:
            _online_backup(src, dst, progress)
            check = [row[0] for row in dst.execute("PRAGMA integrity_check")]
            if check != ["ok"]:
                raise StoreUnavailable(
                    f"the copy failed its integrity check: {'; '.join(check[:3])}"
                )
            return _sqlite_revision(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    tables = {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    if "alembic_version" not in tables:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def _inspect_sqlite_file(path: Path) -> str:
    """The revision of a projdeck SQLite file, or a ValidationError saying
    why it is not one. Runs in a thread."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        raise ValidationError("file", f"{path} cannot be opened as a SQLite database") from None
    try:
        check = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if check != ["ok"]:
            raise ValidationError(
                "file", f"{path} is damaged: {'; '.join(str(c) for c in check[:3])}"
            )
        revision = _sqlite_revision(connection)
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    except sqlite3.DatabaseError as error:
        raise ValidationError("file", f"{path} is not a usable SQLite database ({error})") from None
    finally:
        connection.close()
    if revision is None or "projects" not in tables:
        raise ValidationError("file", f"{path} is a SQLite database but not a projdeck one")
    known = {info.revision for info in migrate.history()}
    if revision not in known:
        raise ValidationError(
            "file",
            f"{path} is at schema revision {revision}, which this projdeck does not know (newer?)",
        )
    return revision


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` starts as a SQLite database file does."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError as error:
        raise ValidationError("file", f"cannot read {path}: {error.strerror}") from None


def _restore_into(source: Path, live: Path, progress: Progress | None) -> None:
    """Copy ``source`` over the live database through SQLite's backup API,
    which other connections see as one atomic change. Runs in a thread."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30, isolation_level=None)
    try:
        dst = sqlite3.connect(live, timeout=30)
        try:
            _online_backup(src, dst, progress)
        finally:
            dst.close()
    finally:
        src.close()


def _safety_path(beside: Path, suffix: str) -> Path:
    """A new name beside ``beside`` for the copy a restore keeps of the
    workspace it replaces: a second restore within the same second gets its
    own copy rather than replacing the first's."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    candidate = beside.with_name(f"{beside.stem}.before-restore-{stamp}{suffix}")
    number = 1
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = beside.with_name(f"{beside.stem}.before-restore-{stamp}-{number}{suffix}")
    return candidate
