"""backup, restore, export, import and transfer through the console script."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from store import migrate
from tests.cli import Projdeck

KEY = "w7IbUa4wb3Ju1mMzgCpZq1OZ6QnX3Vvv5S4pSKsxZ0E="


def test_workspace_commands_round_trip(tmp_path: Path) -> None:
    source = Projdeck(f"sqlite:///{tmp_path / 'source.db'}", PROJDECK_SECRET_KEY=KEY)
    source.ok("project", "create", "--name", "Billing API", "--type", "api", "--owner", "alice")
    source.ok("secret", "set", "Billing API", "API_TOKEN", input="canary-cli-777\n")

    backup = source.ok("backup", str(tmp_path / "backup.db"))
    assert backup.startswith(f"backup written to {tmp_path / 'backup.db'} (database copy")

    exported = source.ok("export", str(tmp_path / "w.jsonl"))
    assert "projects 1" in exported
    assert "canary-cli-777" not in (tmp_path / "w.jsonl").read_text()

    target = Projdeck(f"sqlite:///{tmp_path / 'target.db'}", PROJDECK_SECRET_KEY=KEY)
    assert "imported" in target.ok("import", str(tmp_path / "w.jsonl"))
    assert target.ok("import", str(tmp_path / "w.jsonl")).startswith("nothing to import")
    assert target.json("project", "show", "Billing API")["secrets"] == ["API_TOKEN"]

    copy = Projdeck(f"sqlite:///{tmp_path / 'copy.db'}", PROJDECK_SECRET_KEY=KEY)
    moved = source.ok("transfer", "--to", copy.url)
    assert "checked: the target's audit chain verifies" in moved
    assert "not empty" in source.fails("transfer", "--to", copy.url)
    assert copy.json("project", "list")["total"] == 1

    source.ok("project", "delete", "Billing API", "--purge", "--yes")
    assert "add --yes" in source.fails("restore", str(tmp_path / "backup.db"), input="")
    restored = source.ok("restore", str(tmp_path / "backup.db"), "--yes")
    assert f"(schema {migrate.HEAD_REVISION})\n" in restored
    assert "the previous workspace was saved to" in restored
    assert source.json("project", "list")["total"] == 1
    assert source.fails("restore", str(tmp_path / "nope.db"), "--yes").startswith("error: file:")


def test_backup_physical_says_what_it_means_on_each_backend(
    database_url: URL, tmp_path: Path
) -> None:
    cli = Projdeck(database_url)
    target = tmp_path / "backup.out"
    result = cli.run("backup", str(target), "--physical")
    assert result.returncode == 0, result.stderr
    if database_url.get_backend_name() == "sqlite":
        assert "a SQLite backup is always a physical copy" in result.stderr
        assert result.stdout.startswith(f"backup written to {target} (database copy")
        return
    assert result.stdout.startswith("projdeck takes logical PostgreSQL backups only")
    assert f"pg_dump --format=custom --file {target} 'postgresql://" in result.stdout
    assert "error" not in result.stderr
    assert not target.exists()


def test_transfer_merge_names_a_project_whose_name_the_target_has(
    database_url: URL, tmp_path: Path
) -> None:
    source = Projdeck(f"sqlite:///{tmp_path / 'source.db'}", PROJDECK_SECRET_KEY=KEY)
    source.ok("project", "create", "--name", "Billing API", "--type", "api", "--owner", "alice")
    ref = source.json("project", "show", "Billing API")["id"]
    target = Projdeck(database_url, PROJDECK_SECRET_KEY=KEY)
    target.ok("project", "create", "--name", "Billing API", "--type", "cli", "--owner", "bob")

    error = source.fails("transfer", "--to", target.url, "--merge")
    assert error.strip().splitlines()[-1] == (
        f"error: project 'Billing API' ({ref}) cannot be added to the target: another project "
        "there has the same name 'Billing API' (name must be unique; rename one of them first)"
    )
    assert "UNIQUE" not in error and "duplicate key" not in error
    assert target.json("project", "list")["total"] == 1


def test_a_path_the_file_system_refuses_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    cli = Projdeck(f"sqlite:///{tmp_path / 'source.db'}", PROJDECK_SECRET_KEY=KEY)
    cli.ok("project", "create", "--name", "Billing API", "--type", "api", "--owner", "alice")
    too_long = str(tmp_path / ("0" * 300))
    for args in (("backup", too_long), ("export", too_long), ("restore", too_long, "--yes")):
        error = cli.fails(*args)
        assert error.startswith("error: file: file name too long"), (args, error)
    assert cli.json("project", "list")["total"] == 1
