"""The keys of the screen underneath, generated from its bindings, each
with its binding id (what the config file's [keymap] remaps), and the
screen's own help (its ``HELP``, Markdown as Textual takes it: how its
filter reads, say)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.bindings import own_binding


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.dismiss"),
        Binding("question_mark", "dismiss", "Close", show=False, id="help.dismiss.question_mark"),
    ]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        # Each key, what it does and its binding id; ``keys`` without the ids.
        self.rows = self._rows(under)
        self.keys = [(key, description) for key, description, _ in self.rows]
        self.under_title = under.title or type(under).__name__
        self.notes = under.HELP or ""

    @staticmethod
    def _rows(under: Screen[object]) -> list[tuple[str, str, str]]:
        """Every key with a description active on ``under``, each once:
        projdeck's own (screen, pane, app) first, then those of Textual's
        widgets (moving the cursor, focus, copy)."""
        own: list[tuple[str, str, str]] = []
        widgets: list[tuple[str, str, str]] = []
        for active in under.active_bindings.values():
            binding = active.binding
            if not binding.description:
                continue
            entry = (under.app.get_key_display(binding), binding.description, binding.id or "")
            (own if own_binding(active.node, binding) else widgets).append(entry)
        return own + widgets

    def compose(self) -> ComposeResult:
        table = Table(show_header=True, header_style="bold", box=None, expand=True)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("what it does")
        table.add_column("binding id", style="dim", no_wrap=True)
        for key, description, binding_id in self.rows:
            table.add_row(key, description, binding_id)
        with VerticalScroll(id="help-box") as box:
            box.border_title = f"Keys: {self.under_title}"
            box.border_subtitle = "escape closes"
            yield Static(table, id="help-keys")
            if self.notes:
                from rich.markdown import Markdown

                yield Static(Markdown(self.notes), id="help-notes")
