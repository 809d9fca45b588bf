"""Running a project's commands (store.runner): setup then tests, each in a
process group of its own that a deadline or a cancel stops whole, output
read as text, JUnit counts read when the commands write a report."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from store import runner
from store.runner import Outcome


def run(
    folder: Path,
    setup: list[str],
    tests: list[str],
    *,
    limit: float = 30.0,
    cancel_after: float | None = None,
) -> tuple[runner.RunResult, list[str]]:
    lines: list[str] = []

    async def go() -> runner.RunResult:
        cancel = asyncio.Event()
        if cancel_after is not None:
            asyncio.get_running_loop().call_later(cancel_after, cancel.set)
        return await runner.run_commands(
            folder,
            setup=setup,
            tests=tests,
            environment={"PATH": os.environ["PATH"], "GREETING": "hello"},
            limit_seconds=limit,
            junit=folder / "junit.xml",
            cancel=cancel,
            on_line=lines.append,
        )

    return asyncio.run(go()), lines


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped by its parent, init here) is not running.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(")")[-1].split()[0] == "Z")


def assert_child_gone(folder: Path) -> None:
    """The child whose pid a command wrote to child.pid in ``folder`` has
    ended, or does within 5 s."""
    child = int((folder / "child.pid").read_text())
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_setup_then_tests_run_in_the_folder_with_the_environment(tmp_path: Path) -> None:
    result, lines = run(tmp_path, ["echo set up > marker"], ["cat marker", 'echo "$GREETING"'])

    assert result.outcome == Outcome.PASSED
    assert [(item.stage, item.command, item.exit_code) for item in result.commands] == [
        ("setup", "echo set up > marker", 0),
        ("test", "cat marker", 0),
        ("test", 'echo "$GREETING"', 0),
    ]
    assert lines == ["set up", "hello"] == result.tail
    assert result.counts is None


def test_a_failed_setup_ends_the_run_and_every_test_command_runs(tmp_path: Path) -> None:
    failed_setup, _ = run(tmp_path, ["exit 3"], ["echo never"])
    assert failed_setup.outcome == Outcome.FAILED
    assert [item.exit_code for item in failed_setup.commands] == [3]

    failed_test, lines = run(tmp_path, [], ["exit 1", "echo still runs"])
    assert failed_test.outcome == Outcome.FAILED
    assert [item.exit_code for item in failed_test.commands] == [1, 0]
    assert lines == ["still runs"]


@pytest.mark.parametrize("how", ["deadline", "cancel"])
def test_a_stopped_run_stops_the_whole_process_group(tmp_path: Path, how: str) -> None:
    # The command leaves a child of its own running, and waits.
    command = "sleep 60 & echo $! > child.pid; echo started; wait"
    started = time.monotonic()
    if how == "deadline":
        result, lines = run(tmp_path, [], [command, "echo not reached"], limit=1.0)
    else:
        result, lines = run(tmp_path, [], [command, "echo not reached"], cancel_after=1.0)

    assert result.outcome == (Outcome.TIMED_OUT if how == "deadline" else Outcome.CANCELLED)
    assert [item.exit_code for item in result.commands] == [None]
    assert lines == ["started"]
    assert time.monotonic() - started < 10
    assert_child_gone(tmp_path)


def test_a_child_left_running_does_not_hold_the_run(tmp_path: Path) -> None:
    started = time.monotonic()
    result, _ = run(tmp_path, [], ["sleep 60 & echo $! > child.pid; echo done"])

    assert result.outcome == Outcome.PASSED
    assert time.monotonic() - started < runner.GRACE_SECONDS + 5
    assert_child_gone(tmp_path)


def test_output_is_shown_as_text(tmp_path: Path) -> None:
    script = (
        r"printf '\033[31mred\033[0m \033]0;title\007plain\n';"
        r"printf '10%%\r50%%\r100%%\n';"
        r"printf 'bell\007 and \033]52;c;Y2xpcA==\033\\ clipboard\n';"
        r"printf 'nul \001 ok\n'"
    )
    _, lines = run(tmp_path, [], [script])

    assert lines == ["red plain", "100%", "bell␇ and  clipboard", "nul ␁ ok"]


def test_only_the_last_lines_are_kept(tmp_path: Path) -> None:
    result, lines = run(tmp_path, [], ["seq 1 500", "head -c 5000 /dev/zero | tr '\\0' x"])

    assert len(lines) == 501
    assert len(result.tail) == runner.TAIL_LINES
    assert result.tail[0] == "302"
    assert result.tail[-1] == "x" * runner.MAX_LINE + "…"


JUNIT = """<?xml version="1.0"?>
<testsuites>
  <testsuite name="a" tests="5" failures="1" errors="0" skipped="1"/>
  <testsuite name="b" tests="3" failures="0" errors="1" skipped="0"/>
</testsuites>
"""


def test_junit_counts_are_read_and_failures_fail_the_run(tmp_path: Path) -> None:
    (tmp_path / "report.xml").write_text(JUNIT)

    result, _ = run(tmp_path, [], ['cp report.xml "$PROJDECK_JUNIT_XML"'])

    assert result.counts == {"passed": 5, "failed": 1, "errors": 1, "skipped": 1}
    assert result.outcome == Outcome.FAILED


@pytest.mark.parametrize(
    "report",
    [
        "not xml at all",
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
        '<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">'
        ']><testsuite tests="&g;"/>',
        '<testsuite tests="many"/>',
        "<root/>",
    ],
)
def test_a_report_that_cannot_be_read_gives_no_counts(tmp_path: Path, report: str) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(report)
    assert runner.junit_counts(path) is None


def test_a_report_that_is_a_link_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.xml").write_text(JUNIT)
    (tmp_path / "junit.xml").symlink_to(tmp_path / "elsewhere.xml")
    assert runner.junit_counts(tmp_path / "junit.xml") is None
