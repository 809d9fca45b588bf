"""The ``projdeck`` command: the app when run bare, and scriptable commands
for agents and scripts. Every command prints ``error: <message>`` on stderr
and exits 1 on a store error, 2 on a usage error; never a traceback."""

from __future__ import annotations

import click

from store.config import resolve_database_url
from store.errors import StoreError
from tui.commands import audit, db, demo, projects, secrets, templates, workspace
from tui.commands.agents import agent
from tui.commands.common import CliState, fail
from tui.commands.modifications import mod


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
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
        from tui.app import run_app

        try:
            run_app(resolve_database_url(db_url), demo=demo)
        except StoreError as error:
            fail(error.message)


cli.add_command(db.db)
cli.add_command(db.doctor)
cli.add_command(demo.demo)
cli.add_command(projects.project)
cli.add_command(projects.settings)
cli.add_command(mod)
cli.add_command(templates.template)
cli.add_command(secrets.secret)
cli.add_command(audit.audit)
cli.add_command(agent)
cli.add_command(workspace.backup)
cli.add_command(workspace.restore)
cli.add_command(workspace.export_command)
cli.add_command(workspace.import_command)
cli.add_command(workspace.transfer)


def main() -> None:
    try:
        cli.main(prog_name="projdeck", standalone_mode=True)
    except StoreError as error:
        fail(error.message)
