"""``projdeck audit ...``: list and search the audit log, export it,
verify its hash chain, and record a script's own event in it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from store.engine import Database
from store.errors import ValidationError
from store.models import AuditCategory, Severity
from store.services import audit as service
from store.services import shapes
from tui.cli.common import (
    call_service,
    json_input,
    json_option,
    paged_list,
    print_json,
    print_page_json,
    print_record,
    run_with_database,
)
from tui.cli.completion import complete_project
from tui.cli.output import fail
from tui.cli.tables import Column, echo_table

F = TypeVar("F", bound=Callable[..., Any])

_CATEGORIES = click.Choice([member.value for member in AuditCategory])
_SEVERITIES = click.Choice([member.value for member in Severity])


def _filters(command: F) -> F:
    """The filter options ``audit list`` and ``audit export`` share."""
    options = [
        click.option(
            "--project",
            metavar="REF",
            shell_complete=complete_project,
            help="Rows about this project.",
        ),
        click.option("--category", type=_CATEGORIES),
        click.option("--severity", type=_SEVERITIES),
        click.option("--actor", help="Rows by this actor."),
        click.option("--event", "event_type", metavar="TYPE", help="e.g. secret.revealed"),
        click.option("--since", metavar="WHEN", help="ISO date/time, or an age: 30m, 12h, 7d, 2w."),
        click.option("--until", metavar="WHEN", help="ISO date/time (exclusive), or an age."),
        click.option("--search", metavar="TEXT", help="Text in the description, event or actor."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _query(options: dict[str, Any]) -> service.AuditQuery:
    try:
        return service.AuditQuery(
            project=options["project"],
            category=options["category"],
            severity=options["severity"],
            actor=options["actor"],
            event_type=options["event_type"],
            since=service.parse_time("since", options["since"]) if options["since"] else None,
            until=service.parse_time("until", options["until"]) if options["until"] else None,
            search=options["search"],
        )
    except ValidationError as error:
        fail(error.message)


@click.group()
def audit() -> None:
    """Read, export and verify the audit log."""


@audit.command("list")
@_filters
@paged_list
def list_audit(
    ctx: click.Context, /, limit: int, offset: int, as_json: bool, **options: Any
) -> None:
    """Audit rows, newest first."""
    query = _query(options)

    page = call_service(ctx, service.list_audit, query, limit=limit, offset=offset)
    if as_json:
        print_page_json(page, shapes.audit_entry_as_dict)
        return
    echo_table(
        (
            Column("ID", numeric=True),
            Column("AT"),
            Column("ACTOR", most=16),
            Column("SEVERITY"),
            Column("CATEGORY"),
            Column("EVENT", most=32),
            Column("DESCRIPTION"),
        ),
        [
            (
                str(entry.id),
                entry.at.strftime("%Y-%m-%d %H:%M:%S"),
                entry.actor,
                str(entry.severity),
                str(entry.category),
                entry.event_type,
                entry.description,
            )
            for entry in page.items
        ],
        header=False,
    )
    shown = f"{offset + 1}-{offset + len(page.items)}" if page.items else "0"
    click.echo(f"({shown} of {page.total})", err=not page.items)


@audit.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([member.value for member in service.ExportFormat]),
    default="jsonl",
    show_default=True,
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout)."
)
@click.option("--force", is_flag=True, help="Replace the --output file if it exists.")
@_filters
@click.pass_context
def export_audit(
    ctx: click.Context, /, fmt: str, output: Path | None, force: bool, **options: Any
) -> None:
    """Write the matching rows, oldest first, as JSON lines or CSV (streamed).

    With --output the file appears only when complete, readable by you only;
    an existing one is replaced only with --force."""
    query = _query(options)
    if output is None:

        async def to_stdout(database: Database) -> int:
            try:
                return await service.export_audit(database, sys.stdout, fmt=fmt, query=query)
            except service.ExportOutputError as error:
                if not error.closed:
                    raise
                # The reader stopped early (| head): end quietly, as other tools do.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return error.rows

        run_with_database(ctx, to_stdout)
        return

    written, count = call_service(
        ctx, service.export_audit_file, output, fmt=fmt, query=query, force=force
    )
    click.echo(f"exported {count} rows to {written}", err=True)


@audit.command("record")
@click.option(
    "--event",
    "event_type",
    required=True,
    metavar="NAME",
    help="What happened: lower-case words joined by dots (deployment.failed, "
    "ci.tests_passed); projdeck's own namespaces (project., secret., ...) are refused.",
)
@click.option("--category", type=_CATEGORIES, required=True)
@click.option("--severity", type=_SEVERITIES, required=True)
@click.option(
    "--project",
    metavar="REF",
    required=True,
    shell_complete=complete_project,
    help="The project it is about.",
)
@click.option("--description", required=True, help="What happened, in one line.")
@click.option("--metadata", metavar="JSON|@FILE", help="Details: a JSON object of at most 64 KiB.")
@json_option("Print the new row as JSON.")
@click.pass_context
def record(
    ctx: click.Context,
    event_type: str,
    category: str,
    severity: str,
    project: str,
    description: str,
    metadata: str | None,
    as_json: bool,
) -> None:
    """Add a script's own event (CI's, an agent's) to the audit log.

    The row is written under PROJDECK_ACTOR and chained like every row
    (audit verify still passes); keys of --metadata that name credentials
    are redacted, as in every row. Prints the row's id."""
    try:
        event = service.EventInput(
            event_type=event_type,
            category=category,
            severity=severity,
            project=project,
            description=description,
            metadata=json_input("metadata", "--metadata", metadata) if metadata else None,
        )
    except ValidationError as error:
        fail(error.message)

    entry = call_service(ctx, service.record_event, event)
    line = f"recorded audit row {entry.id} ({entry.event_type})"
    print_record(entry, shapes.audit_entry_as_dict, line, as_json=as_json)


@audit.command("verify")
@click.option(
    "--expect-head",
    metavar="HASH",
    help="A head hash printed by an earlier verify: fail if the chain no longer holds it.",
)
@json_option()
@click.pass_context
def verify(ctx: click.Context, expect_head: str | None, as_json: bool) -> None:
    """Walk the hash chain; exit 1 naming the first edited, deleted, inserted
    or reordered row."""

    report = call_service(ctx, service.verify_chain, anchor=expect_head)
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "verified": report.verified,
                "head_hash": report.head_hash,
                "bad_row_id": report.bad_row_id,
                "problem": report.problem,
            }
        )
    elif report.ok:
        click.echo(f"ok: {report.verified} rows verified; head {report.head_hash or '-'}")
    elif report.bad_row_id is None:
        click.echo(f"error: {report.problem} ({report.verified} rows verified)", err=True)
    else:
        click.echo(
            f"error: audit chain broken at row {report.bad_row_id}: {report.problem} "
            f"({report.verified} rows before it verified)",
            err=True,
        )
    if not report.ok:
        sys.exit(1)
