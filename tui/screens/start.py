"""What shows while the database opens (each step of long work said as it
starts: connecting again, creating or upgrading the schema, building the
demo), or why it could not."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, LoadingIndicator, ProgressBar, Static

from store.progress import Step
from tui.format import safe
from tui.widgets.footer import DeckFooter


class StartScreen(Screen[None]):
    def __init__(self, first: Step | None = None) -> None:
        """``first``: the step shown from the first frame (default: opening
        the database)."""
        super().__init__()
        self.first = first or Step("Opening the database…")

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="start-box"):
            yield Static(safe(self.first.what), id="start-message")
            bar = ProgressBar(total=self.first.total or None, id="start-progress", show_eta=False)
            bar.progress = self.first.done
            bar.display = self.first.counted
            yield bar
            yield LoadingIndicator(id="start-spinner")
        yield DeckFooter()

    def _composed(self) -> bool:
        """Whether every widget is in place: the database can answer (or
        fail) before the screen has finished mounting its own."""
        return bool(self.query("#start-spinner"))

    def show_step(self, step: Step) -> None:
        """Say what is being done now; a counted step moves the bar (which
        stays where it is through a step that is not counted)."""
        if not self._composed():
            self.call_after_refresh(self.show_step, step)
            return
        self.query_one("#start-message", Static).update(safe(step.what))
        if step.counted:
            bar = self.query_one("#start-progress", ProgressBar)
            bar.display = True
            bar.update(total=step.total, progress=step.done)

    def show_error(self, message: str) -> None:
        if not self._composed():
            self.call_after_refresh(self.show_error, message)
            return
        self.query_one("#start-progress", ProgressBar).display = False
        self.query_one("#start-spinner", LoadingIndicator).display = False
        text = Text()
        text.append("The database could not be opened", style="bold")
        text.append("\n\n")
        text.append_text(safe(message))
        text.append("\n\nPress q to quit.")
        self.query_one("#start-message", Static).update(text)
        self.query_one("#start-message").add_class("error")
