"""Every project's modifications, newest first, with a read-only view of
the selected one; enter opens it on the review screen (read-only once
applied or rejected)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Header, Input, Select, Static

from store.models import ModificationStatus
from store.services import ModificationRow
from store.services.review import get_modification, list_modifications
from tui.bindings import clear_filter_key, copy_id_key, filter_key, reload_key
from tui.context import attempt, copy_to_clipboard, deck
from tui.screens.filtered import FilteredScreen
from tui.widgets.code_theme import app_syntax_theme
from tui.widgets.modification_view import render_modification
from tui.widgets.tables import (
    PAGE,
    ModificationTable,
    redraw_keeping_cursor,
    table_with_detail,
)


class ModificationsScreen(FilteredScreen):
    TITLE = "Modifications"
    BINDINGS = [
        filter_key("modifications", "search"),
        Binding("f", "focus_status", "Status filter", id="modifications.focus_status"),
        reload_key("modifications"),
        copy_id_key("modifications"),
        clear_filter_key("modifications"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.total = 0
        self.generation = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="filters"):
            yield Select(
                [(status.value, status.value) for status in ModificationStatus],
                prompt="every status",
                id="modification-status",
            )
            yield Input(
                placeholder="/ requests and requesters containing…",
                id="modification-search",
                classes="as-you-type",
            )
        table = ModificationTable(id="modifications-table")
        yield from table_with_detail(
            table, "modifications", detail="modification-detail", view="modification-view"
        )

    def on_mount(self) -> None:
        self.query_one("#modification-detail").border_title = "Modification"
        self.query_one(ModificationTable).focus()
        # Its diffs are coloured for the theme: drawn again when it changes.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show_selected())

    def on_screen_resume(self) -> None:
        # Back from a review: the cursor stays where it was.
        self.store_changed()

    def _statuses(self) -> list[ModificationStatus]:
        value = self.query_one("#modification-status", Select).value
        return [] if value is Select.NULL else [ModificationStatus(str(value))]

    def reload(self) -> None:
        self.generation += 1
        self.load(self.generation, 0)

    def store_changed(self) -> None:
        """Another process wrote: read the loaded rows again (statuses,
        reviewers), the cursor staying on its modification."""
        self.generation += 1
        self.load(
            self.generation, 0, rows=len(self.query_one(ModificationTable).items), keep_place=True
        )

    @work(exclusive=True, group="modifications-load")
    async def load(
        self, generation: int, offset: int, *, rows: int = PAGE, keep_place: bool = False
    ) -> None:
        """Rows from ``offset``: at least ``rows`` of them (a page at a time)
        or as many as there are."""
        items: list[ModificationRow] = []
        total = 0
        while True:
            page = await attempt(
                self,
                list_modifications(
                    deck(self).database,
                    statuses=self._statuses(),
                    search=self.query_one("#modification-search", Input).value or None,
                    oldest_first=False,
                    limit=PAGE,
                    offset=offset + len(items),
                ),
            )
            if page is None or generation != self.generation:
                return
            items += page.items
            total = page.total
            if len(items) >= rows or not page.items or offset + len(items) >= total:
                break
        self.total = total
        table = self.query_one(ModificationTable)
        now = deck(self).clock()
        more = offset + len(items) < total
        if offset > 0:
            table.show(items, now, append=True, more=more)
        else:
            redraw_keeping_cursor(
                table, lambda: table.show(items, now, more=more), keep_place=keep_place
            )
        self.query_one("#modifications-status", Static).update(
            f"{self.total} modification{'s' if self.total != 1 else ''} · {len(table.items)} loaded"
        )
        if offset == 0:
            self._show_selected()

    @on(ModificationTable.NearEnd)
    def _next_page(self, event: ModificationTable.NearEnd) -> None:
        self.load(self.generation, event.offset)

    @on(ModificationTable.RowHighlighted)
    def _show_selected(self) -> None:
        row = self.query_one(ModificationTable).selected()
        if row is None:
            self.query_one("#modification-view", Static).update("No modifications match.")
            return
        self.show_detail(str(row.id))

    @on(ModificationTable.RowSelected)
    def _review(self) -> None:
        from tui.screens.review import ReviewScreen

        table = self.query_one(ModificationTable)
        row = table.selected()
        if row is not None:
            self.app.push_screen(ReviewScreen(row.id, [item.id for item in table.items]))

    @work(exclusive=True, group="modification-detail")
    async def show_detail(self, ref: str) -> None:
        detail = await attempt(self, get_modification(deck(self).database, ref))
        if detail is not None:
            self.query_one("#modification-view", Static).update(
                render_modification(detail, deck(self).clock(), theme=app_syntax_theme(self.app))
            )

    @on(Select.Changed, "#modification-status")
    def _status_changed(self) -> None:
        self.reload()
        self.query_one(ModificationTable).focus()

    def action_copy_id(self) -> None:
        row = self.query_one(ModificationTable).selected()
        if row is not None:
            copy_to_clipboard(self, str(row.id), f"the id of modification {row.id}")

    def action_focus_status(self) -> None:
        self.query_one("#modification-status", Select).focus()

    def action_search(self) -> None:
        self.query_one("#modification-search", Input).focus()

    @on(Input.Submitted, "#modification-search")
    def _searched(self) -> None:
        self.query_one(ModificationTable).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#modification-status", Select).clear()
        self.query_one("#modification-search", Input).value = ""
        self.query_one(ModificationTable).focus()

    def action_reload(self) -> None:
        self.reload()
