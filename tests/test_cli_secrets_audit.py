"""``projdeck secret ...`` and ``projdeck audit ...`` through the installed
console script, including the leak test: a secret's value shows up in the
output of ``secret get`` and nowhere else, not even in the database file; the
credentials in a project's webhook URL likewise show only with
``project show --reveal-webhook``."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from store import crypto
from tests.cli import Projdeck
from tests.store_support import opened

_TABLES = ["projects", "project_settings", "project_secrets", "audit_log", "templates"]


@pytest.fixture
def cli(database_url: URL) -> Projdeck:
    return Projdeck(database_url)


def _stored_text(database_url: URL) -> bytes:
    """Everything the database holds, as raw bytes (SQLite: the files;
    PostgreSQL: every row of every table as text)."""
    if database_url.get_backend_name() == "sqlite":
        assert database_url.database is not None
        base = Path(database_url.database)
        return b"".join(
            path.read_bytes()
            for path in (
                base,
                base.with_name(base.name + "-wal"),
                base.with_name(base.name + "-shm"),
            )
            if path.exists()
        )
    import asyncpg

    async def dump() -> bytes:
        dsn = database_url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            chunks = []
            for table in _TABLES:
                rows = await connection.fetch(f"SELECT t::text AS row FROM {table} t")
                chunks.extend(row["row"].encode() for row in rows)
            return b"\n".join(chunks)
        finally:
            await connection.close()

    return asyncio.run(dump())


def test_secret_values_appear_only_in_secret_get(
    cli: Projdeck, database_url: URL, tmp_path: Path, private_key_file: Path
) -> None:
    canaries = {
        name: f"canary-{uuid.uuid4().hex}"
        for name in ("API_TOKEN", "DB_PASSWORD", "HOOK_PASSWORD", "HOOK_KEY", "HOOK_2")
    }
    hook = f"https://ci:{canaries['HOOK_PASSWORD']}@hooks.example.com/x?key={canaries['HOOK_KEY']}"
    project_id = cli.ok(
        "project", "create", "--name", "Billing", "--type", "api", "--owner", "al",
        "--webhook-url", hook,
    )  # fmt: skip
    outputs: list[str] = []

    def keep(result_stdout: str, result_stderr: str = "") -> None:
        outputs.extend([result_stdout, result_stderr])

    for name in ("API_TOKEN", "DB_PASSWORD"):
        result = cli.run("secret", "set", "Billing", name, input=canaries[name] + "\n")
        assert result.returncode == 0, result.stderr
        keep(result.stdout, result.stderr)

    got = cli.run("secret", "get", "Billing", "API_TOKEN")
    assert got.returncode == 0 and got.stdout == canaries["API_TOKEN"] + "\n"
    assert cli.json("secret", "get", project_id.strip()[:8], "DB_PASSWORD") == {
        "key_name": "DB_PASSWORD",
        "value": canaries["DB_PASSWORD"],
    }

    revealed = cli.json("project", "show", "Billing", "--reveal-webhook")
    assert revealed["webhook_url"] == hook

    export_file = tmp_path / "audit.csv"
    workspace_file = tmp_path / "workspace.jsonl"
    backup_file = tmp_path / "backup.db"
    change = tmp_path / "README.md"
    change.write_text("# Billing\n")
    commands = [
        ("project", "update", "Billing", "--webhook-url", f"https://{canaries['HOOK_2']}@h.io/x"),
        ("secret", "list", "Billing"),
        ("secret", "list", "Billing", "--json"),
        ("project", "show", "Billing"),
        ("project", "show", "Billing", "--json"),
        ("project", "list"),
        ("project", "list", "--json"),
        ("settings", "show", "Billing"),
        ("settings", "show", "Billing", "--json"),
        ("mod", "propose", "Billing", "--request", "Add a README", "--file", f"README.md={change}"),
        ("mod", "list", "--json"),
        ("agent", "costs", "--json"),
        ("agent", "runs", "--json"),
        ("template", "list"),
        ("doctor",),
        ("db", "current"),
        ("export", str(workspace_file)),
        ("backup", str(backup_file)),
        ("secret", "rotate-key"),
        ("audit", "list", "--json", "--limit", "500"),
        ("audit", "export", "--format", "jsonl"),
        ("audit", "export", "--format", "csv", "--output", str(export_file)),
        ("audit", "verify"),
        ("secret", "rm", "Billing", "DB_PASSWORD", "--yes"),
    ]
    for command in commands:
        result = cli.run(*command)
        assert result.returncode == 0, f"{command}: {result.stderr}"
        keep(result.stdout, result.stderr)
    # A failed decryption with a stranger's key: its error and audit row hold no value.
    stranger = Projdeck(
        database_url, PROJDECK_SECRET_KEY=crypto.encode_key(crypto.new_key().material)
    )
    failed = stranger.run("secret", "get", "Billing", "API_TOKEN")
    assert failed.returncode == 1 and "cannot decrypt secret API_TOKEN" in failed.stderr
    keep(failed.stdout, failed.stderr)

    everything = "\n".join(outputs) + export_file.read_text() + workspace_file.read_text()
    stored = _stored_text(database_url) + private_key_file.read_bytes() + backup_file.read_bytes()
    assert "API_TOKEN" in everything and b"API_TOKEN" in stored
    for value in canaries.values():
        assert value not in everything
        assert value.encode() not in stored
    assert cli.ok("secret", "get", "Billing", "API_TOKEN") == canaries["API_TOKEN"] + "\n"


def test_secret_commands_refuse_bad_input_clearly(tmp_path: Path, private_key_file: Path) -> None:
    cli = Projdeck(f"sqlite:///{tmp_path / 'projdeck.db'}")
    cli.ok("project", "create", "--name", "Billing", "--type", "api", "--owner", "al")
    assert "value: must not be empty" in cli.fails("secret", "set", "Billing", "TOKEN", input="\n")
    assert "did you mean 'TOKEN'" in cli.fails("secret", "set", "Billing", "token", input="x")
    # The value never comes from the command line.
    cli.fails("secret", "set", "Billing", "TOKEN", "value-on-argv", code=2)
    cli.ok("secret", "set", "Billing", "TOKEN", input="s3cret\n")
    assert "add --yes" in cli.fails("secret", "rm", "Billing", "TOKEN", input="")
    assert cli.ok("secret", "get", "Billing", "TOKEN") == "s3cret\n"
    assert "has no secret named NOPE" in cli.fails("secret", "get", "Billing", "NOPE")

    os.chmod(private_key_file, 0o644)
    error = cli.fails("secret", "get", "Billing", "TOKEN")
    assert error.startswith("error: the key file") and "chmod 600" in error
    os.chmod(private_key_file, 0o600)
    assert cli.ok("secret", "rm", "Billing", "TOKEN", "--yes") == "deleted TOKEN\n"
    assert cli.ok("secret", "list", "Billing") == "no secrets\n"


def test_audit_verify_passes_then_names_the_edited_row(cli: Projdeck, database_url: URL) -> None:
    for name in ("One", "Two", "Three"):
        cli.ok("project", "create", "--name", name, "--type", "cli", "--owner", "al")
    verified = cli.ok("audit", "verify")
    assert verified.startswith("ok: 3 rows verified; head ")
    head = verified.split("head ")[1].strip()
    cli.ok("project", "create", "--name", "Four", "--type", "cli", "--owner", "al")
    assert cli.ok("audit", "verify", "--expect-head", head).startswith("ok: 4 rows verified")
    listed = cli.json("audit", "list", "--search", "Two")
    assert [item["event_type"] for item in listed["items"]] == ["project.created"]
    assert listed["items"][0]["id"] == 2

    async def tamper() -> None:
        from sqlalchemy import text

        async with opened(database_url) as database, database.engine.begin() as connection:
            await connection.execute(
                text("UPDATE audit_log SET actor = 'someone else' WHERE id = 2")
            )

    asyncio.run(tamper())
    error = cli.fails("audit", "verify")
    assert "audit chain broken at row 2" in error and "edited" in error
    report = json.loads(cli.run("audit", "verify", "--json").stdout)
    assert report["ok"] is False and report["bad_row_id"] == 2 and report["verified"] == 1
    assert "since: 'soon' is not a date" in cli.fails("audit", "list", "--since", "soon")
