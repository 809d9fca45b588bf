"""A filter field whose choices are looked up as you type, for lists too
long to offer whole (every project, every actor in the audit log).

The field shows the choice ("project: billing-api") or its prompt; enter
opens a PickScreen where typing asks the store for a few matching names.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from tui import format
from tui.widgets.pick import Finder, PickScreen


class PickerField(Static, can_focus=True):
    """One filter value picked from a searched list; ``value`` is None
    while nothing is picked (no filter)."""

    BINDINGS = [
        Binding("enter,space", "pick", "Choose", id="picker.pick"),
        Binding("backspace,delete", "clear", "Any", id="picker.clear"),
    ]

    class Changed(Message):
        """The picked value changed (picked, or cleared)."""

        def __init__(self, picker: PickerField) -> None:
            super().__init__()
            self.picker = picker

        @property
        def control(self) -> PickerField:
            return self.picker

    def __init__(self, prompt: str, finder: Finder, *, id: str | None = None) -> None:
        """``prompt`` names what is picked ("project"); ``finder`` looks up
        the choices for the typed text."""
        super().__init__("", id=id, markup=False)
        self.prompt = prompt
        self.finder = finder
        self.value: str | None = None
        self.label = ""

    def on_mount(self) -> None:
        self._draw()

    def _draw(self) -> None:
        if self.value is None:
            self.update(format.safe(self.prompt, style="dim"))
        else:
            self.update(format.safe(self.label))
        self.set_class(self.value is not None, "-has-value")

    def pick(self, value: str | None, label: str = "") -> None:
        """Set the value (None: no filter) and say so if it changed."""
        if (value, label) == (self.value, self.label):
            return
        self.value, self.label = value, label if value is not None else ""
        self._draw()
        self.post_message(self.Changed(self))

    def clear(self) -> None:
        self.pick(None)

    def action_pick(self) -> None:
        def picked(choice: tuple[str, str | None] | None) -> None:
            if choice is not None:
                label, value = choice
                self.pick(value, label)

        self.app.push_screen(PickScreen(self.prompt, self.finder), picked)

    def action_clear(self) -> None:
        self.clear()

    def on_click(self) -> None:
        self.action_pick()
