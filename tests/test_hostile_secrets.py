"""Secrets stay secret when what agents and people write is hostile: a
project's webhook URL with credentials is shown, audited and exported masked
and kept whole only encrypted; actor names are checked like every other
name; CSV exports cannot smuggle spreadsheet formulas; and an update that
did not ask for a version check does not fail because someone else wrote."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from store.engine import Database
from store.errors import NotFound, ValidationError
from store.models import AuditCategory, AuditEntry
from store.redaction import mask_url
from store.services import projects, secrets, shapes
from store.services.audit import verify_chain
from tests.cli import SCRIPT, Projdeck
from tests.store_support import audit_rows

PASSWORD = "hunter2-canary"
API_KEY = "k3y-canary"
HOOK = f"https://bot:{PASSWORD}@hooks.example.com/ci?key={API_KEY}&event=push"
HOOK_SHOWN = "https://bot:***@hooks.example.com/ci?key=***&event=push"


async def _stored_projects(database: Database) -> str:
    async with database.reading() as session:
        rows = (await session.execute(text("SELECT * FROM projects"))).all()
    return repr(rows)


def _audit_text(rows: list[AuditEntry]) -> str:
    return json.dumps(
        [[row.actor, row.description, row.details] for row in rows], ensure_ascii=False
    )


# -- one mask for every URL ----------------------------------------------------------------------


def test_one_mask_hides_the_credentials_of_web_and_database_urls() -> None:
    assert mask_url(HOOK) == HOOK_SHOWN
    assert mask_url(HOOK_SHOWN) == HOOK_SHOWN
    assert mask_url("https://ghp_abc@example.com/x") == "https://***@example.com/x"
    # Database URLs: the password and credential parameters go, the login
    # name and the file path stay as written.
    assert mask_url("postgresql://ops:pw@db:5432/team") == "postgresql://ops:***@db:5432/team"
    assert mask_url("postgresql://postgres@db/test") == "postgresql://postgres@db/test"
    assert mask_url("postgresql://db/x?sslpassword=pw&sslmode=require") == (
        "postgresql://db/x?sslpassword=***&sslmode=require"
    )
    long_folder = "sqlite:////tmp/pytest-of-someone/test_transfer_to_postgres0/p.db"
    assert mask_url(long_folder) == long_folder
    assert mask_url("sqlite:////tmp/p.db?password=pw") == "sqlite:////tmp/p.db?password=***"
    assert mask_url("http://[::1") == "<invalid URL>"


# -- a project's webhook URL --------------------------------------------------------------------


async def test_a_webhook_url_with_credentials_is_stored_masked_and_sealed(
    database: Database,
) -> None:
    created = await projects.create_project_with_settings(
        database,
        projects.ProjectCreate(name="Billing", type="api", owner_id="al", webhook_url=HOOK),
    )
    assert created.project.webhook_url == HOOK_SHOWN
    assert shapes.project_as_dict(created.project)["webhook_url"] == HOOK_SHOWN
    other = f"https://bot:{PASSWORD}-2@hooks.example.com/ci?token=t-{API_KEY}"
    await projects.update_project(database, "Billing", {"webhook_url": other}, expected_version=1)

    stored = await _stored_projects(database)
    assert PASSWORD not in stored and API_KEY not in stored
    rows = await audit_rows(database)
    updated = next(row for row in rows if row.event_type == "project.updated")
    assert updated.details["changes"]["webhook_url"] == {
        "from": HOOK_SHOWN,
        "to": "https://bot:***@hooks.example.com/ci?token=***",
    }
    assert PASSWORD not in _audit_text(rows) and API_KEY not in _audit_text(rows)
    # The sealed URL is no secret a person set: listings leave it out.
    assert await secrets.list_secrets(database, "Billing") == []

    revealed = await secrets.reveal_webhook_url(database, "Billing", actor="auditor")
    assert revealed.reveal() == other
    assert PASSWORD not in repr(revealed)
    [read] = [row for row in await audit_rows(database) if row.event_type.endswith("revealed")]
    assert (read.event_type, read.actor, read.category) == (
        "project.webhook_revealed",
        "auditor",
        AuditCategory.SECURITY,
    )
    assert (await verify_chain(database)).ok


async def test_a_webhook_url_without_credentials_needs_no_sealing(database: Database) -> None:
    await projects.create_project_with_settings(
        database,
        projects.ProjectCreate(name="Billing", type="api", owner_id="al", webhook_url=HOOK),
    )
    plain = "https://hooks.example.com/ci?event=push"
    await projects.update_project(database, "Billing", {"webhook_url": plain}, expected_version=1)
    async with database.reading() as session:
        sealed = (await session.execute(text("SELECT count(*) FROM project_secrets"))).scalar()
    assert sealed == 0
    assert (await secrets.reveal_webhook_url(database, "Billing")).reveal() == plain
    await projects.update_project(database, "Billing", {"webhook_url": None}, expected_version=2)
    with pytest.raises(NotFound, match="has no webhook URL"):
        await secrets.reveal_webhook_url(database, "Billing")


async def test_the_masked_webhook_given_back_keeps_the_sealed_one(database: Database) -> None:
    """The edit form shows the masked URL and sends it back unchanged."""
    await projects.create_project_with_settings(
        database,
        projects.ProjectCreate(name="Billing", type="api", owner_id="al", webhook_url=HOOK),
    )
    same = await projects.update_project(
        database, "Billing", {"webhook_url": HOOK_SHOWN}, expected_version=1
    )
    assert same.version == 1
    assert (await secrets.reveal_webhook_url(database, "Billing")).reveal() == HOOK
    # Changed elsewhere, the masked URL would lose its credentials: refused.
    with pytest.raises(ValidationError, match="masked credentials"):
        await projects.update_project(
            database, "Billing", {"webhook_url": HOOK_SHOWN.replace("/ci", "/cd")}
        )
    with pytest.raises(ValidationError, match="masked credentials"):
        await projects.create_project_with_settings(
            database,
            projects.ProjectCreate(name="Copy", type="api", owner_id="al", webhook_url=HOOK_SHOWN),
        )
    assert (await secrets.reveal_webhook_url(database, "Billing")).reveal() == HOOK


async def test_key_rotation_reencrypts_the_sealed_webhook(database: Database) -> None:
    await projects.create_project_with_settings(
        database,
        projects.ProjectCreate(name="Billing", type="api", owner_id="al", webhook_url=HOOK),
    )
    rotation = await secrets.rotate_key(database)
    assert rotation.reencrypted == 1 and rotation.retired
    assert (await secrets.reveal_webhook_url(database, "Billing")).reveal() == HOOK


async def test_a_bad_webhook_url_is_refused_without_echoing_its_credentials(
    database: Database,
) -> None:
    with pytest.raises(ValidationError) as caught:
        await projects.create_project_with_settings(
            database,
            projects.ProjectCreate(
                name="Billing", type="api", owner_id="al", webhook_url=f"ftp://u:{PASSWORD}@h/x"
            ),
        )
    assert caught.value.field == "webhook_url" and PASSWORD not in caught.value.message


@pytest.fixture
def cli(database_url: URL) -> Projdeck:
    return Projdeck(database_url)


def test_project_show_masks_the_webhook_unless_asked_to_reveal_it(
    cli: Projdeck, tmp_path: Path
) -> None:
    cli.ok("project", "create", "--name", "Billing", "--type", "api", "--owner", "al",
           "--webhook-url", HOOK)  # fmt: skip
    shown = cli.ok("project", "show", "Billing")
    assert HOOK_SHOWN in shown and PASSWORD not in shown
    assert cli.json("project", "show", "Billing")["webhook_url"] == HOOK_SHOWN
    assert HOOK in cli.ok("project", "show", "Billing", "--reveal-webhook")
    revealed = cli.json("project", "show", "Billing", "--reveal-webhook")
    assert revealed["webhook_url"] == HOOK
    reads = cli.json("audit", "list", "--event", "project.webhook_revealed")
    assert len(reads["items"]) == 2

    # The export holds the URL sealed, as it holds secrets: it travels and
    # opens with the same key, and nowhere in the file is it clear.
    exported = tmp_path / "workspace.jsonl"
    cli.ok("export", str(exported))
    assert PASSWORD not in exported.read_text() and API_KEY not in exported.read_text()
    target = Projdeck(f"sqlite:///{tmp_path / 'target.db'}")
    target.ok("import", str(exported))
    assert target.json("project", "show", "Billing", "--reveal-webhook")["webhook_url"] == HOOK
    assert target.json("secret", "list", "Billing")["items"] == []


# -- actor names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "problem"),
    [
        ("mallory\n2026-01-01 root approved everything", "control characters"),
        ("\x1b[2J\x1b[31mroot", "control characters"),
        ("x" * 256, "256 characters long; at most 255"),
    ],
)
def test_a_bad_projdeck_actor_is_refused_before_anything_is_written(
    database_url: URL, actor: str, problem: str
) -> None:
    cli = Projdeck(database_url)
    hostile = Projdeck(database_url, PROJDECK_ACTOR=actor)
    error = hostile.fails(
        "project", "create", "--name", "Billing", "--type", "api", "--owner", "al"
    )
    assert error.startswith("error: PROJDECK_ACTOR: ") and problem in error
    assert actor not in error
    assert cli.json("project", "list")["total"] == 0
    # Not even a command that writes its audit row after its work (an export).
    assert hostile.fails("audit", "export", "--format", "csv").startswith("error: PROJDECK_ACTOR")
    assert cli.json("audit", "list")["total"] == 0


async def test_every_audit_row_checks_its_actor_like_a_name(database: Database) -> None:
    with pytest.raises(ValidationError) as caught:
        await projects.create_project_with_settings(
            database, projects.ProjectCreate(name="Billing", type="api", owner_id="al"),
            actor="bot\r\nforged line",
        )  # fmt: skip
    assert caught.value.field == "actor"
    assert (await projects.list_projects(database)).total == 0
    ok = await projects.create_project_with_settings(
        database, projects.ProjectCreate(name="Billing", type="api", owner_id="al"), actor=" bot "
    )
    assert [row.actor for row in await audit_rows(database)] == ["bot"]
    assert ok.project.name == "Billing"


# -- CSV exports ---------------------------------------------------------------------------------


def test_csv_export_cells_cannot_start_a_spreadsheet_formula(
    database_url: URL, tmp_path: Path
) -> None:
    import csv

    cli = Projdeck(database_url, PROJDECK_ACTOR='=HYPERLINK("https://evil.example","x")')
    for name, owner in [("+cmd", "@SUM(A1)"), ("-2+3", "-al"), ("=1+1", "+al")]:
        cli.ok("project", "create", "--name", name, "--type", "api", "--owner", owner,
               "--planning-statement", "=formula in settings")  # fmt: skip
    out = tmp_path / "audit.csv"
    cli.ok("audit", "export", "--format", "csv", "--output", str(out))
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert len(rows) == 3
    cells = [cell for row in rows for cell in row.values()]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert {row["actor"] for row in rows} == {'\'=HYPERLINK("https://evil.example","x")'}
    # Only a leading character is guarded: the rest of the value is as stored.
    assert [json.loads(row["metadata"])["name"] for row in rows] == ["+cmd", "-2+3", "=1+1"]


def test_a_csv_cell_starting_with_a_tab_or_carriage_return_is_guarded_too() -> None:
    from store.services.audit import csv_cell

    assert [csv_cell(value) for value in ["\tx", "\r=1", "a=b", None, 7, " =x"]] == [
        "'\tx",
        "'\r=1",
        "a=b",
        "",
        "7",
        " =x",
    ]


# -- updates without a version check -------------------------------------------------------------


def _update_during_an_uncommitted_write(
    database_url: URL, *options: str
) -> subprocess.CompletedProcess[str]:
    """Run ``project update Billing OPTIONS --json`` while another
    transaction holds a newer version of the project (owner carol, version
    2) uncommitted; commit that once the update waits on it (PostgreSQL)."""
    import asyncpg

    if database_url.get_backend_name() != "postgresql":
        pytest.skip("on SQLite a write transaction holds the whole database from its start")
    cli = Projdeck(database_url)
    cli.ok("project", "create", "--name", "Billing", "--type", "api", "--owner", "al")
    dsn = database_url.set(drivername="postgresql").render_as_string(hide_password=False)
    command = [str(SCRIPT), "--db-url", cli.url, "project", "update", "Billing", *options, "--json"]

    async def race() -> subprocess.CompletedProcess[str]:
        other = await asyncpg.connect(dsn)
        watcher = await asyncpg.connect(dsn)
        try:
            transaction = other.transaction()
            await transaction.start()
            await other.execute(
                "UPDATE projects SET owner_id = 'carol', version = version + 1 WHERE name = 'Billing'"
            )
            update = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env
            )
            # Wait (a liveness bound, not a timing check) until the update is
            # blocked on the row the other transaction holds.
            for _ in range(600):
                waiting = await watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                if waiting or update.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            await transaction.commit()
            out, err = update.communicate(timeout=60)
            return subprocess.CompletedProcess(command, update.returncode, out, err)
        finally:
            await other.close()
            await watcher.close()

    return asyncio.run(race())


def test_project_update_waits_for_a_concurrent_update_instead_of_failing(
    database_url: URL,
) -> None:
    """Without --expect-version the update applies on top of the other
    transaction's version once it commits (it used to read the old version,
    then fail with 'changed by someone else')."""
    result = _update_during_an_uncommitted_write(database_url, "--dependency", "pytest")
    assert result.returncode == 0, result.stderr
    updated = json.loads(result.stdout)
    assert (updated["owner_id"], updated["dependencies"], updated["version"]) == (
        "carol",
        ["pytest"],
        3,
    )


def test_an_update_that_expects_a_version_says_which_version_it_met(database_url: URL) -> None:
    result = _update_during_an_uncommitted_write(
        database_url, "--dependency", "pytest", "--expect-version", "1"
    )
    assert result.returncode == 1
    assert result.stderr == (
        "error: project 'Billing' was changed by someone else (you read version 1, "
        "it is now at 2); reload it and try again\n"
    )


async def test_concurrent_updates_without_a_version_all_apply(database: Database) -> None:
    await projects.create_project_with_settings(
        database, projects.ProjectCreate(name="Billing", type="api", owner_id="al")
    )
    writers = 6
    await asyncio.gather(
        *(
            projects.update_project(database, "Billing", {}, files={f"f{n}.txt": f"{n}\n"})
            for n in range(writers)
        )
    )
    project = await projects.get_project(database, "Billing")
    assert sorted(project.codebase) == [f"f{n}.txt" for n in range(writers)]
    assert project.version == 1 + writers


def test_concurrent_cli_updates_adding_files_lose_none(database_url: URL, tmp_path: Path) -> None:
    cli = Projdeck(database_url)
    cli.ok("project", "create", "--name", "Billing", "--type", "api", "--owner", "al")
    runs = []
    for n in range(4):
        local = tmp_path / f"f{n}.txt"
        local.write_text(f"{n}\n")
        runs.append(
            subprocess.Popen(
                [
                    str(SCRIPT),
                    "--db-url",
                    cli.url,
                    "project",
                    "update",
                    "Billing",
                    "--file",
                    f"f{n}.txt={local}",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=cli.env,
            )
        )
    for run in runs:
        _out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    shown = cli.json("project", "show", "Billing")
    assert shown["files"] == [f"f{n}.txt" for n in range(4)] and shown["version"] == 5
