"""The CLI's human tables (#22): columns measured in terminal cells, so CJK
names and emoji keep them aligned; a value too long for its column ends
with "…" and the columns after it are intact; stored text is printed as
text (escape sequences shown, "[bold]" printed as it is, never markup);
piped tables are at most 120 cells wide."""

from __future__ import annotations

import json
import re

import pytest
from rich.cells import cell_len
from sqlalchemy.engine import URL

from tests.cli import Projdeck
from tui.cli.tables import Column, table_lines


@pytest.fixture
def cli(database_url: URL) -> Projdeck:
    return Projdeck(database_url)


WIDE_NAMES = ["日本語のプロジェクト", "🚀 Rocket launch", "데이터 파이프라인", "Billing"]
LONG_NAME = "a very long project name that goes on and on"


def cell_at(line: str, value: str, start: int = 0) -> int:
    """The terminal cell where ``value`` starts in ``line``, searched from
    the character ``start``."""
    index = line.index(value, start)
    return cell_len(line[:index])


def make_projects(cli: Projdeck, *names: str) -> None:
    for name in names:
        cli.ok("project", "create", "--name", name, "--type", "cli", "--owner", "オーナー")


def propose(cli: Projdeck, project: str, request: str, by: str = "cli-test") -> None:
    payload = {"request": request, "requested_by": by, "modified_files": {"app.py": "x = 2\n"}}
    cli.ok("mod", "propose", project, "--payload", "-", input=json.dumps(payload))


def test_project_list_keeps_columns_aligned_with_cjk_and_emoji_names(cli: Projdeck) -> None:
    make_projects(cli, *WIDE_NAMES)
    header, *rows, footer = cli.ok("project", "list").splitlines()
    assert header.split() == ["ID", "NAME", "TYPE", "STATUS", "OWNER", "PENDING", "UPDATED"]
    assert footer == "1-4 of 4"
    assert sorted(name for name in WIDE_NAMES if any(name in row for row in rows)) == sorted(
        WIDE_NAMES
    )
    type_at, owner_at, updated_at = (cell_at(header, word) for word in ("TYPE", "OWNER", "UPDATED"))
    pending_ends = cell_at(header, "PENDING") + len("PENDING")
    for row in rows:
        name_end = max(row.index(name) + len(name) for name in WIDE_NAMES if name in row)
        assert cell_at(row, "cli  ", name_end) == type_at, row
        assert cell_at(row, "オーナー", name_end) == owner_at, row
        assert cell_at(row, "0  ", name_end) + 1 == pending_ends, row
        assert cell_at(row, "20", name_end) == updated_at, row


def test_a_long_name_ends_with_an_ellipsis_and_the_next_columns_are_intact(
    cli: Projdeck,
) -> None:
    make_projects(cli, LONG_NAME, "日本語のとても長いプロジェクトの名前です")
    header, *rows, _ = cli.ok("project", "list").splitlines()
    type_at = cell_at(header, "TYPE")
    assert rows[1].split("  ")[1] == LONG_NAME[:27] + "…"
    assert rows[0].split("  ")[1].startswith("日本語のとても長いプロ")
    assert rows[0].split("  ")[1].rstrip().endswith("…")
    for row in rows:
        assert cell_at(row, "cli   active  オーナー") == type_at, row
        assert re.fullmatch(r".*  オーナー        0  \d{4}-\d\d-\d\d \d\d:\d\d", row), row


def test_mod_list_keeps_its_columns_aligned_with_cjk_projects_and_requesters(
    cli: Projdeck,
) -> None:
    make_projects(cli, "日本語のプロジェクト", "Billing")
    for project, by in (("日本語のプロジェクト", "エージェント"), ("Billing", "codex")):
        propose(cli, project, f"変更 for {project}", by)
    header, *rows = cli.ok("mod", "list").splitlines()
    assert header.split() == ["ID", "PROJECT", "STATUS", "FILES", "BY", "REQUESTED", "REQUEST"]
    by_at, requested_at = cell_at(header, "BY"), cell_at(header, "REQUESTED")
    request_at = cell_len(header[: header.rindex("REQUEST")])
    assert len(rows) == 2
    for row, by in zip(rows, ("エージェント", "codex"), strict=True):
        assert cell_at(row, by) == by_at, row
        # The date after the requester: a row's id may hold "20" too.
        assert cell_at(row, "20", row.index(by) + len(by)) == requested_at, row
        assert cell_at(row, "変更 for ") == request_at, row


def test_stored_text_is_printed_as_text_never_as_markup_or_escapes(cli: Projdeck) -> None:
    make_projects(cli, "[bold]Demo[/bold]")
    propose(
        cli, "[bold]Demo[/bold]", "[red]Tidy[/red] \x1b[2K\x1b]2;owned\x07 :rocket:", "[b]agent"
    )
    listed = cli.ok("mod", "list")
    assert "[bold]Demo[/bold]" in listed
    assert "[b]agent" in listed
    assert listed.endswith("  [red]Tidy[/red] ␛[2K␛]2;owned␇ :rocket:\n")
    assert "\x1b" not in listed and "\x07" not in listed and "🚀" not in listed
    assert "[bold]Demo[/bold]" in cli.ok("project", "list")
    header, row = listed.splitlines()
    assert cell_at(row, "[b]agent") == cell_at(header, "BY")


def test_a_piped_table_is_at_most_120_cells_wide_its_last_column_cut_with_an_ellipsis(
    cli: Projdeck,
) -> None:
    make_projects(cli, "Billing")
    propose(cli, "Billing", "写" * 50 + " and then some more words" * 5)
    header, row = cli.ok("mod", "list").splitlines()
    assert cell_len(row) in (119, 120) and row.endswith("…")
    assert cell_at(row, "写写写") == cell_len(header[: header.rindex("REQUEST")])
    wide = Projdeck(cli.url, COLUMNS="300")
    assert wide.ok("mod", "list").splitlines()[1].endswith("words")


def test_tables_measure_wide_characters_and_right_justify_numbers() -> None:
    columns = (Column("NAME", most=10), Column("N", numeric=True), Column("NOTE"))
    rows = [("🚀🚀🚀🚀🚀🚀", "7", "a"), ("日本", "1234", "b\tc"), ("plain", "0", "")]
    header, *lines = table_lines(columns, rows, width=40)
    assert lines[0].startswith("🚀🚀🚀🚀 …  ")
    note_at = cell_at(header, "NOTE")
    assert [cell_at(line, note) for line, note in zip(lines, "ab", strict=False)] == [note_at] * 2
    assert [cell_len(line[: line.rindex(n) + len(n)]) for line, n in zip(
        lines, ("7", "1234", "0"), strict=True
    )] == [cell_len(header[: header.index("  N  ") + 3])] * 3  # fmt: skip
    assert lines[1].endswith("b␉c")
    assert all(line == line.rstrip() for line in [header, *lines])
