"""The template commands end to end, through the installed console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from store import templating
from tests.cli import Projdeck


@pytest.fixture
def cli(database_url: URL) -> Projdeck:
    return Projdeck(database_url)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def test_template_library_through_the_cli(cli: Projdeck, tmp_path: Path) -> None:
    assert "projdeck template seed" in cli.ok("template", "list")
    builtins = [folder.name for folder in templating.builtin_folders()]
    assert cli.ok("template", "seed").strip() == (
        f"built-in templates: {len(builtins)} added, 0 updated, 0 unchanged"
    )
    assert cli.json("template", "seed") == {"created": [], "updated": [], "unchanged": builtins}

    listed = cli.json("template", "list", "--category", "api")
    assert [t["name"] for t in listed["items"]] == ["express-api", "fastapi-service"]
    text = cli.ok("template", "list", "--stack", "python", "--tag", "worker")
    assert "worker-microservice" in text and "fastapi-service" not in text

    shown = cli.json("template", "show", "fastapi-service")
    variables = {v["name"]: v for v in shown["variables"]}
    assert variables["project_name"]["required"] is True
    assert variables["port"] == {
        "name": "port",
        "type": "integer",
        "help": "Port uvicorn listens on.",
        "default": 8000,
        "required": False,
    }
    assert "app/main.py.jinja" in shown["file_paths"]

    tree = cli.ok("template", "preview", "data-pipeline", "--var", "project_name=sales")
    assert "  pipeline/" in tree.splitlines()
    readme = cli.ok(
        "template", "preview", "data-pipeline", "--var", "project_name=sales", "--file", "README.md"
    )
    assert readme.startswith("# sales\n")
    error = cli.fails(
        "template", "preview", "fastapi-service", "--var", "port=eighty", "--var", "colour=red"
    )
    assert error.startswith("error: ")
    assert "project_name: is required" in error
    assert "port: 'eighty' is not a whole number" in error
    assert "colour: is not a variable of template 'fastapi-service'" in error


def test_project_from_template_and_import_export_through_the_cli(
    cli: Projdeck, tmp_path: Path
) -> None:
    cli.ok("template", "seed")
    project_id = cli.ok(
        "template",
        "use",
        "fastapi-service",
        "--name",
        "Orders API",
        "--owner",
        "alice",
        "--var",
        "project_name=orders-api",
        "--var",
        "port=9000",
    ).strip()
    shown = cli.json("project", "show", project_id, "--codebase")
    assert shown["type"] == "api"
    assert "uvicorn.run(app, port=9000)" in shown["codebase"]["app/main.py"]
    assert shown["dependencies"] == ["fastapi>=0.110", "uvicorn[standard]>=0.29"]
    assert shown["state"]["template"]["name"] == "fastapi-service"
    assert shown["settings"]["setup_commands"][-1] == ".venv/bin/pip install -e '.[test]'"
    assert shown["settings"]["test_commands"] == [
        '.venv/bin/pytest --junitxml="$PROJDECK_JUNIT_XML"'
    ]
    error = cli.fails(
        "template", "use", "fastapi-service", "--name", "Other", "--owner", "bob", "--var", "x"
    )
    assert error == "error: var: 'x' is not KEY=VALUE\n"

    assert cli.ok("template", "origin", project_id).splitlines()[:2] == [
        "created from template fastapi-service version 1",
        "the template is unchanged since",
    ]

    exported = tmp_path / "exported"
    cli.ok("template", "export", "fastapi-service", str(exported))
    assert _tree(exported) == _tree(templating.BUILTIN_DIR / "fastapi-service")
    assert "unchanged (version 1)" in cli.ok("template", "import", str(exported))
    (exported / "files" / "NOTES.md").write_text("notes\n", encoding="utf-8")
    assert cli.ok("template", "import", str(exported)).strip() == (
        "updated template fastapi-service to version 2"
    )

    origin = cli.json("template", "origin", "Orders API")
    assert (origin["version"], origin["current_version"], origin["changed"]) == (1, 2, True)
    assert origin["values"]["port"] == 9000

    bad = tmp_path / "bad"
    (bad / "files").mkdir(parents=True)
    (bad / "files" / "a.txt").write_text("x", encoding="utf-8")
    (bad / "template.json").write_text(
        json.dumps({"name": "bad", "category": "desktop"}), encoding="utf-8"
    )
    error = cli.fails("template", "import", str(bad))
    assert error.startswith("error: bad/template.json: category 'desktop' is not one of: api")
    assert "bad" not in cli.ok("template", "list", "--search", "bad")

    assert "add --yes" in cli.fails("template", "rm", "fastapi-service")
    assert cli.ok("template", "rm", "fastapi-service", "--yes").strip() == (
        "removed template fastapi-service"
    )
    assert "no template named 'fastapi-service'" in cli.fails("template", "show", "fastapi-service")
    # The project made from it is untouched.
    assert cli.json("project", "show", project_id)["name"] == "Orders API"


def test_project_create_with_a_template_through_the_cli(cli: Projdeck) -> None:
    cli.ok("template", "seed")
    project_id = cli.ok(
        "project",
        "create",
        "--template",
        "fastapi-service",
        "--var",
        "project_name=billing",
        "--var",
        "port=9100",
        "--name",
        "Billing",
        "--owner",
        "carol",
        "--github",
        "acme/billing",
        "--planning-statement",
        "Bill monthly.",
    ).strip()
    shown = cli.json("project", "show", project_id, "--codebase")
    assert (shown["name"], shown["type"], shown["owner_id"]) == ("Billing", "api", "carol")
    assert (shown["github_owner"], shown["github_repo"]) == ("acme", "billing")
    assert "uvicorn.run(app, port=9100)" in shown["codebase"]["app/main.py"]
    assert shown["settings"]["planning_statement"] == "Bill monthly."
    origin = cli.json("template", "origin", project_id)
    assert (origin["name"], origin["version"], origin["values"]["port"]) == (
        "fastapi-service",
        1,
        9100,
    )
    shown_text = cli.ok("project", "show", "Billing").splitlines()
    assert "template            fastapi-service version 1 (the template is unchanged since)" in (
        shown_text
    )
    # A new state from the agent platform keeps the origin.
    cli.ok("project", "update", "Billing", "--state", '{"agent": {"step": 2}}')
    assert cli.ok("template", "origin", "Billing").startswith(
        "created from template fastapi-service version 1\n"
    )

    # The same errors as `template use`, naming the variable or the template.
    base = ("project", "create", "--name", "Other", "--owner", "bob")
    assert cli.fails(*base, "--template", "fastapi-service", "--var", "x") == (
        "error: var: 'x' is not KEY=VALUE\n"
    )
    error = cli.fails(*base, "--template", "fastapi-service", "--var", "port=eighty")
    assert "project_name: is required" in error
    assert "port: 'eighty' is not a whole number" in error
    assert "no template named 'nope'" in cli.fails(*base, "--template", "nope")
    # Options the template decides are refused, not ignored.
    error = cli.fails(*base, "--template", "fastapi-service", "--type", "cli", code=2)
    assert "--type cannot be used with --template: the template sets the type" in error
    error = cli.fails(*base, "--template", "fastapi-service", "--file", "a=b", code=2)
    assert "--file cannot be used with --template" in error
    assert "--var needs --template" in cli.fails(*base, "--type", "cli", "--var", "a=b", code=2)
    assert "Missing option '--type'" in cli.fails(*base, code=2)
    names = [p["name"] for p in cli.json("project", "list")["items"]]
    assert names == ["Billing"]


def test_project_create_with_a_template_applies_the_project_options(cli: Projdeck) -> None:
    cli.ok("template", "seed")
    base = (
        "project",
        "create",
        "--template",
        "fastapi-service",
        "--var",
        "project_name=ledger",
        "--owner",
        "dora",
    )
    options = (
        "--env",
        "LOG_LEVEL=debug",
        "--env",
        "REGION=eu",
        "--webhook-url",
        "https://hooks.example.com/ledger",
        "--auto-merge",
        "--auto-confirm",
        "--branch",
        "trunk",
    )
    created = cli.json(*base, "--name", "Ledger", *options)
    assert created["settings"]["branch_name"] == "trunk"
    shown = cli.json("project", "show", "Ledger")
    assert shown["environment_vars"] == {"LOG_LEVEL": "debug", "REGION": "eu"}
    assert shown["webhook_url"] == "https://hooks.example.com/ledger"
    assert (shown["auto_merge_enabled"], shown["auto_confirm_plans"]) == (True, True)
    assert shown["settings"]["branch_name"] == "trunk"
    # Still made from the template, in one write with its one audit row.
    assert shown["type"] == "api" and shown["state"]["template"]["name"] == "fastapi-service"
    rows = [
        row
        for row in cli.json("audit", "list", "--limit", "500")["items"]
        if row["event_type"] == "project.created"
    ]
    assert [row["description"] for row in rows] == [
        "created project 'Ledger' from template 'fastapi-service' (version 1)"
    ]
    assert "LOG_LEVEL" not in json.dumps(rows) and "debug" not in json.dumps(rows)
    # Without them, the defaults as before.
    plain = cli.json(*base, "--name", "Plain")
    assert (plain["environment_vars"], plain["webhook_url"]) == ({}, None)
    assert (plain["auto_merge_enabled"], plain["auto_confirm_plans"]) == (False, False)
    assert plain["settings"]["branch_name"] == "main"

    # Bad values are refused naming the field, and nothing is stored.
    assert cli.fails(*base, "--name", "Bad", "--env", "LOG_LEVEL") == (
        "error: env: 'LOG_LEVEL' is not KEY=VALUE\n"
    )
    error = cli.fails(*base, "--name", "Bad", "--webhook-url", "ftp://example.com")
    assert error.startswith("error: webhook_url: ")
    error = cli.fails(*base, "--name", "Bad", "--branch", "a..b")
    assert error == "error: branch_name: 'a..b' is not a valid git branch name\n"
    names = [p["name"] for p in cli.json("project", "list")["items"]]
    assert sorted(names) == ["Ledger", "Plain"]
