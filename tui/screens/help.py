"""The keys of the screen underneath, generated from its bindings, each
with its binding id (what the config file's [keymap] remaps), those greyed
there marked (a read-only project, a role that may not), and the screen's
own help (its ``HELP``, Markdown as Textual takes it: how its filter reads,
say)."""

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
        # Each key, what it does, its binding id and whether it can be used
        # there now (greyed in the footer when not); ``keys``: the first two.
        self.rows = self._rows(under)
        self.keys = [(key, description) for key, description, _, _ in self.rows]
        self.greyed = [key for key, _, _, enabled in self.rows if not enabled]
        self.under_title = under.title or type(under).__name__
        self.notes = under.HELP or ""

    @staticmethod
    def _rows(under: Screen[object]) -> list[tuple[str, str, str, bool]]:
        """Every key with a description active on ``under``, each once:
        projdeck's own (screen, pane, app) first, then those of Textual's
        widgets (moving the cursor, focus, copy)."""
        own: list[tuple[str, str, str, bool]] = []
        widgets: list[tuple[str, str, str, bool]] = []
        for active in under.active_bindings.values():
            binding = active.binding
            if not binding.description:
                continue
            key = under.app.get_key_display(binding)
            entry = (key, binding.description, binding.id or "", active.enabled)
            (own if own_binding(active.node, binding) else widgets).append(entry)
        return own + widgets

    def compose(self) -> ComposeResult:
        table = Table(show_header=True, header_style="bold", box=None, expand=True)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("what it does")
        table.add_column("binding id", style="dim", no_wrap=True)
        for key, description, binding_id, enabled in self.rows:
            if enabled:
                table.add_row(key, description, binding_id)
            else:
                # Greyed in the footer too; the screen says why (its title,
                # or a notification when the key is pressed).
                table.add_row(key, f"{description} (greyed here)", binding_id, style="dim")
        with VerticalScroll(id="help-box") as box:
            box.border_title = f"Keys: {self.under_title}"
            box.border_subtitle = "escape closes"
            yield Static(table, id="help-keys")
            if self.notes:
                from rich.markdown import Markdown

                yield Static(Markdown(self.notes), id="help-notes")
