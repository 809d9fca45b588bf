"""The person's editor: which command runs it, and a stored file handed to
it as a read-only temporary copy while the app is suspended (``o`` in the
review screen and the codebase view; a comment's ``ctrl+o`` writes its
draft through the same command)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from textual.app import App, SuspendNotSupported
from textual.widget import Widget

from store import text as text_safety
from tui import format
from tui.context import configured

# A file larger than this is not handed to an editor (its characters, as stored).
LARGEST = 5_000_000
# A copy's name when the stored name is not fit for one (hostile or empty).
STAND_IN = "file"
# What a stand-in keeps of the stored name: a plain extension, for the
# editor's highlighting.
PLAIN_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,12}")
LONGEST_NAME = 120


class EditorFailed(Exception):
    """The editor could not be run, or the file cannot be handed to it; the
    message says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def editor_setting(configured: str | None = None) -> str:
    """The editor as the person named it: ``configured`` (the config file's
    ``editor``), else $VISUAL, else $EDITOR, else vi."""
    for chosen in (configured, os.environ.get("VISUAL"), os.environ.get("EDITOR")):
        if chosen and chosen.strip():
            return chosen
    return "vi"


def configured_editor(app: object) -> str | None:
    """The config file's ``editor`` (or $PROJDECK_EDITOR), when the app was
    started with the config file; else None (then $VISUAL, $EDITOR, vi)."""
    editor: str | None = configured(app, "editor")
    return editor


def editor_command(configured: str | None = None) -> list[str]:
    """The editor's command split as a shell would (``code --wait``, an
    editor with its options); EditorFailed if it cannot be."""
    chosen = editor_setting(configured)
    try:
        words = shlex.split(chosen)
    except ValueError as error:
        raise EditorFailed(f"editor: {chosen!r} is not a command ({error})") from None
    return words or ["vi"]


def run_editor(app: App[Any], file: Path, configured: str | None = None) -> None:
    """Run the editor on ``file``, the app suspended meanwhile (the editor
    has the terminal to itself; the app waits, as Textual's guide does it).
    Where the terminal cannot be handed over (headless, Textual Web) an
    editor in the terminal would fight the app for it: EditorFailed."""
    command = editor_command(configured)
    try:
        with app.suspend():
            # The person's own editor, named by their own setting.
            subprocess.run([*command, str(file)], check=False)  # noqa: S603
    except (SuspendNotSupported, OSError) as failed:
        raise EditorFailed(
            f"editor: {editor_setting(configured)!r} could not be run here ({failed})"
        ) from None


def copy_name(path: str) -> str:
    """The name of the temporary copy of the stored file ``path``: its base
    name, unless that holds what a file name should not (a control or
    bidirectional character, a backslash, nothing at all, "." or ".."),
    then a stand-in keeping only a plain extension. Never a path: stored
    paths are hostile."""
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    if (
        base in ("", ".", "..")
        or len(base) > LONGEST_NAME
        or text_safety.has_hidden(base)
        or base.startswith("-")
    ):
        suffix = PLAIN_SUFFIX.fullmatch(Path(base).suffix) if base not in (".", "..") else None
        return STAND_IN + (suffix.group(0) if suffix else "")
    return base


def unfit_for_editor(content: str) -> str | None:
    """Why ``content`` is not handed to an editor (binary, too large), or None."""
    if "\0" in content:
        return "a binary file"
    if len(content) > LARGEST:
        return f"larger than {LARGEST // 1_000_000} MB"
    return None


def open_copy(app: App[Any], path: str, content: str, configured: str | None = None) -> bool:
    """Show ``content`` (the stored file ``path``) in the editor as a
    read-only temporary copy, deleted once the editor exits: nothing the
    editor writes is stored. True if the copy was changed all the same.
    EditorFailed when the file is unfit or the editor cannot run."""
    unfit = unfit_for_editor(content)
    if unfit is not None:
        raise EditorFailed(f"{path}: {unfit}, not opened in an editor")
    data = content.encode("utf-8", errors="replace")
    folder = Path(tempfile.mkdtemp(prefix="projdeck-view-")).resolve()
    try:
        copy = folder / copy_name(path)
        if copy.parent != folder:  # copy_name makes names, not paths; checked all the same
            raise EditorFailed(f"{path}: no file name can be made of it")
        copy.write_bytes(data)
        copy.chmod(0o400)
        run_editor(app, copy, configured)
        try:
            return copy.read_bytes() != data
        except OSError:
            return True  # moved or deleted by the editor
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def view_in_editor(node: Widget, path: str, content: str, *, kept: str) -> None:
    """``open_copy``, what came of it said in a notification from ``node``:
    why the file was not opened, or that the copy was changed and ``kept``
    (what holds the file: "the stored file") was not."""
    try:
        changed = open_copy(node.app, path, content, configured_editor(node.app))
    except EditorFailed as failed:
        node.notify(format.plain(failed.message), severity="warning", markup=False)
        return
    if changed:
        node.notify(format.plain(f"{path}: the copy was changed; {kept} is not"), markup=False)
