"""backup, restore, export, import and transfer through the console script."""

from __future__ import annotations

from pathlib import Path

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
    assert "the previous workspace was saved to" in restored
    assert source.json("project", "list")["total"] == 1
    assert source.fails("restore", str(tmp_path / "nope.db"), "--yes").startswith("error: file:")
