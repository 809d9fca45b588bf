"""A project's settings in editors; ctrl+s saves them through the service."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Static, TextArea

from store import text as text_safety
from store.models import ProjectSettings
from tui import format

HIDDEN_NOTE = (
    "⚠ this text holds control or invisible characters, shown here as stand-ins"
    " (saving keeps the stand-ins)"
)


class SettingsEditor(VerticalScroll):
    BINDINGS = [
        Binding(
            "ctrl+s", "screen.save_settings", "Save settings", id="settings_editor.save_settings"
        )
    ]
    # Tab goes from the tab bar straight into the first editor.
    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.saved: dict[str, object] | None = None

    def compose(self) -> ComposeResult:
        yield Label("Planning statement", classes="field-label")
        yield TextArea(id="planning_statement", classes="editor")
        yield Static("", id="error-planning_statement", classes="field-error")
        yield Label("Repository rules", classes="field-label")
        yield TextArea(id="repository_rules", classes="editor")
        yield Static("", id="error-repository_rules", classes="field-error")
        yield Label("Setup commands (one per line)", classes="field-label")
        yield TextArea(id="setup_commands", classes="editor")
        yield Static("", id="error-setup_commands", classes="field-error")
        yield Label(
            "Test commands (one per line; run after the setup commands)", classes="field-label"
        )
        yield TextArea(id="test_commands", classes="editor")
        yield Static("", id="error-test_commands", classes="field-error")
        yield Label("Branch", classes="field-label")
        yield Input(id="branch_name")
        yield Static("", id="error-branch_name", classes="field-error")

    def load(self, settings: ProjectSettings) -> None:
        # An editor draws what it holds: text with characters a terminal
        # would act on is loaded with them shown as stand-ins, and said so.
        stored = {
            "planning_statement": settings.planning_statement,
            "repository_rules": settings.repository_rules,
            "setup_commands": "\n".join(settings.setup_commands),
            "test_commands": "\n".join(settings.test_commands),
        }
        hidden = []
        for field, text in stored.items():
            shown = text_safety.visible(text, multiline=True)
            if shown != text:
                hidden.append(field)
            self.query_one(f"#{field}", TextArea).load_text(shown)
        self.query_one("#branch_name", Input).value = text_safety.visible(settings.branch_name)
        self.saved = self.values()
        self.clear_errors()
        for field in hidden:
            self.show_error(field, HIDDEN_NOTE)

    def values(self) -> dict[str, object]:
        def lines(field: str) -> list[str]:
            text = self.query_one(f"#{field}", TextArea).text
            return [line for line in text.splitlines() if line.strip()]

        return {
            "planning_statement": self.query_one("#planning_statement", TextArea).text,
            "repository_rules": self.query_one("#repository_rules", TextArea).text,
            "setup_commands": lines("setup_commands"),
            "test_commands": lines("test_commands"),
            "branch_name": self.query_one("#branch_name", Input).value,
        }

    def changes(self) -> dict[str, object]:
        if self.saved is None:
            return {}
        return {key: value for key, value in self.values().items() if self.saved.get(key) != value}

    @property
    def dirty(self) -> bool:
        return bool(self.changes())

    def clear_errors(self) -> None:
        for error in self.query(".field-error"):
            if isinstance(error, Static):
                error.update("")

    def show_error(self, field: str, problem: str) -> None:
        matches = self.query(f"#error-{field}")
        if matches:
            widget = matches.first()
            if isinstance(widget, Static):
                widget.update(format.safe(problem))
                return
        self.notify(f"{field}: {problem}", severity="error", markup=False)
