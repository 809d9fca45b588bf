"""The template library: categories, a list filtered as you type by name,
tag or tech stack, and a preview of the selected template."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from store.models import TemplateCategory
from store.services import TemplateFilter
from store.services.templates import TemplateDetail, TemplateSummary, get_template, list_templates
from tui import format
from tui.bindings import clear_filter_key, filter_key
from tui.context import attempt, deck
from tui.screens.template_form import open_template_form
from tui.widgets.codebase import FileBrowser
from tui.widgets.footer import DeckFooter

ALL = "all"


class TemplatesScreen(Screen[None]):
    TITLE = "Templates"
    BINDINGS = [
        Binding("c", "create_project", "New project from template", id="templates.create_project"),
        filter_key("templates"),
        Binding("g", "focus_categories", "Categories", id="templates.focus_categories"),
        Binding("l", "focus_list", "List", id="templates.focus_list"),
        Binding("t", "focus_files", "Files", id="templates.focus_files"),
        clear_filter_key("templates"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.templates: list[TemplateSummary] = []
        self.shown: list[TemplateSummary] = []
        self.category = ALL

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="templates-body"):
            with Vertical(id="templates-side"):
                yield OptionList(id="template-categories")
                yield Input(placeholder="/ name, tag or stack", id="template-filter")
                yield OptionList(id="template-list")
            with VerticalScroll(id="template-preview", classes="detail"):
                yield Static("", id="template-info")
                yield FileBrowser(id="template-files")
        yield DeckFooter()

    def on_mount(self) -> None:
        self.query_one("#template-preview").border_title = "Preview"
        self.query_one("#template-list", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.load()

    @work(exclusive=True, group="templates-load")
    async def load(self) -> None:
        page = await attempt(self, list_templates(deck(self).database, TemplateFilter(), limit=500))
        if page is None:
            return
        self.templates = page.items
        categories = self.query_one("#template-categories", OptionList)
        highlighted = categories.highlighted
        categories.clear_options()
        categories.add_option(Option(f"all ({len(self.templates)})", id=ALL))
        for category in TemplateCategory:
            count = sum(1 for t in self.templates if t.category == category)
            categories.add_option(Option(f"{category.value} ({count})", id=category.value))
        categories.highlighted = highlighted if highlighted is not None else 0
        self._filter()

    def _filter(self) -> None:
        needle = self.query_one("#template-filter", Input).value.strip().lower()
        self.shown = [
            template
            for template in self.templates
            if (self.category == ALL or template.category == self.category)
            and (
                not needle
                or needle in template.name.lower()
                or any(needle in tag.lower() for tag in template.tags)
                or any(needle in item.lower() for item in template.tech_stack)
            )
        ]
        listing = self.query_one("#template-list", OptionList)
        listing.clear_options()
        for template in self.shown:
            listing.add_option(Option(f"{template.name}  [dim]{template.category}[/dim]"))
        if self.shown:
            listing.highlighted = 0
            self.preview(self.shown[0].name)
        else:
            self.query_one("#template-info", Static).update("No template matches.")
            self.query_one(FileBrowser).show({})

    @on(OptionList.OptionHighlighted, "#template-categories")
    def _category(self, event: OptionList.OptionHighlighted) -> None:
        self.category = event.option.id or ALL
        self._filter()

    @on(OptionList.OptionHighlighted, "#template-list")
    def _template(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.shown):
            self.preview(self.shown[event.option_index].name)

    @on(Input.Changed, "#template-filter")
    def _typed(self) -> None:
        self._filter()

    @on(Input.Submitted, "#template-filter")
    def _done(self) -> None:
        self.query_one("#template-list", OptionList).focus()

    @work(exclusive=True, group="template-preview")
    async def preview(self, name: str) -> None:
        detail = await attempt(self, get_template(deck(self).database, name))
        if detail is None:
            return
        self.query_one("#template-info", Static).update(self._describe(detail))
        self.query_one(FileBrowser).show(detail.spec.files)

    @staticmethod
    def _describe(detail: TemplateDetail) -> Group:
        spec = detail.spec
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style="bold", no_wrap=True)
        facts.add_column()
        facts.add_row("Category", str(spec.category))
        facts.add_row("Project type", str(spec.project_type))
        facts.add_row("Tech stack", format.safe(", ".join(spec.tech_stack) or "—"))
        facts.add_row("Tags", format.safe(", ".join(spec.tags) or "—"))
        facts.add_row("Complexity", str(spec.complexity))
        setup = f"about {spec.estimated_setup_time} min" if spec.estimated_setup_time else "—"
        facts.add_row("Setup time", setup)
        facts.add_row("Version", str(detail.version))
        variables = Table(box=None, header_style="bold", padding=(0, 1), expand=True)
        variables.add_column("variable", no_wrap=True)
        variables.add_column("type")
        variables.add_column("required / default")
        variables.add_column("help")
        for variable in spec.variables:
            default = "required" if variable.required else f"default {variable.default!r}"
            variables.add_row(
                *(
                    format.safe(cell)
                    for cell in (variable.name, variable.type, default, variable.help)
                )
            )
        return Group(
            format.safe(spec.name, style="bold"),
            format.safe(spec.description),
            format.safe(""),
            facts,
            format.safe(""),
            format.safe("Variables", style="bold underline"),
            variables,
            format.safe(""),
            format.safe("Files", style="bold underline"),
        )

    def action_create_project(self) -> None:
        highlighted = self.query_one("#template-list", OptionList).highlighted
        if highlighted is None or not 0 <= highlighted < len(self.shown):
            self.notify("Pick a template first.", severity="warning")
            return
        open_template_form(self.app, self.shown[highlighted].name)

    def action_filter(self) -> None:
        self.query_one("#template-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#template-filter", Input).value = ""
        self.query_one("#template-list", OptionList).focus()

    def action_focus_categories(self) -> None:
        self.query_one("#template-categories", OptionList).focus()

    def action_focus_list(self) -> None:
        self.query_one("#template-list", OptionList).focus()

    def action_focus_files(self) -> None:
        self.query_one("#template-files Tree").focus()
