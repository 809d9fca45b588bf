"""The ``projdeck mod`` commands end to end, through the installed console
script, on each backend: every command, its exit codes and JSON shapes, and
bad proposals refused with the field named and nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from store.validation import MAX_FILE_BYTES
from tests.cli import Projdeck


@pytest.fixture
def cli(database_url: URL) -> Projdeck:
    return Projdeck(database_url)


@pytest.fixture
def sqlite_cli(sqlite_file: Path) -> Projdeck:
    """SQLite only, for checks that do not depend on the backend."""
    return Projdeck(f"sqlite:///{sqlite_file}")


def make_project(cli: Projdeck, tmp_path: Path) -> str:
    source = tmp_path / "app.py"
    source.write_text("print('hello')\n", encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("# Demo\n", encoding="utf-8")
    return cli.ok(
        "project",
        "create",
        "--name",
        "Demo",
        "--type",
        "api",
        "--owner",
        "alice",
        "--file",
        f"app.py={source}",
        "--file",
        f"README.md={readme}",
    ).strip()


def test_show_lists_the_affected_files_a_modification_does_not_change(
    cli: Projdeck, tmp_path: Path
) -> None:
    make_project(cli, tmp_path)
    payload = {
        "request": "Reword the greeting",
        "modified_files": {"app.py": "print('hi')\n"},
        "affected_files": ["app.py", "README.md", "docs/guide.md"],
    }
    modification_id = cli.ok("mod", "propose", "Demo", "--payload", "-", input=json.dumps(payload))
    shown = cli.json("mod", "show", modification_id.strip())
    assert [file["path"] for file in shown["files"]] == ["app.py"]
    assert shown["unchanged_files"] == [
        {"path": "README.md", "in_codebase": True},
        {"path": "docs/guide.md", "in_codebase": False},
    ]
    text = cli.ok("mod", "show", modification_id.strip())
    listed = text.split("affected, not changed:\n", 1)[1].splitlines()
    assert listed == ["  README.md", "  docs/guide.md  (not in the codebase)"]


def test_every_mod_command_round_trip(cli: Projdeck, tmp_path: Path) -> None:
    project_id = make_project(cli, tmp_path)
    new_app = tmp_path / "new_app.py"
    new_app.write_text("print('bye')\n", encoding="utf-8")
    impact = tmp_path / "impact.json"
    impact.write_text('{"risk": "low", "summary": "say bye"}', encoding="utf-8")

    first = cli.json(
        "mod",
        "propose",
        "Demo",
        "--request",
        "Say bye",
        "--requested-by",
        "agent-7",
        "--file",
        f"app.py={new_app}",
        "--delete",
        "README.md",
        "--impact",
        f"@{impact}",
        "--tests",
        '{"passed": 3, "failed": 0}',
    )
    assert first["status"] == "pending"
    assert first["requested_by"] == "agent-7"
    assert first["affected_files"] == ["README.md", "app.py"]
    assert first["modified_files"] == {"app.py": "print('bye')\n", "README.md": None}
    assert first["impact_analysis"] == {"risk": "low", "summary": "say bye"}
    assert first["test_results"] == {"passed": 3, "failed": 0}
    assert first["project_id"] == project_id

    payload = {
        "request": "Add a module",
        "modified_files": {"app.py": "print('other')\n", "lib/mod.py": "x = 1\n"},
        "impact_analysis": {"risk": "medium"},
        "requested_by": "agent-7",
    }
    second_id = cli.ok(
        "mod", "propose", project_id[:8], "--payload", "-", input=json.dumps(payload)
    )
    second_id = second_id.strip()
    assert len(second_id) == 36

    listed = cli.json("mod", "list", "--project", "Demo")
    assert listed["total"] == 2
    assert [m["id"] for m in listed["items"]] == [first["id"], second_id]
    assert set(listed["items"][0]) == {
        "id",
        "project_id",
        "project",
        "request",
        "requested_by",
        "requested_at",
        "status",
        "affected_files",
        "reviewed_by",
        "reviewed_at",
        "applied_at",
        "reverts_id",
        "revision",
    }
    assert listed["items"][0]["project"] == "Demo"
    assert "Say bye" in cli.ok("mod", "list", "--status", "pending")

    shown = cli.json("mod", "show", first["id"][:6], "--diff")
    assert shown["compared_with"] == "codebase"
    assert shown["files"] == [
        {
            "path": "README.md",
            "kind": "deleted",
            "added": 0,
            "removed": 1,
            "diff": "--- a/README.md\n+++ /dev/null\n@@ -1 +0,0 @@\n-# Demo\n",
        },
        {
            "path": "app.py",
            "kind": "modified",
            "added": 1,
            "removed": 1,
            "diff": "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-print('hello')\n+print('bye')\n",
        },
    ]
    text = cli.ok("mod", "show", first["id"], "--diff")
    assert "deleted   +0 -1  README.md" in text
    assert "+print('bye')" in text

    cli.ok("mod", "attach-tests", second_id, "--tests", '{"passed": 1, "failed": 1}')
    assert (
        cli.ok("mod", "approve", first["id"], "--comment", "fine")
        .strip()
        .endswith("is now approved")
    )
    cli.ok("mod", "approve", second_id[:8])
    assert cli.ok("mod", "apply", first["id"][:8]).strip() == f"{first['id']} is now applied"
    codebase = cli.json("project", "show", "Demo", "--codebase")["codebase"]
    assert codebase == {"app.py": "print('bye')\n"}

    conflict = cli.fails("mod", "apply", second_id)
    assert conflict == (
        f"error: {second_id} failed and was not applied: "
        "conflict: changed since the proposal: app.py\n"
    )
    assert cli.json("mod", "show", second_id)["status"] == "failed"
    assert cli.ok("mod", "reopen", second_id).strip() == f"{second_id} is now pending"
    assert cli.fails("mod", "reopen", second_id) == (
        "error: cannot reopen a modification that is pending\n"
    )
    cli.ok("mod", "reject", second_id, "--comment", "superseded")
    assert cli.fails("mod", "reject", second_id, code=2).startswith("Usage:")

    revert_id = cli.ok("mod", "revert", first["id"]).strip()
    revert = cli.json("mod", "show", revert_id)
    assert revert["reverts_id"] == first["id"]
    assert revert["modified_files"] == {"app.py": "print('hello')\n", "README.md": "# Demo\n"}
    assert cli.fails("mod", "revert", first["id"]).startswith("error: modification ")

    statuses = {m["id"]: m["status"] for m in cli.json("mod", "list")["items"]}
    assert statuses == {first["id"]: "applied", second_id: "rejected", revert_id: "pending"}


def test_bad_proposals_exit_1_naming_the_field_and_store_nothing(
    sqlite_cli: Projdeck, tmp_path: Path
) -> None:
    cli = sqlite_cli
    make_project(cli, tmp_path)
    big = tmp_path / "big.txt"
    big.write_text("a" * (MAX_FILE_BYTES + 1), encoding="utf-8")
    bad_json = tmp_path / "payload.json"
    bad_json.write_text('{"request": "x", ', encoding="utf-8")
    cases = [
        (("Nope", "--request", "x", "--delete", "README.md"), "error: no project matches 'Nope'"),
        (("Demo", "--request", "x", "--delete", "../etc"), "error: delete: path '../etc'"),
        (("Demo", "--request", "x", "--file", f"big.txt={big}"), "error: modified_files[big.txt]:"),
        (
            ("Demo", "--request", "x", "--delete", "a.py", "--impact", "{bad"),
            "error: impact_analysis:",
        ),
        (("Demo", "--payload", str(bad_json)), "error: payload: is not valid JSON"),
        (
            ("Demo", "--payload", "-"),
            "error: modified_files: path '/abs' is absolute",
        ),
    ]
    for args, message in cases:
        payload = json.dumps({"request": "x", "modified_files": {"/abs": "y"}})
        stderr = cli.fails("mod", "propose", *args, input=payload)
        assert stderr.startswith(message), (args, stderr)
    assert cli.fails("mod", "propose", "Demo", "--payload", "-", "--request", "x", code=2)
    assert cli.json("mod", "list")["total"] == 0
    assert cli.fails("mod", "show", "abc").startswith("error: id: 'abc' is not a modification id")
