"""The pictures of every screen: ``python -m tests.screenshots [FOLDER]``,
run from the checkout, writes one SVG per scene (default folder:
``screenshots/``).

The snapshot tests draw the same scenes from the same data: the demo
workspace with its history ending at SHOT_NOW, the app counting time from
that moment, ids hidden and secrets sealed with a fixed key, so every run
draws the same picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL
from textual.app import App
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widgets import DataTable
from textual.worker import WorkerCancelled

from store import crypto
from tui.app import ProjdeckApp

SHOT_NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# Seals the demo's made-up secret values only; fixed so key ids draw alike.
SHOT_KEY = crypto.encode_key(b"projdeck-demo-screenshots-key-32")
SHOT_SIZE = (140, 40)


@dataclass(frozen=True)
class Scene:
    name: str
    keys: tuple[str, ...]
    size: tuple[int, int] = SHOT_SIZE


# Templates, the fastapi-service template, ``c``, the project's name and owner.
TEMPLATE_FORM = ("2", "slash", *"fastapi", "enter", "c", *"Billing Svc", "tab", *"alice")

SCENES = [
    Scene("projects", ()),
    Scene("projects-with-archived-and-deleted", ("A", "D")),
    Scene("project-form", ("n",)),
    Scene("delete-confirm", ("d",)),
    Scene("project-overview", ("enter",)),
    Scene("project-settings", ("enter", "right_square_bracket")),
    Scene("project-secrets", ("enter",) + ("right_square_bracket",) * 2),
    Scene("project-codebase", ("enter",) + ("right_square_bracket",) * 3),
    Scene("project-modifications", ("enter",) + ("right_square_bracket",) * 4),
    # Short, so only the newest activity (deployments) shows: older rows name
    # modifications by their random ids.
    Scene("project-activity", ("enter",) + ("right_square_bracket",) * 5, (140, 20)),
    Scene("project-runs", ("enter",) + ("right_square_bracket",) * 6),
    Scene("templates", ("2",)),
    # A new project from a template: an inline error under a variable, then
    # the same form filled in, its rendered files browsed. Each ends on the
    # file tree: a focused input's cursor blinks, so a slow preview could
    # catch it off.
    Scene("template-form", (*TEMPLATE_FORM, "tab", "tab", *"Bad Name", "ctrl+t")),
    Scene(
        "template-preview",
        (*TEMPLATE_FORM, "tab", "tab", *"billing-svc", "ctrl+t", "down", "down", "down"),
    ),
    Scene("modifications", ("3",)),
    Scene("audit", ("4",)),
    Scene("activity", ("6",)),
    Scene("activity-costs", ("6", "c")),
    # A failed run's conversation: the assistant's long plan folded.
    Scene("conversation", ("6", "down", "down", "down", "enter")),
    # The inbox, then the second waiting modification (two files) reviewed.
    Scene("inbox", ("5",)),
    Scene("review", ("5", "enter", "n")),
    Scene("review-side-by-side", ("5", "enter", "n", "s")),
    # Reviewed by hunks: the first file's accepted, the second's rejected.
    Scene("review-hunks", ("5", "enter", "n", "space", "j", "x", "enter")),
    # The agent's second revision, since the first's review: its second file,
    # where the reviewer's comment no longer has its line.
    Scene("review-since", ("5", "down", "down", "enter", "v", "j")),
    # T: the project's commands, shown before they run on the change.
    Scene("review-test-run", ("5", "enter", "T")),
    Scene("help", ("question_mark",)),
    # Typed, because the palette lists its providers' discoveries in no fixed order.
    Scene("command-palette", ("ctrl+p", *"go to")),
]


# One-shot timers at most this long are waited for (a filter's typing pause,
# a preview's debounce); longer ones (a revealed secret masking itself) not.
SHORT_TIMER = 1.0


def _short_timers(app: App[None]) -> list[asyncio.Task[None]]:
    """The running one-shot timers of short delay anywhere in the app."""
    nodes: list[DOMNode] = [app]
    for stack in app._screen_stacks.values():
        for screen in stack:
            nodes.extend(screen.walk_children(with_self=True))
    tasks = []
    for node in nodes:
        for timer in list(node._timers):
            task = timer._task
            if (
                timer._repeat == 0
                and timer._interval <= SHORT_TIMER
                and task is not None
                and not task.done()
            ):
                tasks.append(task)
    return tasks


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every worker (and any worker they started) is done, and
    every short one-shot timer (typing pauses) has fired and been handled."""
    for _ in range(6):
        # A worker replaced by a newer one of its group ends cancelled: the
        # next round waits for the newer one.
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        timers = _short_timers(pilot.app)
        if timers:
            await asyncio.wait(timers, timeout=5 * SHORT_TIMER)
        await pilot.pause()
    # A table measures its new rows' columns when its own queue is idle,
    # which a loaded machine may reach after the app looks idle: the
    # picture would show the columns as wide as their headers.
    for _ in range(200):
        if not any(_measuring(table) for table in pilot.app.screen.query(DataTable)):
            break
        await pilot.pause(0.01)


def _measuring(table: DataTable[object]) -> bool:
    return bool(table._require_update_dimensions or table._updated_cells or table._new_rows)


async def play(pilot: Pilot[None], scene: Scene) -> None:
    await settle(pilot)
    for key in scene.keys:
        await pilot.press(key)
        await settle(pilot)


def screenshot_app(url: URL) -> ProjdeckApp:
    return ProjdeckApp(
        url, clock=lambda: SHOT_NOW, show_ids=False, label="demo · sqlite", steady_cursor=True
    )


async def build_demo(path: Path) -> None:
    """The demo database every picture is drawn from."""
    from store import migrate
    from store.config import normalize_url
    from store.demo import fill_demo
    from store.engine import open_database

    database = await open_database(normalize_url(f"sqlite:///{path}"))
    try:
        await migrate.upgrade(database)
        await fill_demo(database, now=SHOT_NOW)
    finally:
        await database.dispose()


async def _shoot(folder: Path) -> None:
    import shutil

    from store.config import normalize_url

    with tempfile.TemporaryDirectory(prefix="projdeck-shots-") as work:
        source = Path(work) / "demo.db"
        await build_demo(source)
        for scene in SCENES:
            copy = Path(work) / f"{scene.name}.db"
            shutil.copyfile(source, copy)
            app = screenshot_app(normalize_url(f"sqlite:///{copy}"))
            async with app.run_test(size=scene.size) as pilot:
                await play(pilot, scene)
                app.save_screenshot(str(folder / f"{scene.name}.svg"))
            print(folder / f"{scene.name}.svg")


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("screenshots")
    os.environ[crypto.SECRET_KEY_ENV] = SHOT_KEY
    os.environ["PROJDECK_ACTOR"] = "demo"
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(_shoot(folder))


if __name__ == "__main__":
    main()
