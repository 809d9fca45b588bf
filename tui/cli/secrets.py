"""``projdeck secret ...``: names, set (value from stdin or a hidden prompt,
never from the command line), get, import and export (a dotenv file), rm,
rotate-key and new-key."""

from __future__ import annotations

import sys

import click

from store import dotenv
from store.errors import ValidationError
from store.services import SecretName
from store.services import secrets as service
from tui.cli.common import (
    call_service,
    json_option,
    paged_list,
    print_json,
    print_page,
    read_input,
)
from tui.cli.completion import complete_project
from tui.cli.output import echo_exact, fail
from tui.cli.tables import Column


def _name_as_dict(secret: SecretName) -> dict[str, str]:
    return {
        "key_name": secret.key_name,
        "key_id": secret.key_id,
        "created_at": secret.created_at.isoformat(),
        "updated_at": secret.updated_at.isoformat(),
    }


@click.group()
def secret() -> None:
    """Keep a project's secrets, encrypted at rest (AES-256-GCM).

    REF is a project's id, unique id prefix, exact name or GitHub
    owner/repo; KEY is an environment-variable name (A-Z, 0-9, _).
    """


@secret.command("list")
@click.argument("ref", shell_complete=complete_project)
@paged_list
def list_secrets(ctx: click.Context, ref: str, limit: int, offset: int, as_json: bool) -> None:
    """The names of a project's secrets (never their values), by name."""

    page = call_service(ctx, service.list_secret_page, ref, limit=limit, offset=offset)
    print_page(
        page,
        _name_as_dict,
        as_json=as_json,
        noun="secrets",
        columns=(Column("NAME"), Column("UPDATED"), Column("KEY")),
        cells=lambda name: (
            name.key_name,
            f"updated {name.updated_at:%Y-%m-%d %H:%M}",
            f"key {name.key_id}",
        ),
        header=False,
    )


def _read_value() -> str:
    """The value from stdin (one trailing newline dropped) or a hidden prompt."""
    if sys.stdin.isatty():
        value: str = click.prompt(
            "Value (hidden)", hide_input=True, confirmation_prompt=True, prompt_suffix=": "
        )
        return value
    # Read with a cap above the value's own limit (which the service states).
    value = read_input("value", "secret set", "-", limit=4 * service.MAX_VALUE_BYTES)
    if value.endswith("\r\n"):
        return value[:-2]
    return value[:-1] if value.endswith("\n") else value


@secret.command("set")
@click.argument("ref", shell_complete=complete_project)
@click.argument("key")
@click.pass_context
def set_secret(ctx: click.Context, ref: str, key: str) -> None:
    """Store KEY for a project. The value is read from stdin (a trailing
    newline is dropped) or asked for without echo; never from arguments."""
    try:
        service.secret_name(key)
        value = service.SecretValue(_read_value())
        service.secret_value(value)
    except ValidationError as error:
        fail(error.message)

    stored = call_service(ctx, service.set_secret, ref, key, value)
    click.echo(f"stored {stored.key_name} (key {stored.key_id})")


@secret.command("get")
@click.argument("ref", shell_complete=complete_project)
@click.argument("key")
@json_option("Print JSON with the value.")
@click.pass_context
def get_secret(ctx: click.Context, ref: str, key: str, as_json: bool) -> None:
    """Print the value of KEY (the read is recorded in the audit log)."""

    value = call_service(ctx, service.reveal_secret, ref, key)
    if as_json:
        print_json({"key_name": key, "value": value.reveal()})
    else:
        echo_exact(value.reveal())


# Far more than any .env file holds; an endless pipe stops here.
_MAX_DOTENV_BYTES = 16 * 1024 * 1024


@secret.command("import")
@click.argument("ref", shell_complete=complete_project)
@click.option(
    "--from",
    "source",
    metavar="FILE|-",
    default="-",
    help="The dotenv file to read (default: standard input).",
)
@json_option("Print the names as JSON.")
@click.pass_context
def import_secrets(ctx: click.Context, ref: str, source: str, as_json: bool) -> None:
    """Store every NAME=value of a dotenv file as a secret of project REF.

    All of them in one step, or none if a line is refused (it is named by
    its number). Existing secrets of those names are replaced.

    The file is read as python-dotenv reads it (quotes, escapes, comments,
    'export' prefixes); ${VAR} is kept as written, not expanded. A name
    without a value, an empty value or a name given twice is refused. Prints
    the names stored, never the values."""
    if source == "-" and sys.stdin.isatty():
        fail(
            "secret import reads the dotenv file from standard input: pipe it in, or give --from FILE"
        )
    try:
        entries = service.secrets_from_dotenv(
            read_input("dotenv", "--from", source, limit=_MAX_DOTENV_BYTES)
        )
    except ValidationError as error:
        fail(error.message)

    imported = call_service(ctx, service.import_secrets, ref, entries)
    if as_json:
        print_json(
            {
                "created": list(imported.created),
                "replaced": list(imported.replaced),
                "key_id": imported.key_id,
            }
        )
        return
    for name in imported.created:
        click.echo(f"created {name}")
    for name in imported.replaced:
        click.echo(f"replaced {name}")
    total = len(imported.created) + len(imported.replaced)
    click.echo(
        f"imported {total} secret{'s' if total != 1 else ''} (key {imported.key_id}): "
        f"{len(imported.created)} created, {len(imported.replaced)} replaced"
    )


@secret.command("export")
@click.argument("ref", shell_complete=complete_project)
@click.option("--dotenv", "as_dotenv", is_flag=True, help='Print NAME="value" lines (a .env file).')
@json_option("Print JSON: each name with its value.")
@click.option(
    "--reveal",
    is_flag=True,
    help="Confirm that every value is to be printed in clear (required).",
)
@click.pass_context
def export_secrets(
    ctx: click.Context, ref: str, as_dotenv: bool, as_json: bool, reveal: bool
) -> None:
    """Print every secret of project REF with its value.

    As a dotenv file (--dotenv) or JSON (--json); the read is recorded in
    the audit log.

    The dotenv form quotes and escapes each value so that python-dotenv (and
    secret import) reads back the same text, newlines, quotes, '#' and
    Unicode included (read it with interpolation off if a value holds
    '${'). On a terminal, hidden characters are shown as stand-ins; in a
    pipe or a file they are written as they are."""
    if as_dotenv == as_json:
        raise click.UsageError("give the format: --dotenv or --json")
    if not reveal:
        fail(
            "secret export prints every value of the project in clear text; add --reveal to "
            "confirm (the export is recorded in the audit log)"
        )
    values = call_service(
        ctx, service.export_secrets, ref, purpose="dotenv" if as_dotenv else "json"
    )
    if as_json:
        print_json([{"key_name": name, "value": value.reveal()} for name, value in values])
        return
    for name, value in values:
        echo_exact(dotenv.line(name, value.reveal()))


@secret.command("rm")
@click.argument("ref", shell_complete=complete_project)
@click.argument("key")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove_secret(ctx: click.Context, ref: str, key: str, yes: bool) -> None:
    """Delete KEY from a project for good (asks first unless --yes)."""
    if not yes:
        if not sys.stdin.isatty():
            fail("deleting a secret cannot be undone; add --yes to confirm (no terminal to ask)")
        click.confirm(f"Delete secret {key} of project {ref!r}? This cannot be undone", abort=True)

    call_service(ctx, service.delete_secret, ref, key)
    click.echo(f"deleted {key}")


@secret.command("new-key")
@click.pass_context
def new_key(ctx: click.Context) -> None:
    """Start a new key file when the old one is lost for good.

    Secrets encrypted with the lost key stay unreadable until they are set
    again; while the database holds any, projdeck makes no key file unasked.
    """

    made = call_service(ctx, service.start_key_file)
    click.echo(f"new key {made.key_id} in {made.path}")
    for key_id, count in sorted(made.unreadable.items()):
        plural = "s" if count != 1 else ""
        click.echo(f"{count} secret{plural} under key {key_id} cannot be read: set them again")


@secret.command("rotate-key")
@json_option()
@click.pass_context
def rotate_key(ctx: click.Context, as_json: bool) -> None:
    """Make a new master key, re-encrypt every secret with it, retire the old one.

    The retired key stays in the key file, only to decrypt, so backups and
    exports taken before still restore readable. Safe to interrupt: every
    secret stays readable, and running it again finishes the job; a rotation
    started while another runs waits for it.
    """

    done = call_service(ctx, service.rotate_key)
    if as_json:
        print_json(
            {
                "key_id": done.key_id,
                "reencrypted": done.reencrypted,
                "retired": list(done.retired),
                "kept": list(done.kept),
                "resumed": done.resumed,
                "key_source": done.source,
            }
        )
        return
    if done.resumed:
        click.echo("finished an earlier rotation that did not complete")
    click.echo(f"re-encrypted {done.reencrypted} secrets under key {done.key_id}")
    if done.retired:
        click.echo(
            f"retired key {', '.join(done.retired)}: kept in {done.source} only to decrypt "
            "(backups and exports taken before this rotation)"
        )
    if done.kept:
        click.echo(
            f"still kept: {', '.join(done.kept)} "
            "(run again, or drop them from PROJDECK_SECRET_KEY_PREVIOUS once no secret uses them)"
        )
