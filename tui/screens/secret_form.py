"""Add a secret, or give one a new value, through a password input."""

from __future__ import annotations

import uuid

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from store.errors import StoreError, ValidationError
from store.services import secrets as secret_service
from tui import format
from tui.bindings import cancel_key
from tui.context import deck


class SecretForm(ModalScreen[str | None]):
    """Dismisses with the secret's name once it is stored."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="secret_form.save"),
        cancel_key("secret_form"),
    ]

    def __init__(self, project_id: uuid.UUID, key_name: str | None = None) -> None:
        super().__init__()
        self.project_id = project_id
        self.key_name = key_name

    def compose(self) -> ComposeResult:
        with Vertical(id="secret-form", classes="dialog") as box:
            box.border_title = "New secret" if self.key_name is None else "Change secret value"
            box.border_subtitle = "enter/ctrl+s save · escape cancel"
            yield Label("Name", classes="field-label")
            yield Input(
                value=self.key_name or "",
                placeholder="API_TOKEN",
                id="secret-name",
                disabled=self.key_name is not None,
            )
            yield Static("", id="error-secret-name", classes="field-error")
            yield Label("Value", classes="field-label")
            yield Input(password=True, id="secret-value", placeholder="never shown")
            yield Static("", id="error-secret-value", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save", action="screen.save")
                yield Button("Cancel", id="cancel", action="screen.cancel")

    def on_mount(self) -> None:
        target = "#secret-value" if self.key_name is not None else "#secret-name"
        self.query_one(target, Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "secret-name":
            self.query_one("#secret-value", Input).focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        for error in self.query(".field-error"):
            if isinstance(error, Static):
                error.update("")
        self.save(
            self.query_one("#secret-name", Input).value.strip(),
            self.query_one("#secret-value", Input).value,
        )

    @work(exclusive=True, group="secret-save")
    async def save(self, name: str, value: str) -> None:
        try:
            stored = await secret_service.set_secret(
                deck(self).database, str(self.project_id), name, value
            )
        except ValidationError as error:
            field = "secret-name" if "name" in error.field else "secret-value"
            self.query_one(f"#error-{field}", Static).update(format.safe(error.problem))
            return
        except StoreError as error:
            self.query_one("#error-secret-value", Static).update(format.safe(error.message))
            return
        self.dismiss(stored.key_name)

    def action_cancel(self) -> None:
        self.dismiss(None)
