"""A full disk: writes fail with a clear message and the SQLite database
stays intact and readable."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.config import normalize_url
from store.engine import open_database
from store.errors import StoreUnavailable
from store.services import projects


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs (needs the right to mount, as CI has here)."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


async def test_writes_fail_clearly_when_the_disk_fills_and_the_database_survives(
    small_filesystem: Path, migrated_sqlite_template: Path
) -> None:
    path = small_filesystem / "projdeck.db"
    shutil.copyfile(migrated_sqlite_template, path)
    db = await open_database(normalize_url(f"sqlite:///{path}"))
    created: list[str] = []
    try:
        with pytest.raises(StoreUnavailable) as raised:
            for index in range(200):
                name = f"filler-{index}"
                await projects.create_project_with_settings(
                    db,
                    projects.ProjectCreate(
                        name=name,
                        type="data",
                        owner_id="o",
                        codebase={
                            f"blob-{n}.txt": f"{index}-{n}-" + "x" * 60_000 for n in range(4)
                        },
                    ),
                )
                created.append(name)
        assert "full" in str(raised.value)
        assert str(path) in str(raised.value) or "sqlite" in str(raised.value)
        assert created, "the filesystem filled before anything was written"
        page = await projects.list_projects(db, limit=500)
        assert sorted(item.name for item in page.items) == sorted(created)
    finally:
        await db.dispose()
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = connection.execute("SELECT count(*) FROM projects").fetchone()[0]
        settings = connection.execute("SELECT count(*) FROM project_settings").fetchone()[0]
    finally:
        connection.close()
    assert count == settings == len(created)
