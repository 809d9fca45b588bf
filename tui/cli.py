"""The ``projdeck`` command: the app when run bare, and scriptable commands
for agents and scripts. Every command prints ``error: <message>`` on stderr
and exits 1 on a store error, 2 on a usage error; never a traceback."""

from __future__ import annotations

import importlib
import sys

import click

from store.config import current_actor, resolve_database_url
from store.errors import StoreError
from tui.commands.common import CliState, VisibleOutput, fail

# Each command's module is imported when that command runs (or help lists
# it): opening the app or running one command does not load the code of all
# the others.
COMMANDS = {
    "db": "tui.commands.db:db",
    "doctor": "tui.commands.db:doctor",
    "demo": "tui.commands.demo:demo",
    "project": "tui.commands.projects:project",
    "settings": "tui.commands.projects:settings",
    "mod": "tui.commands.modifications:mod",
    "template": "tui.commands.templates:template",
    "secret": "tui.commands.secrets:secret",
    "audit": "tui.commands.audit:audit",
    "agent": "tui.commands.agents:agent",
    "backup": "tui.commands.workspace:backup",
    "restore": "tui.commands.workspace:restore",
    "export": "tui.commands.workspace:export_command",
    "import": "tui.commands.workspace:import_command",
    "transfer": "tui.commands.workspace:transfer",
}


class LazyGroup(click.Group):
    """A group whose commands are named up front and imported on use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, name = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), name)
        return command


@click.group(
    cls=LazyGroup,
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
@click.version_option(package_name="projdeck")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, demo: bool) -> None:
    """projdeck: keep project records and review what AI agents propose.

    Run without a command to open the terminal app.
    """
    ctx.obj = CliState(db_url_option=db_url)
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
        from tui.app import run_app

        try:
            current_actor()
            run_app(resolve_database_url(db_url), demo=demo)
        except StoreError as error:
            fail(error.message)


def main() -> None:
    # Everything a command prints on stdout shows hidden characters as text.
    sys.stdout = VisibleOutput(sys.stdout)
    try:
        cli.main(prog_name="projdeck", standalone_mode=True)
    except StoreError as error:
        fail(error.message)
