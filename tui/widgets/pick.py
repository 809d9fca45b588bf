"""Choosing one name from a long list by typing part of it: each change
of the text asks the store for a few matches (never the whole list). The
dialog a PickerField (tui/widgets/picker.py) opens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from store.services.browse import PICK_LIMIT
from tui import format
from tui.bindings import cancel_key
from tui.context import attempt

# Looks up the choices matching the typed text: (label, value) pairs.
Finder = Callable[[str], Awaitable[list[tuple[str, str]]]]
# (label, value); value None: no filter.
Choice = tuple[str, str | None]


class PickScreen(ModalScreen[Choice | None]):
    BINDINGS = [
        cancel_key("pick"),
        Binding("down", "move(1)", "Next", show=False, id="pick.move.1"),
        Binding("up", "move(-1)", "Previous", show=False, id="pick.move.-1"),
    ]

    def __init__(self, prompt: str, finder: Finder) -> None:
        super().__init__()
        self.prompt = prompt
        self.finder = finder
        self.choices: list[Choice] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box", classes="dialog"):
            yield Input(placeholder=f"type part of the {self.prompt}", id="pick-text")
            yield OptionList(id="pick-options")
            yield Static("", id="pick-hint", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#pick-box").border_title = f"Filter by {self.prompt}"
        self.query_one("#pick-options", OptionList).can_focus = False
        self.find("")

    @on(Input.Changed, "#pick-text")
    def _typed(self, event: Input.Changed) -> None:
        self.find(event.value)

    @work(exclusive=True, group="pick-find")
    async def find(self, text: str) -> None:
        found = await attempt(self, self.finder(text))
        if found is None:
            return
        choices: list[Choice] = [] if text.strip() else [(f"any {self.prompt}", None)]
        choices += [(label, value) for label, value in found]
        self.choices = choices
        options = self.query_one("#pick-options", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(format.safe(label, style="italic" if value is None else ""))
                for label, value in choices
            ]
        )
        options.highlighted = 0 if choices else None
        if not found:
            hint = f"no {self.prompt} matches {text.strip()!r}" if text.strip() else ""
        else:
            more = " (the first ones: type more to narrow)" if len(found) >= PICK_LIMIT else ""
            hint = f"{len(found)} shown{more} · ↑↓ move · enter picks · escape cancels"
        self.query_one("#pick-hint", Static).update(format.safe(hint))

    def action_move(self, step: int) -> None:
        options = self.query_one("#pick-options", OptionList)
        if self.choices:
            current = options.highlighted if options.highlighted is not None else -step
            options.highlighted = (current + step) % len(self.choices)

    @on(Input.Submitted, "#pick-text")
    def _submitted(self) -> None:
        index = self.query_one("#pick-options", OptionList).highlighted
        if index is not None and index < len(self.choices):
            self.dismiss(self.choices[index])

    @on(OptionList.OptionSelected, "#pick-options")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
