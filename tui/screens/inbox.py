"""The inbox: every pending and approved modification across projects,
oldest first, grouped by project with counts; enter reviews one, ``/``
narrows the list to those whose request, requester or project holds the
text typed."""

from __future__ import annotations

import uuid
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from store.services import ModificationRow
from store.services.review import Inbox, InboxGroup, waiting_modifications
from tui import format
from tui.bindings import copy_id_key, filter_key, reload_key
from tui.context import attempt, copy_to_clipboard, deck
from tui.screens.review import ReviewScreen, waiting_ids
from tui.widgets.footer import DeckFooter

REQUEST_WIDTH = 64


class InboxList(OptionList):
    """Waiting modifications under their project's heading."""

    BINDINGS = [
        Binding("enter", "select", "Review", id="inbox.select"),
        Binding("j", "cursor_down", "Down", show=False, id="inbox.cursor_down"),
        Binding("k", "cursor_up", "Up", show=False, id="inbox.cursor_up"),
        Binding("g", "first", "First", show=False, id="inbox.first"),
        Binding("G", "last", "Last", show=False, id="inbox.last"),
    ]


def matches(wanted: str, group: InboxGroup, row: ModificationRow) -> bool:
    """Whether ``row`` holds ``wanted`` (case-folded; empty: every row) in
    its request, its requester or its project's name."""
    return not wanted or any(
        wanted in text.casefold() for text in (row.request, row.requested_by, group.project_name)
    )


def group_heading(group: InboxGroup) -> Text:
    heading = format.safe(group.project_name)
    counts = []
    if group.pending:
        counts.append(f"{group.pending} pending")
    if group.approved:
        counts.append(f"{group.approved} approved")
    heading.append(f"   {' · '.join(counts)}", style="not bold dim")
    return format.sealed(heading)


def row_text(row: ModificationRow, now: datetime) -> Text:
    line = format.safe("  ")
    line.append_text(format.status_text(row.status))
    line.append(" " * (12 - line.cell_len))
    line.append(format.ago(row.requested_at, now).ljust(12))
    request = format.safe(row.request.splitlines()[0] if row.request else "")
    if row.revision > 1:
        # A new revision of one that was sent back: say which.
        request = format.safe(f"r{row.revision} ", style="bold magenta") + request
    request.truncate(REQUEST_WIDTH, overflow="ellipsis", pad=True)
    line.append_text(request)
    files = len(row.affected_files)
    line.append(f"  {row.requested_by}", style="cyan")
    line.append(f" · {files} file{'s' if files != 1 else ''}", style="dim")
    return format.sealed(line)


def heading_text(inbox: Inbox) -> str:
    if not inbox.waiting:
        return "Inbox · nothing waits"
    return f"Inbox · {inbox.waiting} waiting ({inbox.pending} pending, {inbox.approved} approved)"


class InboxScreen(Screen[None]):
    TITLE = "Inbox"
    CSS_PATH = "inbox.tcss"
    BINDINGS = [
        filter_key("inbox", "search"),
        Binding("escape", "clear_search", "Clear filter", show=False, id="inbox.clear_search"),
        reload_key("inbox"),
        copy_id_key("inbox"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.inbox: Inbox | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="/ requests, requesters, projects containing…", id="inbox-search")
        yield InboxList(id="inbox-list")
        yield Static("Nothing waits for review.", id="inbox-empty")
        yield DeckFooter()

    def on_mount(self) -> None:
        self.query_one("#inbox-empty").display = False
        self.query_one("#inbox-search").display = False
        self.query_one(InboxList).focus()

    def action_search(self) -> None:
        search = self.query_one("#inbox-search", Input)
        search.display = True
        search.focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#inbox-search", Input)
        search.value = ""
        search.display = False
        self.query_one(InboxList).focus()

    @on(Input.Changed, "#inbox-search")
    def _search_changed(self) -> None:
        if self.inbox is not None:
            self.show(self.inbox)

    @on(Input.Submitted, "#inbox-search")
    def _search_done(self) -> None:
        self.query_one(InboxList).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def store_changed(self) -> None:
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    @work(exclusive=True, group="inbox-load")
    async def reload(self) -> None:
        inbox = await attempt(self, waiting_modifications(deck(self).database))
        if inbox is not None:
            self.show(inbox)

    def show(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.title = heading_text(inbox)
        listing = self.query_one(InboxList)
        highlighted = listing.highlighted_option
        keep = highlighted.id if highlighted is not None else None
        now = deck(self).clock()
        options: list[Option] = []
        wanted = self.query_one("#inbox-search", Input).value.strip().casefold()
        for group in inbox.groups:
            rows = [row for row in group.items if matches(wanted, group, row)]
            if rows:
                options.append(Option(group_heading(group), disabled=True))
                options += [Option(row_text(row, now), id=str(row.id)) for row in rows]
        listing.clear_options()
        listing.add_options(options)
        ids = [option.id for option in options]
        if keep is not None and keep in ids:
            listing.highlighted = ids.index(keep)
        elif len(options) > 1:
            listing.highlighted = 1
        empty = self.query_one("#inbox-empty", Static)
        empty.update(
            "Nothing here matches the filter (escape clears it)."
            if inbox.waiting
            else "Nothing waits for review."
        )
        empty.display = not options
        listing.display = bool(options)

    def action_copy_id(self) -> None:
        option = self.query_one(InboxList).highlighted_option
        if option is not None and option.id is not None:
            copy_to_clipboard(self, option.id, f"the id of modification {option.id}")

    @on(OptionList.OptionSelected, "#inbox-list")
    def _review(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is None or self.inbox is None:
            return
        self.app.push_screen(
            ReviewScreen(uuid.UUID(event.option.id), queue=waiting_ids(self.inbox))
        )
