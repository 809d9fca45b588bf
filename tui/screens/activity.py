"""Agent activity: runs across projects, newest first, filtered by
project, agent and status, with the selected run's detail and the
modifications it proposed (enter reviews one); the conversations no run
belongs to (enter opens one); and what the agents cost over a period."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    DataTable,
    Header,
    Input,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from store.models import RunStatus
from store.services.agent_stats import cost_report
from store.services.agents import (
    RunDetail,
    get_run,
    list_conversations_without_run,
    list_runs,
)
from store.services.browse import find_project_names
from tui.bindings import reload_key
from tui.context import attempt, deck
from tui.screens.conversation import ConversationScreen
from tui.screens.filtered import FilteredScreen
from tui.screens.review import ReviewScreen
from tui.widgets.costs import CostsView
from tui.widgets.footer import DeckFooter
from tui.widgets.picker import PickerField
from tui.widgets.runs import ConversationTable, RunTable, render_run
from tui.widgets.tables import PAGE, ModificationTable

# (label, days back from now; None: since the first record)
PERIODS = [("last 7 days", 7), ("last 30 days", 30), ("last 90 days", 90), ("all time", None)]
DEFAULT_PERIOD = "30"
FILTERS = Binding.Group("Filters")


def _tab_key(key: str, tab_id: str, description: str) -> Binding:
    """A key that opens one of the tabs."""
    return Binding(key, f"show_tab('{tab_id}')", description, id=f"activity.show_tab.{tab_id}")


def _filter_key(key: str, filter_id: str, description: str) -> Binding:
    """A key that focuses one of the runs' filters: they share one footer
    entry ("f a s Filters"); the help lists each key."""
    return Binding(
        key,
        f"focus_filter('{filter_id}')",
        description,
        group=FILTERS,
        id=f"activity.focus_filter.{filter_id}",
    )


class ActivityScreen(FilteredScreen):
    TITLE = "Activity"
    CSS_PATH = "activity.tcss"
    BINDINGS = [
        _tab_key("r", "runs", "Runs"),
        # "No-run": the tab it opens is titled "Conversations without a run".
        _tab_key("w", "conversations", "No-run"),
        _tab_key("c", "costs", "Costs"),
        _filter_key("f", "activity-project", "Project filter"),
        _filter_key("a", "activity-agent", "Agent filter"),
        _filter_key("s", "activity-status", "Status filter"),
        Binding("v", "conversation", "Conversation", id="activity.conversation"),
        Binding("m", "modification", "Modification", id="activity.modification"),
        Binding(
            "p",
            "focus_filter('costs-period')",
            "Period",
            show=False,
            id="activity.focus_filter.costs-period",
        ),
        # / as on the other lists: the runs' text filter is the agent's name.
        Binding(
            "slash",
            "focus_filter('activity-agent')",
            "Filter",
            show=False,
            id="activity.focus_filter.activity-agent.slash",
        ),
        reload_key("activity"),
        Binding("escape", "clear_filters", "Clear", id="activity.clear_filters"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.total = 0
        self.generation = 0
        self.conversations_generation = 0
        self.detail: RunDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="activity-tabs"):
            with TabPane("Runs", id="runs"):
                with Horizontal(id="activity-filters", classes="filters"):
                    yield PickerField("project", self._find_projects, id="activity-project")
                    yield Input(
                        placeholder="agent (exact name)", id="activity-agent", classes="as-you-type"
                    )
                    yield Select(
                        [(status.value, status.value) for status in RunStatus],
                        prompt="every status",
                        id="activity-status",
                    )
                with Horizontal(id="activity-body"):
                    yield RunTable(id="activity-runs")
                    with Vertical(id="activity-side"):
                        with VerticalScroll(id="activity-detail", classes="detail"):
                            yield Static("", id="activity-run")
                        yield ModificationTable(with_project=False, id="activity-proposed")
                yield Static("", id="activity-status-line", classes="status-line")
            with TabPane("Conversations without a run", id="conversations"):
                yield ConversationTable(id="activity-conversations")
                yield Static("", id="activity-conversations-line", classes="status-line")
            with TabPane("Costs", id="costs"):
                with Horizontal(classes="filters"):
                    yield Select(
                        [(label, str(days) if days else "all") for label, days in PERIODS],
                        value=DEFAULT_PERIOD,
                        allow_blank=False,
                        id="costs-period",
                    )
                yield CostsView(id="activity-costs")
        yield DeckFooter()

    def on_mount(self) -> None:
        self.query_one("#activity-detail").border_title = "Run"
        self.query_one("#activity-proposed").border_title = "Proposed modifications"
        self.query_one(RunTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()
        self.reload_conversations()
        self.load_costs()

    # Runs

    async def _find_projects(self, text: str) -> list[tuple[str, str]]:
        found = await find_project_names(deck(self).database, text)
        return [(name, str(project_id)) for project_id, name in found]

    def _chosen(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else str(value)

    def reload(self) -> None:
        self.generation += 1
        self.load(self.generation, 0)

    @work(exclusive=True, group="activity-load")
    async def load(self, generation: int, offset: int) -> None:
        status = self._chosen("#activity-status")
        page = await attempt(
            self,
            list_runs(
                deck(self).database,
                project_ref=self.query_one("#activity-project", PickerField).value,
                agent=self.query_one("#activity-agent", Input).value.strip() or None,
                statuses=[status] if status else [],
                limit=PAGE,
                offset=offset,
            ),
        )
        if page is None or generation != self.generation:
            return
        self.total = page.total
        table = self.query_one(RunTable)
        table.show(page.items, deck(self).clock(), append=offset > 0, more=page.has_more)
        self.query_one("#activity-status-line", Static).update(
            f"{self.total} run{'s' if self.total != 1 else ''} · {len(table.items)} loaded"
        )
        if offset == 0:
            self._show_selected()

    @on(RunTable.NearEnd, "#activity-runs")
    def _next_page(self, event: RunTable.NearEnd) -> None:
        self.load(self.generation, event.offset)

    @on(RunTable.RowHighlighted, "#activity-runs")
    def _show_selected(self) -> None:
        row = self.query_one(RunTable).selected()
        if row is None:
            self.detail = None
            self.query_one("#activity-run", Static).update("No runs match.")
            self.query_one("#activity-proposed", ModificationTable).show([], deck(self).clock())
            return
        self.show_detail(str(row.id))

    @work(exclusive=True, group="activity-detail")
    async def show_detail(self, ref: str) -> None:
        detail = await attempt(self, get_run(deck(self).database, ref))
        if detail is None:
            return
        now = deck(self).clock()
        self.detail = detail
        self.query_one("#activity-run", Static).update(render_run(detail, now))
        proposed = self.query_one("#activity-proposed", ModificationTable)
        proposed.show(detail.modifications, now)
        proposed.display = bool(detail.modifications)

    # Conversations without a run

    def reload_conversations(self) -> None:
        self.conversations_generation += 1
        self.load_conversations(self.conversations_generation, 0)

    @work(exclusive=True, group="activity-conversations")
    async def load_conversations(self, generation: int, offset: int) -> None:
        page = await attempt(
            self, list_conversations_without_run(deck(self).database, limit=PAGE, offset=offset)
        )
        if page is None or generation != self.conversations_generation:
            return
        table = self.query_one(ConversationTable)
        table.show(page.items, deck(self).clock(), append=offset > 0, more=page.has_more)
        count = page.total
        line = f"{count} conversation{'s' if count != 1 else ''} no run belongs to"
        if count:
            line += f" · {len(table.items)} loaded · enter opens one"
        self.query_one("#activity-conversations-line", Static).update(line)

    @on(ConversationTable.NearEnd, "#activity-conversations")
    def _next_conversations(self, event: ConversationTable.NearEnd) -> None:
        self.load_conversations(self.conversations_generation, event.offset)

    @on(DataTable.RowSelected, "#activity-conversations")
    def _conversation_chosen(self) -> None:
        row = self.query_one(ConversationTable).selected()
        if row is not None:
            self.app.push_screen(ConversationScreen(row.id))

    @on(Input.Submitted, "#activity-agent")
    def _agent_submitted(self) -> None:
        self.reload()
        self.query_one(RunTable).focus()

    @on(PickerField.Changed, "#activity-project")
    @on(Select.Changed, "#activity-status")
    def _filter_changed(self) -> None:
        self.reload()

    @on(DataTable.RowSelected, "#activity-runs")
    def _run_chosen(self) -> None:
        self.action_conversation()

    @on(DataTable.RowSelected, "#activity-proposed")
    def _proposed_chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_modification(uuid.UUID(event.row_key.value))

    def action_conversation(self) -> None:
        row = self.query_one(RunTable).selected()
        if row is None:
            return
        if row.conversation_id is None:
            self.notify("This run recorded no conversation.", severity="warning")
            return
        self.app.push_screen(ConversationScreen(row.conversation_id))

    def action_modification(self) -> None:
        """Open the modification the run proposed; with several, choose one
        in the list (enter opens it)."""
        detail = self.detail
        if detail is None or not detail.modifications:
            self.notify("This run proposed no modification.", severity="warning")
            return
        if len(detail.modifications) == 1:
            self.open_modification(detail.modifications[0].id)
            return
        self.query_one("#activity-proposed").focus()

    def open_modification(self, modification_id: uuid.UUID) -> None:
        """Review it; n and p step through the run's other proposals."""
        queue = [row.id for row in self.detail.modifications] if self.detail else []
        self.app.push_screen(ReviewScreen(modification_id, queue or None))

    def action_focus_filter(self, widget_id: str) -> None:
        tab = "costs" if widget_id == "costs-period" else "runs"
        self.query_one(TabbedContent).active = tab
        self.query_one(f"#{widget_id}").focus()

    def action_clear_filters(self) -> None:
        self.query_one("#activity-project", PickerField).clear()
        self.query_one("#activity-status", Select).clear()
        self.query_one("#activity-agent", Input).value = ""
        if self.query_one(TabbedContent).active == "runs":
            self.query_one(RunTable).focus()
        self.reload()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "runs":
            self.query_one(RunTable).focus()
        elif tab == "conversations":
            self.query_one(ConversationTable).focus()
        else:
            self.query_one("#costs-period").focus()

    def action_reload(self) -> None:
        self.reload()
        self.reload_conversations()
        self.load_costs()

    # Costs

    @on(Select.Changed, "#costs-period")
    def _period_changed(self) -> None:
        self.load_costs()

    @work(exclusive=True, group="activity-costs")
    async def load_costs(self) -> None:
        value = self._chosen("#costs-period") or DEFAULT_PERIOD
        now = deck(self).clock()
        since = None if value == "all" else now - timedelta(days=int(value))
        label = next(text for text, days in PERIODS if str(days or "all") == value)
        db = deck(self).database
        by_project = await attempt(self, cost_report(db, by="project", since=since, until=now))
        by_model = await attempt(self, cost_report(db, by="model", since=since, until=now))
        by_day = await attempt(self, cost_report(db, by="day", since=since, until=now))
        if by_project is None or by_model is None or by_day is None:
            return
        days = [row.key for row in by_day.rows if isinstance(row.key, date)]
        last = now.date()
        first = since.date() if since is not None else min(days, default=last)
        self.query_one(CostsView).show(
            period=label,
            by_project=by_project,
            by_model=by_model,
            by_day=by_day,
            first=first,
            last=last,
        )
