"""The project, settings, db and doctor commands end to end, through the
installed console script, on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from store.migrate import HEAD_REVISION
from tests.cli import Projdeck


@pytest.fixture
def cli(database_url: URL) -> Projdeck:
    return Projdeck(database_url)


def test_project_lifecycle_through_the_cli(cli: Projdeck, tmp_path: Path) -> None:
    source = tmp_path / "main.py"
    source.write_text("print('hello')\n", encoding="utf-8")
    project_id = cli.ok(
        "project",
        "create",
        "--name",
        "Billing API",
        "--type",
        "api",
        "--owner",
        "alice",
        "--github",
        "acme/billing",
        "--dependency",
        "fastapi",
        "--env",
        "LOG_LEVEL=info",
        "--file",
        f"src/main.py={source}",
        "--planning-statement",
        "Small steps",
    ).strip()
    assert len(project_id) == 36

    shown = cli.json("project", "show", project_id[:8])
    assert shown["name"] == "Billing API"
    assert shown["github_owner"] == "acme" and shown["github_repo"] == "billing"
    assert shown["files"] == ["src/main.py"]
    assert shown["environment_vars"] == {"LOG_LEVEL": "info"}
    assert shown["settings"]["planning_statement"] == "Small steps"
    assert shown["settings"]["branch_name"] == "main"
    assert shown["secrets"] == []
    assert shown["version"] == 1

    listed = cli.json("project", "list")
    assert listed["total"] == 1
    assert listed["items"][0]["name"] == "Billing API"
    assert listed["items"][0]["pending_modifications"] == 0
    assert "Billing API" in cli.ok("project", "list")

    updated = cli.json(
        "project",
        "update",
        "Billing API",
        "--security-score",
        "91.5",
        "--no-auto-merge",
        "--remove-file",
        "src/main.py",
        "--state",
        '{"phase": "review"}',
    )
    assert updated["security_score"] == 91.5
    assert updated["files"] == []
    assert updated["state"] == {"phase": "review"}
    assert updated["version"] == 2

    stale = cli.fails("project", "update", "Billing API", "--owner", "bob", "--expect-version", "1")
    assert stale.startswith("error: project 'Billing API' was changed by someone else")

    settings = cli.json(
        "settings", "set", "Billing API", "--branch", "develop", "--setup-command", "make"
    )
    assert settings["branch_name"] == "develop"
    assert settings["setup_commands"] == ["make"]
    assert "branch: develop" in cli.ok("settings", "show", "Billing API")

    assert "is now archived" in cli.ok("project", "archive", "Billing API")
    # Archived: read-only, as `project archive --help` says.
    read_only = "error: project 'Billing API' is archived; unarchive it first"
    assert cli.fails("project", "update", "Billing API", "--owner", "bob").startswith(read_only)
    assert cli.fails("settings", "set", "Billing API", "--branch", "x").startswith(read_only)
    assert cli.fails("secret", "set", "Billing API", "TOKEN", input="v\n").startswith(read_only)
    assert cli.json("project", "show", "Billing API")["owner_id"] != "bob"
    assert "is now active" in cli.ok("project", "unarchive", "Billing API")
    assert "is now deleted" in cli.ok("project", "delete", "Billing API")
    assert cli.json("project", "list")["total"] == 0
    assert cli.json("project", "list", "--all")["total"] == 1
    assert "is now active" in cli.ok("project", "restore", "Billing API")

    refused = cli.fails("project", "delete", "Billing API", "--purge", input="")
    assert "add --yes" in refused
    assert cli.json("project", "list")["total"] == 1
    assert "purged project" in cli.ok("project", "delete", "Billing API", "--purge", "--yes")
    assert cli.fails("project", "show", "Billing API").startswith("error: no project matches")


def test_bad_input_exits_1_naming_the_field(cli: Projdeck) -> None:
    def error(*args: str) -> str:
        return cli.fails(*args).strip()

    base = ("project", "create", "--type", "api", "--owner", "alice")
    assert (
        error(*base, "--name", "x", "--github", "not-a-pair")
        == "error: github: 'not-a-pair' is not OWNER/REPO"
    )
    assert error(*base, "--name", "x", "--webhook-url", "ftp://h").startswith("error: webhook_url:")
    assert error(*base, "--name", "x", "--env", "NOEQUALS").startswith("error: env:")
    assert error(*base, "--name", "x", "--file", "a.py=/no/such/file").startswith(
        "error: file: cannot read"
    )
    assert error(*base, "--name", "x", "--file", "../up.py=/etc/hostname").startswith(
        "error: codebase:"
    )
    cli.ok(*base, "--name", "x")
    assert error(*base, "--name", "x") == "error: a project named 'x' already exists"
    assert error("project", "update", "x", "--test-coverage", "120").startswith(
        "error: test_coverage:"
    )
    assert error("project", "update", "x", "--state", "{not json").startswith(
        "error: state: is not valid JSON"
    )
    assert error("project", "show", "nope").startswith("error: no project matches 'nope'")
    assert cli.json("project", "list")["total"] == 1


def test_usage_errors_exit_2(cli: Projdeck) -> None:
    assert "Missing option '--name'" in cli.fails("project", "create", "--type", "api", code=2)
    assert "'spaceship' is not one of" in cli.fails(
        "project", "create", "--name", "n", "--type", "spaceship", "--owner", "o", code=2
    )
    assert "give at least one field" in cli.fails("project", "update", "n", code=2)


def test_db_commands_and_doctor(cli: Projdeck) -> None:
    assert cli.ok("db", "current").startswith(f"{HEAD_REVISION} (head)")
    assert cli.ok("db", "check").strip() == "schema matches the models"
    assert "-> 0001" in cli.ok("db", "history")
    report = cli.json("doctor")
    assert report["ok"] is True
    names = [finding["name"] for finding in report["findings"]]
    assert names[:2] == ["reachable", "schema"]
    assert cli.ok("db", "downgrade", "base").strip() == "database at revision base (empty)"
    doctor = cli.run("doctor")
    assert doctor.returncode == 1
    assert "FAIL schema: empty" in doctor.stdout
    assert cli.ok("db", "upgrade").strip() == f"database at revision {HEAD_REVISION}"


def test_unknown_revisions_are_a_clear_error(cli: Projdeck) -> None:
    for command, revision in [("upgrade", "zzz"), ("downgrade", "bogus"), ("stamp", "nope")]:
        assert cli.fails("db", command, revision) == (
            f"error: revision: {revision!r} is not a known revision "
            "(projdeck db history lists them)\n"
        )
    assert cli.fails("db", "downgrade", "+1").startswith(
        "error: revision: cannot downgrade to '+1': "
    )
    assert cli.fails("db", "stamp", "") == (
        "error: revision: is empty; give a revision id, head or base\n"
    )
    assert cli.ok("db", "current").startswith(f"{HEAD_REVISION} (head)")


def test_unreachable_database_is_a_clear_error_without_password() -> None:
    cli = Projdeck(
        "postgresql://ops:pw-canary-123@127.0.0.1:1/none", PROJDECK_CONNECT_DELAYS="0.01,0.01"
    )
    result = cli.run("project", "list")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: cannot reach the database postgresql+asyncpg://ops:***@127.0.0.1:1/none after 3 attempts"
    )
    assert "pw-canary-123" not in result.stderr + result.stdout


def test_new_sqlite_file_is_created_and_migrated_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "projdeck.db"
    cli = Projdeck(f"sqlite:///{path}")
    assert cli.json("project", "list")["total"] == 0
    assert path.exists()
    assert cli.ok("db", "current").startswith(f"{HEAD_REVISION} (head)")


def test_a_database_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    cli = Projdeck(f"sqlite:///{blocker / 'x.db'}")
    error = cli.fails("project", "list")
    assert error.startswith(f"error: cannot create the folder {blocker}")


def test_project_list_search_finds_the_github_owner(cli: Projdeck) -> None:
    for name, github in (("Billing API", "acme/billing-api"), ("Ledger", "globex/ledger")):
        cli.ok(
            "project",
            "create",
            "--name",
            name,
            "--type",
            "api",
            "--owner",
            "alice",
            "--github",
            github,
        )
    found = cli.json("project", "list", "--search", "acme")
    assert [row["name"] for row in found["items"]] == ["Billing API"]
    found = cli.json("project", "list", "--search", "globex/led")
    assert [row["name"] for row in found["items"]] == ["Ledger"]
