"""The form that creates or edits a project. Nothing is saved until the
service accepts every field; its messages appear under the field they name."""

from __future__ import annotations

import uuid
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from store.errors import Conflict, StoreError, ValidationError
from store.models import Project, ProjectType
from store.services import projects as project_service
from tui import format
from tui.bindings import cancel_key, reload_key
from tui.context import deck
from tui.screens.form_errors import FormError, checked, where_shown

# Which input shows a service error about which field.
_FIELD_INPUTS = {
    "name": "name",
    "type": "type",
    "owner_id": "owner",
    "github": "github",
    "github_owner": "github",
    "github_repo": "github",
    "webhook_url": "webhook",
    "test_coverage": "coverage",
    "security_score": "security",
    "performance_score": "performance",
}
_SCORES = {
    "coverage": "test_coverage",
    "security": "security_score",
    "performance": "performance_score",
}


class ProjectForm(ModalScreen[uuid.UUID | None]):
    """``project_id`` None creates a project; otherwise edits that one,
    carrying the version it was read at."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="project_form.save"),
        reload_key("project_form"),
        cancel_key("project_form"),
    ]

    def __init__(self, project_id: uuid.UUID | None = None) -> None:
        super().__init__()
        self.project_id = project_id
        self.version: int | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="project-form", classes="dialog") as box:
            box.border_title = "New project" if self.project_id is None else "Edit project"
            box.border_subtitle = "ctrl+s save · escape cancel"
            yield from self._field("Name", Input(id="name", placeholder="Billing API"))
            yield from self._field(
                "Type",
                Select(
                    [(kind.value, kind.value) for kind in ProjectType],
                    id="type",
                    value=ProjectType.API.value,
                    allow_blank=False,
                ),
            )
            yield from self._field("Owner", Input(id="owner", placeholder="alice"))
            yield from self._field(
                "GitHub repository", Input(id="github", placeholder="OWNER/REPO (optional)")
            )
            yield from self._field(
                "Webhook URL", Input(id="webhook", placeholder="https://… (optional)")
            )
            with Horizontal(classes="scores"):
                for key, title in (
                    ("coverage", "Test coverage"),
                    ("security", "Security"),
                    ("performance", "Performance"),
                ):
                    with Vertical(classes="score-field"):
                        yield from self._field(title, Input(id=key, placeholder="0-100"))
            yield Checkbox("Auto-merge approved changes", id="auto-merge")
            yield Checkbox("Auto-confirm plans", id="auto-confirm")
            yield Static("", id="form-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save", action="screen.save")
                yield Button("Cancel", id="cancel", action="screen.cancel")

    @staticmethod
    def _field(title: str, widget: Input | Select[str]) -> ComposeResult:
        yield Label(title, classes="field-label")
        yield widget
        yield Static("", id=f"error-{widget.id}", classes="field-error")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        if self.project_id is not None:
            self.load()

    @work(exclusive=True, group="form-load")
    async def load(self) -> None:
        assert self.project_id is not None
        try:
            project = await project_service.get_project(deck(self).database, str(self.project_id))
        except StoreError as error:
            self._show_error("form", error.message)
            return
        self._fill(project)

    def _fill(self, project: Project) -> None:
        self.version = project.version
        self.query_one("#name", Input).value = project.name
        self.query_one("#type", Select).value = str(project.type)
        self.query_one("#owner", Input).value = project.owner_id
        github = (
            f"{project.github_owner}/{project.github_repo}"
            if project.github_owner and project.github_repo
            else ""
        )
        self.query_one("#github", Input).value = github
        self.query_one("#webhook", Input).value = project.webhook_url or ""
        for key, attribute in _SCORES.items():
            value = getattr(project, attribute)
            self.query_one(f"#{key}", Input).value = "" if value is None else f"{value:g}"
        self.query_one("#auto-merge", Checkbox).value = project.auto_merge_enabled
        self.query_one("#auto-confirm", Checkbox).value = project.auto_confirm_plans
        self._clear_errors()

    def _values(self) -> dict[str, Any]:
        github = self.query_one("#github", Input).value.strip()
        owner: str | None = None
        repo: str | None = None
        if github:
            owner, slash, repo = github.partition("/")
            if not slash or not owner or not repo:
                raise FormError("github", f"{github!r} is not OWNER/REPO")
        values: dict[str, Any] = {
            "name": self.query_one("#name", Input).value,
            "type": str(self.query_one("#type", Select).value),
            "owner_id": self.query_one("#owner", Input).value,
            "github_owner": owner,
            "github_repo": repo,
            "webhook_url": self.query_one("#webhook", Input).value.strip() or None,
            "auto_merge_enabled": self.query_one("#auto-merge", Checkbox).value,
            "auto_confirm_plans": self.query_one("#auto-confirm", Checkbox).value,
        }
        for key, attribute in _SCORES.items():
            text = self.query_one(f"#{key}", Input).value.strip()
            try:
                values[attribute] = float(text) if text else None
            except ValueError:
                raise FormError(key, "must be a number from 0 to 100") from None
        return values

    def _clear_errors(self) -> None:
        for error in self.query(".field-error"):
            if isinstance(error, Static):
                error.update("")

    def _show_error(self, field: str, problem: str) -> None:
        target = self.query_one(f"#error-{field}" if field != "form" else "#form-error", Static)
        # Problems quote what was typed: shown as text, never as markup.
        target.update(format.safe(problem))

    def action_save(self) -> None:
        values = checked(self, self._values)
        if values is not None:
            self.save(values)

    @work(exclusive=True, group="form-save")
    async def save(self, values: dict[str, Any]) -> None:
        db = deck(self).database
        try:
            if self.project_id is None:
                config = await project_service.create_project_with_settings(
                    db, project_service.ProjectCreate(**values)
                )
                saved = config.project
            else:
                assert self.version is not None
                saved = await project_service.update_project(
                    db, str(self.project_id), values, expected_version=self.version
                )
        except ValidationError as error:
            self._show_error(*where_shown(error, _FIELD_INPUTS))
            return
        except Conflict as error:
            stale = "changed by someone else" in error.message
            note = ". Press ctrl+r to reload it (your edits are replaced)." if stale else ""
            self._show_error("form", error.message + note)
            return
        except StoreError as error:
            self._show_error("form", error.message)
            return
        self.notify(f"Saved project {saved.name!r}", markup=False)
        self.dismiss(saved.id)

    def action_reload(self) -> None:
        if self.project_id is not None:
            self.load()

    def action_cancel(self) -> None:
        self.dismiss(None)
