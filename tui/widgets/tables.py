"""Tables shared by screens: store rows by id (ItemTable), modifications and
audit rows; redrawing a table keeping its cursor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowDoesNotExist, RowKey

from store.models import AuditEntry
from store.services import ModificationRow
from tui import format


class _Keyed(Protocol):
    @property
    def id(self) -> object: ...


Item = TypeVar("Item", bound=_Keyed)


def redraw_keeping_cursor(
    table: DataTable[object], fill: Callable[[], None], *, keep_place: bool = False
) -> None:
    """Refill ``table`` with ``fill`` (which clears it first), the cursor
    staying on the row with the same key and that row on the same line of
    the view. If that row is gone the cursor goes to the top, or with
    ``keep_place`` stays at the same position (a live refresh must not
    send a reader back to the top)."""
    old_index = table.cursor_row
    key = None
    if 0 <= old_index < table.row_count:
        key = table.coordinate_to_cell_key(Coordinate(old_index, 0)).row_key
    scroll_y = table.scroll_y
    fill()
    if key is None or not table.row_count:
        return
    try:
        index = table.get_row_index(key)
    except RowDoesNotExist:
        if not keep_place:
            return
        index = min(old_index, table.row_count - 1)
    table.move_cursor(row=index, scroll=False)
    # After the refresh that sizes the refilled table; rows are one line high.
    table.call_after_refresh(table.scroll_to, y=scroll_y + index - old_index, animate=False)


class SafeTable(DataTable[object]):
    """A DataTable whose cells are shown as text: a string is never read as
    markup, and no cell can send a control character to the terminal
    (``format.safe_renderable``), whoever wrote what it holds."""

    def add_row(
        self,
        *cells: object,
        height: int | None = 1,
        key: str | None = None,
        label: str | Text | None = None,
    ) -> RowKey:
        return super().add_row(
            *(format.safe_renderable(cell) for cell in cells),
            height=height,
            key=key,
            label=None if label is None else format.safe(label),
        )

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: object,
        *,
        update_width: bool = False,
    ) -> None:
        super().update_cell(
            row_key, column_key, format.safe_renderable(value), update_width=update_width
        )


class ItemTable(SafeTable, Generic[Item]):
    """A table of store rows (``items``, one per table row, keyed by its id),
    cursor by row. A subclass says which cells a row shows (``cells``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.items: list[Item] = []

    def cells(self, item: Item, now: datetime) -> list[object]:
        raise NotImplementedError

    def show(self, items: list[Item], now: datetime, *, append: bool = False) -> None:
        """Show ``items`` (after those shown, with ``append``); ``now`` dates them."""
        if not append:
            self.clear()
            self.items = []
        for item in items:
            self.items.append(item)
            self.add_row(*self.cells(item, now), key=str(item.id))

    def selected(self) -> Item | None:
        if not self.items or not 0 <= self.cursor_row < len(self.items):
            return None
        return self.items[self.cursor_row]


class ModificationTable(ItemTable[ModificationRow]):
    """Modifications: status, project, request, requester, dates."""

    def __init__(self, *, with_project: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.with_project = with_project

    def on_mount(self) -> None:
        self.add_column("Status", key="status")
        if self.with_project:
            self.add_column("Project", key="project")
        self.add_column("Request", key="request")
        self.add_column("Requested by", key="requester")
        self.add_column("Requested", key="requested")
        self.add_column("Reviewed by", key="reviewer")
        self.add_column("Reviewed", key="reviewed")

    def cells(self, row: ModificationRow, now: datetime) -> list[object]:
        cells: list[object] = [format.status_text(row.status)]
        # Text, not str: DataTable reads strings as markup, names are as typed.
        if self.with_project:
            cells.append(format.safe(row.project_name))
        return [
            *cells,
            format.safe(row.request, overflow="ellipsis", no_wrap=True),
            format.safe(row.requested_by),
            format.ago(row.requested_at, now),
            format.safe(row.reviewed_by or "—"),
            format.ago(row.reviewed_at, now),
        ]


class AuditTable(ItemTable[AuditEntry]):
    """Audit rows, newest first."""

    def on_mount(self) -> None:
        self.add_column("When", key="at")
        self.add_column("Severity", key="severity")
        self.add_column("Category", key="category")
        self.add_column("Actor", key="actor")
        self.add_column("Event", key="event")
        self.add_column("Description", key="description")

    def cells(self, entry: AuditEntry, now: datetime) -> list[object]:
        return [
            format.ago(entry.at, now),
            format.status_text(entry.severity),
            str(entry.category),
            format.safe(entry.actor),
            format.safe(entry.event_type),
            format.safe(entry.description, overflow="ellipsis", no_wrap=True),
        ]
