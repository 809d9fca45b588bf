"""A project's secrets: names and key ids, values masked. A value is shown
for ten seconds when revealed; every reveal and copy is audited by the
service. A tab of the project screen, kept among the screens because it
opens their dialogs (the secret form, the confirmation)."""

from __future__ import annotations

import uuid
from datetime import datetime

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Static

from store.services import SecretName
from store.services import secrets as secret_service
from store.services import team as team_service
from tui import format
from tui.context import attempt, deck, team_refusal
from tui.screens.confirm import ConfirmScreen
from tui.screens.secret_form import SecretForm
from tui.widgets.tables import SafeTable

MASK = "••••••••"
REVEAL_SECONDS = 10.0
READ_HINT = "v reveal for 10 s · c copy"
HINT = f"n add · e change value · {READ_HINT} · x delete"
# What changes the secrets (greyed while the project is read-only).
WRITES = {"add", "change", "delete"}
# What each key needs of the role on a team database (greyed when the
# connected role may not, and pressing it says why).
TEAM_PERMISSIONS = {
    **dict.fromkeys(WRITES, team_service.CHANGE_SECRETS),
    "reveal": team_service.REVEAL_SECRETS,
    "copy": team_service.REVEAL_SECRETS,
}


class SecretsPane(Vertical):
    BINDINGS = [
        Binding("n", "add", "Add secret", id="secrets_pane.add"),
        Binding("e", "change", "Change value", id="secrets_pane.change"),
        Binding("v", "reveal", "Reveal 10 s", id="secrets_pane.reveal"),
        Binding("c", "copy", "Copy", id="secrets_pane.copy"),
        Binding("x", "delete", "Delete secret", id="secrets_pane.delete"),
    ]

    def __init__(self, project_id: uuid.UUID, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.project_id = project_id
        self.names: list[SecretName] = []
        self._mask_timers: dict[str, Timer] = {}
        # Why the secrets cannot be changed (the project is archived or
        # deleted), if so: they can still be revealed and copied.
        self.read_only: str | None = None

    def compose(self) -> ComposeResult:
        yield SafeTable(id="secrets-table", cursor_type="row")
        yield Static(HINT, id="secrets-hint", classes="hint")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITES and self.read_only is not None:
            return None  # shown, greyed: the hint says why
        permission = TEAM_PERMISSIONS.get(action)
        if permission is not None and team_refusal(self, permission):
            return None  # shown, greyed: pressing it says why
        return True

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Name", key="name")
        table.add_column("Key id", key="key_id")
        table.add_column("Updated", key="updated")
        table.add_column("Value", key="value")

    def show(self, names: list[SecretName], now: datetime, *, read_only: str | None = None) -> None:
        if read_only != self.read_only:
            self.read_only = read_only
            hint = HINT if read_only is None else f"read-only: {read_only} · {READ_HINT}"
            self.query_one("#secrets-hint", Static).update(hint)
            self.refresh_bindings()
        table = self.query_one(DataTable)
        for timer in self._mask_timers.values():
            timer.stop()
        self._mask_timers.clear()
        table.clear()
        self.names = list(names)
        for secret in self.names:
            table.add_row(
                format.safe(secret.key_name),
                secret.key_id,
                format.ago(secret.updated_at, now),
                MASK,
                key=secret.key_name,
            )

    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.names or not 0 <= table.cursor_row < len(self.names):
            return None
        return self.names[table.cursor_row].key_name

    @work(exclusive=True, group="secrets-load")
    async def reload(self) -> None:
        names = await attempt(
            self, secret_service.list_secrets(deck(self).database, str(self.project_id))
        )
        if names is not None:
            self.show(names, deck(self).clock(), read_only=self.read_only)

    def action_add(self) -> None:
        if self.read_only is not None:
            return
        self.app.push_screen(SecretForm(self.project_id), self._stored)

    def action_change(self) -> None:
        name = self.selected()
        if name is not None:
            self.app.push_screen(SecretForm(self.project_id, name), self._stored)

    def _stored(self, name: str | None) -> None:
        if name is not None:
            self.notify(f"Stored secret {name}")
            self.reload()

    def action_reveal(self) -> None:
        name = self.selected()
        if name is not None:
            self.reveal(name, copy=False)

    def action_copy(self) -> None:
        name = self.selected()
        if name is not None:
            self.reveal(name, copy=True)

    @work(group="secrets-reveal")
    async def reveal(self, name: str, *, copy: bool) -> None:
        value = await attempt(
            self,
            secret_service.reveal_secret(
                deck(self).database,
                str(self.project_id),
                name,
                purpose="copy" if copy else "reveal",
            ),
        )
        if value is None:
            return
        if copy:
            self.app.copy_to_clipboard(value.reveal())
            self.notify(f"Copied {name} to the clipboard (the read is in the audit log)")
            return
        table = self.query_one(DataTable)
        table.update_cell(name, "value", value.reveal())
        old = self._mask_timers.pop(name, None)
        if old is not None:
            old.stop()
        self._mask_timers[name] = self.set_timer(REVEAL_SECONDS, lambda: self._mask(name))

    def _mask(self, name: str) -> None:
        self._mask_timers.pop(name, None)
        if any(secret.key_name == name for secret in self.names):
            self.query_one(DataTable).update_cell(name, "value", MASK)

    def action_delete(self) -> None:
        name = self.selected()
        if name is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete(name)

        self.app.push_screen(
            ConfirmScreen(
                f"Delete secret [b]{name}[/b]? Its value is gone for good.", yes="Delete"
            ),
            answered,
        )

    @work(group="secrets-write")
    async def delete(self, name: str) -> None:
        done = await attempt(
            self,
            self._delete(name),
        )
        if done:
            self.notify(f"Deleted secret {name}")
            self.reload()

    async def _delete(self, name: str) -> bool:
        await secret_service.delete_secret(deck(self).database, str(self.project_id), name)
        return True
