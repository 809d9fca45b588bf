"""Asks why a modification is rejected: a rejection needs a comment."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class RejectScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="reject.cancel")]

    def __init__(
        self,
        title: str,
        *,
        required: bool = True,
        placeholder: str = "Why is it rejected? (enter rejects)",
    ) -> None:
        """Ask for the reason of a rejection; with ``required`` False an
        empty answer is one (a rejection of a hunk need not say why)."""
        super().__init__()
        self.title_text = title
        self.required = required
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="reject-box", classes="dialog"):
            yield Static(self.title_text, id="reject-title", markup=False)
            yield Input(placeholder=self.placeholder, id="reject-comment")
            yield Static("", id="reject-error", classes="field-error")
            yield Static("enter rejects · escape cancels", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        comment = event.value.strip()
        if not comment and self.required:
            self.query_one("#reject-error", Static).update(
                "comment: a rejection needs a comment saying why"
            )
            return
        self.dismiss(comment)

    def action_cancel(self) -> None:
        self.dismiss(None)
