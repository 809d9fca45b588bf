"""What every CLI command shares: opening the database, printing errors
and JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click

from store.config import current_actor, resolve_database_url
from store.engine import Database, open_database
from store.errors import StoreError
from store.repositories.base import Page
from store.services import projects as project_service

T = TypeVar("T")


@dataclass
class CliState:
    db_url_option: str | None


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def run_with_database(
    ctx: click.Context,
    work: Callable[[Database], Awaitable[T]],
    *,
    ensure_schema: bool = True,
) -> T:
    """Open the configured database, run ``work`` on it, close it; store
    errors become ``error: ...`` and exit status 1."""
    state: CliState = ctx.find_object(CliState) or CliState(None)

    async def main() -> T:
        # A bad PROJDECK_ACTOR is refused before anything is done, rather
        # than at the audit row of a command that has already written.
        current_actor()
        url = resolve_database_url(state.db_url_option)
        database = await open_database(url)
        try:
            if ensure_schema:
                from store.services.startup import prepare_database

                await prepare_database(database)
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except StoreError as error:
        fail(error.message)
    except OSError as error:
        # A path the file system refuses (a name too long, no permission, a
        # full disk): said as such, not as a traceback.
        problem = (error.strerror or type(error).__name__).lower()
        fail(f"file: {problem}" + (f": {error.filename}" if error.filename else ""))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False))


def print_page_json(page: Page[T], key: str, as_dict: Callable[[T], dict[str, Any]]) -> None:
    """A page of a list as JSON: where it starts, its size and the total,
    and its items under ``key``."""
    print_json(
        {
            "total": page.total,
            "offset": page.offset,
            "limit": page.limit,
            key: [as_dict(item) for item in page.items],
        }
    )


def print_new_project(config: project_service.ProjectConfig, *, as_json: bool) -> None:
    """What creating a project prints: its id, or it and its settings as JSON."""
    if as_json:
        payload = project_service.project_as_dict(config.project)
        payload["settings"] = project_service.settings_as_dict(config.settings)
        print_json(payload)
    else:
        click.echo(str(config.project.id))
