"""One project: Overview, Settings, Secrets, Codebase, Modifications,
Activity and Runs (the agents' runs and what they cost) tabs."""

from __future__ import annotations

import uuid

from rich.console import Group
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from store.errors import StoreError, ValidationError
from store.models import ProjectStatus
from store.services import projects as project_service
from store.services import team as team_service
from store.services.agent_stats import cost_report
from store.services.agents import list_runs
from store.services.audit import AuditQuery, list_audit
from store.services.project_reads import ProjectConfig
from store.services.review import list_modifications
from tui import format as shown
from tui.bindings import back_key, reload_key
from tui.context import attempt, deck, say_why_refused, team_refusal
from tui.screens.confirm import ConfirmScreen
from tui.screens.project_form import ProjectForm
from tui.screens.secrets_pane import TEAM_PERMISSIONS as SECRETS_PERMISSIONS
from tui.screens.secrets_pane import SecretsPane
from tui.widgets.codebase import FileBrowser
from tui.widgets.costs import cost_table
from tui.widgets.footer import DeckFooter
from tui.widgets.overview import OverviewPane
from tui.widgets.runs import RunTable
from tui.widgets.settings_editor import SettingsEditor
from tui.widgets.tables import AuditTable, ModificationTable, redraw_keeping_cursor

TABS = ["overview", "settings", "secrets", "codebase", "modifications", "activity", "runs"]


# What the project's writes need of the role on a team database.
TEAM_PERMISSIONS = {
    "edit": team_service.CHANGE_PROJECTS,
    "save_settings": team_service.CHANGE_SETTINGS,
}


class ProjectDetailScreen(Screen[None]):
    TITLE = "Project"
    BINDINGS = [
        back_key("project_detail"),
        Binding("e", "edit", "Edit project", id="project_detail.edit"),
        reload_key("project_detail"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", id="project_detail.tab.-1"),
        Binding("right_square_bracket", "tab(1)", "Next tab", id="project_detail.tab.1"),
    ]

    def __init__(self, project_id: uuid.UUID) -> None:
        super().__init__()
        self.project_id = project_id
        self.config: ProjectConfig | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="project-title")
        with TabbedContent(id="project-tabs"):
            with TabPane("Overview", id="overview"):
                yield OverviewPane(id="overview-pane")
            with TabPane("Settings", id="settings"):
                yield SettingsEditor(id="settings-editor")
            with TabPane("Secrets", id="secrets"):
                yield SecretsPane(self.project_id, id="secrets-pane")
            with TabPane("Codebase", id="codebase"):
                yield FileBrowser(id="codebase-browser")
            with TabPane("Modifications", id="modifications"):
                yield ModificationTable(with_project=False, id="project-modifications")
            with TabPane("Activity", id="activity"):
                yield AuditTable(id="project-activity")
            with TabPane("Runs", id="runs"):
                yield Static("", id="project-costs")
                yield RunTable(with_project=False, id="project-runs")
        yield DeckFooter()

    def on_mount(self) -> None:
        deck(self).open_projects.add(self)
        self.load()

    def on_unmount(self) -> None:
        deck(self).open_projects.discard(self)

    @work(exclusive=True, group="detail-load")
    async def load(self, *, discard_settings: bool = False) -> None:
        """Read the project again into every tab. Unsaved settings edits
        are kept (the editor is left as it is) unless ``discard_settings``."""
        app = deck(self)
        db = app.database
        config = await attempt(
            self, project_service.get_project_full_config(db, str(self.project_id))
        )
        if config is None:
            return
        ref = str(self.project_id)
        modifications = await attempt(
            self, list_modifications(db, project_ref=ref, oldest_first=False, limit=200)
        )
        activity = await attempt(self, list_audit(db, AuditQuery(project=ref), limit=200))
        runs = await attempt(self, list_runs(db, project_ref=ref, limit=200))
        costs = await attempt(self, cost_report(db, by="model", project_ref=ref))
        now = app.clock()
        self.config = config
        project = config.project
        self.sub_title = shown.plain(project.name)
        title = shown.safe(project.name, style="bold")
        title.append(f"  {project.type} · {project.status} · {project.owner_id}")
        read_only = self.read_only
        if read_only is not None:
            title.append(f"  read-only: {read_only}", style="bold")
        self.query_one("#project-title", Static).update(shown.sealed(title))
        self.query_one(OverviewPane).show(config, now, show_ids=app.show_ids)
        editor = self.query_one(SettingsEditor)
        if discard_settings or not editor.dirty:
            editor.load(config.settings)
        editor.disabled = read_only is not None
        self.query_one(SecretsPane).show(config.secrets, now, read_only=read_only)
        self.refresh_bindings()
        self.query_one(FileBrowser).show(project.codebase)
        if modifications is not None:
            self.query_one(ModificationTable).show(modifications.items, now)
        if activity is not None:
            self.query_one(AuditTable).show(activity.items, now)
        if runs is not None:
            self.query_one(RunTable).show(runs.items, now)
        if costs is not None:
            heading = f"Agent costs, all time, by model ({runs.total if runs else 0} runs)"
            # A blank line between the costs and the runs table.
            self.query_one("#project-costs", Static).update(
                Group(cost_table(costs, heading, "Model"), shown.safe(""))
            )

    def store_changed(self) -> None:
        self.refresh_lists()

    @work(exclusive=True, group="detail-live")
    async def refresh_lists(self) -> None:
        """Another process wrote: read the Modifications and Activity tabs
        again, each cursor staying on its row. The other tabs are left as
        they are, above all the settings editor and any unsaved edits in it
        (ctrl+r reads everything again)."""
        app = deck(self)
        ref = str(self.project_id)
        modifications = await attempt(
            self, list_modifications(app.database, project_ref=ref, oldest_first=False, limit=200)
        )
        activity = await attempt(self, list_audit(app.database, AuditQuery(project=ref), limit=200))
        now = app.clock()
        if modifications is not None:
            table = self.query_one(ModificationTable)
            redraw_keeping_cursor(
                table, lambda: table.show(modifications.items, now), keep_place=True
            )
        if activity is not None:
            audit = self.query_one(AuditTable)
            redraw_keeping_cursor(audit, lambda: audit.show(activity.items, now), keep_place=True)

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        current = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(current + step) % len(TABS)]

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        # Keys follow the tab: focus its table or tree. Settings keeps the
        # focus on the tab bar, so [ and ] are not typed into an editor; tab
        # moves into the editors.
        pane = event.pane
        targets = {
            "settings": "ContentTabs",
            "secrets": "#secrets-table",
            "codebase": "Tree",
            "modifications": "#project-modifications",
            "activity": "#project-activity",
            "runs": "#project-runs",
        }
        selector = targets.get(pane.id or "")
        if selector is not None:
            self.query_one(selector).focus()

    @on(ModificationTable.RowSelected, "#project-modifications")
    def _review(self) -> None:
        from tui.screens.review import ReviewScreen

        table = self.query_one(ModificationTable)
        row = table.selected()
        if row is not None:
            self.app.push_screen(ReviewScreen(row.id, [item.id for item in table.items]))

    def action_reload(self) -> None:
        """Read the project again; unsaved settings edits are discarded
        only after asking."""
        if not self.has_unsaved_settings:
            self.load(discard_settings=True)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.load(discard_settings=True)

        self.app.push_screen(
            ConfirmScreen(
                "The settings have unsaved changes. Reload and discard them?", yes="Discard"
            ),
            answered,
        )

    @on(DataTable.RowSelected, "#project-runs")
    def _run_chosen(self) -> None:
        from tui.screens.conversation import ConversationScreen

        run = self.query_one(RunTable).selected()
        if run is not None and run.conversation_id is not None:
            self.app.push_screen(ConversationScreen(run.conversation_id))

    @property
    def read_only(self) -> str | None:
        """Why the project cannot be changed (archived, deleted), if so."""
        if self.config is None or self.config.project.status == ProjectStatus.ACTIVE:
            return None
        if self.config.project.status == ProjectStatus.ARCHIVED:
            return "archived; unarchive it (a on Projects) to change it"
        return "deleted; restore it (r on Projects) to change it"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "save_settings") and self.read_only is not None:
            return None  # shown, greyed: the title says why
        permission = TEAM_PERMISSIONS.get(action)
        if permission is not None and team_refusal(self, permission):
            return None  # shown, greyed: pressing it says why
        return True

    def on_key(self, event: events.Key) -> None:
        # The secrets pane's keys too: its greyed ones are said here.
        if say_why_refused(self, event.key, {**TEAM_PERMISSIONS, **SECRETS_PERMISSIONS}):
            event.stop()

    def action_edit(self) -> None:
        if self.config is None or self.read_only is not None:
            return
        self.app.push_screen(ProjectForm(self.project_id), self._edited)

    def _edited(self, saved: uuid.UUID | None) -> None:
        # The form saves the project's fields, not its settings: unsaved
        # settings edits stay in the editor.
        if saved is not None:
            self.load()

    def action_save_settings(self) -> None:
        editor = self.query_one(SettingsEditor)
        editor.clear_errors()
        changes = editor.changes()
        if not changes:
            self.notify("No changes to save")
            return
        self.save_settings(changes)

    @work(exclusive=True, group="settings-save")
    async def save_settings(self, changes: dict[str, object]) -> None:
        editor = self.query_one(SettingsEditor)
        try:
            settings = await project_service.update_settings(
                deck(self).database, str(self.project_id), changes
            )
        except ValidationError as error:
            editor.show_error(error.field, error.problem)
            return
        except StoreError as error:
            self.notify(error.message, severity="error", title="Settings not saved", markup=False)
            return
        editor.load(settings)
        self.notify("Settings saved")

    @property
    def has_unsaved_settings(self) -> bool:
        return self.query_one(SettingsEditor).dirty

    def action_back(self) -> None:
        if not self.has_unsaved_settings:
            self.dismiss()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss()

        self.app.push_screen(
            ConfirmScreen(
                "The settings have unsaved changes. Leave and discard them?", yes="Discard"
            ),
            answered,
        )
