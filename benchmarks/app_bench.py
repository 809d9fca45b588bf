"""The app on a large workspace, next to a minimal Textual app.

    python -m benchmarks.app_bench --db-url sqlite+aiosqlite:////tmp/projdeck-bench-large.db

Start-up is timed from outside: from launching a Python process to the line
it prints once the first screen is painted (the Projects page with its rows
for projdeck; for the baseline, a header, a 50-row DataTable and a footer).
The rest runs in another process driving the real app headless with Pilot:
switching to the Audit screen, scrolling 1,000 rows, typing a filter, and
the peak memory of that process.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
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


# Children: each runs in its own process ------------------------------------


async def child_projdeck(url: str) -> None:
    from store.config import normalize_url
    from tui.app import ProjdeckApp
    from tui.screens.projects import ProjectsScreen

    app = ProjdeckApp(normalize_url(url))
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen, ProjectsScreen) and app.screen.rows)
        await pilot.pause()
        print(_PAINTED, flush=True)
        print(json.dumps({"peak_mib": _peak_mib()}), flush=True)
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
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DataTable)
        await _wait(pilot, lambda: table.row_count == 50)
        await pilot.pause()
        print(_PAINTED, flush=True)
        # The same key step as in the app, here: what Pilot itself costs.
        table.focus()
        steps = []
        for _ in range(40):
            started = time.perf_counter()
            await pilot.press("down")
            steps.append(time.perf_counter() - started)
        print(
            json.dumps({"peak_mib": _peak_mib(), "step_ms": statistics.median(steps) * 1000}),
            flush=True,
        )
        _leave()


def _steps(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[round(0.95 * (len(ordered) - 1))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "count": len(ordered),
    }


async def child_interact(url: str, rows: int, term: str) -> None:
    from textual.widgets import DataTable

    from store.config import normalize_url
    from tui.app import ProjdeckApp
    from tui.screens.audit import AuditScreen
    from tui.screens.projects import TYPING_PAUSE, ProjectsScreen

    result: dict[str, Any] = {}
    app = ProjdeckApp(normalize_url(url))
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen, ProjectsScreen) and app.screen.rows)
        await pilot.pause()
        projects = app.screen
        assert isinstance(projects, ProjectsScreen)
        table = projects.query_one("#projects", DataTable)

        started = time.perf_counter()
        await pilot.press("4")
        await _wait(
            pilot,
            lambda: (
                isinstance(app.screen, AuditScreen)
                and app.screen.query_one(DataTable).row_count > 0
            ),
        )
        await pilot.pause()
        result["switch_to_audit_ms"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        await pilot.press("1")
        await _wait(pilot, lambda: app.screen is projects)
        await pilot.pause()
        result["switch_back_to_projects_ms"] = (time.perf_counter() - started) * 1000

        table.focus()
        await pilot.pause()
        steps = []
        scroll_started = time.perf_counter()
        for _ in range(rows):
            started = time.perf_counter()
            await pilot.press("down")
            steps.append(time.perf_counter() - started)
        await app.workers.wait_for_complete()
        result["scroll_step"] = _steps(steps)
        result["scroll_total_s"] = time.perf_counter() - scroll_started
        result["scroll_cursor_row"] = table.cursor_row

        await pilot.press("slash")
        keys = []
        for char in term:
            started = time.perf_counter()
            await pilot.press(char)
            keys.append(time.perf_counter() - started)
        typed_at = time.perf_counter()
        await pilot.pause(TYPING_PAUSE)
        await app.workers.wait_for_complete()
        await pilot.pause()
        result["filter_keystroke"] = _steps(keys)
        result["filter_results_after_last_key_ms"] = (time.perf_counter() - typed_at) * 1000
        result["filter_typing_pause_ms"] = TYPING_PAUSE * 1000
        result["filter_matches"] = projects.total

        if importlib.util.find_spec("tui.screens.review") is None:
            result["review"] = "no review screen (tui/screens/review.py) in this tree yet"
        else:
            result["review_ms"] = await _open_review(app, pilot)
            result["review"] = f"{result['review_ms']:.0f} ms to the first painted diff"
        result["peak_mib"] = _peak_mib()
        print(json.dumps(result), flush=True)
        _leave()


async def _open_review(app: Any, pilot: Any) -> float:
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
    started = time.perf_counter()
    screen = ReviewScreen(modification.id)
    await app.push_screen(screen)
    await _wait(pilot, lambda: screen.detail is not None)
    await pilot.pause()
    return (time.perf_counter() - started) * 1000


# The parent ----------------------------------------------------------------


def _first_paint(args: list[str]) -> dict[str, float]:
    """Seconds from launching the child to its "painted" line, and its peak memory."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.app_bench", *args],
        stdout=subprocess.PIPE,
        text=True,
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
    _first_paint(["--child", "baseline"])
    _first_paint(["--child", "projdeck", "--db-url", url])
    baseline, projdeck = [], []
    for _ in range(repeats):
        baseline.append(_first_paint(["--child", "baseline"]))
        projdeck.append(_first_paint(["--child", "projdeck", "--db-url", url]))
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
    print(
        f"switch to Audit: {result['switch_to_audit_ms']:.0f} ms; back to Projects: {result['switch_back_to_projects_ms']:.0f} ms"
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
    print(f"key step in the minimal app (what Pilot costs): {result['baseline_step_ms']:.1f} ms")
    print(f"review of a 5,000-line diff: {result['review']}")
    print(
        f"peak RSS: {result['peak_mib']:.0f} MiB (interaction), {result['first_paint_peak_mib']:.0f} MiB (start-up); minimal app {result['baseline_peak_mib']:.0f} MiB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_bench")
    parser.add_argument("--db-url")
    parser.add_argument("--child", choices=["projdeck", "baseline", "interact"])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--term", default="billing")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.child == "projdeck":
        asyncio.run(child_projdeck(args.db_url))
    elif args.child == "baseline":
        asyncio.run(child_baseline())
    elif args.child == "interact":
        asyncio.run(child_interact(args.db_url, args.rows, args.term))
    else:
        if not args.db_url:
            parser.error("--db-url is required")
        print_result(run(args.db_url, repeats=args.repeats, rows=args.rows, term=args.term))


if __name__ == "__main__":
    main()
