"""``projdeck demo`` through the installed script: it fills an empty
database once, and refuses one that already holds data."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from store import crypto
from tests.app_support import TEST_KEY
from tests.cli import SCRIPT, Projdeck


def test_demo_fills_an_empty_database_and_refuses_a_second_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    cli = Projdeck(url, **{crypto.SECRET_KEY_ENV: TEST_KEY})
    out = cli.ok("demo")
    assert "12 projects" in out and "44 modifications" in out
    listed = cli.json("project", "list", "--all")
    assert listed["total"] == 12
    assert "Payments Sandbox" in {project["name"] for project in listed["items"]}
    error = cli.fails("demo")
    assert "already holds" in error and "empty database" in error


def test_demo_takes_its_own_db_url_option(tmp_path: Path) -> None:
    target = tmp_path / "other.db"
    result = subprocess.run(
        [str(SCRIPT), "demo", "--db-url", f"sqlite:///{target}"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", crypto.SECRET_KEY_ENV: TEST_KEY, "HOME": str(tmp_path)},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    assert target.exists()


def test_demo_fills_the_default_database_of_a_fresh_machine(tmp_path: Path) -> None:
    """A new default database is given the built-in templates when it is
    first opened (here by ``template list``); that does not make it "hold
    data" for ``demo``, whose history then verifies."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PROJDECK_ACTOR": "newcomer"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120, check=False
        )

    listed = run("template", "list")
    assert listed.returncode == 0 and "fastapi-service" in listed.stdout, listed.stderr
    filled = run("demo")
    assert filled.returncode == 0, filled.stderr
    assert "12 projects" in filled.stdout and str(tmp_path) in filled.stdout
    assert run("audit", "verify").returncode == 0
    again = run("demo")
    assert again.returncode == 1 and "already holds" in again.stderr


def test_demo_shows_its_progress_on_a_terminal_only(tmp_path: Path) -> None:
    from tests.terminal import Terminal

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PROJDECK_ACTOR": "newcomer"}
    url = f"sqlite:///{tmp_path / 'shown.db'}"
    terminal = Terminal("--db-url", url, "demo", env=env)
    assert terminal.exit_status(timeout=120) == 0
    shown = terminal.seen.decode()
    assert "Building the demo: project 12 of 12" in shown and "17/17" in shown
    assert shown.rstrip().splitlines()[-1].strip().startswith("filled ")

    piped = subprocess.run(
        [str(SCRIPT), "--db-url", f"sqlite:///{tmp_path / 'piped.db'}", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.startswith("filled ")


def test_help_names_the_demo_flag_and_command() -> None:
    result = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "--demo" in result.stdout and "demo " in result.stdout


def test_every_listed_command_loads_and_answers_help() -> None:
    """Commands are imported on use: each one help lists must be found
    under that name and print its own help."""
    import click
    from click.testing import CliRunner

    from tui.cli import cli

    listed = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=False)
    names = listed.stdout.split("Commands:", 1)[1].split()
    for name in ("agent", "audit", "backup", "db", "mod", "project", "transfer"):
        assert name in names
    runner = CliRunner()
    for name in cli.list_commands(click.Context(cli)):
        assert name in names
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f"Usage: cli {name}" in result.output
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 2


def test_help_lists_each_command_with_its_own_summary() -> None:
    """``--help`` lists the commands from summaries kept beside their
    names (so that it imports none of them): each is the command's own."""
    import click

    from tui.cli import COMMANDS, cli
    from tui.cli.modifications import LAZY_COMMANDS, mod

    for group, lazy in ((cli, COMMANDS), (mod, LAZY_COMMANDS)):
        context = click.Context(group)
        for name, (_, summary) in lazy.items():
            command = group.get_command(context, name)
            assert command is not None
            assert summary == command.get_short_help_str(limit=1000), name


def test_version_is_the_installed_one() -> None:
    from importlib.metadata import version

    result = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout == f"projdeck, version {version('projdeck')}\n"


def test_help_and_version_load_no_database_code() -> None:
    """``projdeck --help`` and ``--version`` answer without importing the
    store's database layer (SQLAlchemy, the models, the services)."""
    probe = (
        "import sys\n"
        "from tui.cli import main\n"
        "sys.argv = ['projdeck', sys.argv[1]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in ('sqlalchemy', 'store.models', 'store.engine', 'textual') "
        "if m in sys.modules]\n"
        "print('LOADED', loaded)\n"
    )
    for flag in ("--help", "--version"):
        result = subprocess.run(
            [sys.executable, "-c", probe, flag], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "LOADED []" in result.stdout, (flag, result.stdout)


def test_mod_commands_load_git_and_the_test_runner_only_for_mod_test(tmp_path: Path) -> None:
    """``mod test`` brings pygit2 and the test runner; every other ``mod``
    command starts without them (about 60 ms), and ``mod --help`` lists
    ``test`` from its summary."""
    probe = (
        "import sys\n"
        "from tui.cli import main\n"
        "sys.argv = ['projdeck', '--db-url', sys.argv[1], *sys.argv[2:]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in ('pygit2', 'store.runner', 'tui.cli.testing') if m in sys.modules]\n"
        "print('LOADED', loaded)\n"
    )
    url = f"sqlite:///{tmp_path / 'mods.db'}"
    printed = {}
    for args, loaded in (
        (["mod", "list", "--json"], "LOADED []"),
        (["mod", "--help"], "LOADED []"),
        (["mod", "test", "--help"], "LOADED ['pygit2', 'store.runner', 'tui.cli.testing']"),
    ):
        result = subprocess.run(
            [sys.executable, "-c", probe, url, *args], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert loaded in result.stdout, (args, result.stdout)
        printed[" ".join(args)] = result.stdout
    assert re.search(r"^  test +Run the project's setup and test", printed["mod --help"], re.M)


def test_the_app_without_a_terminal_says_so_and_exits_2(tmp_path: Path) -> None:
    for args in ([], ["--demo"]):
        result = subprocess.run(
            [str(SCRIPT), "--db-url", f"sqlite:///{tmp_path / 'app.db'}", *args],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert "the app needs a terminal" in result.stderr
        assert result.stdout == ""
        assert "\x1b" not in result.stderr
    assert not (tmp_path / "app.db").exists()
