"""How the app's Projects screen behaves on a big workspace.

    python -m benchmarks.generate --db-url sqlite+aiosqlite:////tmp/projdeck-bench.db --projects 100000
    python -m benchmarks.app_projects --db-url sqlite+aiosqlite:////tmp/projdeck-bench.db

Drives the real app headless under Pilot and prints the time to the first
painted page, to page down to row 1,000 (ten pages fetched as the cursor
nears the end) and to filter, and the rows the table holds, which stay
what was paged in, not the whole table.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time

from textual.widgets import DataTable, Input

from store.config import normalize_url
from tui.app import ProjdeckApp
from tui.screens.projects import TYPING_PAUSE, ProjectsScreen


async def measure(url: str, depth: int) -> None:
    started = time.perf_counter()
    app = ProjdeckApp(normalize_url(url))
    async with app.run_test(size=(140, 40)) as pilot:
        while not (isinstance(app.screen, ProjectsScreen) and app.screen.rows):
            await pilot.pause(0.005)
        screen = app.screen
        table = screen.query_one(DataTable)
        first_page = time.perf_counter() - started
        print(f"first page ({table.row_count} rows of {screen.total:,}): {first_page:.2f} s")
        started = time.perf_counter()
        while table.row_count < depth:
            await pilot.press("ctrl+end")
            await app.workers.wait_for_complete()
            await pilot.pause()
        print(f"paged to row {table.row_count:,}: {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        await pilot.press("slash", *"billing")
        await pilot.pause(TYPING_PAUSE)
        await app.workers.wait_for_complete()
        await pilot.pause()
        typed = screen.query_one("#project-filter", Input).value
        print(
            f"filtered by {typed!r} as typed ({screen.total:,} match, {table.row_count} loaded): "
            f"{time.perf_counter() - started:.2f} s"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the process: {peak:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--depth", type=int, default=1000, help="page down to this many rows")
    options = parser.parse_args()
    asyncio.run(measure(options.db_url, options.depth))


if __name__ == "__main__":
    main()
