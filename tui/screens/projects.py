"""Projects, the home screen: a table paged from the database, filtered as
you type, with the actions on the selected project."""

from __future__ import annotations

import uuid

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import DataTable, Header, Input, Static

from store.errors import ValidationError
from store.models import ProjectStatus
from store.services import Page, ProjectFilter, ProjectSort
from store.services import projects as project_service
from store.services import team as team_service
from store.services.browse import ProjectRow, list_project_rows, project_filter_from_text
from tui import format
from tui.bindings import clear_filter_key, copy_id_key, filter_key
from tui.context import attempt, copy_to_clipboard, deck, say_why_refused, team_refusal
from tui.screens.filtered import FilteredScreen
from tui.widgets.footer import DeckFooter
from tui.widgets.tables import PAGE, SafeTable, next_page_due, redraw_keeping_cursor

_SORTS = list(ProjectSort)
# The columns a click on the header sorts by.
_SORT_OF_COLUMN = {
    "name": ProjectSort.NAME,
    "type": ProjectSort.TYPE,
    "status": ProjectSort.STATUS,
    "owner": ProjectSort.OWNER,
    "updated": ProjectSort.UPDATED,
}


# The screen's help (Markdown, as Textual reads a HELP), shown by ? under the keys.
FILTER_HELP = """\
**Filter** (`/`): text finds the projects whose name, owner or GitHub
owner/repo holds it, in any case. A word starting with `dep:`, `stack:` or
`file:` finds them by what they contain instead; each narrows the list, and
so does the text:

- `dep:fastapi`: a dependency named fastapi, in any case and any version
  (`fastapi>=0.110`, `FastAPI` and `fastapi[all]` count)
- `stack:react`: react in the tech stack the project's template recorded,
  or a dependency named react
- `file:src/*.py`: a file whose whole path matches the glob, in any case;
  `*` is any characters (`/` too), `?` one (a space, say)

Each of `dep:`, `stack:` and `file:` at most once. Escape clears the filter.
"""


class ProjectsScreen(FilteredScreen):
    TITLE = "Projects"
    HELP = FILTER_HELP
    BINDINGS = [
        filter_key("projects"),
        Binding("n", "new", "New", id="projects.new"),
        Binding("e", "edit", "Edit", id="projects.edit"),
        Binding("a", "archive", "Archive/unarchive", id="projects.archive"),
        Binding("d", "delete", "Delete", id="projects.delete"),
        Binding("r", "restore", "Restore", id="projects.restore"),
        Binding("s", "sort", "Sort", id="projects.sort"),
        copy_id_key("projects"),
        Binding(
            "A", "show_status('archived')", "Show archived", id="projects.show_status.archived"
        ),
        Binding("D", "show_status('deleted')", "Show deleted", id="projects.show_status.deleted"),
        clear_filter_key("projects"),
    ]
    # The writes a team role may not do are greyed; pressing one says why.
    TEAM_PERMISSIONS = dict.fromkeys(
        ("new", "edit", "archive", "delete", "restore"), team_service.CHANGE_PROJECTS
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        permission = self.TEAM_PERMISSIONS.get(action)
        if permission is not None and team_refusal(self, permission):
            return None
        return True

    def on_key(self, event: events.Key) -> None:
        if say_why_refused(self, event.key, self.TEAM_PERMISSIONS):
            event.stop()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ProjectRow] = []
        self.total = 0
        self.sort = ProjectSort.UPDATED
        self.show_archived = False
        self.show_deleted = False
        # Bumped on every new query, so a late page of an old one is dropped.
        self.generation = 0

    def compose(self) -> ComposeResult:
        yield Header()
        filter_input = Input(
            placeholder="/ filter by name, owner or repository",
            id="project-filter",
            classes="as-you-type",
        )
        filter_input.tooltip = Text(
            "name, owner or repository; dep:NAME, stack:NAME, file:GLOB find projects by "
            "what they contain (? explains)"
        )
        yield filter_input
        yield SafeTable(id="projects", cursor_type="row", zebra_stripes=True)
        yield Static("", id="projects-status", classes="status-line")
        yield DeckFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key in (
            ("Name", "name"),
            ("Type", "type"),
            ("Status", "status"),
            ("Owner", "owner"),
            ("GitHub", "github"),
            ("Pending", "pending"),
            ("Cov", "coverage"),
            ("Sec", "security"),
            ("Perf", "performance"),
            ("Updated", "updated"),
        ):
            table.add_column(label, key=key)
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    # Queries -----------------------------------------------------------------

    def _filters(self) -> ProjectFilter | None:
        """The filters as typed, or None, the problem shown in the status
        line, when they ask for what cannot be searched (a dependency with
        its version, say)."""
        statuses = [ProjectStatus.ACTIVE]
        if self.show_archived:
            statuses.append(ProjectStatus.ARCHIVED)
        if self.show_deleted:
            statuses.append(ProjectStatus.DELETED)
        text = self.query_one("#project-filter", Input).value
        try:
            return project_filter_from_text(text, statuses)
        except ValidationError as error:
            self.query_one("#projects-status", Static).update(
                format.safe(f"filter: {error.message}", style="bold red")
            )
            return None

    def reload(self) -> None:
        self.generation += 1
        filters = self._filters()
        if filters is None:
            self.query_one(DataTable).clear()
            self.rows, self.total = [], 0
            return
        self.load_first_page(self.generation, filters, self.sort)

    def store_changed(self) -> None:
        """Another process wrote: read the loaded rows again (pending
        counts, statuses, names), the cursor staying on its project."""
        self.generation += 1
        filters = self._filters()
        if filters is not None:
            self.load_first_page(
                self.generation, filters, self.sort, rows=len(self.rows), keep_place=True
            )

    @work(exclusive=True, group="projects-load")
    async def load_first_page(
        self,
        generation: int,
        filters: ProjectFilter,
        sort: ProjectSort,
        *,
        rows: int = PAGE,
        keep_place: bool = False,
    ) -> None:
        """The first rows: at least ``rows`` of them or as many as match (in
        pages as large as the store gives, counted once). The cursor stays
        on the project it was on."""
        items: list[ProjectRow] = []
        total: int | None = None
        while True:
            page = await self._page_after(
                items, filters, sort, limit=max(PAGE, rows - len(items)), total=total
            )
            if page is None or generation != self.generation:
                return
            items += page.items
            total = page.total
            if len(items) >= rows or not page.items or len(items) >= total:
                break

        def fill() -> None:
            self.query_one(DataTable).clear()
            self.rows = []
            self.total = total
            self._append(items)

        redraw_keeping_cursor(self.query_one(DataTable), fill, keep_place=keep_place)
        self._show_status()
        self.call_after_refresh(deck(self).first_rows_shown)

    @work(exclusive=True, group="projects-more")
    async def load_more(self, generation: int, filters: ProjectFilter, sort: ProjectSort) -> None:
        # The count came with the first page.
        page = await self._page_after(self.rows, filters, sort, limit=PAGE, total=self.total)
        if page is None or generation != self.generation:
            return
        self.total = page.total
        self._append(page.items)
        self._show_status()

    async def _page_after(
        self,
        loaded: list[ProjectRow],
        filters: ProjectFilter,
        sort: ProjectSort,
        *,
        limit: int,
        total: int | None,
    ) -> Page[ProjectRow] | None:
        """The page that follows the ``loaded`` rows, or None if the store
        failed (and said so). By update time it starts after the last row
        (keyset), however deep."""
        last = loaded[-1] if loaded and sort is ProjectSort.UPDATED else None
        return await attempt(
            self,
            list_project_rows(
                deck(self).database,
                filters,
                sort=sort,
                limit=limit,
                offset=0 if last is not None else len(loaded),
                after=(last.updated_at, last.id) if last is not None else None,
                total=total,
            ),
        )

    def _append(self, rows: list[ProjectRow]) -> None:
        table = self.query_one(DataTable)
        app = deck(self)
        now = app.clock()
        known = {row.id for row in self.rows}
        for row in rows:
            if row.id in known:
                continue
            self.rows.append(row)
            pending = format.safe(
                str(row.pending_modifications) if row.pending_modifications else "·"
            )
            if row.pending_modifications:
                pending.stylize("bold cyan")
            # Text, not str: DataTable reads strings as markup, names are as typed.
            table.add_row(
                format.safe(row.name),
                str(row.type),
                format.status_text(row.status),
                format.safe(row.owner_id),
                format.safe(row.github or "—"),
                pending,
                *(
                    format.safe(format.score(value), style=format.score_style(value))
                    for value in (row.test_coverage, row.security_score, row.performance_score)
                ),
                format.ago(row.updated_at, now),
                key=str(row.id),
            )

    def _show_status(self) -> None:
        shown = ["active"]
        if self.show_archived:
            shown.append("archived")
        if self.show_deleted:
            shown.append("deleted")
        self.query_one("#projects-status", Static).update(
            f"{self.total} project{'s' if self.total != 1 else ''} ({', '.join(shown)}) · "
            f"sorted by {self.sort.value} · {len(self.rows)} loaded"
        )

    @on(DataTable.RowHighlighted)
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        loaded = len(self.rows)
        if next_page_due(event.cursor_row, loaded, more=loaded < self.total):
            filters = self._filters()
            if filters is not None:
                self.load_more(self.generation, filters, self.sort)

    @on(Input.Submitted, "#project-filter")
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        # The screens this one opens load when first opened, not at start-up.
        from tui.screens.project_detail import ProjectDetailScreen

        row = self.selected()
        if row is not None:
            self.app.push_screen(ProjectDetailScreen(row.id))

    def selected(self) -> ProjectRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    # Actions -----------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one("#project-filter", Input).focus()

    def action_clear_filter(self) -> None:
        filter_input = self.query_one("#project-filter", Input)
        if filter_input.value:
            filter_input.value = ""
        self.query_one(DataTable).focus()

    def action_sort(self) -> None:
        self.sort = _SORTS[(_SORTS.index(self.sort) + 1) % len(_SORTS)]
        self.reload()

    @on(DataTable.HeaderSelected, "#projects")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        sort = _SORT_OF_COLUMN.get(str(event.column_key.value))
        if sort is None:
            self.notify(f"The projects cannot be sorted by {event.label.plain}")
        elif sort is not self.sort:
            self.sort = sort
            self.reload()

    def action_show_status(self, which: str) -> None:
        if which == "archived":
            self.show_archived = not self.show_archived
        else:
            self.show_deleted = not self.show_deleted
        self.reload()

    def action_new(self) -> None:
        from tui.screens.project_form import ProjectForm

        self.app.push_screen(ProjectForm(), self._saved)

    def action_copy_id(self) -> None:
        row = self.selected()
        if row is not None:
            copy_to_clipboard(self, str(row.id), f"the id of project {row.name!r}: {row.id}")

    def action_edit(self) -> None:
        from tui.screens.project_form import ProjectForm

        row = self._selected_undeleted("Deleted projects cannot be edited; r restores")
        if row is not None and row.status == ProjectStatus.ARCHIVED:
            self.notify("Archived projects are read-only; a unarchives", severity="warning")
        elif row is not None:
            self.app.push_screen(ProjectForm(row.id), self._saved)

    def _selected_undeleted(self, refusal: str) -> ProjectRow | None:
        """The selected project; None, with ``refusal`` shown, when it is deleted."""
        row = self.selected()
        if row is not None and row.status == ProjectStatus.DELETED:
            self.notify(refusal, severity="warning")
            return None
        return row

    def _saved(self, project_id: uuid.UUID | None) -> None:
        if project_id is not None:
            self.reload()

    def action_archive(self) -> None:
        row = self.selected()
        if row is not None:
            self.change_status(
                row, "unarchive" if row.status == ProjectStatus.ARCHIVED else "archive"
            )

    def action_restore(self) -> None:
        row = self.selected()
        if row is not None:
            self.change_status(row, "restore")

    def action_delete(self) -> None:
        from tui.screens.confirm import ConfirmScreen

        row = self._selected_undeleted("Already deleted; r restores it")
        if row is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.change_status(row, "delete")

        self.app.push_screen(
            ConfirmScreen(
                f"Delete project [b]{escape(format.plain(row.name))}[/b]?\n\n"
                "It is kept, marked deleted, and can be restored (D shows deleted projects).",
                yes="Delete",
            ),
            answered,
        )

    @work(group="projects-write")
    async def change_status(self, row: ProjectRow, action: str) -> None:
        db = deck(self).database
        changes = {
            "archive": project_service.archive_project,
            "unarchive": project_service.unarchive_project,
            "delete": project_service.delete_project,
            "restore": project_service.restore_project,
        }
        project = await attempt(self, changes[action](db, str(row.id)))
        if project is not None:
            self.notify(f"{action.capitalize()}d project {project.name!r}", markup=False)
            self.reload()
