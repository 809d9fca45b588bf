"""Long human output shown through a pager, as git does: only when stdout is
a terminal and the text is taller than it, never for ``--json``, never with
``--no-pager`` or ``PROJDECK_NO_PAGER=1``. Scripts, pipes and CI read
stdout as before. What reaches the pager is made visible first
(``store.text.visible``), like everything ``projdeck`` prints."""

from __future__ import annotations

import functools
import io
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TextIO

import click

from store import text as text_safety
from tui.cli.output import CliState, VisibleOutput

P = ParamSpec("P")

DEFAULT_PAGER = ("less", "-FRX")
# Values of PROJDECK_NO_PAGER that leave the pager on.
_OFF = ("", "0", "false", "no")


def pager_command(
    configured: str | None = None, environ: dict[str, str] | None = None
) -> list[str] | None:
    """The pager to run, as an argument list, or None to print directly:
    ``configured`` (the config file's ``pager``), else ``$PAGER``, else
    ``less -FRX`` where less is installed. An empty command, or ``cat``,
    means no pager."""
    environ = dict(os.environ) if environ is None else environ
    command = configured if configured is not None else environ.get("PAGER")
    if command is None:
        return list(DEFAULT_PAGER) if shutil.which(DEFAULT_PAGER[0]) else None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words == ["cat"]:
        return None
    return words


def configured_pager() -> str | None:
    """The config file's ``pager`` (or $PROJDECK_PAGER), None when not set
    (then $PAGER) or not usable (the file's warning already said why)."""
    from store import config
    from store.errors import ValidationError

    try:
        pager: str | None = config.resolve("pager").value
    except ValidationError:
        return None
    return pager


def paging_wanted(ctx: click.Context | None, environ: dict[str, str] | None = None) -> bool:
    """Whether this run may page: stdout is a terminal, and neither
    ``--no-pager`` nor ``PROJDECK_NO_PAGER`` says no."""
    environ = dict(os.environ) if environ is None else environ
    if environ.get("PROJDECK_NO_PAGER", "").strip().lower() not in _OFF:
        return False
    state = ctx.find_object(CliState) if ctx is not None else None
    if state is not None and state.no_pager:
        return False
    return stdout_is_terminal()


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def rows_taken(text: str, columns: int) -> int:
    """How many terminal rows ``text`` fills, its long lines wrapped."""
    from rich.cells import cell_len

    columns = max(columns, 1)
    return sum(max(1, -(-cell_len(line) // columns)) for line in text.splitlines())


def show(text: str, command: list[str] | None, *, stream: TextIO, rows: int, columns: int) -> None:
    """``text`` (made visible) through ``command`` when it is taller than
    ``rows``, else, or when the pager cannot start or fails, on ``stream``."""
    text = text_safety.visible(text, multiline=True)
    encoding = getattr(stream, "encoding", None) or "utf-8"
    if (
        command is not None
        and rows_taken(text, columns) >= rows
        and _through_pager(text, command, encoding=encoding)
    ):
        return
    stream.write(text)
    stream.flush()


def _through_pager(text: str, command: list[str], *, encoding: str) -> bool:
    """Whether ``command`` ran and showed ``text``."""
    try:
        sys.stdout.flush()
        process = subprocess.Popen(command, stdin=subprocess.PIPE)  # noqa: S603 - the user's own $PAGER
    except OSError:
        return False
    assert process.stdin is not None
    try:
        process.stdin.write(text.encode(encoding, "replace"))
        process.stdin.close()
    except BrokenPipeError:
        # The reader quit before the end (q in less): nothing more to show.
        pass
    while True:
        try:
            status = process.wait()
            break
        except KeyboardInterrupt:
            # Ctrl-C belongs to the pager while it runs, as in git.
            continue
    return status == 0


class _Held(io.StringIO):
    """What a command prints while it may be paged: held for the terminal
    (``isatty``, so it prints as on one), shown when the command ends."""

    def __init__(self, encoding: str) -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def isatty(self) -> bool:
        return True


@contextmanager
def paged_output(configured: str | None = None) -> Iterator[None]:
    """What is printed on stdout inside shown through the pager when it
    pages (``paging_wanted``) and is taller than the terminal; printed as
    usual otherwise. ``configured``: the pager command, else the config
    file's (``configured_pager``)."""
    if not paging_wanted(click.get_current_context(silent=True)):
        yield
        return
    shown = sys.stdout
    held = _Held(getattr(shown, "encoding", None) or "utf-8")
    sys.stdout = VisibleOutput(held)
    paging = False
    try:
        yield
        paging = True
    finally:
        sys.stdout = shown
        size = shutil.get_terminal_size()
        if paging and configured is None:
            configured = configured_pager()
        command = pager_command(configured) if paging else None
        show(held.getvalue(), command, stream=shown, rows=size.lines, columns=size.columns)


def paged(command: Callable[P, None]) -> Callable[P, None]:
    """A command whose human output may be paged (``paged_output``); with
    ``--json`` (its ``as_json`` argument) it never is."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        if kwargs.get("as_json"):
            command(*args, **kwargs)
            return
        with paged_output():
            command(*args, **kwargs)

    return run
