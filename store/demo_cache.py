"""The demo kept for the next run: a built demo database in the user cache
dir, with the key that seals its secrets, so ``projdeck --demo`` opens in
well under a second after its first run. What the demo holds is demo.py's."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from store.config import APP_NAME
from store.demo import DemoSummary, fill_demo
from store.engine import Database
from store.progress import OnStep, Step, ignore

# A demo built here is reused for this long by ``projdeck --demo`` (its
# times are relative to when it was built).
CACHE_MAX_AGE_SECONDS = 12 * 3600
_KEY_FILE = "demo.key"
_DATABASE_FILE = "demo.db"


@dataclass(frozen=True)
class DemoCache:
    """A built demo database kept in the user cache dir, so ``projdeck
    --demo`` opens in well under a second after its first run. It holds
    only demo data, sealed with a key made for it (kept beside it, 0600)."""

    folder: Path

    @classmethod
    def default(cls) -> DemoCache:
        from platformdirs import user_cache_path

        from store.migrate import HEAD_REVISION

        # A new schema or new demo data (demo.py's, the agents' part's)
        # makes a new cache entry.
        here = Path(__file__).with_name("demo.py")
        digest = hashlib.sha256(
            here.read_bytes() + here.with_name("demo_agents.py").read_bytes()
        ).hexdigest()[:12]
        return cls(user_cache_path(APP_NAME, appauthor=False) / f"demo-{HEAD_REVISION}-{digest}")

    def copy_to(self, target: Path) -> str | None:
        """Copy the cached database to ``target`` and return its key, or
        None when there is no fresh one."""
        database, key_file = self.folder / _DATABASE_FILE, self.folder / _KEY_FILE
        try:
            if time.time() - database.stat().st_mtime > CACHE_MAX_AGE_SECONDS:
                return None
            key = key_file.read_text(encoding="ascii").strip()
            shutil.copyfile(database, target)
        except OSError:
            return None
        return key

    async def save(self, db: Database, key: str) -> None:
        """Keep a consistent copy of ``db`` (SQLite only) and its key."""
        if db.backend != "sqlite":
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{_DATABASE_FILE}.{os.getpid()}"
        partial.unlink(missing_ok=True)
        await asyncio.to_thread(_backup, Path(str(db.url.database)), partial)
        key_file = self.folder / _KEY_FILE
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key)
        partial.replace(self.folder / _DATABASE_FILE)


def _backup(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (WAL included)."""
    with (
        contextlib.closing(sqlite3.connect(source)) as origin,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        origin.backup(copy)


async def fill_and_cache(
    db: Database, *, cache: DemoCache, key: str, on_step: OnStep = ignore
) -> DemoSummary:
    """Fill ``db`` with the demo and keep a copy in ``cache`` (best effort:
    a cache that cannot be written only costs the next run its speed)."""
    summary = await fill_demo(db, on_step=on_step)
    on_step(Step("Keeping a copy of the demo for the next run…"))
    with contextlib.suppress(OSError, sqlite3.Error):
        await cache.save(db, key)
    return summary
