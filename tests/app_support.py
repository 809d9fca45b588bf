"""What the app tests share: a demo database built once per run (then
copied for each test), a fixed clock and key, and a way to wait until the
app's workers are done."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from textual.pilot import Pilot

from store import crypto, migrate
from store.config import normalize_url
from store.demo import fill_demo
from store.engine import open_database
from tui.app import ProjdeckApp

# The moment the demo history ends and the app counts times from.
FIXED_NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# A fixed master key, so key ids drawn on screen are the same every run.
TEST_KEY = crypto.encode_key(b"projdeck-app-tests-fixed-key-32b")
SIZE = (140, 40)


@contextlib.contextmanager
def app_environment() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in (crypto.SECRET_KEY_ENV, "PROJDECK_ACTOR")}
    os.environ[crypto.SECRET_KEY_ENV] = TEST_KEY
    os.environ["PROJDECK_ACTOR"] = "tester"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def demo_database_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the demo workspace, built once."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"

    async def build() -> None:
        database = await open_database(normalize_url(f"sqlite:///{path}"))
        try:
            await migrate.upgrade(database)
            await fill_demo(database, now=FIXED_NOW)
        finally:
            await database.dispose()

    with app_environment():
        asyncio.run(build())
    return path


@pytest.fixture
def demo_url(demo_database_file: Path, tmp_path: Path) -> Iterator[URL]:
    """A fresh copy of the demo database for one test, with the test key."""
    target = tmp_path / "projdeck.db"
    shutil.copyfile(demo_database_file, target)
    with app_environment():
        yield normalize_url(f"sqlite:///{target}")


def make_app(url: URL) -> ProjdeckApp:
    return ProjdeckApp(url, clock=lambda: FIXED_NOW, show_ids=False, label="demo · sqlite")


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every worker (and any worker they started) is done."""
    for _ in range(6):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
