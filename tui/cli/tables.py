"""The CLI's human tables, drawn by Rich: columns measured in terminal cells,
so CJK characters and emoji keep them aligned, and a value too long for its
column ends with "…" instead of being cut unseen. Stored text is made
visible (``store.text.visible``) before it is measured, and never read as
markup: what is measured is what is printed. No colours or styles: scripts
read these tables too (``--json`` is the shape meant for them)."""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import click

from store import text as text_safety

# The width of a table printed to a pipe or a file, unless $COLUMNS says.
PIPED_WIDTH = 120
# The least a last, free-text column is given when the others take the rest.
FREE_TEXT_MIN = 20
GAP = 2


@dataclass(frozen=True)
class Column:
    """One column: its header, the most cells it takes (longer values end
    with "…"; ``None``: as wide as its widest value, or, last, the width the
    others leave) and whether it holds numbers (right-justified)."""

    header: str
    most: int | None = None
    numeric: bool = False


def output_width() -> int:
    """The width tables are drawn to: the terminal's on a terminal, else
    ``$COLUMNS``, else 120."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH


def table_lines(
    columns: Sequence[Column],
    rows: Iterable[Sequence[str]],
    *,
    width: int | None = None,
    header: bool = True,
) -> list[str]:
    """The table's lines (no trailing spaces), ``width`` cells at most unless
    the columns other than the last need more (a narrow terminal wraps them,
    rather than losing an id to "…")."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cells = [[text_safety.visible(value) for value in row] for row in rows]
    width = width or output_width()
    widths = []
    for index, column in enumerate(columns[:-1]):
        widest = max(
            [cell_len(column.header) if header else 0] + [cell_len(row[index]) for row in cells]
        )
        widths.append(min(widest, column.most) if column.most is not None else widest)
    fixed = sum(widths) + GAP * (len(columns) - 1)
    last = columns[-1]
    free = max(width - fixed, FREE_TEXT_MIN)
    last_most = min(last.most, free) if last.most is not None else free

    table = Table(
        box=None,
        show_edge=False,
        pad_edge=False,
        show_header=header,
        header_style="none",
        padding=(0, GAP // 2),
    )
    for index, column in enumerate(columns):
        is_last = index == len(columns) - 1
        table.add_column(
            Text(column.header),
            justify="right" if column.numeric else "left",
            no_wrap=True,
            overflow="ellipsis",
            max_width=last_most if is_last else column.most,
        )
    for row in cells:
        table.add_row(*(Text(value) for value in row))

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=max(width, fixed + last_most),
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        force_interactive=False,
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        no_color=True,
        legacy_windows=False,
    )
    console.print(table)
    return [line.rstrip() for line in buffer.getvalue().splitlines()]


def echo_table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[str]],
    *,
    header: bool = True,
    indent: int = 0,
) -> None:
    """The table printed on stdout, each line after ``indent`` spaces."""
    width = max(output_width() - indent, FREE_TEXT_MIN)
    for line in table_lines(columns, rows, width=width, header=header):
        click.echo(" " * indent + line)


def first_line(text: str) -> str:
    """The first line of a free text (a title, a task, a request): what its
    column shows of it."""
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""
