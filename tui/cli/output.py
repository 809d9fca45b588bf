"""What the ``projdeck`` group needs before any command runs: the state it
hands its commands, the stdout that shows hidden characters as text, and
how errors are printed. Kept apart from ``common`` (which opens databases)
so that ``projdeck --help`` and ``--version`` import click and little else."""

from __future__ import annotations

import io
import shutil
import sys
from dataclasses import dataclass
from typing import NoReturn, TextIO

import click

from store import text as text_safety
from store.progress import Step

BAR_WIDTH = 20


@dataclass
class CliState:
    db_url_option: str | None
    # --no-pager: long output printed directly even on a terminal.
    no_pager: bool = False


class VisibleOutput(io.TextIOBase):
    """A text stream that writes through to ``stream`` with every character
    a terminal would act on shown as a visible stand-in (``store.text``):
    ``projdeck`` prints through it, so nothing stored (a name, a request, a
    file, a diff) can move the cursor, set the clipboard or the title, or
    reorder what is read. JSON output is escaped losslessly before it gets
    here (``print_json``)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str | bytes | bytearray) -> int:
        # click.echo writes bytes as they are (shell completion's script and
        # answers): shown the same way, as the text they encode.
        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode(self.encoding or "utf-8", "replace")
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


class StatusLine:
    """Long work told on one line of stderr, rewritten at each step, when
    stderr is a terminal (a script's log gets none of it): a wait before
    connecting again, a schema upgrade, the demo being built."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.active = self.stream.isatty()
        self.shown = 0

    def __call__(self, step: Step) -> None:
        if not self.active:
            return
        text = text_safety.visible(step.what)
        if step.counted:
            filled = BAR_WIDTH * min(step.done, step.total) // step.total
            text = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {step.done}/{step.total} {text}"
        width = max(shutil.get_terminal_size().columns - 1, 20)
        line = text[:width]
        self.stream.write("\r" + line.ljust(self.shown))
        self.stream.flush()
        self.shown = len(line)

    def clear(self) -> None:
        """Take the line away before what the command prints."""
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0
