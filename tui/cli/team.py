"""``projdeck team ...``: a team on PostgreSQL, whose roles the database
enforces (docs/team.md)."""

from __future__ import annotations

import sys

import click

from store.services import team as service
from tui.cli.common import call_service, example, page_options, print_json, print_page
from tui.cli.output import echo_exact
from tui.cli.tables import Column

_ROLES = ", ".join(service.ROLE_NAMES)


@click.group(
    epilog=example(
        "projdeck team init",
        "projdeck team add ci-agent --role agent",
        "projdeck team list --json",
    )
)
def team() -> None:
    """A team on PostgreSQL: projdeck's roles (admin, reviewer, agent,
    viewer), enforced by the database for every client, and its members.
    Teams need PostgreSQL; on SQLite the file's owner is the only user."""


@team.command("init")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def init(ctx: click.Context, as_json: bool) -> None:
    """Create the roles projdeck_admin, projdeck_reviewer, projdeck_agent
    and projdeck_viewer with their privileges, and the rules the database
    holds every client to (run once by the database's owner; safe to run
    again; db upgrade by the owner re-applies it after the migrations)."""
    status = call_service(ctx, service.init_team)
    if as_json:
        print_json({"version": status.version, "login": status.login})
        return
    click.echo(f"team roles set up (version {status.version}); add members with projdeck team add")


@team.command("add")
@click.argument("name")
@click.option("--role", required=True, help=f"The member's projdeck role: {_ROLES}.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new login role's password from standard input (else one is made and "
    "printed once).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def add(ctx: click.Context, name: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """Make NAME (a person's or an agent's login role) a member of ROLE, and
    of no other projdeck role. A role that does not exist yet is created
    with a password, printed once here and kept nowhere; an existing one
    keeps its own."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    added = call_service(ctx, service.add_member, name, role, password=password)
    if as_json:
        print_json({**added.member.as_dict(), "created": added.created, "password": added.password})
        return
    made = "created login role" if added.created else "role"
    echo_exact(f"{made} {added.member.name} is now a member of {added.member.role}")
    if added.password is not None:
        echo_exact(f"password (shown once, give it to them out of band): {added.password}")


@team.command("list")
@page_options
@click.pass_context
def list_command(ctx: click.Context, limit: int, offset: int, as_json: bool) -> None:
    """The team's members and their projdeck roles."""
    page = call_service(ctx, service.list_members, limit=limit, offset=offset)
    print_page(
        page,
        service.Member.as_dict,
        as_json=as_json,
        noun="members",
        columns=(Column("NAME"), Column("ROLE"), Column("LOGIN")),
        cells=lambda member: (
            member.name,
            member.role,
            "can log in" if member.can_login else "cannot log in",
        ),
    )


@team.command("remove")
@click.argument("name")
@click.option("--drop", is_flag=True, help="Drop the login role too (not only its membership).")
@click.pass_context
def remove(ctx: click.Context, name: str, drop: bool) -> None:
    """Take NAME out of the team: its projdeck role is revoked (with --drop,
    its login role is dropped as well)."""
    removed = call_service(ctx, service.remove_member, name, drop=drop)
    echo_exact(
        f"{removed.name} is no longer a member of {removed.role}" + (" (dropped)" if drop else "")
    )
