"""``projdeck db ...`` (schema migrations) and ``projdeck doctor``."""

from __future__ import annotations

import re

import click

from store import diagnostics, migrate, schema_check
from tui.cli.common import call_as_is, json_option, print_json


@click.group()
def db() -> None:
    """Create and migrate the database schema."""


@db.command()
@click.argument("revision", default="head")
@click.pass_context
def upgrade(ctx: click.Context, revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    upgraded = call_as_is(ctx, migrate.upgrade_database, revision)
    click.echo(f"database at revision {upgraded.revision or 'base (empty)'}")
    if upgraded.team_version is not None:
        click.echo(f"team roles applied again (version {upgraded.team_version})")


class _StepsBack(click.Command):
    """A command whose argument may be a step back, ``-1``, as Alembic
    takes it: read as the argument, not as an option click does not know."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" not in args:
            steps = [arg for arg in args if re.fullmatch(r"-\d+", arg)]
            if steps:
                args = [arg for arg in args if arg not in steps] + ["--", *steps]
        return super().parse_args(ctx, args)


@db.command(cls=_StepsBack)
@click.argument("revision")
@click.pass_context
def downgrade(ctx: click.Context, revision: str) -> None:
    """Downgrade the schema to REVISION ('base' removes every table; -1 goes
    down one revision, -2 two)."""
    current = call_as_is(ctx, migrate.downgrade, revision)
    click.echo(f"database at revision {current or 'base (empty)'}")


@db.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the revision the database is at."""
    revision = call_as_is(ctx, migrate.current_revision)
    if revision is None:
        click.echo("base (empty database)")
    else:
        suffix = (
            " (head)"
            if revision == migrate.HEAD_REVISION
            else f" (head is {migrate.HEAD_REVISION})"
        )
        click.echo(f"{revision}{suffix}")


@db.command()
def history() -> None:
    """List the schema revisions, newest first."""
    for info in migrate.history():
        head = " (head)" if info.is_head else ""
        click.echo(f"{info.down_revision or 'base'} -> {info.revision}{head}: {info.message}")


@db.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check that the database schema matches the models and holds no
    object the migrations do not create (exit 1 if not)."""
    differences = call_as_is(ctx, schema_check.database_problems)
    if differences:
        for line in differences:
            click.echo(line)
        ctx.exit(1)
    click.echo("schema matches the models")


@db.command()
@click.argument("revision")
@click.pass_context
def stamp(ctx: click.Context, revision: str) -> None:
    """Record REVISION as current without running migrations."""
    current_revision = call_as_is(ctx, migrate.stamp, revision)
    click.echo(f"database stamped at {current_revision or 'base'}")


@click.command()
@json_option("Print the report as JSON.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check the database: reachable, schema at head, settings, integrity."""
    report = call_as_is(ctx, diagnostics.examine)
    if as_json:
        print_json(report.as_dict())
    else:
        for finding in report.findings:
            mark = "ok  " if finding.ok else "FAIL"
            click.echo(f"{mark} {finding.name}: {finding.detail}")
    if not report.ok:
        ctx.exit(1)
