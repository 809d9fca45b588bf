"""``projdeck mod test`` through the console script: the commands set with
``settings set --test-command``, the plan and output on standard error,
the outcome in the exit status and in ``mod show``."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import URL

from tests.cli import Projdeck


def test_a_change_is_tested_and_the_outcome_is_its_exit_status(
    database_url: URL, tmp_path: Path
) -> None:
    cli = Projdeck(database_url)
    cli.ok("project", "create", "--name", "Billing", "--type", "api", "--owner", "al")
    source = tmp_path / "app.py"
    source.write_text("X = 2\n")
    mod_id = cli.ok(
        "mod", "propose", "Billing", "--request", "Add app", "--file", f"app.py={source}"
    ).strip()

    refused = cli.fails("mod", "test", mod_id)
    assert "has no test commands" in refused and "--test-command" in refused

    cli.ok("settings", "set", "Billing", "--test-command", "grep 'X = 2' app.py")
    assert "test commands:\n  grep 'X = 2' app.py" in cli.ok("settings", "show", "Billing")
    passed = cli.run("mod", "test", mod_id)
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.startswith("tests passed in ")
    assert "$ grep 'X = 2' app.py" in passed.stderr and "  X = 2" in passed.stderr

    cli.ok(
        "settings", "set", "Billing", "--test-command", "printf '\\033]0;title\\007bad\\n'; exit 5"
    )
    failed = cli.run("mod", "test", mod_id, "--json")
    assert failed.returncode == 3
    results = json.loads(failed.stdout)
    assert results["outcome"] == "failed" and results["output_tail"] == ["bad"]
    assert results["commands"][0]["exit_code"] == 5
    assert "\x1b" not in failed.stderr

    shown = cli.json("mod", "show", mod_id)
    assert shown["local_test_results"]["outcome"] == "failed"
