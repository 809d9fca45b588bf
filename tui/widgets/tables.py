"""Tables shared by screens: store rows by id (ItemTable), modifications and
audit rows; redrawing a table keeping its cursor; the paging of the list
screens (a page at a time, the next one as the cursor nears the end) and
their layout (the table, a detail pane, a status line)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey, RowDoesNotExist, RowKey

from store.models import AuditEntry
from store.services import ModificationRow
from tui import format
from tui.widgets.footer import DeckFooter

# The rows a list screen asks the store for at a time.
PAGE = 100
# The next page is asked for when the cursor comes this close to the last
# loaded row.
NEAR_END = 20


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


def next_page_due(cursor_row: int, loaded: int, *, more: bool) -> bool:
    """Whether a list of ``loaded`` rows, the cursor on ``cursor_row``,
    should load its next page: when ``more`` rows may follow and the cursor
    is near the end."""
    return more and cursor_row >= loaded - NEAR_END


def table_with_detail(
    table: DataTable[object], name: str, *, detail: str, view: str
) -> ComposeResult:
    """A list screen below its filters: ``table`` with a detail pane beside
    it (the scroll ``detail`` holding the Static ``view``), together
    ``{name}-body``; the status line ``{name}-status`` beneath, and the
    footer. Called from ``compose`` with ``yield from``."""
    with Horizontal(id=f"{name}-body"):
        yield table
        with VerticalScroll(id=detail, classes="detail"):
            yield Static("", id=view)
    yield Static("", id=f"{name}-status", classes="status-line")
    yield DeckFooter()


# The keys of lists in the terminal tools people live in (less, vim,
# lazygit): j and k step, g and G (and home and end) go to the first and
# the last row.
LIST_KEYS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False, id="tables.cursor_down"),
    Binding("k", "cursor_up", "Up", show=False, id="tables.cursor_up"),
    Binding("g,home", "scroll_top", "First row", show=False, id="tables.scroll_top"),
    Binding("G,end", "scroll_bottom", "Last row", show=False, id="tables.scroll_bottom"),
]


class SafeTable(DataTable[object]):
    """A DataTable whose cells are shown as text: a string is never read as
    markup, and no cell can send a control character to the terminal
    (``format.safe_renderable``), whoever wrote what it holds. ``LIST_KEYS``
    move its cursor."""

    BINDINGS = LIST_KEYS

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
    cursor by row. A subclass names its columns (``COLUMNS``: label and key)
    and the cells a row shows in them (``cells``). Without ``with_project``
    (a table of one project's rows) the ``project`` column and its cells are
    left out."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = ()

    class NearEnd(Message):
        """The cursor came near the end of the rows loaded while more follow:
        the screen loads the next page, from ``offset``."""

        def __init__(self, table: ItemTable[Any], offset: int) -> None:
            super().__init__()
            self.table = table
            self.offset = offset

        @property
        def control(self) -> ItemTable[Any]:
            return self.table

    def __init__(self, *, with_project: bool = True, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.items: list[Item] = []
        # Whether rows follow those loaded: set with each page (``show``).
        self.more = False
        self.with_project = with_project
        self._shown = [self.with_project or key != "project" for _, key in self.COLUMNS]

    def column_width(self, key: str) -> int | None:
        """The fixed width of column ``key``; None sizes it to its cells."""
        return None

    def on_mount(self) -> None:
        for (label, key), shown in zip(self.COLUMNS, self._shown, strict=True):
            if shown:
                self.add_column(label, key=key, width=self.column_width(key))

    def cells(self, item: Item, now: datetime) -> list[object]:
        raise NotImplementedError

    def show(
        self, items: list[Item], now: datetime, *, append: bool = False, more: bool = False
    ) -> None:
        """Show ``items`` (after those shown, with ``append``); ``now`` dates
        them. With ``more`` (rows follow these), the cursor coming near the
        end asks for the next page (``NearEnd``), once."""
        self.more = more
        if not append:
            self.clear()
            self.items = []
        for item in items:
            self.items.append(item)
            cells = self.cells(item, now)
            self.add_row(
                *(cell for cell, shown in zip(cells, self._shown, strict=True) if shown),
                key=str(item.id),
            )

    @on(DataTable.RowHighlighted)
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        if next_page_due(event.cursor_row, len(self.items), more=self.more):
            self.more = False
            self.post_message(self.NearEnd(self, len(self.items)))

    def selected(self) -> Item | None:
        if not self.items or not 0 <= self.cursor_row < len(self.items):
            return None
        return self.items[self.cursor_row]


class ModificationTable(ItemTable[ModificationRow]):
    """Modifications: status, project, request, requester, dates."""

    COLUMNS = (
        ("Status", "status"),
        ("Project", "project"),
        ("Request", "request"),
        ("Requested by", "requester"),
        ("Requested", "requested"),
        ("Reviewed by", "reviewer"),
        ("Reviewed", "reviewed"),
    )

    def cells(self, row: ModificationRow, now: datetime) -> list[object]:
        # Text, not str: DataTable reads strings as markup, names are as typed.
        return [
            format.status_text(row.status),
            format.safe(row.project_name),
            format.safe(row.request, overflow="ellipsis", no_wrap=True),
            format.safe(row.requested_by),
            format.ago(row.requested_at, now),
            format.safe(row.reviewed_by or "—"),
            format.ago(row.reviewed_at, now),
        ]


class AuditTable(ItemTable[AuditEntry]):
    """Audit rows, newest first."""

    COLUMNS = (
        ("When", "at"),
        ("Severity", "severity"),
        ("Category", "category"),
        ("Actor", "actor"),
        ("Event", "event"),
        ("Description", "description"),
    )

    def cells(self, entry: AuditEntry, now: datetime) -> list[object]:
        return [
            format.ago(entry.at, now),
            format.status_text(entry.severity),
            str(entry.category),
            format.safe(entry.actor),
            format.safe(entry.event_type),
            format.safe(entry.description, overflow="ellipsis", no_wrap=True),
        ]
