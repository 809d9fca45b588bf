"""What every CLI command shares: opening the database, printing errors,
JSON and pages of a list."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import click

from store import text as text_safety
from store import validation
from store.config import current_actor, resolve_database_url
from store.engine import Database, driver_failure, open_database
from store.errors import StoreError, ValidationError
from store.services import Page, shapes
from store.services import projects as project_service
from tui.cli.completion import complete_project
from tui.cli.output import CliState, StatusLine, fail
from tui.cli.pager import paged
from tui.cli.tables import Column, echo_table

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

T = TypeVar("T")
P = ParamSpec("P")
F = TypeVar("F", bound=Callable[..., Any])


def example(*lines: str) -> str:
    """A command's epilog: an example of its use, the last thing its
    ``--help`` prints, its lines kept as written (click's ``\\b``)."""
    return "\b\nExample:\n" + "\n".join(f"  {line}" for line in lines)


def when_option(field: str, value: str | None) -> datetime | None:
    """A ``--since`` or ``--until`` value as ``audit list`` reads it: an ISO
    date or date-time (UTC unless it names a zone), or an age such as
    ``30m``, ``12h``, ``7d`` or ``2w`` meaning that long ago. Refused naming
    ``field``."""
    if value is None:
        return None
    from store.services.audit import parse_time

    return parse_time(field, value)


def json_option(help: str = "Print JSON.") -> Callable[[F], F]:
    """The ``--json`` flag every command that prints something takes
    (``as_json``), ``help`` saying what it prints."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def project_option(help: str) -> Callable[[F], F]:
    """``--project REF`` (``project_ref``) of a command that may keep to one
    project, ``help`` saying what it keeps."""
    return click.option(
        "--project", "project_ref", metavar="REF", shell_complete=complete_project, help=help
    )


def page_options(command: F) -> F:
    """``--limit``, ``--offset`` and ``--json`` of a command that lists a
    page (of projects, of templates): every list command takes them, and
    prints its page with ``print_page_json``."""
    for option in (
        json_option(),
        click.option("--offset", type=click.IntRange(0), default=0, show_default=True),
        click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True),
    ):
        command = option(command)
    return command


def paged_list(command: Callable[Concatenate[click.Context, P], None]) -> Callable[P, None]:
    """A command that lists a page: ``page_options``, the click context as
    its first argument, its human output paged (``paged``)."""
    return page_options(click.pass_context(paged(command)))


def run_with_database(
    ctx: click.Context,
    work: Callable[[Database], Awaitable[T]],
    *,
    ensure_schema: bool = True,
    status: StatusLine | None = None,
) -> T:
    """Open the configured database, run ``work`` on it, close it; store
    errors become ``error: ...`` and exit status 1. Waits to connect again
    and schema upgrades are told on ``status`` (default: a new one), which
    ``work`` may use for its own steps."""
    state: CliState = ctx.find_object(CliState) or CliState(None)
    status = status or StatusLine()

    url: URL | None = None

    async def main() -> T:
        nonlocal url
        # A bad PROJDECK_ACTOR is refused before anything is done, rather
        # than at the audit row of a command that has already written.
        current_actor()
        url = resolve_database_url(state.db_url_option)
        database = await open_database(url, on_step=status)
        try:
            if ensure_schema:
                from store.services.startup import prepare_database

                await prepare_database(database, on_step=status)
            status.clear()
            return await work(database)
        finally:
            status.clear()
            await database.dispose()

    try:
        return asyncio.run(main())
    except StoreError as error:
        fail(error.message)
    except Exception as error:
        # Driver and connection errors no service translated (a server lost
        # in the middle of an export, a damaged file under a backup).
        failure = driver_failure(error, url) if url is not None else None
        if failure is not None:
            fail(failure.message)
        if not isinstance(error, OSError):
            raise
        # A path the file system refuses (a name too long, no permission, a
        # full disk): said as such, not as a traceback.
        problem = (error.strerror or type(error).__name__).lower()
        fail(f"file: {problem}" + (f": {error.filename}" if error.filename else ""))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


def call_service(
    ctx: click.Context,
    operation: Callable[Concatenate[Database, P], Awaitable[T]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Open the configured database, run ``operation(database, *args,
    **kwargs)`` on it and close it, as ``run_with_database`` does: most
    commands are one service call."""

    async def work(database: Database) -> T:
        return await operation(database, *args, **kwargs)

    return run_with_database(ctx, work)


def call_as_is(
    ctx: click.Context,
    operation: Callable[Concatenate[Database, P], Awaitable[T]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``call_service`` on the database as it is, its schema not brought to
    head first: for the commands that look at or change the schema itself."""
    return run_with_database(
        ctx, lambda database: operation(database, *args, **kwargs), ensure_schema=False
    )


def json_text(value: Any, **options: Any) -> str:
    """``value`` as JSON, hidden characters written as ``\\u`` escapes."""
    return text_safety.json_escaped(json.dumps(value, default=str, ensure_ascii=False, **options))


def read_input(field: str, option: str, source: str, *, limit: int) -> str:
    """The UTF-8 text of a local file, or of standard input for ``-``, read
    with a cap: ``/dev/zero`` or an endless pipe stops at ``limit`` bytes
    and is refused naming the option, instead of filling the memory."""
    where = "standard input" if source == "-" else source
    try:
        if source == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(source, "rb") as stream:
                data = stream.read(limit + 1)
    except OSError as error:
        raise ValidationError(field, f"cannot read {where}: {error.strerror}") from None
    if len(data) > limit:
        raise ValidationError(
            field, f"{where} is larger than {_size(limit)}, the most {option} reads"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(field, f"{where} is not UTF-8 text") from None


# A JSON option's text, indentation included; its value is then held to
# validation.MAX_JSON_BYTES as compact JSON.
MAX_JSON_READ_BYTES = 4 * validation.MAX_JSON_BYTES


def json_input(field: str, option: str, value: str, *, limit: int = MAX_JSON_READ_BYTES) -> Any:
    """A JSON option given inline or as ``@FILE`` (``@-``: standard input),
    read with a cap and parsed without RecursionError or ValueError."""
    text = read_input(field, option, value[1:], limit=limit) if value.startswith("@") else value
    return validation.parse_json(field, text)


def _size(limit: int) -> str:
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MiB"
    if limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"


def print_json(value: Any) -> None:
    click.echo(json_text(value, indent=2, sort_keys=True))


def print_record(
    record: T, as_dict: Callable[[T], dict[str, Any]], line: str, *, as_json: bool
) -> None:
    """What a command that writes one record prints: the record as JSON
    (``as_json``), else ``line`` (its id, or what changed)."""
    if as_json:
        print_json(as_dict(record))
    else:
        click.echo(line)


def echo_fields(lines: list[tuple[str, str]]) -> None:
    """A record's fields, a line each: the labels in a column as wide as the
    longest, then the values."""
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        click.echo(f"{label:<{width}}  {value}")


def print_page_json(page: Page[T], as_dict: Callable[[T], dict[str, Any]]) -> None:
    """A page of a list as JSON, the one shape every ``list`` command prints:
    ``{"items": [...], "total": N, "limit": L, "offset": O}``."""
    print_json(
        {
            "items": [as_dict(item) for item in page.items],
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
        }
    )


def echo_page_footer(page: Page[T]) -> None:
    """The line under a listed page that is not the whole list: which rows
    it shows and how to see the others."""
    if page.items and page.total > len(page.items):
        click.echo(
            f"showing {page.offset + 1}-{page.offset + len(page.items)} of {page.total}; "
            "see more with --offset"
        )


def printed_page(
    page: Page[T], as_dict: Callable[[T], dict[str, Any]], *, as_json: bool, noun: str
) -> bool:
    """A list's page as JSON (``as_json``), or that it is empty ("no
    ``noun``", or none on this page); False when its rows are still to be
    printed as a table."""
    if as_json:
        print_page_json(page, as_dict)
        return True
    if not page.items:
        click.echo(f"no {noun}" if page.total == 0 else f"no {noun} on this page")
        return True
    return False


def print_page(
    page: Page[T],
    as_dict: Callable[[T], dict[str, Any]],
    *,
    as_json: bool,
    noun: str,
    columns: Sequence[Column],
    cells: Callable[[T], Sequence[str]],
    header: bool = True,
) -> None:
    """What a list command prints: its page as JSON (``as_json``), that it
    is empty, or a table of ``columns`` (a row's ``cells`` each) and the
    footer line saying which rows it shows."""
    if printed_page(page, as_dict, as_json=as_json, noun=noun):
        return
    echo_table(columns, [cells(item) for item in page.items], header=header)
    echo_page_footer(page)


def print_new_project(config: project_service.ProjectConfig, *, as_json: bool) -> None:
    """What creating a project prints: its id, or it and its settings as JSON."""
    if as_json:
        payload = shapes.project_as_dict(config.project)
        payload["settings"] = shapes.settings_as_dict(config.settings)
        print_json(payload)
    else:
        click.echo(str(config.project.id))
