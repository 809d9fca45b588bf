"""``projdeck mod test``: run a project's setup and test commands on a
proposed change here, its output streamed, and keep what came of it beside
the agent's own results. Registered on the ``mod`` group by
``tui.cli.modifications``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import click

from store.engine import Database
from store.services import test_runs
from tui.cli.common import json_option, print_json, run_with_database
from tui.cli.completion import complete_modification
from tui.cli.output import echo_error

# What each outcome exits with: a script tells a failed run from a refusal.
EXIT_CODES = {"passed": 0, "failed": 3, "timed_out": 4, "cancelled": 130}


def _plan_lines(plan: test_runs.TestPlan) -> list[str]:
    lines = [f"testing modification {plan.modification_id} of {plan.project_name!r}"]
    lines.append(f"in {plan.describe()}, running:")
    lines += [f"  setup: {command}" for command in plan.setup]
    lines += [f"  test:  {command}" for command in plan.tests]
    if plan.environment:
        lines.append(f"environment: {', '.join(plan.environment)}")
    if plan.secrets:
        lines.append(f"secrets: {', '.join(plan.secrets)}")
    return lines


def summary(results: dict[str, Any]) -> str:
    """One line saying what came of a run."""
    counts = results.get("counts")
    said = f"tests {results['outcome'].replace('_', ' ')} in {results['seconds']:.1f} s"
    if counts:
        said += (
            f": {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['errors']} errors, {counts['skipped']} skipped"
        )
    failed = [command for command in results["commands"] if command["exit_code"] not in (0, None)]
    if failed:
        said += f" ({failed[0]['command']!r} exited {failed[0]['exit_code']})"
    return said


@click.command("test")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.option(
    "--timeout",
    "limit",
    type=float,
    default=test_runs.DEFAULT_LIMIT_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="Stop the run (its whole process group) after this long, all commands together.",
)
@click.option(
    "--with-secrets",
    is_flag=True,
    help="Give the commands the project's secrets as environment variables (the read is "
    "audited; their values are masked in the output).",
)
@json_option("Print the stored results as JSON.")
@click.pass_context
def test(
    ctx: click.Context, modification_id: str, limit: float, with_secrets: bool, as_json: bool
) -> None:
    """Run the project's setup and test commands on a proposed change.

    The change is built in a scratch folder: on a linked project a git
    worktree at the branch's tip with the change applied as the apply would
    commit it, otherwise the stored codebase with the change applied. The
    project's working tree, branch and codebase are never touched, and the
    folder is removed after. Commands run one after another in a process
    group of their own, with PATH, HOME, the locale, the project's
    environment variables and PROJDECK_JUNIT_XML (a path for a JUnit XML
    report: pytest --junitxml="$PROJDECK_JUNIT_XML"; its counts are read).
    Output streams to standard error (as text: escape sequences dropped);
    ctrl+c stops the run and records it as cancelled.

    The results are stored as the modification's local test results (the
    agent's own stay) and audited. Exit status: 0 passed, 3 failed, 4 timed
    out, 130 cancelled, 1 refused (no test commands, say).
    """

    def heard(line: str) -> None:
        click.echo(f"  {line}", err=True)

    def planned(plan: test_runs.TestPlan) -> None:
        for line in _plan_lines(plan):
            click.echo(line, err=True)

    async def work(database: Database) -> dict[str, Any]:
        cancel = asyncio.Event()
        loop = asyncio.get_running_loop()
        # ctrl+c stops the run, which is then recorded as cancelled (not
        # where signals cannot be handled: off the main thread, say).
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.add_signal_handler(signal.SIGINT, cancel.set)
        try:
            return await test_runs.run_tests(
                database,
                modification_id,
                limit_seconds=limit,
                with_secrets=with_secrets,
                cancel=cancel,
                on_plan=planned,
                on_command=lambda stage, command: click.echo(f"$ {command}", err=True),
                on_line=heard,
            )
        finally:
            with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
                loop.remove_signal_handler(signal.SIGINT)

    results = run_with_database(ctx, work)
    if as_json:
        print_json(results)
    else:
        click.echo(summary(results))
    code = EXIT_CODES.get(results["outcome"], 1)
    if code and not as_json:
        echo_error(f"the run ended {results['outcome'].replace('_', ' ')}")
    ctx.exit(code)
