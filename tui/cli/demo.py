"""``projdeck demo``: fill a database with the demo workspace."""

from __future__ import annotations

import click

from store.engine import Database
from tui.cli.common import run_with_database
from tui.cli.output import CliState, StatusLine


@click.command()
@click.option(
    "--db-url",
    "db_url",
    metavar="URL",
    help="The database to fill (default: the global --db-url or the configured one).",
)
@click.pass_context
def demo(ctx: click.Context, db_url: str | None) -> None:
    """Fill an empty database with demo data: a dozen projects with settings,
    secrets and codebases, modifications in every status, the template
    library and their audit history."""
    if db_url is not None:
        state = ctx.find_object(CliState)
        if state is None:
            ctx.obj = state = CliState(db_url_option=None)
        state.db_url_option = db_url

    status = StatusLine()

    async def work(database: Database) -> None:
        from store.demo import fill_demo

        summary = await fill_demo(database, on_step=status)
        status.clear()
        click.echo(
            f"filled {database.masked_url}: {summary.projects} projects, {summary.secrets} secrets, "
            f"{summary.modifications} modifications, {summary.templates} templates, "
            f"{summary.audit_rows} audit rows"
        )

    run_with_database(ctx, work, status=status)
