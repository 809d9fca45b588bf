"""The side-by-side diff scrolls sideways: a long line is not cut at the
half's edge, its end can be brought into view, and the line numbers stay
where they are meanwhile."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import URL

from tests.app_support import press, proposed_on_billing, running_app, wait_until
from tui.screens.review import ReviewScreen
from tui.widgets.diff_view import DiffView

LONG = "message = '" + "word " * 60 + "THE_END'\n"


async def proposed(url: URL) -> uuid.UUID:
    return await proposed_on_billing(
        url, "A long line", {"long.py": "x = 1\n" + LONG}, codebase={"long.py": "x = 1\n"}
    )


def shown(diff: DiffView) -> list[str]:
    """The rows on screen as plain text."""
    return ["".join(segment.text for segment in diff.render_line(y)) for y in range(4)]


async def test_a_long_line_side_by_side_scrolls_into_view(demo_url: URL) -> None:
    ref = await proposed(demo_url)
    async with running_app(demo_url) as (app, pilot):
        screen = ReviewScreen(ref)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.detail is not None, 10)
        await press(pilot, "s")
        diff = screen.query_one(DiffView)
        assert diff.side_by_side
        rows = shown(diff)
        assert not any("THE_END" in row for row in rows)
        # No "…": the line goes on past the edge, to be scrolled to.
        assert not any("…" in row for row in rows)
        assert diff.max_scroll_x > 0

        for _ in range(10):
            await press(pilot, "ctrl+pagedown")
        assert diff.scroll_x == diff.max_scroll_x
        [row] = [row for row in shown(diff) if "THE_END" in row]
        # The new line's number stays at the start of its half.
        right = row.split("│", 1)[1]
        assert right.lstrip().startswith("2")
        assert "x = 1" not in row  # the short lines' code is scrolled out of view

        await press(pilot, "s")
        assert not diff.side_by_side
        assert diff.scroll_x == 0
