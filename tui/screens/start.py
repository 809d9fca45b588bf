"""What shows while the database opens, or why it could not."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from store.text import visible


class StartScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Opening the database…", id="start-message")
        yield Footer()

    def show_error(self, message: str) -> None:
        self.query_one("#start-message", Static).update(
            f"[b]The database could not be opened[/b]\n\n{escape(visible(message, multiline=True))}\n\nPress q to quit."
        )
        self.query_one("#start-message").add_class("error")
