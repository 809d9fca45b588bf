"""Code follows the app's theme: under a light theme the diff, the codebase
and the modification views colour code for a light background (a dark
theme's near-white would not read there), and they change when the theme
does."""

from __future__ import annotations

import uuid

from rich.console import Console
from rich.style import Style
from rich.syntax import Syntax
from sqlalchemy.engine import URL
from textual.widgets import Static

from store.services import projects
from store.services.review import get_modification
from tests.app_support import (
    FIXED_NOW,
    open_project,
    proposed_on_billing,
    running_app,
    settle,
    wait_until,
)
from tests.store_support import opened
from tui.app import ProjdeckApp
from tui.screens.review import ReviewScreen
from tui.widgets.code_theme import DARK, LIGHT
from tui.widgets.codebase import FileBrowser
from tui.widgets.diff_view import DiffView
from tui.widgets.modification_view import render_modification

CODE = "def total(items):\n    return sum(items)\n"


async def proposed(url: URL) -> uuid.UUID:
    return await proposed_on_billing(url, "Add a total", {"total.py": CODE})


def keyword_style(diff: DiffView) -> Style | None:
    """The style the diff draws the keyword ``def`` in (None: not drawn yet)."""
    for y in range(diff.size.height):
        for segment in diff.render_line(y):
            if segment.text == "def":
                return segment.style
    return None


def coloured(diff: DiffView, unlike: Style | None = None) -> bool:
    style = keyword_style(diff)
    return (
        style is not None
        and style.color is not None
        and style.color != (unlike.color if unlike else None)
    )


async def light(app: ProjdeckApp) -> None:
    app.theme = "textual-light"
    assert not app.current_theme.dark


async def test_the_diff_colours_code_for_the_theme_and_follows_a_change(demo_url: URL) -> None:
    ref = await proposed(demo_url)
    async with running_app(demo_url) as (app, pilot):
        assert app.current_theme.dark
        screen = ReviewScreen(ref)
        await app.push_screen(screen)
        diff = screen.query_one(DiffView)
        await wait_until(pilot, lambda: coloured(diff), 10)
        dark = keyword_style(diff)
        assert dark is not None

        await light(app)
        await wait_until(pilot, lambda: coloured(diff, unlike=dark), 10)
        bright = keyword_style(diff)
        assert bright is not None and bright.color is not None and dark.color is not None
        # The light style's keyword is dark: it reads on a light background.
        assert sum(bright.color.get_truecolor()) < sum(dark.color.get_truecolor())

        app.theme = "textual-dark"
        await wait_until(pilot, lambda: keyword_style(diff) == dark, 10)


def keyword_colour(theme: str) -> str:
    colour = Syntax.get_theme(theme).get_style_for_token(("Keyword",)).color
    assert colour is not None
    return colour.name


def keyword_colours(renderable: object) -> set[str]:
    """The colours a renderable draws the keyword ``def`` in."""
    console = Console(width=100, color_system="truecolor")
    return {
        segment.style.color.name
        for segment in console.render(renderable)  # type: ignore[arg-type]
        if segment.text == "def" and segment.style is not None and segment.style.color is not None
    }


async def test_the_codebase_view_colours_code_for_the_theme(demo_url: URL) -> None:
    async with opened(demo_url) as db:
        await projects.update_project(db, "Billing API", {"codebase": {"total.py": CODE}})
    async with running_app(demo_url) as (app, pilot):
        screen = await open_project(pilot, "Billing API", tab="codebase")
        content = screen.query_one(FileBrowser).query_one(".file-content", Static)
        dark, bright = keyword_colour(DARK), keyword_colour(LIGHT)
        await wait_until(pilot, lambda: keyword_colours(content.content) == {dark}, 10)
        await light(app)
        await settle(pilot)
        await wait_until(pilot, lambda: keyword_colours(content.content) == {bright}, 10)


async def test_the_modification_view_colours_diffs_in_the_theme_given(demo_url: URL) -> None:
    ref = await proposed(demo_url)
    async with opened(demo_url) as db:
        detail = await get_modification(db, str(ref))
    console = Console(width=100, color_system="truecolor")
    styles = {
        theme: {
            str(segment.style)
            for segment in console.render(render_modification(detail, FIXED_NOW, theme=theme))
            if segment.text.startswith("+def")
        }
        for theme in (DARK, LIGHT)
    }
    assert styles[DARK] and styles[LIGHT] and styles[DARK] != styles[LIGHT]
