"""The command palette jumps: to a project by typing part of its name, to a
modification by the start of its id; hostile names shown as text."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.screen import Screen

from store.services import projects
from store.services.review import list_modifications
from tests.app_support import press, running_app, wait_until
from tests.store_support import opened
from tui.app import ProjdeckApp
from tui.screens.project_detail import ProjectDetailScreen
from tui.screens.review import ReviewScreen


def offered(app: ProjdeckApp) -> list[str]:
    """The commands the palette offers, as their text."""
    palette = app.screen
    assert isinstance(palette, CommandPalette)
    # Each option shows the command, then its help on a line of its own.
    return [
        str(option.prompt).split("\n")[0]
        for option in palette.query_one("CommandList").options  # type: ignore[attr-defined]
    ]


async def chosen(app: ProjdeckApp, pilot: Pilot[None], typed: str, command: str) -> Screen[Any]:
    """The screen open once ``typed`` in the palette offers ``command`` and
    ``enter`` takes the first command offered."""
    await press(pilot, "ctrl+p", *typed)
    await wait_until(pilot, lambda: command in offered(app), 10)
    await press(pilot, "enter")
    await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette), 10)
    return app.screen


async def test_typing_part_of_a_project_name_opens_the_project(demo_url: URL) -> None:
    async with opened(demo_url) as db:
        billing = await projects.get_project(db, "Billing API")
    async with running_app(demo_url) as (app, pilot):
        screen = await chosen(app, pilot, "illing a", "Open project Billing API")
        assert isinstance(screen, ProjectDetailScreen)
        assert screen.project_id == billing.id


async def test_typing_the_start_of_an_id_opens_the_modification(demo_url: URL) -> None:
    async with opened(demo_url) as db:
        page = await list_modifications(db, limit=5)
    wanted = page.items[3]
    prefix = wanted.id.hex[:6]
    async with running_app(demo_url) as (app, pilot):
        screen = await chosen(app, pilot, prefix, f"Review modification {str(wanted.id)[:8]}…")
        assert isinstance(screen, ReviewScreen)
        assert screen.current == wanted.id


async def test_three_hex_digits_find_no_modification(demo_url: URL) -> None:
    async with opened(demo_url) as db:
        page = await list_modifications(db, limit=1)
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "ctrl+p", *page.items[0].id.hex[:3])
        await pilot.pause(0.3)
        assert not any(text.startswith("Review modification") for text in offered(app))


async def test_a_hostile_project_name_is_offered_as_text(demo_url: URL) -> None:
    async with opened(demo_url) as db:
        await projects.update_project(db, "Billing API", {"name": "Bil[bold]ling[/] API"})
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "ctrl+p", *"open project bil[")
        await wait_until(pilot, lambda: "Open project Bil[bold]ling[/] API" in offered(app), 10)
