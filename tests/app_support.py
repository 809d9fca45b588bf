"""What the app tests share: the demo database of the screenshots, built
once per run (then copied for each test), with the same fixed clock and key;
a modification proposed on its Billing API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy.engine import URL
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from store import crypto
from store.config import normalize_url
from store.services import modifications, projects
from tests.screenshots import SHOT_KEY, SHOT_NOW, SHOT_SIZE, build_demo, screenshot_app, settle
from tests.store_support import opened
from tui.app import ProjdeckApp
from tui.screens.project_detail import TABS, ProjectDetailScreen

FIXED_NOW = SHOT_NOW
TEST_KEY = SHOT_KEY
SIZE = SHOT_SIZE
make_app = screenshot_app

__all__ = [
    "FIXED_NOW",
    "SIZE",
    "TEST_KEY",
    "make_app",
    "open_project",
    "press",
    "proposed_on_billing",
    "running_app",
    "settle",
    "wait_until",
]


@contextlib.asynccontextmanager
async def running_app(url: URL) -> AsyncIterator[tuple[ProjdeckApp, Pilot[None]]]:
    """The app of the screenshots on ``url`` under Pilot, at the screenshots'
    size, settled on its first screen."""
    app = make_app(url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        yield app, pilot


async def press(pilot: Pilot[None], *keys: str) -> None:
    """Press ``keys``, then wait until the app has settled (its workers
    done, the screen drawn)."""
    await pilot.press(*keys)
    await settle(pilot)


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], seconds: float) -> float:
    """Seconds until ``condition()`` holds, the app running meanwhile (what
    the app notices within a second, the tests allow ten for on a loaded
    machine)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        await pilot.pause(0.05)
    raise AssertionError(f"not within {seconds} s")


async def open_project(
    pilot: Pilot[None], name: str | None = None, *, tab: str = "overview"
) -> ProjectDetailScreen:
    """From the Projects list: filter it to ``name`` (None: keep the list as
    it is), open the selected project and step to its ``tab``."""
    if name is not None:
        await press(pilot, "slash", *name, "enter")
    await press(pilot, "enter")
    screen = pilot.app.screen
    assert isinstance(screen, ProjectDetailScreen)
    # One tab at a time: each focuses its own table when shown, and a key
    # pressed before that lands where the previous tab put the focus.
    for _ in range(TABS.index(tab)):
        await press(pilot, "right_square_bracket")
    return screen


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
    with app_environment():
        asyncio.run(build_demo(path))
    return path


@pytest.fixture
def demo_url(demo_database_file: Path, tmp_path: Path) -> Iterator[URL]:
    """A fresh copy of the demo database for one test, with the test key."""
    target = tmp_path / "projdeck.db"
    shutil.copyfile(demo_database_file, target)
    with app_environment():
        yield normalize_url(f"sqlite:///{target}")


async def proposed_on_billing(
    url: URL,
    request: str,
    files: Mapping[str, str],
    *,
    codebase: Mapping[str, str] | None = None,
) -> uuid.UUID:
    """The id of a modification of the demo's Billing API that agent-7
    proposes: ``files`` as the change writes them, the project's
    ``codebase`` files (if any) put in place before."""
    async with opened(url) as db:
        if codebase:
            project = await projects.get_project(db, "Billing API")
            await projects.update_project(
                db, "Billing API", {"codebase": {**project.codebase, **codebase}}
            )
        created = await modifications.propose_modification(
            db,
            "Billing API",
            modifications.ModificationProposal(request=request, modified_files=dict(files)),
            actor="agent-7",
        )
    return created.id


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=200, record=True)
    console.print(widget.content)
    return console.export_text()


def column(table: DataTable[object], key: str) -> list[str]:
    return [
        str(table.get_cell_at((row, table.get_column_index(key)))) for row in range(table.row_count)
    ]
