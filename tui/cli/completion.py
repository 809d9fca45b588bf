"""Shell completion of what arguments name: a project (REF) by its name, a
modification (ID) by its id. Read from the configured database (``--db-url``
on the line being completed, else as every command finds it), opened
read-only, in a couple of seconds at most; when anything is amiss (no
database yet, an old schema, a server away) nothing is completed, and
nothing is ever printed or written."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from store.engine import Database

# How long a completion may wait for the database, and how many it offers.
TIMEOUT_SECONDS = 2.0
LIMIT = 50
# The most terminal cells of a modification's request its description shows.
ABOUT_CELLS = 60


def complete_project(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The names of the projects that start with what is typed (any case)."""

    async def names(database: Database) -> list[CompletionItem]:
        from store.services.browse import find_project_names

        typed = incomplete.casefold()
        found = await find_project_names(database, incomplete, limit=LIMIT)
        return [
            CompletionItem(name)
            for _, name in found
            if name.casefold().startswith(typed) and _typeable(name)
        ]

    return _from_database(ctx, names)


def complete_modification(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The ids of the modifications that start with what is typed (dashes or
    not), newest first, each described by its status and request."""

    async def ids(database: Database) -> list[CompletionItem]:
        from rich.text import Text

        from store import text
        from store.services.review import find_modification_ids
        from tui.cli.tables import first_line

        # Given as typed: with dashes, or as 32 hex digits past the first dash.
        plain = "-" not in incomplete and len(incomplete) > 8
        found = await find_modification_ids(database, incomplete, limit=LIMIT)
        items = []
        for modification_id, status, request in found:
            # Measured in cells, as the tables are: wide characters take two.
            about = Text(text.visible(first_line(request)))
            about.truncate(ABOUT_CELLS, overflow="ellipsis")
            value = modification_id.hex if plain else str(modification_id)
            items.append(CompletionItem(value, help=f"{status}: {about.plain}"))
        return items

    return _from_database(ctx, ids)


def _typeable(name: str) -> bool:
    """Whether a name can be offered to a shell as it is: nothing in it a
    terminal would act on or a reader could not see."""
    from store import text

    return text.visible(name) == name


def _from_database(
    ctx: click.Context, work: Callable[[Database], Awaitable[list[CompletionItem]]]
) -> list[CompletionItem]:
    """``work`` on the database the command line names, read-only; none
    when anything fails. Warnings and log records are dropped: the shell
    reads stdout, and stderr would land on the line being typed."""
    try:
        with warnings.catch_warnings(), _quiet_logging():
            warnings.simplefilter("ignore")
            return asyncio.run(asyncio.wait_for(_read(ctx, work), TIMEOUT_SECONDS))
    except (Exception, KeyboardInterrupt):
        return []


async def _read(
    ctx: click.Context, work: Callable[[Database], Awaitable[list[CompletionItem]]]
) -> list[CompletionItem]:
    from store.config import resolve_database_url
    from store.engine import open_read_only

    option = ctx.find_root().params.get("db_url")
    database = open_read_only(resolve_database_url(option), timeout=TIMEOUT_SECONDS)
    if database is None:
        return []
    try:
        return await work(database)
    finally:
        await database.dispose()


@contextlib.contextmanager
def _quiet_logging() -> Iterator[None]:
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)
