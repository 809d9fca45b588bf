"""Every list command of the CLI prints one JSON shape, ``{"items": [...],
"total": N, "limit": L, "offset": O}``, and pages with ``--limit`` and
``--offset``. The commands are found in the click tree, as ``--help`` finds
them, so a new list command is held to the shape without being named here."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from tests.cli import Projdeck
from tui.cli import cli as projdeck_group

PROJECT = "Billing"
# What each argument a list command takes is given on this database.
ARGUMENTS = {"ref": PROJECT}
PAGE_OPTIONS = {"limit", "offset", "as_json"}


def leaf_commands(
    group: click.Group = projdeck_group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command below ``group`` with its words, as click finds them
    (the lazy top-level group included)."""
    ctx = click.Context(group, info_name=" ".join(path) or "projdeck")
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


def is_list_command(words: tuple[str, ...], command: click.Command) -> bool:
    """A command named ``list``, or one that pages (``--offset``); a ``show``
    pages what it shows inside one object, and is no list."""
    names = {param.name for param in command.params}
    return words[-1] == "list" or ("offset" in names and words[-1] != "show")


LIST_COMMANDS = [
    (words, command) for words, command in leaf_commands() if is_list_command(words, command)
]


def test_the_walk_finds_the_list_commands_known_today() -> None:
    found = {" ".join(words) for words, _ in LIST_COMMANDS}
    assert found >= {
        "agent conversation list",
        "agent runs",
        "agent webhooks",
        "audit list",
        "mod list",
        "project list",
        "secret list",
        "template list",
    }


@pytest.mark.parametrize(
    ("words", "command"), LIST_COMMANDS, ids=[" ".join(words) for words, _ in LIST_COMMANDS]
)
def test_every_list_command_takes_the_page_options(
    words: tuple[str, ...], command: click.Command
) -> None:
    assert {param.name for param in command.params} >= PAGE_OPTIONS, " ".join(words)


@pytest.fixture(scope="module")
def cli(migrated_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Projdeck:
    """A small database with two of everything a list command lists (made
    once: its key file and machine are its own, not those the per-test
    fixtures set)."""
    folder = tmp_path_factory.mktemp("lists")
    target = folder / "projdeck.db"
    shutil.copyfile(migrated_sqlite_template, target)
    cli = Projdeck(
        f"sqlite:///{target}",
        PROJDECK_KEY_FILE=str(folder / "keys.json"),
        PROJDECK_MACHINE="test-machine",
        PROJDECK_SCRATCH_DIR=str(folder / "scratch"),
    )
    source = folder / "app.py"
    source.write_text("print('hello')\n", encoding="utf-8")
    for name in (PROJECT, "Ledger"):
        cli.ok("project", "create", "--name", name, "--type", "api", "--owner", "acme")
    for key in ("API_TOKEN", "DB_PASSWORD"):
        cli.ok("secret", "set", PROJECT, key, input="s3cret\n")
    for request in ("Say hello", "Say hi"):
        cli.ok("mod", "propose", PROJECT, "--request", request, "--file", f"app.py={source}")
    for title in ("Paginate", "Retry"):
        cli.ok("agent", "conversation", "start", PROJECT, "--title", title)
        cli.ok("agent", "run", "start", PROJECT, "--agent", "codex", "--task", title)
    for attempt in ("1", "2"):
        cli.ok(
            "agent", "webhook", PROJECT, "--event", "push", "--url", "https://hooks.example/x",
            "--status-code", "500", "--attempt", attempt,
        )  # fmt: skip
    cli.ok("template", "seed")
    return cli


def arguments(words: tuple[str, ...], command: click.Command) -> list[str]:
    values = []
    for param in command.params:
        if isinstance(param, click.Argument) and param.required:
            if param.name not in ARGUMENTS:
                pytest.fail(f"{' '.join(words)}: give its argument {param.name} in ARGUMENTS")
            values.append(ARGUMENTS[param.name])
    return values


@pytest.mark.parametrize(
    ("words", "command"), LIST_COMMANDS, ids=[" ".join(words) for words, _ in LIST_COMMANDS]
)
def test_every_list_command_prints_a_page_in_one_shape(
    cli: Projdeck, words: tuple[str, ...], command: click.Command
) -> None:
    if words == ("team", "list"):
        pytest.skip("teams need PostgreSQL: tests/test_team_postgres.py pages the team list")
    line = [*words, *arguments(words, command)]

    first = cli.json(*line, "--limit", "1")
    assert set(first) == {"items", "total", "limit", "offset"}
    assert (first["limit"], first["offset"]) == (1, 0)
    assert isinstance(first["total"], int) and first["total"] >= 2, "the database has two or more"
    assert len(first["items"]) == 1 and isinstance(first["items"][0], dict)

    second = cli.json(*line, "--limit", "1", "--offset", "1")
    assert set(second) == {"items", "total", "limit", "offset"}
    assert (second["total"], second["limit"], second["offset"]) == (first["total"], 1, 1)
    assert len(second["items"]) == 1 and second["items"] != first["items"]

    beyond = cli.json(*line, "--offset", str(first["total"]))
    assert beyond == {"items": [], "total": first["total"], "limit": 50, "offset": first["total"]}
