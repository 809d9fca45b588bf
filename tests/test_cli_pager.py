"""Long human output through a pager (#22): on a terminal, when taller than
it, through $PAGER (else less -FRX); never with --no-pager or
PROJDECK_NO_PAGER=1, never for --json, never on a pipe; a pager that cannot
start or fails leaves the output printed; what reaches the pager shows
hidden characters as text."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tests.cli import Projdeck
from tui.cli import pager

# A pager that copies what it is given to a file.
COPYING_PAGER = "import shutil, sys\nwith open(sys.argv[1], 'wb') as out:\n    shutil.copyfileobj(sys.stdin.buffer, out)\n"


@pytest.fixture
def paged_file(tmp_path: Path) -> Path:
    return tmp_path / "paged.txt"


@pytest.fixture
def cli(tmp_path: Path, paged_file: Path, migrated_sqlite_template: Path) -> Projdeck:
    """The CLI on a terminal 80x10 (a fake one: stdout says it is a
    terminal to the pager's check), with the copying pager as $PAGER."""
    script = tmp_path / "pager.py"
    script.write_text(COPYING_PAGER, encoding="utf-8")
    database = tmp_path / "projdeck.db"
    database.write_bytes(migrated_sqlite_template.read_bytes())
    return Projdeck(
        URL.create("sqlite", database=str(database)),
        PAGER=shlex.join([sys.executable, str(script), str(paged_file)]),
        LINES="10",
        COLUMNS="80",
    )


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pager, "stdout_is_terminal", lambda: True)


def make_projects(cli: Projdeck, count: int) -> None:
    for number in range(count):
        cli.ok("project", "create", "--name", f"project-{number:02}", "--type", "api",
               "--owner", "acme")  # fmt: skip


def test_a_long_list_on_a_terminal_goes_through_the_pager(
    cli: Projdeck, paged_file: Path, terminal: None
) -> None:
    make_projects(cli, 12)
    assert cli.ok("project", "list") == ""
    paged = paged_file.read_text(encoding="utf-8").splitlines()
    assert paged[0].split()[:2] == ["ID", "NAME"]
    assert len(paged) == 14 and paged[-1] == "1-12 of 12"
    assert all(len(line) <= 80 for line in paged)


def test_a_short_list_is_printed_directly(cli: Projdeck, paged_file: Path, terminal: None) -> None:
    make_projects(cli, 3)
    assert len(cli.ok("project", "list").splitlines()) == 5
    assert not paged_file.exists()


@pytest.mark.parametrize(
    "how",
    ["--no-pager", "PROJDECK_NO_PAGER", "--json", "not a terminal"],
)
def test_no_pager_when_told_or_for_json_or_off_a_terminal(
    cli: Projdeck, paged_file: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    make_projects(cli, 12)
    if how != "not a terminal":
        monkeypatch.setattr(pager, "stdout_is_terminal", lambda: True)
    args = ["project", "list"]
    if how == "--no-pager":
        args.insert(0, "--no-pager")
    elif how == "--json":
        args.append("--json")
    elif how == "PROJDECK_NO_PAGER":
        cli.env["PROJDECK_NO_PAGER"] = "1"
    printed = cli.ok(*args)
    if how == "--json":
        assert json.loads(printed)["total"] == 12
    else:
        assert printed.splitlines()[-1] == "1-12 of 12"
    assert not paged_file.exists()


@pytest.mark.parametrize(
    "command",
    [
        [str(Path("/nonexistent/pager"))],
        [sys.executable, "-c", "import sys; sys.stdin.read(); sys.exit(3)"],
    ],
)
def test_a_pager_that_cannot_start_or_fails_leaves_the_output_printed(
    cli: Projdeck, terminal: None, command: list[str]
) -> None:
    make_projects(cli, 12)
    cli.env["PAGER"] = shlex.join(command)
    assert cli.ok("project", "list").splitlines()[-1] == "1-12 of 12"


def test_the_pager_is_handed_hidden_characters_as_text(
    cli: Projdeck, paged_file: Path, terminal: None, tmp_path: Path
) -> None:
    source = tmp_path / "app.py"
    source.write_text("x = 1\n", encoding="utf-8")
    make_projects(cli, 1)
    hostile = "x = 2\n" + "".join(f"\x1b[1A\x1b[2Kline {n}\n" for n in range(20))
    payload = {"request": "tidy\x1b]2;owned\x07", "modified_files": {"app.py": hostile}}
    modification = cli.ok(
        "mod", "propose", "project-00", "--payload", "-", input=json.dumps(payload)
    ).strip()
    assert cli.ok("mod", "show", modification, "--diff") == ""
    paged = paged_file.read_text(encoding="utf-8")
    assert "+␛[1A␛[2Kline 19" in paged and "tidy␛]2;owned␇" in paged
    assert "\x1b" not in paged and "\x07" not in paged


def test_the_pager_comes_from_the_configuration_then_pager_then_less() -> None:
    environ = {"PAGER": "most -s"}
    assert pager.pager_command("less -R", environ) == ["less", "-R"]
    assert pager.pager_command(None, environ) == ["most", "-s"]
    assert pager.pager_command("", environ) is None
    assert pager.pager_command(None, {"PAGER": ""}) is None
    assert pager.pager_command(None, {"PAGER": "cat"}) is None
    less = ["less", "-FRX"] if shutil.which("less") else None
    assert pager.pager_command(None, {}) == less


def test_the_config_files_pager_is_used_and_cat_turns_paging_off(
    cli: Projdeck, paged_file: Path, terminal: None, tmp_path: Path
) -> None:
    make_projects(cli, 12)
    other = tmp_path / "other.txt"
    script = tmp_path / "other-pager.py"
    path = tmp_path / "config.toml"
    cli.env["PROJDECK_CONFIG"] = str(path)
    cli.env.pop("PROJDECK_PAGER", None)
    script.write_text(COPYING_PAGER, encoding="utf-8")
    command = shlex.join([sys.executable, str(script), str(other)])
    path.write_text(f"pager = {json.dumps(command)}\n", encoding="utf-8")
    assert cli.ok("project", "list") == ""
    assert other.read_text(encoding="utf-8").splitlines()[-1] == "1-12 of 12"
    assert not paged_file.exists()

    path.write_text('pager = "cat"\n', encoding="utf-8")
    assert cli.ok("project", "list").splitlines()[-1] == "1-12 of 12"
    assert not paged_file.exists()
