"""``projdeck backup``, ``restore``, ``export``, ``import`` and ``transfer``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from store.config import resolve_database_url
from store.engine import Database, open_database
from store.errors import ValidationError
from store.portability import Progress
from store.redaction import mask_url
from store.services import workspace as service
from tui.cli.common import run_with_database
from tui.cli.output import fail


@contextmanager
def progress_bar(label: str, total: int | None, unit: str = "rows") -> Iterator[Progress]:
    """A progress bar on stderr when it is a terminal (a running count of
    ``unit`` when the total is unknown); silent otherwise."""
    if not sys.stderr.isatty():
        yield lambda _done: None
        return
    if total is None:
        done = 0

        def count(step: int) -> None:
            nonlocal done
            done += step
            click.echo(f"\r{label}: {done} {unit}", nl=False, err=True)

        yield count
        click.echo("", err=True)
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _rows(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count) or "no rows"


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--physical",
    is_flag=True,
    help="PostgreSQL: print the pg_dump command for a physical backup instead of "
    "taking a logical one. SQLite: the backup is a physical copy anyway.",
)
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@click.pass_context
def backup(ctx: click.Context, path: Path, physical: bool, force: bool) -> None:
    """Back up the database to PATH.

    SQLite: a consistent, integrity-checked copy of the database file, taken
    while others keep working. PostgreSQL: a logical export (see export).
    The file is readable by you only; an existing one is replaced only with
    --force, and never the database, its journals or the key file.
    """

    async def work(database: Database) -> service.BackupResult | str:
        if database.backend == "sqlite":
            if physical:
                click.echo(
                    "note: a SQLite backup is always a physical copy of the database file; "
                    "--physical changes nothing",
                    err=True,
                )
            with progress_bar("backing up", None, unit="pages") as progress:
                return await service.backup_database(database, path, force=force, progress=progress)
        if physical:
            return (
                "projdeck takes logical PostgreSQL backups only (nothing was written); "
                "for a physical one run:\n"
                f"  pg_dump --format=custom --file {path} "
                f"'{database.masked_url.replace('+asyncpg', '')}'\n"
                "(give the password through PGPASSWORD or ~/.pgpass)"
            )
        total = sum((await service.count_workspace(database)).values())
        with progress_bar("backing up", total) as progress:
            return await service.backup_database(database, path, force=force, progress=progress)

    result = run_with_database(ctx, work)
    if isinstance(result, str):
        click.echo(result)
        return
    kind = "database copy" if result.kind == "sqlite" else "logical export"
    click.echo(
        f"backup written to {result.path} ({kind}, {result.size} bytes, schema {result.revision})"
    )


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def restore(ctx: click.Context, path: Path, yes: bool) -> None:
    """Replace the workspace with a backup or an export at PATH.

    The file is checked first; the current workspace is saved beside the
    database (SQLite) or the file (PostgreSQL) before anything is replaced.
    """
    if not yes:
        if not sys.stdin.isatty():
            fail(
                "restoring replaces the whole workspace; add --yes to confirm (no terminal to ask)"
            )
        click.confirm(
            f"Replace the whole workspace with {path}? (a safety backup is kept)", abort=True
        )

    async def work(database: Database) -> service.RestoreResult:
        unit = "pages" if database.backend == "sqlite" and _is_sqlite_file(path) else "rows"
        with progress_bar("restoring", None, unit=unit) as progress:
            return await service.restore_database(database, path, progress=progress)

    result = run_with_database(ctx, work)
    upgraded = (
        f"; the backup was at {result.source_revision}, upgraded"
        if result.source_revision != result.revision
        else ""
    )
    click.echo(f"restored from {result.source} (schema {result.revision}{upgraded})")
    click.echo(f"the previous workspace was saved to {result.safety_backup}")


def _is_sqlite_file(path: Path) -> bool:
    try:
        return service.is_sqlite_file(path)
    except ValidationError:
        return False  # restore says why


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@click.pass_context
def export_command(ctx: click.Context, path: Path, force: bool) -> None:
    """Export every table to PATH as JSON lines (secrets stay encrypted).

    The file is readable by you only; an existing one is replaced only with
    --force, and never the database, its journals or the key file."""

    async def work(database: Database) -> service.ExportResult:
        total = sum((await service.count_workspace(database)).values())
        with progress_bar("exporting", total) as progress:
            return await service.export_workspace(database, path, force=force, progress=progress)

    result = run_with_database(ctx, work)
    click.echo(f"exported to {result.path}: {_rows(result.counts)}")


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def import_command(ctx: click.Context, path: Path) -> None:
    """Import an export from PATH; rows already here and identical are
    skipped, and a bad line aborts everything with its line number."""

    async def work(database: Database) -> service.ImportResult:
        with progress_bar("importing", None) as progress:
            return await service.import_workspace(database, path, progress=progress)

    result = run_with_database(ctx, work)
    stats = result.stats
    unchanged = sum(stats.unchanged.values())
    if stats.total_inserted:
        click.echo(f"imported {stats.total_inserted} rows ({_rows(stats.inserted)})")
    else:
        click.echo("nothing to import: every row was already here")
    if unchanged:
        click.echo(f"{unchanged} rows were already here and unchanged")


@click.command()
@click.option("--to", "target_url", required=True, metavar="URL", help="The database to copy into.")
@click.option(
    "--from",
    "source_url",
    metavar="URL",
    help="The database to copy from (default: the configured one).",
)
@click.option("--merge", is_flag=True, help="Add to a target that already holds data.")
@click.pass_context
def transfer(ctx: click.Context, target_url: str, source_url: str | None, merge: bool) -> None:
    """Copy the whole workspace into another database, keeping ids,
    timestamps and the audit chain, then check it.

    From SQLite to PostgreSQL, say, when a team outgrows one machine."""

    async def work(source: Database) -> service.TransferResult:
        target = await open_database(resolve_database_url(target_url))
        try:
            total = sum((await service.count_workspace(source)).values())
            with progress_bar(f"copying to {mask_url(target.url)}", total) as progress:
                return await service.transfer_workspace(
                    source, target, merge=merge, progress=progress
                )
        finally:
            await target.dispose()

    if source_url is not None:
        ctx.obj.db_url_option = source_url
    result = run_with_database(ctx, work)
    click.echo(f"copied {sum(result.inserted.values())} rows ({_rows(result.inserted)})")
    click.echo(
        f"checked: every table of the source is in the target ({_rows(result.target_counts)})"
    )
    click.echo(f"checked: the target's audit chain verifies ({result.chain_rows} rows)")
