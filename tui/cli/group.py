"""The ``projdeck`` command: the app when run bare, and scriptable commands
for agents and scripts. Every command prints ``error: <message>`` on stderr
and exits 1 on a store error, 2 on a usage error; never a traceback."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from store.errors import StoreError
from tui import __version__
from tui.cli.output import CliState, VisibleOutput, echo_error, fail

# Each command's module is imported when that command runs: opening the app,
# running one command or listing them all (``--help``) does not load the code
# of the others. Each entry: where the command is, and the summary ``--help``
# lists for it (a test holds it equal to the command's own).
COMMANDS: dict[str, tuple[str, str]] = {
    "agent": (
        "tui.cli.agents:agent",
        "Record and read what AI agents did: conversations, messages, runs, "
        "webhook deliveries and their costs.",
    ),
    "audit": ("tui.cli.audit:audit", "Read, export and verify the audit log."),
    "backup": ("tui.cli.workspace:backup", "Back up the database to PATH."),
    "config": (
        "tui.cli.config:config",
        "Show and change the config file (config.toml): database URL, actor, theme, diff "
        "style, editor, pager, live refresh, keymap.",
    ),
    "db": ("tui.cli.db:db", "Create and migrate the database schema."),
    "demo": (
        "tui.cli.demo:demo",
        "Fill an empty database with demo data: a dozen projects with settings, secrets "
        "and codebases, modifications in every status, the template library and their "
        "audit history.",
    ),
    "doctor": (
        "tui.cli.db:doctor",
        "Check the database: reachable, schema at head, settings, integrity.",
    ),
    "export": (
        "tui.cli.workspace:export_command",
        "Export every table to PATH as JSON lines (secrets stay encrypted).",
    ),
    "import": (
        "tui.cli.workspace:import_command",
        "Import an export from PATH; rows already here and identical are skipped, and a "
        "bad line aborts everything with its line number.",
    ),
    "mod": (
        "tui.cli.modifications:mod",
        "Propose, review, apply and revert modifications of a project's codebase.",
    ),
    "project": (
        "tui.cli.projects:project",
        "Create, list, show, change, archive and delete projects.",
    ),
    "restore": (
        "tui.cli.workspace:restore",
        "Replace the workspace with a backup or an export at PATH.",
    ),
    "secret": (
        "tui.cli.secrets:secret",
        "Keep a project's secrets, encrypted at rest (AES-256-GCM).",
    ),
    "settings": ("tui.cli.projects:settings", "Show and change a project's settings."),
    "team": (
        "tui.cli.team:team",
        "A team on PostgreSQL: projdeck's roles (admin, reviewer, agent, viewer), enforced by "
        "the database for every client, and its members.",
    ),
    "template": (
        "tui.cli.templates:template",
        "The template library: list, show, import, export and remove templates, seed "
        "the built-in ones, preview and use one for a new project.",
    ),
    "transfer": (
        "tui.cli.workspace:transfer",
        "Copy the whole workspace into another database, keeping ids, timestamps and "
        "the audit chain, then check it.",
    ),
}


class LazyGroup(click.Group):
    """A group some of whose commands (``lazy``: a name, where the command
    is and the summary ``--help`` lists for it) are imported on use, so that
    running one command loads none of the others' code."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self.lazy.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        module, name = entry[0].split(":")
        command: click.Command = getattr(importlib.import_module(module), name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # As click lists them, the lazy ones from their summaries instead of
        # importing them to read their help.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.lazy:
                rows.append((name, click.Command(name, help=self.lazy[name][1])))
            else:
                command = self.commands[name]
                if not command.hidden:
                    rows.append((name, command))
        with formatter.section("Commands"):
            formatter.write_dl([(name, c.get_short_help_str(limit)) for name, c in rows])


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    invoke_without_command=True,
    # Colour codes are kept (click strips them on a pipe): projdeck prints
    # none of its own, and those a stored text holds must be shown, not
    # dropped unseen; VisibleOutput shows them as text.
    context_settings={"help_option_names": ["-h", "--help"], "color": True},
)
@click.option(
    "--db-url",
    metavar="URL",
    help="Database URL (sqlite:///PATH or postgresql://...). "
    "Default: $PROJDECK_DATABASE_URL, else projdeck.db in the user data dir.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Open the app on a fresh temporary database filled with demo data.",
)
@click.option(
    "--no-pager",
    is_flag=True,
    help="Print long output directly, not through $PAGER (else less -FRX) on a terminal; "
    "PROJDECK_NO_PAGER=1 does the same.",
)
@click.version_option(__version__, prog_name="projdeck")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, demo: bool, no_pager: bool) -> None:
    """projdeck: keep project records and review what AI agents propose.

    Run without a command to open the terminal app.
    """
    ctx.obj = CliState(db_url_option=db_url, no_pager=no_pager)
    if ctx.invoked_subcommand not in (None, "config"):
        # Once, before the command; the app shows them itself, and
        # `projdeck config` says them in its own words.
        from store.config import load

        for warning in load().warnings:
            echo_error(f"warning: {warning}")
    if ctx.invoked_subcommand is None:
        # The app reads keys from stdin and draws on stderr: without a
        # terminal there it would write escape codes into a pipe or a log.
        if not (sys.stdin.isatty() and sys.__stderr__ is not None and sys.__stderr__.isatty()):
            click.echo(
                "error: the app needs a terminal (standard input and error); "
                "run a command instead (projdeck --help lists them)",
                err=True,
            )
            sys.exit(2)
        from store.config import current_actor, resolve_database_url
        from tui.app import run_app

        try:
            current_actor()
            status = run_app(resolve_database_url(db_url), demo=demo)
        except StoreError as error:
            fail(error.message)
        if status:
            _leave_a_closed_terminal()
            sys.exit(status)


def _leave_a_closed_terminal() -> None:
    """After the app ended because its terminal closed, what is still
    buffered for it can never be written: drop it, instead of failing the
    exit on it (Python would exit 120)."""
    for name in ("stdout", "stderr"):
        try:
            getattr(sys, name).flush()
        except OSError:
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 - lives until exit


def main() -> None:
    # Everything a command prints on stdout shows hidden characters as text.
    sys.stdout = VisibleOutput(sys.stdout)
    try:
        cli.main(prog_name="projdeck", standalone_mode=True)
    except StoreError as error:
        fail(error.message)
