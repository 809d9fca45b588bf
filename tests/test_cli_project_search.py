"""``project list --dependency``, ``--stack`` and ``--file`` through the
console script, on each backend: with the list's other filters, its paging
and its JSON, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tests.cli import Projdeck


@pytest.fixture
def cli(database_url: URL, tmp_path: Path) -> Projdeck:
    cli = Projdeck(database_url)
    source = tmp_path / "file.txt"
    source.write_text("x\n", encoding="utf-8")
    for name, owner, dependencies, files in [
        ("Billing API", "alice", ["FastAPI>=0.110", "stripe"], ["billing/app.py", "README.md"]),
        ("Orders API", "bob", ["fastapi", "uvicorn[standard]"], ["orders/app.py"]),
        ("Storefront", "alice", ["react@^18.3", "vite"], ["src/App.tsx", "README.md"]),
        ("Old Billing", "alice", ["fastapi"], ["legacy/app.py"]),
    ]:
        args = ["project", "create", "--name", name, "--type", "api", "--owner", owner]
        for dependency in dependencies:
            args += ["--dependency", dependency]
        for path in files:
            args += ["--file", f"{path}={source}"]
        cli.ok(*args)
    cli.ok("project", "archive", "Old Billing")
    return cli


def _names(cli: Projdeck, *args: str) -> list[str]:
    listed = cli.json("project", "list", "--sort", "name", *args)
    assert listed["total"] >= len(listed["items"])
    return [project["name"] for project in listed["items"]]


def test_project_list_finds_projects_by_dependency_stack_and_file(cli: Projdeck) -> None:
    assert _names(cli, "--dependency", "FASTAPI") == ["Billing API", "Old Billing", "Orders API"]
    assert _names(cli, "--dependency", "uvicorn") == ["Orders API"]
    assert _names(cli, "--dependency", "fast") == []
    assert _names(cli, "--stack", "react") == ["Storefront"]
    assert _names(cli, "--file", "*/app.py") == ["Billing API", "Old Billing", "Orders API"]
    assert _names(cli, "--file", "readme.md") == ["Billing API", "Storefront"]
    assert _names(cli, "--file", "src/*.tsx", "--stack", "vite") == ["Storefront"]

    text = cli.ok("project", "list", "--dependency", "stripe")
    assert "Billing API" in text and "Orders API" not in text
    assert text.rstrip().endswith("1-1 of 1")
    assert cli.ok("project", "list", "--file", "*.rs") == "no projects\n"


def test_contents_options_combine_with_the_other_filters_and_paging(cli: Projdeck) -> None:
    assert _names(cli, "--dependency", "fastapi", "--owner", "alice") == [
        "Billing API",
        "Old Billing",
    ]
    assert _names(cli, "--dependency", "fastapi", "--status", "active") == [
        "Billing API",
        "Orders API",
    ]
    assert _names(cli, "--dependency", "fastapi", "--search", "billing", "--all") == [
        "Billing API",
        "Old Billing",
    ]
    assert _names(cli, "--dependency", "fastapi", "--type", "cli") == []
    first = cli.json("project", "list", "--sort", "name", "--dependency", "fastapi", "--limit", "2")
    rest = cli.json(
        "project",
        "list",
        "--sort",
        "name",
        "--dependency",
        "fastapi",
        "--limit",
        "2",
        "--offset",
        "2",
    )
    assert first["total"] == rest["total"] == 3
    assert (first["limit"], first["offset"], rest["offset"]) == (2, 0, 2)
    names = [p["name"] for p in first["items"] + rest["items"]]
    assert names == ["Billing API", "Old Billing", "Orders API"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--dependency", "fastapi>=0.110"],
            "error: dependency: 'fastapi>=0.110' is not a package name: give the name alone "
            "('fastapi'), without a version, extras or spaces\n",
        ),
        (["--dependency", ""], "error: dependency: must not be empty\n"),
        (["--stack", "two words"], "error: stack: 'two words' is more than one word\n"),
        (["--file", ""], "error: file: give a path or a pattern such as 'src/*.py'\n"),
        (
            ["--file", "x" * 2000],
            "error: file: is 2000 characters long; at most 1024 allowed\n",
        ),
        (
            ["--file", "/etc/*"],
            "error: file: '/etc/*' starts with '/'; paths are relative to the project\n",
        ),
        (["--file", "*a" * 40], "error: file: has more than 16 '*' wildcards\n"),
    ],
)
def test_what_cannot_be_searched_is_one_error_line_naming_the_option(
    cli: Projdeck, args: list[str], message: str
) -> None:
    assert cli.fails("project", "list", *args) == message


def test_control_characters_in_a_pattern_are_refused_and_shown_harmless(cli: Projdeck) -> None:
    stderr = cli.fails("project", "list", "--file", "src/\x1b[2J*.py")
    assert stderr.startswith("error: file: must not contain control characters")
    assert "\x1b" not in stderr
    stderr = cli.fails("project", "list", "--dependency", "fast\x1b]0;owned\x07api")
    assert stderr.startswith("error: dependency: must not contain control characters")
    assert "\x1b" not in stderr and "\x07" not in stderr


def test_like_metacharacters_given_on_the_command_line_match_only_themselves(
    cli: Projdeck,
) -> None:
    for pattern in ("%", "_", "%.py", "billing/_pp.py", "\\", "billing\\/app.py", "'; --"):
        assert _names(cli, "--file", pattern) == [], pattern
    for name in ("%", "_", "fast%", "fastap_", "\\"):
        assert _names(cli, "--dependency", name) == [], name
    assert _names(cli, "--file", "billing/?pp.py") == ["Billing API"]
