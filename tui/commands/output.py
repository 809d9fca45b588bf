"""What the ``projdeck`` group needs before any command runs: the state it
hands its commands, the stdout that shows hidden characters as text, and
how errors are printed. Kept apart from ``common`` (which opens databases)
so that ``projdeck --help`` and ``--version`` import click and little else."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from typing import NoReturn, TextIO

import click

from store import text as text_safety


@dataclass
class CliState:
    db_url_option: str | None


class VisibleOutput(io.TextIOBase):
    """A text stream that writes through to ``stream`` with every character
    a terminal would act on shown as a visible stand-in (``store.text``):
    ``projdeck`` prints through it, so nothing stored (a name, a request, a
    file, a diff) can move the cursor, set the clipboard or the title, or
    reorder what is read. JSON output is escaped losslessly before it gets
    here (``print_json``)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(text_safety.visible(text, multiline=True))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.stream.errors


def echo_exact(text: str) -> None:
    """A line printed byte for byte when stdout is a pipe or a file (a
    script reading a value it asked for), with hidden characters shown when
    it is a terminal, like everything else."""
    stream = sys.stdout
    if isinstance(stream, VisibleOutput) and not stream.isatty():
        stream = stream.stream
    click.echo(text, file=stream)


def echo_error(message: str) -> None:
    """A line on stderr, hidden characters shown (stderr itself is left as
    it is: progress bars draw on it)."""
    click.echo(text_safety.visible(message), err=True)


def fail(message: str) -> NoReturn:
    echo_error(f"error: {message}")
    sys.exit(1)
