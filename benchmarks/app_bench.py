"""The app on a large workspace, next to a minimal Textual app.

    python -m benchmarks.app_bench --db-url sqlite+aiosqlite:////tmp/projdeck-bench-large.db

Start-up is timed from outside: from launching a Python process to the line
it prints once the first screen is painted (the Projects page with its rows
for projdeck; for the baseline, a header, a 50-row DataTable and a footer).
The rest runs in another process driving the real app headless: switching
to the Audit screen and back, scrolling 1,000 rows, typing a filter,
opening a review, and the peak memory of that process.

Each interaction is timed from handing the app its key (as the terminal
driver would) to the first frame the app paints that shows the result: the
screen's compositor renders every frame headless too, and a wrapper on the
app's display call notes when a frame is ready. Pilot's ``press`` is not
used for timing: it waits for the process to look idle (sleeping at least
40 ms each time), which measures Pilot, not the app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SIZE = (140, 40)
_PAINTED = "painted"
# When the parent launched a child (time.time()), for figures the child takes.
_LAUNCHED = "PROJDECK_BENCH_LAUNCHED"


def _peak_mib() -> float:
    """This process's peak resident memory. VmHWM starts afresh at exec;
    ru_maxrss would carry over the parent's figure from before the fork."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _wait(pilot: Any, ready: Any, limit: float = 60.0) -> None:
    deadline = time.perf_counter() + limit
    while not ready():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.002)


class Frames:
    """When the app paints a frame showing what is awaited.

    Wraps the app's display call (made once per frame the compositor
    renders, headless too): the first frame painted while ``ready()`` holds
    is when a person would see the result."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._ready: Any = None
        self._shown: float | None = None
        display = app._display

        def timed(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None and self._ready is not None and self._ready():
                self._shown = time.perf_counter()
                self._ready = None

        app._display = timed

    def expect(self, ready: Any) -> None:
        self._ready, self._shown = ready, None

    async def shown(self, since: float, limit: float = 60.0) -> float:
        """Milliseconds from ``since`` to the first frame painted once ready."""
        deadline = time.perf_counter() + limit
        while self._shown is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("no frame showed it in time")
            await asyncio.sleep(0.0005)
        return (self._shown - since) * 1000

    async def key(self, key: str, ready: Any, *, settle: float = 0.01) -> float:
        """Press ``key`` as the terminal would; milliseconds to the frame that
        shows ``ready()``, then a short pause as between two keystrokes."""
        self.expect(ready)
        started = time.perf_counter()
        self.app._driver.send_message(_key(key))
        took = await self.shown(started)
        await asyncio.sleep(settle)
        return took


# Children: each runs in its own process ------------------------------------


async def child_projdeck(url: str) -> None:
    from store.config import normalize_url
    from tui.app import ProjdeckApp
    from tui.screens.projects import ProjectsScreen

    app = ProjdeckApp(normalize_url(url), freeze_gc=True)  # as run_app makes it
    frames = Frames(app)
    # The first frame painted with the Projects screen's rows in it.
    frames.expect(lambda: isinstance(app.screen, ProjectsScreen) and bool(app.screen.rows))
    async with app.run_test(size=SIZE):
        await frames.shown(0)
        print(_PAINTED, flush=True)
        print(json.dumps({"peak_mib": _peak_mib()}), flush=True)
        _leave()


async def child_demo() -> None:
    """``projdeck --demo`` as run_app makes it; the parent gives it an empty
    cache dir (a machine that never ran it) and a temporary dir it removes.
    "painted" is its first screen: the start screen saying how far the
    demo's building has come; then how long until the Projects screen
    showed its rows (seconds since the parent launched it)."""
    from tui.app import demo_app
    from tui.screens.projects import ProjectsScreen
    from tui.screens.start import StartScreen

    launched = float(os.environ.get(_LAUNCHED, time.time()))
    with demo_app() as app:
        frames = Frames(app)

        def building() -> bool:
            screen = app.screen
            if not isinstance(screen, StartScreen):
                return False
            bars = screen.query("#start-progress")
            return bool(bars) and bool(bars.first().display)

        frames.expect(building)
        async with app.run_test(size=SIZE):
            await frames.shown(0)
            print(_PAINTED, flush=True)
            frames.expect(lambda: isinstance(app.screen, ProjectsScreen) and bool(app.screen.rows))
            await frames.shown(0)
            projects_s = time.time() - launched
            print(json.dumps({"peak_mib": _peak_mib(), "projects_s": projects_s}), flush=True)
            _leave()


def _leave() -> None:
    """End the child at once: what comes after the measurement (the app's
    shutdown, its workers) is not measured, and must not hold the run up."""
    sys.stdout.flush()
    os._exit(0)


async def child_baseline() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("name", "owner", "status", "updated")
            table.add_rows(
                (f"project-{n}", f"owner-{n % 7}", "active", "2026-11-25") for n in range(50)
            )

    app = Minimal()
    frames = Frames(app)
    # The first frame painted with the table's rows in it, as for projdeck.
    frames.expect(lambda: any(table.row_count == 50 for table in app.query(DataTable)))
    async with app.run_test(size=SIZE) as pilot:
        await frames.shown(0)
        print(_PAINTED, flush=True)
        table = app.query_one(DataTable)
        # The same key step as in the app, timed the same way.
        table.focus()
        await pilot.pause()
        frames = Frames(app)
        steps = []
        for _ in range(40):
            row = table.cursor_row
            steps.append(await frames.key("down", lambda row=row: table.cursor_row == row + 1))
        print(
            json.dumps({"peak_mib": _peak_mib(), "step_ms": statistics.median(steps)}),
            flush=True,
        )
        _leave()


def _steps(values: list[float]) -> dict[str, float]:
    """Figures of steps given in milliseconds."""
    ordered = sorted(values)
    return {
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[round(0.95 * (len(ordered) - 1))],
        "max_ms": ordered[-1],
        "count": len(ordered),
    }


async def child_interact(url: str, rows: int, term: str) -> None:
    from textual.widgets import DataTable, Input

    from store.config import normalize_url
    from tui.app import ProjdeckApp
    from tui.screens.audit import AuditScreen
    from tui.screens.filtered import TYPING_PAUSE
    from tui.screens.projects import ProjectsScreen

    result: dict[str, Any] = {"filter_typing_pause_ms": TYPING_PAUSE * 1000}
    app = ProjdeckApp(normalize_url(url), freeze_gc=True)  # as run_app makes it
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen, ProjectsScreen) and app.screen.rows)
        await pilot.pause()
        await asyncio.sleep(1.0)  # the live refresh's first reading, as a person would wait
        frames = Frames(app)
        projects = app.screen
        assert isinstance(projects, ProjectsScreen)
        table = projects.query_one("#projects", DataTable)

        def audit_rows() -> bool:
            screen = app.screen
            return isinstance(screen, AuditScreen) and screen.query_one(DataTable).row_count > 0

        for visit in ("first", "again"):
            frames.expect(lambda: isinstance(app.screen, AuditScreen))
            started = time.perf_counter()
            app._driver.send_message(_key("4"))
            result[f"audit_{visit}_ms"] = await frames.shown(started)
            frames.expect(audit_rows)
            result[f"audit_{visit}_rows_ms"] = await frames.shown(started)
            await pilot.pause()
            await asyncio.sleep(0.3)
            result[f"projects_{visit}_ms"] = await frames.key("1", lambda: app.screen is projects)
            await app.workers.wait_for_complete()
            await pilot.pause()
            await asyncio.sleep(0.3)

        table.focus()
        await pilot.pause()
        steps = []
        scroll_started = time.perf_counter()
        for _ in range(rows):
            row = table.cursor_row
            steps.append(await frames.key("down", lambda row=row: table.cursor_row == row + 1))
        await app.workers.wait_for_complete()
        result["scroll_step"] = _steps(steps)
        result["scroll_total_s"] = time.perf_counter() - scroll_started
        result["scroll_cursor_row"] = table.cursor_row

        field = projects.query_one("#project-filter", Input)
        await frames.key("slash", lambda: field.has_focus)
        keys = []
        for typed in range(1, len(term) + 1):
            text = term[:typed]
            keys.append(
                await frames.key(text[-1], lambda text=text: field.value == text, settle=0.05)
            )

        def filtered() -> bool:
            shown = projects.rows[:20]
            return bool(shown) and all(
                term in f"{row.name} {row.owner_id} {row.github or ''}".lower() for row in shown
            )

        frames.expect(filtered)
        result["filter_results_after_last_key_ms"] = await frames.shown(time.perf_counter())
        result["filter_keystroke"] = _steps(keys)
        result["filter_matches"] = projects.total

        result["review_ms"] = await _open_review(app, pilot, frames)
        result["review"] = f"{result['review_ms']:.0f} ms to the first painted diff"
        result["peak_mib"] = _peak_mib()
        print(json.dumps(result), flush=True)
        _leave()


def _key(key: str) -> Any:
    """The key event the terminal driver would send for ``key``."""
    from textual import events

    return events.Key(key, key if len(key) == 1 else None)


async def _open_review(app: Any, pilot: Any, frames: Frames) -> float:
    """Propose a 5,000-line change to an active project, then time opening
    its review until the diff is painted."""
    from store.models import ProjectStatus
    from store.repositories.projects import ProjectFilter
    from store.services.browse import list_project_rows
    from store.services.modifications import ModificationProposal, propose_modification
    from tui.screens.review import ReviewScreen

    page = await list_project_rows(
        app.database, ProjectFilter(status=ProjectStatus.ACTIVE), limit=1
    )
    content = "".join(f"line_{n} = {n} * 2  # generated for the benchmark\n" for n in range(5000))
    modification = await propose_modification(
        app.database,
        str(page.items[0].id),
        ModificationProposal(
            request="a 5,000-line change", modified_files={"big/lines.py": content}
        ),
        actor="bench",
    )
    await asyncio.sleep(1.0)  # the live refresh reads the news first, as it would
    await pilot.pause()
    screen = ReviewScreen(modification.id)
    frames.expect(lambda: app.screen is screen and screen.detail is not None)
    started = time.perf_counter()
    await app.push_screen(screen)
    return await frames.shown(started)


# The parent ----------------------------------------------------------------


def first_paint(args: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Seconds from launching the child to its "painted" line, and its peak memory."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.app_bench", *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**(env if env is not None else os.environ), _LAUNCHED: str(time.time())},
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    elapsed = time.perf_counter() - started
    rest = child.stdout.read()
    child.wait(timeout=120)
    if line != _PAINTED:
        raise RuntimeError(f"the child did not paint: {line!r} {rest!r}")
    return {"seconds": elapsed, **json.loads(rest.splitlines()[-1])}


def run(url: str, *, repeats: int = 5, rows: int = 1000, term: str = "billing") -> dict[str, Any]:
    # Warm the file cache and the bytecode once, as a second launch would be.
    first_paint(["--child", "baseline"])
    first_paint(["--child", "projdeck", "--db-url", url])
    baseline, projdeck = [], []
    for _ in range(repeats):
        baseline.append(first_paint(["--child", "baseline"]))
        projdeck.append(first_paint(["--child", "projdeck", "--db-url", url]))
    interact = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.app_bench",
            "--child",
            "interact",
            "--db-url",
            url,
            "--rows",
            str(rows),
            "--term",
            term,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    result = {
        "first_paint_s": statistics.median(p["seconds"] for p in projdeck),
        "first_paint_runs": [p["seconds"] for p in projdeck],
        "first_paint_peak_mib": max(p["peak_mib"] for p in projdeck),
        "baseline_first_paint_s": statistics.median(p["seconds"] for p in baseline),
        "baseline_runs": [p["seconds"] for p in baseline],
        "baseline_peak_mib": max(p["peak_mib"] for p in baseline),
        "baseline_step_ms": statistics.median(p["step_ms"] for p in baseline),
        **json.loads(interact.stdout.strip().splitlines()[-1]),
    }
    result["first_paint_ratio"] = result["first_paint_s"] / result["baseline_first_paint_s"]
    return result


def print_result(result: dict[str, Any]) -> None:
    print(
        f"first paint of Projects: {result['first_paint_s']:.3f} s (median); minimal Textual app "
        f"{result['baseline_first_paint_s']:.3f} s; ratio {result['first_paint_ratio']:.1f}x"
    )
    for visit in ("first", "again"):
        print(
            f"switch to Audit ({visit} visit): painted {result[f'audit_{visit}_ms']:.0f} ms, "
            f"its rows {result[f'audit_{visit}_rows_ms']:.0f} ms; back to Projects "
            f"{result[f'projects_{visit}_ms']:.0f} ms"
        )
    step = result["scroll_step"]
    print(
        f"scroll {step['count']} rows: step median {step['median_ms']:.1f} ms, p95 {step['p95_ms']:.1f} ms, "
        f"max {step['max_ms']:.1f} ms; {result['scroll_total_s']:.2f} s in all"
    )
    key = result["filter_keystroke"]
    print(
        f"filter keystroke: median {key['median_ms']:.1f} ms, max {key['max_ms']:.1f} ms; results "
        f"{result['filter_results_after_last_key_ms']:.0f} ms after the last key (typing pause "
        f"{result['filter_typing_pause_ms']:.0f} ms), {result['filter_matches']:,} matches"
    )
    print(f"the same key step (down) in the minimal app: {result['baseline_step_ms']:.1f} ms")
    print(f"review of a 5,000-line diff: {result['review']}")
    print(
        f"peak RSS: {result['peak_mib']:.0f} MiB (interaction), {result['first_paint_peak_mib']:.0f} MiB (start-up); minimal app {result['baseline_peak_mib']:.0f} MiB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_bench")
    parser.add_argument("--db-url")
    parser.add_argument("--child", choices=["projdeck", "baseline", "interact", "demo"])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--term", default="billing")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.child == "projdeck":
        asyncio.run(child_projdeck(args.db_url))
    elif args.child == "baseline":
        asyncio.run(child_baseline())
    elif args.child == "demo":
        asyncio.run(child_demo())
    elif args.child == "interact":
        asyncio.run(child_interact(args.db_url, args.rows, args.term))
    else:
        if not args.db_url:
            parser.error("--db-url is required")
        print_result(run(args.db_url, repeats=args.repeats, rows=args.rows, term=args.term))


if __name__ == "__main__":
    main()
