"""Everyday conventions of the command line (#22), through the console
script on each backend: ``mod list`` paged, newest first and filtered by who
asked and when; ``secret list`` paged; ``db downgrade -1`` as Alembic takes
it; examples at the end of ``--help``; and shell completion of project names
and modification ids, read from the database without writing to it."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.shell_completion import ShellComplete
from rich.cells import cell_len
from sqlalchemy.engine import URL

from store import migrate
from tests.cli import Projdeck
from tui.cli import cli as projdeck_group


@pytest.fixture
def cli(database_url: URL) -> Projdeck:
    return Projdeck(database_url)


@pytest.fixture
def url(cli: Projdeck) -> str:
    return cli.url


def propose(cli: Projdeck, tmp_path: Path, project: str, request: str, by: str) -> str:
    source = tmp_path / "app.py"
    source.write_text(f"# {request}\n", encoding="utf-8")
    return cli.ok(
        "mod", "propose", project, "--request", request, "--requested-by", by,
        "--file", f"app.py={source}",
    ).strip()  # fmt: skip


def make_projects(cli: Projdeck, *names: str) -> None:
    for name in names:
        cli.ok("project", "create", "--name", name, "--type", "api", "--owner", "acme")


# -- mod list -------------------------------------------------------------------------------------


def test_mod_list_pages_newest_first_and_filters_by_who_and_when(
    cli: Projdeck, tmp_path: Path
) -> None:
    make_projects(cli, "Billing")
    ids = [
        propose(cli, tmp_path, "Billing", f"change {n}", by)
        for n, by in enumerate(["codex", "alice", "codex"])
    ]

    def listed(*args: str) -> tuple[list[str], int]:
        page = cli.json("mod", "list", *args)
        return [item["id"] for item in page["items"]], page["total"]

    assert listed() == (ids, 3)
    assert listed("--newest") == (list(reversed(ids)), 3)
    assert listed("--newest", "--limit", "1", "--offset", "1") == ([ids[1]], 3)
    assert listed("--requested-by", "codex") == ([ids[0], ids[2]], 2)
    assert listed("--requested-by", "codex", "--since", "1h") == ([ids[0], ids[2]], 2)
    assert listed("--until", "1h") == ([], 0)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert listed("--since", tomorrow) == ([], 0)
    assert listed("--until", tomorrow, "--status", "pending") == (ids, 3)

    table = cli.ok("mod", "list", "--limit", "2").splitlines()
    assert len(table) == 4 and table[-1] == "showing 1-2 of 3; see more with --offset"
    assert cli.ok("mod", "list", "--offset", "3") == "no modifications on this page\n"
    assert cli.ok("mod", "list", "--requested-by", "nobody") == "no modifications\n"


def test_mod_list_refuses_bad_filters_naming_them(cli: Projdeck) -> None:
    assert cli.fails("mod", "list", "--since", "soon").startswith(
        "error: since: 'soon' is not a date"
    )
    assert cli.fails("mod", "list", "--until", "3x").startswith("error: until: '3x' is not a date")
    assert cli.fails("mod", "list", "--requested-by", "a\tb") == (
        "error: requested_by: must not contain control characters (tabs, newlines, NUL)\n"
    )
    assert "--limit" in cli.fails("mod", "list", "--limit", "0", code=2)


# -- secret list ----------------------------------------------------------------------------------


def test_secret_list_pages_by_name(cli: Projdeck) -> None:
    make_projects(cli, "Billing")
    for key in ("C_KEY", "A_KEY", "B_KEY"):
        cli.ok("secret", "set", "Billing", key, input="s3cret\n")
    page = cli.json("secret", "list", "Billing", "--limit", "2", "--offset", "1")
    assert [item["key_name"] for item in page["items"]] == ["B_KEY", "C_KEY"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)
    table = cli.ok("secret", "list", "Billing", "--limit", "2").splitlines()
    assert [line.split()[0] for line in table[:2]] == ["A_KEY", "B_KEY"]
    assert table[2] == "showing 1-2 of 3; see more with --offset"


# -- db downgrade -1 ------------------------------------------------------------------------------


def test_db_downgrade_takes_a_step_back_as_alembic_does(cli: Projdeck) -> None:
    (head,) = [info for info in migrate.history() if info.is_head]
    assert cli.ok("db", "downgrade", "-1").strip() == f"database at revision {head.down_revision}"
    assert cli.ok("db", "current").startswith(f"{head.down_revision} (head is {head.revision})")
    assert cli.ok("db", "upgrade").strip() == f"database at revision {head.revision}"
    assert "Usage: projdeck db downgrade" in cli.ok("db", "downgrade", "-1", "--help")
    # Unknown options are still refused as such, not taken for a revision.
    assert "No such option '--bogus'" in cli.fails("db", "downgrade", "--bogus", code=2)
    assert cli.ok("db", "current").startswith(f"{head.revision} (head)")


# -- --help ends with an example ------------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        ("mod", "propose"),
        ("mod", "list"),
        ("agent", "runs"),
        ("agent", "run", "start"),
        ("agent", "run", "begin"),
        ("agent", "run", "finish"),
        ("agent", "run", "show"),
    ],
)
def test_help_ends_with_an_example(words: tuple[str, ...], tmp_path: Path) -> None:
    printed = Projdeck(f"sqlite:///{tmp_path / 'unused.db'}").ok(*words, "--help")
    example = printed.rstrip("\n").split("\n\n")[-1].splitlines()
    assert example[0] == "  Example:"
    assert example[1].startswith(f"    projdeck {' '.join(words)} ") or example[1].startswith(
        f"    RUN=$(projdeck {' '.join(words)} "
    )


# -- shell completion -----------------------------------------------------------------------------


def complete(url: str, *words: str) -> list[tuple[str, str | None]]:
    """What click offers for the last of ``words``, as the shell asks it."""
    *args, incomplete = words
    completion = ShellComplete(projdeck_group, {}, "projdeck", "_PROJDECK_COMPLETE")
    return [
        (item.value, item.help)
        for item in completion.get_completions(["--db-url", url, *args], incomplete)
    ]


def test_ref_completes_project_names_in_any_case(cli: Projdeck, url: str) -> None:
    make_projects(cli, "Billing API", "billing-worker", "Ledger")
    assert sorted(complete(url, "secret", "list", "bil")) == [
        ("Billing API", None),
        ("billing-worker", None),
    ]
    assert complete(url, "project", "show", "L") == [("Ledger", None)]
    offered = [value for value, _ in complete(url, "mod", "list", "--project", "")]
    assert sorted(offered) == ["Billing API", "Ledger", "billing-worker"]
    assert complete(url, "project", "show", "nothing") == []


def test_id_completes_modification_ids_newest_first(
    cli: Projdeck, url: str, tmp_path: Path
) -> None:
    make_projects(cli, "Billing")
    first = propose(cli, tmp_path, "Billing", "Retry failed charges\nand more", "codex")
    second = propose(cli, tmp_path, "Billing", "Add a README", "alice")
    cli.ok("mod", "reject", first, "--comment", "no")
    assert complete(url, "mod", "show", "") == [
        (second, "pending: Add a README"),
        (first, "rejected: Retry failed charges"),
    ]
    assert complete(url, "mod", "approve", first[:6]) == [(first, "rejected: Retry failed charges")]
    # Typed without dashes, offered without dashes.
    plain = first.replace("-", "")
    assert complete(url, "mod", "hunks", plain[:12]) == [(plain, "rejected: Retry failed charges")]
    assert complete(url, "mod", "show", "not-hex") == []


def test_id_completion_cuts_a_long_request_to_sixty_cells(
    cli: Projdeck, url: str, tmp_path: Path
) -> None:
    make_projects(cli, "Billing")
    # Each of these characters takes two cells: 80 of them would take 160.
    wide = propose(cli, tmp_path, "Billing", "日本語の説明" * 15, "codex")
    long = propose(cli, tmp_path, "Billing", "Retry " * 20, "codex")
    for ref, start in ((wide, "日本語の説明日本語"), (long, "Retry Retry")):
        [(value, about)] = complete(url, "mod", "show", ref[:8])
        assert value == ref
        assert about is not None and about.startswith(f"pending: {start}")
        shown = about.removeprefix("pending: ")
        assert shown.endswith("…") and cell_len(shown) == 60


def test_completion_through_the_console_script(cli: Projdeck, url: str) -> None:
    make_projects(cli, "Billing")
    asked = Projdeck(
        url,
        _PROJDECK_COMPLETE="bash_complete",
        COMP_WORDS=f"projdeck --db-url {url} secret list Bi",
        COMP_CWORD="5",
    ).run()
    assert (asked.returncode, asked.stdout, asked.stderr) == (0, "plain,Billing\n", "")
    for shell in ("bash", "zsh", "fish"):
        script = Projdeck(url, _PROJDECK_COMPLETE=f"{shell}_source").run()
        assert script.returncode == 0 and script.stderr == "", shell
        assert "_PROJDECK_COMPLETE" in script.stdout, shell


def test_completion_writes_nothing_and_needs_no_database(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "projdeck.db"
    assert complete(f"sqlite:///{missing}", "project", "show", "") == []
    assert not missing.parent.exists()

    no_schema = tmp_path / "no-schema.db"
    sqlite3.connect(no_schema).close()
    sqlite3.connect(no_schema).execute("CREATE TABLE other (x)").connection.close()
    assert complete(f"sqlite:///{no_schema}", "mod", "show", "") == []

    # Nothing listens on port 9 of this machine: refused at once, nothing offered.
    started = time.monotonic()
    assert complete("postgresql://nobody@127.0.0.1:9/none", "project", "show", "") == []
    assert time.monotonic() - started < 5


def test_completion_leaves_a_sqlite_file_as_it_was(sqlite_file: Path, tmp_path: Path) -> None:
    target = sqlite_file
    url = f"sqlite:///{target}"
    make_projects(Projdeck(url), "Billing")
    before = (target.read_bytes(), sorted(os.listdir(tmp_path)))
    assert complete(url, "project", "show", "B") == [("Billing", None)]
    assert complete(url, "mod", "show", "") == []
    assert (target.read_bytes(), sorted(os.listdir(tmp_path))) == before


def test_completion_leaves_out_names_a_shell_would_show_wrongly(cli: Projdeck, url: str) -> None:
    make_projects(cli, "Billing", "Bill\u202eing")
    assert complete(url, "project", "show", "Bill") == [("Billing", None)]
