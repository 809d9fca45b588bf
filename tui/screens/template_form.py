"""A new project from a template: a form built from the template's variables
(defaults filled, help shown, each problem under its field), a live preview
of the files it renders to, then a confirmation before anything is saved."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Header, Input, Label, Select, Static, Tree

from store.errors import Conflict, StoreError, ValidationError
from store.services.templates import (
    TemplateDetail,
    TemplateProjectCreate,
    create_project_from_template,
    get_template,
    preview_template,
)
from store.template_spec import RenderedProject, Variable, VariableErrors, VariableType
from tui import format
from tui.bindings import cancel_key
from tui.context import deck
from tui.screens.confirm import ConfirmScreen
from tui.screens.form_errors import FormError, checked, where_shown
from tui.widgets.codebase import FileBrowser
from tui.widgets.footer import DeckFooter

# The preview follows the form once typing pauses this long (seconds).
PREVIEW_PAUSE = 0.2

# Which field shows a service error about which project field.
_PROJECT_FIELDS = {
    "name": "name",
    "owner_id": "owner",
    "github": "github",
    "github_owner": "github",
    "github_repo": "github",
}


class TemplateProjectForm(Screen[uuid.UUID | None]):
    """Creates a project from template ``template``; dismisses with the new
    project's id (None when cancelled)."""

    TITLE = "New project from template"
    CSS_PATH = "template_form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "create", "Create", id="template_form.create"),
        Binding("ctrl+r", "preview", "Preview", id="template_form.preview"),
        Binding("ctrl+t", "focus_files", "Files", id="template_form.focus_files"),
        cancel_key("template_form"),
    ]

    def __init__(self, template: str) -> None:
        super().__init__()
        self.template = template
        self.detail: TemplateDetail | None = None
        # Variables the person has changed: only their problems show while
        # typing; an explicit preview or create shows every problem.
        self.touched: set[str] = set()
        self.rendered: RenderedProject | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="template-form-body"):
            with VerticalScroll(id="template-form") as form:
                form.border_title = f"New project from {self.template}"
                form.border_subtitle = "ctrl+r preview · ctrl+s create · escape cancel"
                yield Static("", id="template-form-about")
                yield Label("Project", classes="form-section")
                yield from _field("Name", "name", "Billing API")
                yield from _field("Owner", "owner", "alice")
                yield from _field("GitHub repository", "github", "OWNER/REPO (optional)")
                yield Label("Template variables", classes="form-section")
                yield Vertical(id="template-variables")
                yield _error_line("form")
                with Horizontal(classes="buttons"):
                    yield Button(
                        "Create (ctrl+s)", variant="primary", id="create", action="screen.create"
                    )
                    yield Button("Preview (ctrl+r)", id="preview", action="screen.preview")
                    yield Button("Cancel", id="cancel", action="screen.cancel")
            with Vertical(id="template-form-preview", classes="detail") as preview:
                preview.border_title = "Preview"
                yield Static("Loading the template…", id="preview-status")
                yield FileBrowser(id="preview-files")
        yield DeckFooter()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self.load()

    @work(exclusive=True, group="template-form-load")
    async def load(self) -> None:
        try:
            detail = await get_template(deck(self).database, self.template)
        except StoreError as error:
            self._status(error.message)
            self._show_error("form", error.message)
            return
        self.detail = detail
        spec = detail.spec
        about = format.safe()
        about.append_text(format.safe(spec.name, "bold"))
        about.append_text(format.safe(f" (version {detail.version}): {spec.description}"))
        self.query_one("#template-form-about", Static).update(about)
        holder = self.query_one("#template-variables", Vertical)
        widgets: list[Widget] = []
        for index, variable in enumerate(spec.variables):
            widgets.extend(_variable_field(index, variable))
        if not widgets:
            widgets.append(Static("This template has no variables.", classes="field-help"))
        await holder.mount_all(widgets)
        self.preview(pause=0)

    # -- values -----------------------------------------------------------------

    def _variables(self) -> list[Variable]:
        return self.detail.spec.variables if self.detail is not None else []

    def _values(self) -> dict[str, Any]:
        """The variables as typed; an emptied field falls back to its default
        (or is reported missing when it has none)."""
        values: dict[str, Any] = {}
        for index, variable in enumerate(self._variables()):
            widget = self.query_one(f"#var-{index}")
            if isinstance(widget, Checkbox):
                values[variable.name] = widget.value
            elif isinstance(widget, Select):
                chosen = widget.value
                values[variable.name] = None if chosen is Select.NULL else str(chosen)
            elif isinstance(widget, Input):
                text = (
                    widget.value if variable.type == VariableType.STRING else widget.value.strip()
                )
                values[variable.name] = text if text.strip() else None
        return values

    def _project(self) -> TemplateProjectCreate:
        github = self.query_one("#github", Input).value.strip()
        owner: str | None = None
        repo: str | None = None
        if github:
            owner, slash, repo = github.partition("/")
            if not slash or not owner or not repo or "/" in repo:
                raise FormError("github", f"{github!r} is not OWNER/REPO")
        return TemplateProjectCreate(
            name=self.query_one("#name", Input).value,
            owner_id=self.query_one("#owner", Input).value,
            values=self._values(),
            github_owner=owner,
            github_repo=repo,
        )

    # -- errors -----------------------------------------------------------------

    def _clear_errors(self, selector: str = ".field-error") -> None:
        for error in self.query(selector):
            if isinstance(error, Static):
                error.update("")
                error.display = False

    def _show_error(self, field: str, problem: str) -> None:
        target = self.query_one(f"#error-{field}", Static)
        target.update(format.safe(problem))
        target.display = True

    def _show_variable_errors(self, problems: dict[str, str], *, all_fields: bool) -> None:
        self._clear_errors(".variable-error")
        for index, variable in enumerate(self._variables()):
            problem = problems.get(variable.name)
            if problem and (all_fields or variable.name in self.touched):
                self._show_error(f"var-{index}", problem)

    def _status(self, text: str) -> None:
        self.query_one("#preview-status", Static).update(format.safe(text))

    # -- preview ----------------------------------------------------------------

    @work(exclusive=True, group="template-form-preview")
    async def preview(self, *, pause: float = PREVIEW_PAUSE, all_fields: bool = False) -> None:
        """Render with the values in the form; a newer request cancels an
        older one, so typing only renders once it pauses."""
        if self.detail is None:
            return
        if pause:
            await asyncio.sleep(pause)
        await self._render_files(all_fields=all_fields)

    async def _render_files(self, *, all_fields: bool) -> RenderedProject | None:
        values = self._values()
        try:
            rendered = await preview_template(deck(self).database, self.template, values)
        except VariableErrors as error:
            self._show_variable_errors(error.problems, all_fields=all_fields)
            self._status(
                "Fill in the fields marked in red to see the files."
                if self.rendered is None
                else "[b]Out of date:[/b] fix the fields marked in red to render again."
            )
            return None
        except StoreError as error:
            self._status(error.message)
            return None
        self._show_variable_errors({}, all_fields=True)
        self.query_one(FileBrowser).refresh_files(rendered.files)
        self.rendered = rendered
        count = len(rendered.files)
        self._status(f"{count} file{'s' if count != 1 else ''} · ctrl+t to browse them")
        return rendered

    @on(Input.Changed, "#template-variables Input")
    @on(Select.Changed, "#template-variables Select")
    @on(Checkbox.Changed, "#template-variables Checkbox")
    def _variable_changed(self, event: Input.Changed | Select.Changed | Checkbox.Changed) -> None:
        widget = event.control
        if widget is None or widget.id is None or self.detail is None:
            return
        index = int(widget.id.removeprefix("var-"))
        self.touched.add(self._variables()[index].name)
        self.preview()

    # -- create -----------------------------------------------------------------

    def action_create(self) -> None:
        data = checked(self, self._project)
        if data is not None:
            self.check_then_confirm(data)

    @work(exclusive=True, group="template-form-preview")
    async def check_then_confirm(self, data: TemplateProjectCreate) -> None:
        if self.detail is None:
            return
        rendered = await self._render_files(all_fields=True)
        if rendered is None:
            self._show_error("form", "Nothing was saved: fix the fields marked in red.")
            return
        count = len(rendered.files)
        question = (
            f"Create project {escape(repr(data.name.strip()))} from template "
            f"{escape(repr(self.template))} "
            f"with {count} file{'s' if count != 1 else ''}?"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.create(data)

        self.app.push_screen(ConfirmScreen(question, yes="Create"), answered)

    @work(exclusive=True, group="template-form-save")
    async def create(self, data: TemplateProjectCreate) -> None:
        try:
            config = await create_project_from_template(deck(self).database, self.template, data)
        except VariableErrors as error:
            self._show_variable_errors(error.problems, all_fields=True)
            self._show_error("form", "Nothing was saved: fix the fields marked in red.")
            return
        except ValidationError as error:
            self._show_error(*where_shown(error, _PROJECT_FIELDS))
            return
        except Conflict as error:
            field = "github" if "GitHub repository" in error.message else "name"
            self._show_error(field, error.message)
            return
        except StoreError as error:
            self._show_error("form", error.message)
            return
        project = config.project
        self.notify(f"Created project {project.name!r} from template {self.template!r}")
        self.dismiss(project.id)

    # -- keys -------------------------------------------------------------------

    def action_preview(self) -> None:
        self.preview(pause=0, all_fields=True)

    def action_focus_files(self) -> None:
        self.query_one("#preview-files Tree", Tree).focus()

    def action_cancel(self) -> None:
        typed = any(self.query_one(f"#{wid}", Input).value for wid in ("name", "owner", "github"))
        if not typed and not self.touched:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Discard this new project? What you typed is lost.", yes="Discard"),
            answered,
        )


def _field(title: str, wid: str, placeholder: str) -> ComposeResult:
    yield Label(title, classes="field-label")
    yield Input(id=wid, placeholder=placeholder, compact=True)
    yield _error_line(wid)


def _error_line(wid: str) -> Static:
    """Where a field's problem shows (hidden while it has none)."""
    line = Static("", id=f"error-{wid}", classes="field-error", markup=False)
    line.display = False
    return line


def _variable_field(index: int, variable: Variable) -> list[Widget]:
    """Label, input by type, help text and error line of one variable."""
    wid = f"var-{index}"
    title = variable.name + (" (required)" if variable.required else "")
    widget: Widget
    if variable.type == VariableType.BOOLEAN:
        widget = Checkbox(variable.name, value=bool(variable.default), id=wid, compact=True)
    elif variable.type == VariableType.CHOICE:
        chosen = variable.default if variable.default in variable.choices else None
        widget = Select(
            [(choice, choice) for choice in variable.choices],
            id=wid,
            value=chosen if chosen is not None else Select.NULL,
            allow_blank=chosen is None,
            compact=True,
        )
    else:
        default = "" if variable.required or variable.default is None else str(variable.default)
        widget = Input(
            default,
            id=wid,
            type="integer" if variable.type == VariableType.INTEGER else "text",
            placeholder=format.plain(variable.pattern or variable.type),
            compact=True,
        )
    help_text = variable.help or ""
    if variable.pattern:
        help_text = f"{help_text} Pattern: {variable.pattern}".strip()
    return [
        Label(title, classes="field-label"),
        widget,
        Static(format.safe(help_text), id=f"help-{wid}", classes="field-help"),
        _error_line(wid).add_class("variable-error"),
    ]


def open_template_form(app: App[Any], template: str) -> None:
    """Show the form; once the project is created, open its detail."""
    from tui.screens.project_detail import ProjectDetailScreen

    def created(project_id: uuid.UUID | None) -> None:
        if project_id is not None:
            app.push_screen(ProjectDetailScreen(project_id))

    app.push_screen(TemplateProjectForm(template), created)
