"""Asks for a comment on one line of a modification's file: the line (of
the proposed version, or with a leading minus of the version before, for a
removed line) and the text, typed in the box or, for a long one, written in
the person's editor ($VISUAL, else $EDITOR, else vi) while the app waits."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from store.models import CommentSide
from tui import format
from tui.bindings import cancel_key
from tui.editor import EditorFailed, configured_editor, run_editor

Comment = tuple[int, CommentSide, str]


def parse_line(value: str) -> tuple[int, CommentSide] | None:
    """``12`` (line 12 of the proposed version) or ``-12`` (of the version
    before); None if it is neither."""
    value = value.strip()
    side = CommentSide.OLD if value.startswith("-") else CommentSide.NEW
    digits = value.removeprefix("-").strip()
    if not digits.isdecimal() or int(digits) < 1:
        return None
    return int(digits), side


class CommentScreen(ModalScreen[Comment | None]):
    BINDINGS = [
        cancel_key("comment"),
        Binding("ctrl+o", "editor", "Write it in $EDITOR", id="comment.editor"),
    ]

    def __init__(self, title: str, line: str) -> None:
        super().__init__()
        self.title_text = title
        self.line = line

    def compose(self) -> ComposeResult:
        with Vertical(id="comment-box", classes="dialog"):
            yield Static(self.title_text, id="comment-title", markup=False)
            yield Label("Line (-N: a removed line, as the version before numbers it)")
            yield Input(value=self.line, id="comment-line")
            yield Label("Comment")
            yield Input(placeholder="What should change here?", id="comment-text")
            yield Static("", id="comment-error", classes="field-error")
            yield Static(
                "enter saves · ctrl+o writes it in your editor · escape cancels", classes="hint"
            )

    def on_mount(self) -> None:
        self.query_one("#comment-text", Input).focus()

    def _line(self) -> tuple[int, CommentSide] | None:
        line = parse_line(self.query_one("#comment-line", Input).value)
        if line is None:
            self.query_one("#comment-error", Static).update(
                "line: a line number, such as 12, or -12 for a removed line"
            )
            self.query_one("#comment-line", Input).focus()
        return line

    def on_input_submitted(self, event: Input.Submitted) -> None:
        error = self.query_one("#comment-error", Static)
        line = self._line()
        if line is None:
            return
        if event.input.id == "comment-line":
            self.query_one("#comment-text", Input).focus()
            return
        text = self.query_one("#comment-text", Input).value.strip()
        if not text:
            error.update("comment: say something")
            return
        self.dismiss((line[0], line[1], text))

    def action_editor(self) -> None:
        """Write the comment in the person's editor, the app suspended
        meanwhile; what it saves is the comment (empty: nothing)."""
        line = self._line()
        if line is None:
            return
        error = self.query_one("#comment-error", Static)
        folder = Path(tempfile.mkdtemp(prefix="projdeck-comment-"))
        draft = folder / "comment.md"
        try:
            draft.write_text(self.query_one("#comment-text", Input).value, encoding="utf-8")
            try:
                run_editor(self.app, draft, configured_editor(self.app))
            except EditorFailed as failed:
                error.update(format.safe(failed.message))
                return
            text = draft.read_text(encoding="utf-8", errors="replace").strip()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if not text:
            error.update("comment: the editor saved nothing; nothing is stored")
            return
        self.dismiss((line[0], line[1], text))

    def action_cancel(self) -> None:
        self.dismiss(None)
