"""The audit log: newest first, paged from the database, filtered by
category, severity, project, actor, text and time; a detail pane with the
metadata; the hash chain verified on demand."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Header, Input, Select, Static

from store.errors import ValidationError
from store.models import AuditCategory, AuditEntry, Severity
from store.services.audit import AuditQuery, audit_page, count_audit, parse_time, verify_chain
from store.services.browse import find_audit_actors, find_project_names, project_names_of
from tui import format
from tui.bindings import reload_key
from tui.context import attempt, deck
from tui.screens.filtered import FilteredScreen
from tui.widgets.picker import PickerField
from tui.widgets.tables import PAGE, AuditTable, table_with_detail


class AuditScreen(FilteredScreen):
    TITLE = "Audit"
    BINDINGS = [
        Binding(
            "slash", "focus_filter('audit-search')", "Search", id="audit.focus_filter.audit-search"
        ),
        Binding(
            "f", "focus_filter('audit-category')", "Filters", id="audit.focus_filter.audit-category"
        ),
        Binding("p", "pick('audit-project')", "Project", id="audit.pick.audit-project"),
        Binding("a", "pick('audit-actor')", "Actor", id="audit.pick.audit-actor"),
        Binding("v", "verify", "Verify chain", id="audit.verify"),
        reload_key("audit"),
        Binding("escape", "clear_filters", "Clear filters", id="audit.clear_filters"),
    ]

    def __init__(self) -> None:
        super().__init__()
        # Rows matching the filters; None while they are being counted.
        self.total: int | None = None
        self.generation = 0
        # Names of the projects on the loaded pages, for the detail pane.
        self.names: dict[uuid.UUID, str] = {}
        self.chain_text = "chain not verified yet (v verifies)"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="audit-filters", classes="filters"):
            yield Input(
                placeholder="/ search descriptions", id="audit-search", classes="as-you-type"
            )
            yield Select(
                [(c.value, c.value) for c in AuditCategory], prompt="category", id="audit-category"
            )
            yield Select(
                [(s.value, s.value) for s in Severity], prompt="severity", id="audit-severity"
            )
            yield PickerField("project", self._find_projects, id="audit-project")
            yield PickerField("actor", self._find_actors, id="audit-actor")
            yield Input(placeholder="since (7d, 2026-01-31)", id="audit-since")
            yield Input(placeholder="until", id="audit-until")
        table = AuditTable(id="audit-table")
        yield from table_with_detail(table, "audit", detail="audit-detail", view="audit-entry")

    def on_mount(self) -> None:
        self.query_one(AuditTable).focus()
        self.query_one("#audit-detail").border_title = "Entry"

    def on_screen_resume(self) -> None:
        self.reload()

    async def _find_projects(self, text: str) -> list[tuple[str, str]]:
        found = await find_project_names(deck(self).database, text)
        return [(name, str(project_id)) for project_id, name in found]

    async def _find_actors(self, text: str) -> list[tuple[str, str]]:
        return [(actor, actor) for actor in await find_audit_actors(deck(self).database, text)]

    def _query(self) -> AuditQuery | None:
        def chosen(selector: str) -> str | None:
            value = self.query_one(selector, Select).value
            return None if value is Select.NULL else str(value)

        def when(selector: str, field: str) -> datetime | None:
            text = self.query_one(selector, Input).value.strip()
            return parse_time(field, text, now=deck(self).clock()) if text else None

        try:
            since = when("#audit-since", "since")
            until = when("#audit-until", "until")
        except ValidationError as error:
            self.query_one("#audit-status", Static).update(format.safe(error.message, style="red"))
            return None
        return AuditQuery(
            project=self.query_one("#audit-project", PickerField).value,
            category=chosen("#audit-category"),
            severity=chosen("#audit-severity"),
            actor=self.query_one("#audit-actor", PickerField).value,
            since=since,
            until=until,
            search=self.query_one("#audit-search", Input).value.strip() or None,
        )

    def reload(self) -> None:
        query = self._query()
        if query is None:
            return
        self.generation += 1
        self.load(self.generation, query, 0)

    @work(exclusive=True, group="audit-load")
    async def load(self, generation: int, query: AuditQuery, offset: int) -> None:
        db = deck(self).database
        rows = await attempt(self, audit_page(db, query, limit=PAGE, offset=offset))
        if rows is None or generation != self.generation:
            return
        unnamed = {
            entry.project_id
            for entry in rows
            if entry.project_id is not None and entry.project_id not in self.names
        }
        if unnamed:
            names = await attempt(self, project_names_of(db, list(unnamed)))
            self.names.update(names or {})
            if generation != self.generation:
                return
        table = self.query_one(AuditTable)
        table.show(rows, deck(self).clock(), append=offset > 0, more=len(rows) == PAGE)
        if offset == 0:
            self._show_entry(table.selected())
            # The rows first; counting every match can take longer than the page.
            self.total = None
            self.count(generation, query)
        self._show_status()

    @work(exclusive=True, group="audit-count")
    async def count(self, generation: int, query: AuditQuery) -> None:
        total = await attempt(self, count_audit(deck(self).database, query))
        if total is None or generation != self.generation:
            return
        self.total = total
        self._show_status()

    def _show_status(self) -> None:
        loaded = len(self.query_one(AuditTable).items)
        matching = (
            "counting matching rows"
            if self.total is None
            else f"{self.total} matching row{'s' if self.total != 1 else ''}"
        )
        self.query_one("#audit-status", Static).update(
            f"{matching} · {loaded} loaded · {self.chain_text}"
        )

    @on(AuditTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_entry(self.query_one(AuditTable).selected())

    @on(AuditTable.NearEnd)
    def _next_page(self, event: AuditTable.NearEnd) -> None:
        query = self._query()
        if query is not None:
            self.load(self.generation, query, event.offset)

    def _show_entry(self, entry: AuditEntry | None) -> None:
        target = self.query_one("#audit-entry", Static)
        if entry is None:
            target.update("No audit rows match.")
            return
        fields = Table.grid(padding=(0, 1))
        fields.add_column(style="bold", no_wrap=True)
        fields.add_column()
        project = self.names.get(entry.project_id, "—") if entry.project_id else "—"
        for label, value in (
            ("When", format.stamp(entry.at)),
            ("Actor", entry.actor),
            ("Event", entry.event_type),
            ("Category", str(entry.category)),
            ("Severity", format.status_text(entry.severity)),
            ("Project", project),
            ("Entity", entry.entity_type or "—"),
        ):
            # Text, not str: a table reads strings as markup, values are as typed.
            fields.add_row(label, format.cell(value))
        metadata: Any = json.dumps(entry.details, indent=2, sort_keys=True, ensure_ascii=False)
        target.update(
            Group(
                format.safe(entry.description, style="bold"),
                format.safe(""),
                fields,
                format.safe(""),
                format.safe("Metadata", style="bold underline"),
                format.safe(metadata),
            )
        )

    @on(Select.Changed)
    @on(PickerField.Changed)
    def _filter_changed(self) -> None:
        self.reload()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.reload()
        self.query_one(AuditTable).focus()

    def action_focus_filter(self, widget_id: str) -> None:
        self.query_one(f"#{widget_id}").focus()

    def action_clear_filters(self) -> None:
        for select in self.query(Select):
            select.clear()
        for picker in self.query(PickerField):
            picker.clear()
        for field in self.query(Input):
            field.value = ""
        self.query_one(AuditTable).focus()
        self.reload()

    def action_pick(self, widget_id: str) -> None:
        picker = self.query_one(f"#{widget_id}", PickerField)
        picker.focus()
        picker.action_pick()

    def action_reload(self) -> None:
        self.reload()

    def action_verify(self) -> None:
        self.chain_text = "verifying the chain…"
        self._show_status()
        self.verify()

    @work(exclusive=True, group="audit-verify")
    async def verify(self) -> None:
        report = await attempt(self, verify_chain(deck(self).database))
        if report is None:
            self.chain_text = "chain not verified (error)"
        elif report.ok:
            self.chain_text = f"chain verified: {report.verified} rows intact"
            self.notify(self.chain_text)
        else:
            self.chain_text = f"CHAIN BROKEN at row {report.bad_row_id}: {report.problem}"
            self.notify(self.chain_text, severity="error", timeout=15)
        self._show_status()
