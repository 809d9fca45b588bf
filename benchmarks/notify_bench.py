"""How soon the app shows another member's change on PostgreSQL (issue 23):
told by LISTEN/NOTIFY, against polling.

    python -m benchmarks.notify_bench [--postgres-url URL] [--rounds 30]

- The workspace: the demo's (``store.demo.fill_demo``: five projects, their
  modifications, agents and history) in a scratch database made on the
  server of ``--postgres-url`` (default
  postgresql://postgres@127.0.0.1:5432/postgres, a server where this user
  may create databases), dropped afterwards.
- The app runs headless at 140x40 on it, its Inbox on show. Another process
  (as an agent's CLI would: its own interpreter and connection) proposes a
  modification through the store service; each round is timed from that
  service call returning in the writer (its commit done; ``time.monotonic``
  is the machine's clock in both processes) to the app having it: the
  inbox's notification posted (``LiveRefresh._announce`` done, the Inbox
  told ``store_changed()`` at once after), and the first frame painted
  with its toast (what the person sees). Between rounds a random pause of 0.3 to
  0.8 s, so a write lands anywhere in the polling period.
- The same in the same run with the listener off: the app polling every
  ``live_refresh_seconds`` (its default, 0.5 s), as on SQLite; the ratio of
  the two.
- Where the time goes, told: from the commit to the notification reaching
  the app, to the check starting (the debounce, ``tui.live.DEBOUNCE_SECONDS``)
  and from there to the inbox read and announced.
- Target: the notification posted within 100 ms (median; p95 said).

Run alone, it writes its section of RESULTS.md in place.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.results import arguments, measured, publish, scratch
from benchmarks.review_bench import _figures

if TYPE_CHECKING:
    from store.models import ModificationStatus
    from store.notify import Notice
    from store.services.review import Inbox

SECTION = "## Another member's change, shown (PostgreSQL)"
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_MS = 100.0
SIZE = (140, 40)
PROJECT = "Billing API"
# The writer child: proposes on each line it reads, answers with the time
# its service call returned.
WRITER = "import sys; from benchmarks.notify_bench import writer; writer(sys.argv[1])"
ROOT = Path(__file__).resolve().parent.parent


def writer(url: str) -> None:
    """The other member: for each request read from stdin, a modification
    proposed through the service, then ``time.monotonic()`` at its return."""
    asyncio.run(_write(url))


async def _write(url: str) -> None:
    from store.config import normalize_url
    from store.engine import open_database
    from store.services.modifications import ModificationProposal, propose_modification

    db = await open_database(normalize_url(url))
    try:
        for line in sys.stdin:
            request = line.strip()
            await propose_modification(
                db,
                PROJECT,
                ModificationProposal(
                    request=request, modified_files={"bench.py": f"# {request}\n"}
                ),
            )
            print(time.monotonic(), flush=True)
    finally:
        await db.dispose()


async def _workspace(url: str) -> None:
    from store import migrate
    from store.config import normalize_url
    from store.demo import fill_demo
    from store.engine import open_database

    db = await open_database(normalize_url(url))
    try:
        await migrate.upgrade(db)
        await fill_demo(db)
    finally:
        await db.dispose()


def _timed_refresh(app: Any, *, listen: bool) -> Any:
    """The app's LiveRefresh, its steps timed (``times``: what happened
    when, ``time.monotonic``); with ``listen`` False it never listens, and
    polls as on SQLite. Nothing else about it changes."""
    from tui.live import POLL_SECONDS, LiveRefresh

    class Timed(LiveRefresh):
        def __init__(self) -> None:
            super().__init__(app, POLL_SECONDS)
            self.times: dict[str, list[float]] = {"told": [], "check": []}
            self.news: dict[uuid.UUID, float] = {}

        def _listen(self, delay: float) -> None:
            if listen:
                super()._listen(delay)

        def _notified(self, notice: Notice) -> None:
            self.times["told"].append(time.monotonic())
            super()._notified(notice)

        async def _check(self) -> None:
            self.times["check"].append(time.monotonic())
            await super()._check()

        def _announce(self, inbox: Inbox, statuses: dict[uuid.UUID, ModificationStatus]) -> None:
            before = self.waiting
            super()._announce(inbox, statuses)
            if before is not None and self.waiting is not None:
                now = time.monotonic()
                for key in self.waiting.keys() - before.keys():
                    self.news[key] = now

    return Timed()


class Painted:
    """When the app painted each frame (its display call, made once per
    frame headless too), and the toasts that frame showed."""

    def __init__(self, app: Any) -> None:
        from textual.css.query import NoMatches
        from textual.widgets._toast import Toast, ToastRack

        self.frames: list[tuple[float, list[str]]] = []
        display = app._display

        def toasts() -> list[str]:
            try:
                rack = app.screen.get_child_by_type(ToastRack)
            except NoMatches:
                return []
            return [str(toast._notification.message) for toast in rack.query(Toast)]

        def timed(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                self.frames.append((time.monotonic(), toasts()))

        app._display = timed

    def showing(self, text: str, since: float) -> float | None:
        """When the first frame since ``since`` with ``text`` in a toast was painted."""
        return next(
            (
                at
                for at, shown in self.frames
                if at >= since and any(text in message for message in shown)
            ),
            None,
        )


def _after(times: list[float], moment: float) -> float | None:
    return next((at for at in times if at >= moment), None)


async def _wait(condition: Any, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.002)


async def _measure(url: str, *, listen: bool, rounds: int, seed: int) -> dict[str, list[float]]:
    from store.config import normalize_url
    from tui.app import ProjdeckApp
    from tui.screens.inbox import InboxScreen

    app = ProjdeckApp(normalize_url(url), freeze_gc=True)
    live = _timed_refresh(app, listen=listen)
    app.live = live
    painted = Painted(app)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        url,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    pause = random.Random(seed)
    figures: dict[str, list[float]] = {
        name: [] for name in ("announced", "painted", "told", "debounce", "check")
    }
    try:
        # Toasts shown, as for a person (run_test leaves them out by default).
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.pause()
            await pilot.press("5")
            await _wait(lambda: isinstance(app.screen, InboxScreen))
            await _wait(lambda: live.waiting is not None and (live.listening or not listen))
            await asyncio.sleep(1.0)
            for number in range(rounds):
                await asyncio.sleep(pause.uniform(0.3, 0.8))
                request = f"bench {'told' if listen else 'polled'} {number:03d}"
                sent = time.monotonic()
                child.stdin.write(f"{request}\n".encode())
                await child.stdin.drain()
                committed = float(await child.stdout.readline())
                for name, value in (
                    await _round(live, painted, request, (sent, committed), known=set(live.news))
                ).items():
                    figures[name].append(value)
    finally:
        child.stdin.close()
        await child.wait()
    return figures


async def _round(
    live: Any,
    painted: Painted,
    request: str,
    times: tuple[float, float],
    *,
    known: set[uuid.UUID],
) -> dict[str, float]:
    """One round's figures, milliseconds after the commit (``times``: when
    the writer was asked, when its call returned): the app announcing the
    modification not in ``known``, its toast painted; and the steps between:
    told, the check started."""
    sent, committed = times
    await _wait(lambda: bool(live.news.keys() - known))
    (key,) = live.news.keys() - known
    announced: float = live.news[key]
    await _wait(lambda: painted.showing(request, announced) is not None)
    figures = {
        "announced": (announced - committed) * 1000,
        "painted": ((painted.showing(request, announced) or announced) - committed) * 1000,
    }
    # The notification this write sent, and the check that announced it.
    told = _after(live.times["told"], sent) if live.listening else None
    if told is not None:
        figures["told"] = (told - committed) * 1000
    check = max((at for at in live.times["check"] if sent <= at <= announced), default=None)
    if check is not None:
        figures["check"] = (announced - check) * 1000
        if told is not None:
            figures["debounce"] = (check - told) * 1000
    return figures


async def _postgres_database(server: str, name: str, *, create: bool) -> str:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        server_version = str(await connection.fetchval("SHOW server_version"))
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await connection.execute(f'CREATE DATABASE "{name}"')
        return server_version
    finally:
        await connection.close()


@contextlib.contextmanager
def _scratch_database(server: str) -> Iterator[tuple[str, str]]:
    """A new database on ``server``, its URL and the server's version;
    dropped afterwards."""
    from sqlalchemy.engine import make_url

    name = f"projdeck_bench_notify_{os.getpid()}"
    version = asyncio.run(_postgres_database(server, name, create=True))
    url = make_url(server).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False), version
    finally:
        asyncio.run(_postgres_database(server, name, create=False))


def run(server: str = SERVER, *, rounds: int = 30) -> dict[str, Any]:
    from tui.live import DEBOUNCE_SECONDS, POLL_SECONDS

    with scratch("projdeck-notify-bench-"), _scratch_database(server) as (url, version):
        asyncio.run(_workspace(url))

        def work() -> dict[str, Any]:
            told = asyncio.run(_measure(url, listen=True, rounds=rounds, seed=23))
            polled = asyncio.run(_measure(url, listen=False, rounds=rounds, seed=23))
            return {
                # Polled, nothing is told: those figures are left out.
                "told": {name: _figures(values) for name, values in told.items() if values},
                "polled": {name: _figures(values) for name, values in polled.items() if values},
            }

        result = measured(work)
    result["server"] = version
    result["debounce_ms"] = DEBOUNCE_SECONDS * 1000
    result["poll_ms"] = POLL_SECONDS * 1000
    return result


def render(result: dict[str, Any]) -> list[str]:
    told, polled = result["told"], result["polled"]
    before, after = result["load"]
    ratio = polled["announced"]["median_ms"] / max(told["announced"]["median_ms"], 0.001)
    mark = "met" if told["announced"]["median_ms"] <= TARGET_MS else "missed"

    def row(label: str, figure: dict[str, float], bold: bool = False) -> str:
        median = f"{figure['median_ms']:.0f} ms"
        return (
            f"| {label} | {f'**{median}**' if bold else median} | {figure['p95_ms']:.0f} ms | "
            f"{figure['max_ms']:.0f} ms | {figure['count']} |"
        )

    return [
        SECTION,
        "",
        "The demo workspace in a scratch PostgreSQL database, the app headless at 140x40 with "
        "its Inbox on show; another process proposes a modification through the store service, "
        "timed from that call returning (its commit done) to the app having it (see "
        "benchmarks/notify_bench.py).",
        "",
        f"- Date: {result['date']}; load average {before:.1f} before, {after:.1f} after "
        f"(2 cores); PostgreSQL {result['server']}",
        "",
        "| from the commit to | median | p95 | max | rounds |",
        "|---|---:|---:|---:|---:|",
        row("told (LISTEN/NOTIFY): the inbox's notification posted", told["announced"], True),
        row("told: the first frame painted with its toast", told["painted"]),
        row(
            f"polled every {result['poll_ms']:.0f} ms (baseline): the notification posted",
            polled["announced"],
        ),
        row("polled: the first frame painted with its toast", polled["painted"]),
        "",
        f"- Polled, the notification took **{ratio:.1f}x** as long as told (medians); "
        f"target for told: {TARGET_MS:.0f} ms, {mark}.",
        f"- Where the told time goes (medians): the notification reached the app "
        f"{told['told']['median_ms']:+.1f} ms from the writer's call returning (PostgreSQL "
        "sends it at the commit, before the service has returned); the check started "
        f"{told['debounce']['median_ms']:.0f} ms after that (the debounce, "
        f"`tui.live.DEBOUNCE_SECONDS` = {result['debounce_ms']:.0f} ms: a burst of writes, one "
        f"check); from its start to the notification posted "
        f"{told['check']['median_ms']:.0f} ms (the change probe, the inbox read, the statuses "
        f"of those that left it). Polled, the same check ({polled['check']['median_ms']:.0f} "
        "ms) waits for the next tick, half the period on average.",
    ]


def missed(result: dict[str, Any]) -> list[str]:
    median = result["told"]["announced"]["median_ms"]
    if median <= TARGET_MS:
        return []
    return [
        f"PostgreSQL, another member's change shown: {median:.0f} ms, target "
        f"{TARGET_MS:.0f} ms (see Another member's change, shown)."
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.notify_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--postgres-url",
        default=SERVER,
        help="a PostgreSQL server to make a scratch database on",
    )
    parser.add_argument("--rounds", type=int, default=30)
    args = arguments(parser, argv)
    result = run(args.postgres_url, rounds=args.rounds)
    publish(SECTION, render(result), args.output, "live refresh on PostgreSQL")


if __name__ == "__main__":
    main()
