"""Running a project's own commands (setup, then tests) in a scratch
folder: each in a process group of its own, with a deadline for the whole
run, their output read line by line as text, and the counts of a JUnit XML
report read when the commands write one.

What the commands print is hostile like everything else an agent's change
can make: escape sequences are dropped (colours, cursor moves, OSC titles
and clipboard writes), a carriage return keeps what was written after it
(progress bars), and other hidden characters become visible stand-ins
(``store.text.visible``). Lines are cut at ``MAX_LINE`` characters; only
the last ``TAIL_LINES`` are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from store import text as text_safety

TAIL_LINES = 200
MAX_LINE = 2000
# A JUnit report larger than this is not read (counts from exit codes then).
MAX_JUNIT_BYTES = 16 * 1024 * 1024
# Between asking a process group to stop and killing it.
GRACE_SECONDS = 2.0
JUNIT_ENV = "PROJDECK_JUNIT_XML"

# Escape sequences: CSI (ESC [ or the C1 CSI), OSC (ESC ] ... BEL or ST),
# DCS/PM/APC strings, and two-character escapes.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class CommandRun:
    """One command as it ran: its exit code (None: it was stopped before it
    ended) and how long it took; ``stage`` is ``setup`` or ``test``."""

    command: str
    stage: str
    exit_code: int | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "stage": self.stage,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class RunResult:
    """What a run came to: the outcome, each command run, the counts read
    from the JUnit report (None: no report), the last lines of output."""

    outcome: Outcome
    commands: list[CommandRun] = field(default_factory=list)
    counts: dict[str, int] | None = None
    tail: list[str] = field(default_factory=list)
    seconds: float = 0.0


def shown_line(raw: str) -> str:
    """One line of a command's output as text: escape sequences dropped,
    what a carriage return wrote over kept, hidden characters made
    visible, cut at MAX_LINE characters."""
    line = _ESCAPES.sub("", raw.rstrip("\n"))
    line = line.rstrip("\r")
    if "\r" in line:
        line = line.rsplit("\r", 1)[1]
    if len(line) > MAX_LINE:
        line = line[:MAX_LINE] + "…"
    return text_safety.visible(line)


def junit_counts(path: Path) -> dict[str, int] | None:
    """The tests, failures, errors and skipped of a JUnit XML report (its
    ``testsuite`` elements summed; pytest, go and node reporters write
    them), with ``passed`` worked out; None when there is no readable
    report. The file is the commands' own: it is read only if it is a
    regular file of at most MAX_JUNIT_BYTES, never followed as a link."""
    try:
        info = path.lstat()
    except OSError:
        return None
    import stat

    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_JUNIT_BYTES:
        return None
    try:
        root = ElementTree.fromstring(path.read_bytes())  # noqa: S314 - size-bound; expat refuses entity bombs
    except (ElementTree.ParseError, OSError, ValueError):
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    if not suites:
        return None
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in suites:
        if any(child.tag == "testsuite" for child in suite):
            continue  # counted through the suites it holds
        for key in totals:
            try:
                totals[key] += max(int(suite.get(key, "0") or 0), 0)
            except ValueError:
                return None
    passed = totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"]
    return {
        "passed": max(passed, 0),
        "failed": totals["failures"],
        "errors": totals["errors"],
        "skipped": totals["skipped"],
    }


def _stop_group(process: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


async def _end_group(process: asyncio.subprocess.Process) -> None:
    """Stop the command's whole process group: asked first, then killed."""
    _stop_group(process, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), GRACE_SECONDS)
    # Whatever of the group outlived its leader goes too.
    _stop_group(process, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), GRACE_SECONDS)


async def _run_one(
    command: str,
    folder: Path,
    environment: Mapping[str, str],
    deadline: float,
    cancel: asyncio.Event,
    on_line: Callable[[str], None],
    tail: deque[str],
) -> tuple[int | None, Outcome | None]:
    """Run one command through the shell in its own session (its own
    process group); its exit code (None if stopped) and, if it was stopped,
    why (the deadline, or ``cancel`` set). A cancelled task stops the group
    before the CancelledError goes on."""
    process = await asyncio.create_subprocess_shell(
        command,
        cwd=folder,
        env=dict(environment),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        limit=1024 * 1024,
    )

    async def read() -> None:
        assert process.stdout is not None
        while True:
            try:
                raw = await process.stdout.readline()
            except ValueError:  # a line over the reader's limit: take what is there
                raw = await process.stdout.read(1024 * 1024)
            if not raw:
                return
            line = shown_line(raw.decode("utf-8", errors="replace"))
            tail.append(line)
            on_line(line)

    async def exit_code() -> int:
        # Process.wait() also waits for the pipe to close, which a child
        # left running in the background holds open: the code is set first.
        while process.returncode is None:  # noqa: ASYNC110 - asyncio sets no event for it
            await asyncio.sleep(0.02)
        return process.returncode

    reading = asyncio.ensure_future(read())
    ended = asyncio.ensure_future(exit_code())
    cancelled = asyncio.ensure_future(cancel.wait())
    try:
        remaining = max(deadline - time.monotonic(), 0.001)
        done, _pending = await asyncio.wait(
            {ended, cancelled}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
        )
        if ended in done:
            # What is still in the pipe is read; a child left running with
            # the pipe open does not hold the run up (its group is stopped).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reading), GRACE_SECONDS)
            return ended.result(), None
        await _end_group(process)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reading), GRACE_SECONDS)
        return None, Outcome.CANCELLED if cancelled in done else Outcome.TIMED_OUT
    except asyncio.CancelledError:
        await asyncio.shield(_end_group(process))
        raise
    finally:
        for task in (reading, ended, cancelled):
            task.cancel()
        # The leader has ended; anything it left in its group goes too.
        _stop_group(process, signal.SIGKILL)


async def run_commands(
    folder: Path,
    *,
    setup: Sequence[str],
    tests: Sequence[str],
    environment: Mapping[str, str],
    limit_seconds: float,
    junit: Path,
    cancel: asyncio.Event | None = None,
    on_line: Callable[[str], None] = lambda line: None,
    on_command: Callable[[str, str], None] = lambda stage, command: None,
) -> RunResult:
    """Run ``setup`` then ``tests`` in ``folder``, one after another, each
    in a process group of its own, within ``limit_seconds`` in all; setting
    ``cancel`` stops the run (CANCELLED). A setup command that fails ends the
    run (FAILED); every test command runs. ``junit`` is handed to them in
    PROJDECK_JUNIT_XML and read after: failures or errors it counts make the
    run FAILED even when every command exited 0."""
    cancel = cancel or asyncio.Event()
    started = time.monotonic()
    deadline = started + limit_seconds
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    result = RunResult(Outcome.PASSED)
    env = {**environment, JUNIT_ENV: str(junit)}
    steps = [("setup", command) for command in setup] + [("test", command) for command in tests]
    for stage, command in steps:
        if cancel.is_set():
            result.outcome = Outcome.CANCELLED
            break
        on_command(stage, command)
        began = time.monotonic()
        code, stopped = await _run_one(command, folder, env, deadline, cancel, on_line, tail)
        result.commands.append(CommandRun(command, stage, code, time.monotonic() - began))
        if stopped is not None:
            result.outcome = stopped
            break
        if code != 0:
            result.outcome = Outcome.FAILED
            if stage == "setup":
                break
    result.tail = list(tail)
    result.seconds = time.monotonic() - started
    result.counts = junit_counts(junit)
    if (
        result.outcome == Outcome.PASSED
        and result.counts
        and (result.counts["failed"] or result.counts["errors"])
    ):
        result.outcome = Outcome.FAILED
    return result
