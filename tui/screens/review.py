"""Reviewing one modification by keyboard: its request, impact and tests,
where it stands against its project's git repository (when linked here),
its files and the diff of each, and the actions its state allows (approve,
reject, apply, reopen; revert once applied). After an action the next
waiting modification opens. Final states (applied, rejected) are shown
read-only. ``o`` opens the selected file as proposed in the person's editor."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from store import hunks as hunk_cuts
from store.errors import StoreError
from store.models import CommentSide, HunkVerdict, Modification, ModificationStatus, ProjectStatus
from store.services import hunk_review
from store.services import team as team_service
from store.services.modifications import (
    apply_modification,
    approve_modification,
    reject_modification,
    reopen_modification,
    revert_modification,
)
from store.services.review import (
    FINAL,
    ChangeKind,
    FileChange,
    Inbox,
    ModificationDetail,
    UnchangedFile,
    get_modification,
    waiting_modifications,
)
from store.services.test_runs import TESTABLE
from tui import format
from tui.bindings import back_key
from tui.context import (
    attempt,
    configured,
    copy_to_clipboard,
    deck,
    say_why_refused,
    team_refusal,
)
from tui.editor import view_in_editor
from tui.screens.comment import Comment, CommentScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.reject import RejectScreen
from tui.widgets.diff_view import DiffView
from tui.widgets.footer import DeckFooter
from tui.widgets.repository import Row, change_rows, checking_rows, load_git

KIND_MARKS = {ChangeKind.ADDED: "A", ChangeKind.MODIFIED: "M", ChangeKind.DELETED: "D"}
KIND_STYLES = {ChangeKind.ADDED: "green", ChangeKind.MODIFIED: "yellow", ChangeKind.DELETED: "red"}
RISK_STYLES = {"low": "green", "medium": "yellow", "high": "bold red"}
LOCAL_STYLES = {"passed": "bold green", "failed": "bold red", "timed_out": "bold yellow"}
# Which action each state allows, and the key that runs it.
ALLOWED = {
    "approve": ModificationStatus.PENDING,
    "reject": ModificationStatus.PENDING,
    "apply": ModificationStatus.APPROVED,
    "reopen": ModificationStatus.FAILED,
    "revert": ModificationStatus.APPLIED,
    "decide_hunk": ModificationStatus.PENDING,
    "decide_file": ModificationStatus.PENDING,
    "approve_in_part": ModificationStatus.PENDING,
}
# After storing a decision, how long the screen waits before reading the
# modification again when the database says it changed (its own write).
OWN_WRITES_SECONDS = 1.0
# What acts on the modification's own hunks, not on the changes since the last review.
# What each write needs of the role on a team database: greyed when the
# connected role may not, and pressing it says why.
TEAM_PERMISSIONS = {
    "approve": team_service.APPROVE,
    "reject": team_service.REJECT,
    "apply": team_service.APPLY,
    "reopen": team_service.REOPEN,
    "revert": team_service.REVERT,
    "approve_in_part": team_service.APPROVE,
    "decide_hunk": team_service.DECIDE_HUNKS,
    "decide_file": team_service.DECIDE_HUNKS,
    "comment": team_service.COMMENT,
    "run_tests": team_service.RECORD_TESTS,
}
HUNK_ACTIONS = {"decide_hunk", "decide_file", "approve_in_part", "comment", "undecided"}
# A file's state in the file list, once its hunks are decided on.
FILE_STATE_MARKS = {
    hunk_review.FileState.ACCEPTED: ("✓", "green"),
    hunk_review.FileState.REJECTED: ("✗", "red"),
    hunk_review.FileState.PARTLY: ("◐", "yellow"),
}
# Lines of the change shown before approving in part.
PREVIEW_LINES = 30


def waiting_ids(inbox: Inbox) -> list[uuid.UUID]:
    """The inbox's modifications in the order it lists them."""
    return [item.id for group in inbox.groups for item in group.items]


def readable(value: Any) -> str:
    """An impact analysis or test value as a person reads it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(str(item) for item in value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def impact_text(impact: dict[str, Any]) -> Text:
    line = format.safe()
    risk = impact.get("risk")
    if risk is not None:
        line.append("risk ")
        line.append(readable(risk), style=RISK_STYLES.get(str(risk).lower(), "bold"))
    summary = impact.get("summary")
    if summary is not None:
        line.append(" · " if line else "")
        line.append(readable(summary))
    others = [(key, value) for key, value in impact.items() if key not in ("risk", "summary")]
    for key, value in others:
        line.append("\n" if line and key == others[0][0] else " · " if line else "")
        line.append(f"{key.replace('_', ' ')}: ", style="dim")
        line.append(readable(value))
    return format.sealed(line) if line else format.safe("none given", style="dim")


def test_counts(results: dict[str, Any]) -> Text:
    if not results:
        return format.safe("none attached", style="dim")
    failed = results.get("failed", 0)
    line = format.safe()
    line.append(f"{results.get('passed', 0)} passed", style="green")
    line.append(" · ")
    line.append(f"{failed} failed", style="bold red" if failed else "")
    line.append(f" · {results.get('skipped', 0)} skipped")
    failures = results.get("failures") or []
    if isinstance(failures, list) and failures:
        line.append(f"  ({len(failures)} failing: t shows them)", style="dim")
    return format.sealed(line)


def test_details(results: dict[str, Any], local: dict[str, Any] | None = None) -> RenderableType:
    """The tests panel: counts, each failing test with its message, and the
    other keys the results have; then, if the tests were run here (``T``),
    each command with its exit code and the last lines of their output."""
    parts: list[RenderableType] = []
    if local:
        parts.append(format.safe("Run here (T runs them again)", style="bold underline"))
        for command in local.get("commands") or []:
            if isinstance(command, dict):
                code = command.get("exit_code")
                parts.append(
                    format.safe(
                        f"{command.get('stage', '?'):5} exit {'-' if code is None else code}"
                        f"  {command.get('command', '')}",
                        style="red" if code not in (0, None) else "",
                    )
                )
        tail = local.get("output_tail") or []
        if isinstance(tail, list) and tail:
            parts.append(format.safe("\n".join(str(line) for line in tail[-40:]), multiline=True))
        parts.append(format.safe("As the agent reported them", style="bold underline"))
    parts.append(test_counts(results))
    failures = results.get("failures") or []
    for failure in failures if isinstance(failures, list) else []:
        entry = format.safe("✗ ", style="bold red")
        if isinstance(failure, dict):
            entry.append(str(failure.get("name", "?")), style="bold")
            message = failure.get("message")
            if message:
                entry.append("\n    " + str(message).replace("\n", "\n    "))
        else:
            entry.append(readable(failure))
        parts.append(entry)
    extra = {
        key: value
        for key, value in results.items()
        if key not in ("passed", "failed", "skipped", "failures")
    }
    for key, value in extra.items():
        parts.append(format.safe(f"{key.replace('_', ' ')}: {readable(value)}", style="dim"))
    return Group(*(format.sealed(part) if isinstance(part, Text) else part for part in parts))


def local_tests(results: dict[str, Any], requested_at: Any, now: Any) -> Text:
    """The last run of the project's tests here (``T``, ``mod test``): its
    outcome and counts, who ran it and when, and that it is newer than what
    the agent reported with its proposal."""
    outcome = str(results.get("outcome", "?"))
    line = format.safe(outcome.replace("_", " "), style=LOCAL_STYLES.get(outcome, "bold"))
    counts = results.get("counts")
    if isinstance(counts, dict):
        line.append(
            f" · {counts.get('passed', 0)} passed · {counts.get('failed', 0)} failed"
            f" · {counts.get('errors', 0)} errors · {counts.get('skipped', 0)} skipped"
        )
    finished = results.get("finished_at")
    when = None
    if isinstance(finished, str):
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(finished)
    line.append(f"  by {results.get('run_by', '?')}, {format.ago(when, now)}", style="dim")
    if when is not None and requested_at is not None and when > requested_at:
        line.append(" (newer than the agent's)", style="dim")
    return format.sealed(line)


def summary(
    detail: ModificationDetail, now: Any, *, show_ids: bool, repository: Sequence[Row] = ()
) -> RenderableType:
    """The request and the modification's fields; ``repository``: rows
    about it against its project's git repository, last."""
    mod = detail.modification
    fields = Table.grid(padding=(0, 1))
    fields.add_column(style="bold", no_wrap=True)
    fields.add_column()
    state = format.safe()
    state.append_text(format.status_text(mod.status))
    state.append(f" · {detail.project_name} · {format.short_id(mod.id, shown=show_ids)}")
    fields.add_row("Status", format.sealed(state))
    fields.add_row(
        "Requested", format.safe(f"by {mod.requested_by}, {format.ago(mod.requested_at, now)}")
    )
    if mod.reviewed_by:
        reviewed = format.safe(f"by {mod.reviewed_by}, {format.ago(mod.reviewed_at, now)}")
        if mod.review_comment:
            reviewed.append(f": {mod.review_comment}", style="italic")
        fields.add_row("Reviewed", format.sealed(reviewed))
    if mod.revises_id is not None:
        fields.add_row(
            "Revision",
            format.safe(
                f"{mod.revision}, revising {format.short_id(mod.revises_id, shown=show_ids)}"
                " (v: what changed since)"
            ),
        )
    if mod.failure_reason:
        fields.add_row("Failed", format.safe(mod.failure_reason, "red", multiline=True))
    fields.add_row("Impact", impact_text(mod.impact_analysis))
    fields.add_row("Tests", test_counts(mod.test_results))
    if mod.local_test_results:
        fields.add_row("Run here", local_tests(mod.local_test_results, mod.requested_at, now))
    for label, value in repository:
        fields.add_row(label, value)
    return Group(format.safe(mod.request, "bold", multiline=True), fields)


def file_label(change: FileChange, state: str | None = None) -> Text:
    """A changed file in the list: its kind, path and line counts, and
    what the reviewer decided of its hunks (``state``)."""
    label = format.safe(KIND_MARKS[change.kind] + " ", style=KIND_STYLES[change.kind])
    label.append(change.path)
    label.append(f" +{change.added}", style="green")
    label.append(f" -{change.removed}", style="red")
    mark = FILE_STATE_MARKS.get(state) if state is not None else None
    if mark is not None:
        label.append(f" {mark[0]}", style=f"bold {mark[1]}")
    return format.sealed(label)


def partial_preview(review: hunk_review.HunkReview, accepted: set[int]) -> Text:
    """What approving only the ``accepted`` hunks would apply, as a diff
    (its first lines), for the confirmation."""
    lines: list[str] = []
    for file in review.files:
        mine = {item.index for item in review.of_file(file.path) if item.number in accepted}
        if mine:
            result = file.rebuilt(mine)
            diff, _added, _removed = hunk_cuts.unified(
                hunk_cuts.split(file.path, file.before, result)
            )
            lines.extend(diff.splitlines() or [f"{file.path}: taken whole"])
    text = format.safe()
    for line in lines[:PREVIEW_LINES]:
        style = (
            "bold"
            if line.startswith(("---", "+++"))
            else "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else "cyan"
            if line.startswith("@@")
            else ""
        )
        text.append(line.expandtabs(4) + "\n", style=style)
    if len(lines) > PREVIEW_LINES:
        text.append(f"… {len(lines) - PREVIEW_LINES} more lines\n", style="dim")
    return format.sealed(text)


UNCHANGED_MARK = "affected, not changed"


def unchanged_label(file: UnchangedFile) -> Text:
    """An affected file the modification does not change: listed after the
    changed ones, dim, with no line counts."""
    label = format.safe("= ", style="dim")
    label.append(file.path, style="dim")
    label.append(f" {UNCHANGED_MARK}", style="dim italic")
    return format.sealed(label)


def signature(detail: ModificationDetail) -> tuple[object, ...]:
    """What the screen draws of a modification: equal signatures, same picture."""
    mod = detail.modification
    return (
        mod.status,
        mod.review_comment,
        mod.failure_reason,
        json.dumps(mod.test_results, sort_keys=True),
        json.dumps(mod.local_test_results, sort_keys=True),
        tuple((change.path, change.diff) for change in detail.files),
        tuple((file.path, file.content) for file in detail.unchanged),
    )


class ReviewScreen(Screen[None]):
    TITLE = "Review"
    CSS_PATH = "review.tcss"
    BINDINGS = [
        back_key("review"),
        Binding("j", "file(1)", "Next file", id="review.file.1"),
        Binding("k", "file(-1)", "Previous file", show=False, id="review.file.-1"),
        Binding(
            "n", "modification(1)", "Next modification", show=False, id="review.modification.1"
        ),
        Binding(
            "p",
            "modification(-1)",
            "Previous modification",
            show=False,
            id="review.modification.-1",
        ),
        Binding("a", "approve", "Approve", id="review.approve"),
        Binding("r", "reject", "Reject", id="review.reject"),
        Binding("A", "apply", "Apply", id="review.apply"),
        Binding("o", "open_in_editor", "Open in editor", id="review.open_in_editor"),
        Binding("O", "reopen", "Reopen", id="review.reopen"),
        Binding("R", "revert", "Revert", id="review.revert"),
        # The summary's Tests line says "t shows them" where tests failed.
        Binding("t", "tests", "Tests", show=False, id="review.tests"),
        Binding("T", "run_tests", "Run the tests here", show=False, id="review.run_tests"),
        Binding("y", "copy('path')", "Copy the file's path", show=False, id="review.copy.path"),
        Binding("Y", "copy('diff')", "Copy the file's diff", show=False, id="review.copy.diff"),
        Binding("slash", "search", "Search", show=False, id="review.search"),
        Binding("s", "side_by_side", "Side by side", id="review.side_by_side"),
        Binding("right_square_bracket", "hunk(1)", "Next hunk", show=False, id="review.hunk.1"),
        Binding(
            "left_square_bracket", "hunk(-1)", "Previous hunk", show=False, id="review.hunk.-1"
        ),
        Binding(
            "space",
            "decide_hunk('accepted')",
            "Accept hunk",
            key_display="␣",
            id="review.decide_hunk.accepted",
        ),
        Binding("x", "decide_hunk('rejected')", "Reject hunk", id="review.decide_hunk.rejected"),
        Binding(
            "F",
            "decide_file('accepted')",
            "Accept file",
            show=False,
            id="review.decide_file.accepted",
        ),
        Binding(
            "X",
            "decide_file('rejected')",
            "Reject file",
            show=False,
            id="review.decide_file.rejected",
        ),
        Binding("u", "undecided", "Next undecided", show=False, id="review.undecided"),
        Binding("P", "approve_in_part", "Approve part", id="review.approve_in_part"),
        Binding("c", "comment", "Comment on a line", show=False, id="review.comment"),
        Binding("v", "since", "Since the last review", show=False, id="review.since"),
    ]

    def __init__(self, modification_id: uuid.UUID, queue: list[uuid.UUID] | None = None) -> None:
        """Review ``modification_id``; ``n``/``p`` step through ``queue``
        (the list it was opened from)."""
        super().__init__()
        self.current = modification_id
        self.queue = list(queue or [modification_id])
        self.detail: ModificationDetail | None = None
        self.file_index = 0
        # What the summary shows of the git repository, and of which
        # modification in which state; the projects found linked here.
        self.repository_rows: list[Row] = []
        self.rows_of: tuple[uuid.UUID, ModificationStatus] | None = None
        self.linked_projects: set[uuid.UUID] = set()
        # The branch of each project found linked here (apply commits on it).
        self.branches: dict[uuid.UUID, str] = {}
        # The modification's hunks and the decisions on them (by number),
        # drawn at once when the reviewer decides, stored by a worker.
        self.hunks: hunk_review.HunkReview | None = None
        self.decided: dict[int, str] = {}
        # Decisions drawn but not yet stored (number -> (turn, verdict)):
        # what the store says is drawn with these over it until they are.
        self.unsaved: dict[int, tuple[int, str]] = {}
        self._turn = 0
        self._storing = asyncio.Lock()
        # How many decisions have been stored: readings started before the
        # last one may not show it.
        self._stored = 0
        # When a decision was last stored, and the reload put off meanwhile.
        self._last_stored = 0.0
        self._reload_timer: Timer | None = None
        # A revision's changes since the one reviewed last, shown instead of
        # its diff while ``v`` is on.
        self.since: hunk_review.SinceReview | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="review-summary")
        with Horizontal(id="review-body"):
            yield OptionList(id="review-files")
            with Vertical(id="review-diff-box"):
                diff = DiffView(id="review-diff")
                diff.side_by_side = configured(self.app, "diff_style") == "side-by-side"
                yield diff
                yield Input(placeholder="search the diff", id="review-search")
        with VerticalScroll(id="review-tests"):
            yield Static("", id="review-tests-text")
        yield DeckFooter()

    def on_mount(self) -> None:
        files = self.query_one("#review-files", OptionList)
        files.can_focus = False
        files.border_title = "Files"
        self.query_one("#review-tests").border_title = "Tests"
        self.query_one("#review-tests").display = False
        self.query_one("#review-search").display = False
        self.query_one(DiffView).focus()
        self.load()

    # Loading

    @property
    def modification(self) -> Modification | None:
        return self.detail.modification if self.detail is not None else None

    @property
    def entries(self) -> list[FileChange | UnchangedFile]:
        """The file list's entries: the changed files, then the affected
        files the modification does not change (``j``/``k`` step through all)."""
        if self.detail is None:
            return []
        if self.since is not None:
            return list(self.since.files)
        return [*self.detail.files, *self.detail.unchanged]

    @property
    def read_only(self) -> bool:
        mod = self.modification
        return mod is not None and (
            mod.status in FINAL
            or (self.detail is not None and self.detail.project_status != ProjectStatus.ACTIVE)
        )

    @work(exclusive=True, group="review-load")
    async def load(self, *, keep_place: bool = False) -> None:
        detail = await attempt(self, get_modification(deck(self).database, str(self.current)))
        if detail is None:
            return
        if keep_place and self.detail is not None and signature(detail) == signature(self.detail):
            # The same picture, but the branch may have moved meanwhile, and
            # someone may have decided on hunks.
            self.check_repository(self.detail.modification)
            self.load_hunks()
            return
        self.show(detail, keep_place=keep_place)
        self.check_repository(detail.modification)
        self.load_hunks()

    @work(exclusive=True, group="review-hunks")
    async def load_hunks(self) -> None:
        """The hunks of the modification shown, with the decisions on them
        (a reading that a decision stored meanwhile makes old is dropped)."""
        stored = self._stored
        review = await attempt(
            self, hunk_review.modification_hunks(deck(self).database, str(self.current))
        )
        if review is None or review.modification.id != self.current:
            return
        if stored != self._stored:
            self.load_hunks()
            return
        self.show_hunks(review)

    def show_hunks(self, review: hunk_review.HunkReview) -> None:
        self.hunks = review
        self.decided = {item.number: str(item.verdict) for item in review.hunks if item.verdict}
        for number, (_turn, verdict) in self.unsaved.items():
            self.decided[number] = verdict
        self.show_decisions()

    def file_state(self, path: str) -> str | None:
        review = self.hunks
        if review is None or review.in_part:
            return None
        verdicts = {self.decided.get(item.number) for item in review.of_file(path)}
        if verdicts == {"accepted"}:
            return hunk_review.FileState.ACCEPTED
        if verdicts == {"rejected"}:
            return hunk_review.FileState.REJECTED
        if "accepted" in verdicts:
            return hunk_review.FileState.PARTLY
        return hunk_review.FileState.UNDECIDED

    def show_decisions(self) -> None:
        """The decisions in the file list and the diff's gutter."""
        if self.detail is None or self.since is not None:
            self.show_marks()
            return
        files = self.query_one("#review-files", OptionList)
        for index, change in enumerate(self.detail.files):
            files.replace_option_prompt_at_index(
                index, file_label(change, self.file_state(change.path))
            )
        self.show_marks()

    def show_marks(self) -> None:
        diff = self.query_one(DiffView)
        entries = self.entries
        review = self.hunks
        if self.since is not None:
            diff.set_hunk_marks(None)
            if entries and self.file_index < len(entries):
                diff.set_comments(self.comments_on(entries[self.file_index].path))
            return
        if review is None or review.in_part or not entries or self.file_index >= len(entries):
            diff.set_hunk_marks(None)
            return
        entry = entries[self.file_index]
        if isinstance(entry, UnchangedFile):
            diff.set_hunk_marks(None)
            return
        diff.set_comments(self.comments_on(entry.path))
        diff.set_hunk_marks(
            {
                item.index: self.decided[item.number]
                for item in review.of_file(entry.path)
                if item.number in self.decided
            }
        )

    def comments_on(self, path: str) -> list[tuple[str, int, str]]:
        """The comments the diff of ``path`` shows under their lines: the
        modification's own, or with ``v`` on the revision before's, carried
        (those whose line is gone said outdated, on no line)."""
        if self.since is not None:
            return [
                (
                    "new",
                    note.line or 0,
                    f"{note.comment.author}: {note.comment.body}"
                    if note.line is not None
                    else f"outdated, on line {note.comment.line} "
                    f"({note.comment.line_text.strip()!r}), now gone: "
                    f"{note.comment.author}: {note.comment.body}",
                )
                for note in self.since.comments
                if note.comment.path == path
            ]
        review = self.hunks
        if review is None or review.in_part:
            return []
        return [
            (str(note.side), note.line, f"{note.author}: {note.body}")
            for note in review.comments
            if note.path == path
        ]

    @work(exclusive=True, group="review-repository")
    async def check_repository(self, modification: Modification) -> None:
        """Read where ``modification`` stands against its project's
        repository (git can be slow: the summary says it is checking)."""
        await load_git()
        from store.services import git

        rows: list[Row]
        try:
            state = await git.change_state(deck(self).database, str(modification.id))
        except StoreError as error:
            rows = [("Git", format.safe(f"not checked: {error.message}", style="yellow"))]
        else:
            rows = [] if state is None else change_rows(state)
            if state is not None and state.branch is not None:
                self.linked_projects.add(modification.project_id)
                self.branches[modification.project_id] = state.branch
        shown = self.modification
        if shown is None or (shown.id, shown.status) != (modification.id, modification.status):
            return
        if rows != self.repository_rows:
            self.repository_rows = rows
            self.show_summary()

    def show_summary(self) -> None:
        if self.detail is None:
            return
        app = deck(self)
        widget = self.query_one("#review-summary", Static)
        widget.update(
            summary(
                self.detail, app.clock(), show_ids=app.show_ids, repository=self.repository_rows
            )
        )
        widget.set_class(bool(self.repository_rows), "with-repository")

    def show(self, detail: ModificationDetail, *, keep_place: bool = False) -> None:
        if self.hunks is not None and self.hunks.modification.id != detail.modification.id:
            self.hunks, self.decided, self.unsaved = None, {}, {}
        self.detail = detail
        mod = detail.modification
        position = self.queue.index(mod.id) + 1 if mod.id in self.queue else None
        title = f"Review · {position} of {len(self.queue)}" if position else "Review"
        inactive = detail.project_status != ProjectStatus.ACTIVE
        if mod.status in FINAL:
            title += f" · read-only ({mod.status})"
            if inactive:
                title += f" · project {detail.project_status}"
        elif inactive:
            way_back = "unarchive" if detail.project_status == ProjectStatus.ARCHIVED else "restore"
            title += f" · read-only (project {detail.project_status}: {way_back} it to review)"
        self.title = title
        if (mod.id, mod.status) != self.rows_of:
            # Another modification, or this one moved on: what git said no
            # longer holds. Say it is checking where git has something to say.
            self.rows_of = (mod.id, mod.status)
            in_git = mod.base_commit or mod.applied_commit or mod.project_id in self.linked_projects
            self.repository_rows = checking_rows() if in_git else []
        self.show_summary()
        self.query_one("#review-tests-text", Static).update(
            test_details(mod.test_results, mod.local_test_results)
        )
        if self.since is not None and self.since.modification.id != mod.id:
            self.since = None
        self.fill_files(keep_place=keep_place)
        self.refresh_bindings()

    def fill_files(self, *, keep_place: bool = False) -> None:
        """The file list (of the changes since the last review, with ``v``
        on), then the selected file."""
        detail = self.detail
        if detail is None:
            return
        files = self.query_one("#review-files", OptionList)
        files.clear_options()
        if self.since is not None:
            files.add_options([Option(file_label(change)) for change in self.since.files])
        else:
            files.add_options(
                [
                    Option(file_label(change, self.file_state(change.path)))
                    for change in detail.files
                ]
            )
            files.add_options([Option(unchanged_label(file)) for file in detail.unchanged])
        if not keep_place or self.file_index >= len(self.entries):
            self.file_index = 0
        self.show_file()

    def show_file(self) -> None:
        diff = self.query_one(DiffView)
        box = self.query_one("#review-diff-box")
        entries = self.entries
        if self.detail is None or not entries:
            diff.clear(
                "Nothing changed since the last review."
                if self.since is not None
                else "This modification changes no file."
            )
            box.border_title = ""
            return
        entry = entries[self.file_index]
        self.query_one("#review-files", OptionList).highlighted = self.file_index
        place = f"file {self.file_index + 1} of {len(entries)}"
        if isinstance(entry, UnchangedFile):
            self.show_unchanged(entry, place)
        else:
            diff.show(
                entry.path, entry.before, entry.after, entry.diff, self.comments_on(entry.path)
            )
            self.show_marks()
            box.border_title = format.safe(f"{entry.path} · {entry.kind}")
            against = (
                f"since revision {self.since.earlier.revision} (v: the whole change)"
                if self.since is not None
                else f"against {self.detail.against}"
            )
            box.border_subtitle = (
                f"{against} · {'side by side' if diff.side_by_side else 'unified'} · {place}"
            )
        search = self.query_one("#review-search", Input)
        if search.display and search.value:
            diff.find(search.value)

    def show_unchanged(self, file: UnchangedFile, place: str) -> None:
        """An affected file this modification does not change: a line saying
        so, then its content in the codebase now (if the codebase has it)."""
        diff = self.query_one(DiffView)
        box = self.query_one("#review-diff-box")
        said = "This modification does not change this file (affected, not changed)"
        if file.content is None:
            diff.clear(f"{said}; the codebase has no such file.")
        else:
            diff.show_content(file.path, file.content, f"{said}; its content in the codebase now:")
        box.border_title = format.safe(f"{file.path} · {UNCHANGED_MARK}")
        box.border_subtitle = f"codebase now · {place}"

    def store_changed(self) -> None:
        """Another process wrote: redraw if this modification looks different.
        While the reviewer is deciding hunks (each stored a moment later sets
        this off), once a second at most: reading the whole change again
        each time would slow the keys it follows."""
        quiet = time.monotonic() - self._last_stored
        if quiet >= OWN_WRITES_SECONDS:
            self.load(keep_place=True)
        elif self._reload_timer is None:
            self._reload_timer = self.set_timer(OWN_WRITES_SECONDS - quiet, self._reload_later)

    def _reload_later(self) -> None:
        self._reload_timer = None
        self.store_changed()

    # Moving

    def action_file(self, step: int) -> None:
        entries = self.entries
        if not entries:
            return
        self.file_index = (self.file_index + step) % len(entries)
        self.show_file()

    @on(OptionList.OptionHighlighted, "#review-files")
    def _file_clicked(self, event: OptionList.OptionHighlighted) -> None:
        # Only a highlight the list still shows (a click), not the stale one
        # of refilling the list.
        if event.option_index != self.file_index and event.option_list.highlighted == (
            event.option_index
        ):
            self.file_index = event.option_index
            self.show_file()

    def action_modification(self, step: int) -> None:
        if len(self.queue) < 2:
            self.notify("No other modification in this list")
            return
        index = self.queue.index(self.current) if self.current in self.queue else -1
        self.current = self.queue[(index + step) % len(self.queue)]
        self.load()

    def action_back(self) -> None:
        search = self.query_one("#review-search", Input)
        if search.display:
            search.display = False
            self.query_one(DiffView).focus()
            return
        self.dismiss()

    # Viewing

    def action_tests(self) -> None:
        panel = self.query_one("#review-tests")
        panel.display = not panel.display

    def action_copy(self, what: str) -> None:
        """The selected file's path, or (``diff``) its diff as shown."""
        entries = self.entries
        if not entries or self.file_index >= len(entries):
            return
        entry = entries[self.file_index]
        if what == "path":
            copy_to_clipboard(self, entry.path, f"the path {entry.path}")
        elif isinstance(entry, FileChange):
            copy_to_clipboard(self, entry.diff, f"the diff of {entry.path}")

    def action_open_in_editor(self) -> None:
        """The selected file as this modification proposes it (an affected
        file it does not change: as the codebase has it), in the person's
        editor: a read-only copy, gone once the editor exits."""
        entries = self.entries
        if not entries or self.file_index >= len(entries):
            self.notify("No file to open here", severity="warning")
            return
        entry = entries[self.file_index]
        content = entry.content if isinstance(entry, UnchangedFile) else entry.after
        if content is None:
            gone = (
                "the codebase has no such file"
                if isinstance(entry, UnchangedFile)
                else "this modification deletes it"
            )
            self.notify(
                format.plain(f"{entry.path}: {gone}; nothing to open"),
                severity="warning",
                markup=False,
            )
            return
        view_in_editor(self, entry.path, content, kept="the modification")

    def action_run_tests(self) -> None:
        """Run the project's tests on this change (asks first, showing the
        commands); the review reads the modification again after a run."""
        from tui.screens.test_run import TestRunScreen

        def ran(done: bool | None) -> None:
            if done:
                self.load(keep_place=True)

        self.app.push_screen(TestRunScreen(self.current), ran)

    def action_side_by_side(self) -> None:
        diff = self.query_one(DiffView)
        diff.side_by_side = not diff.side_by_side
        self.show_file()

    def action_search(self) -> None:
        search = self.query_one("#review-search", Input)
        search.display = True
        search.focus()

    @on(Input.Changed, "#review-search")
    def _search_typed(self, event: Input.Changed) -> None:
        self.query_one(DiffView).find(event.value)

    @on(Input.Submitted, "#review-search")
    def _search_next(self, event: Input.Submitted) -> None:
        if not self.query_one(DiffView).find(event.value, again=True) and event.value:
            self.notify(
                format.plain(f"{event.value!r} is not in this diff"),
                severity="warning",
                markup=False,
            )

    # Hunks

    def action_hunk(self, step: int) -> None:
        diff = self.query_one(DiffView)
        if not diff.step_hunk(step):
            self.notify("No further hunk in this file (j/k: other files)")

    def current_hunk(self) -> hunk_review.NumberedHunk | None:
        """The hunk under the cursor: the one moved to, else the first shown."""
        review, entries = self.hunks, self.entries
        if review is None or not entries or isinstance(entries[self.file_index], UnchangedFile):
            return None
        mine = review.of_file(entries[self.file_index].path)
        index = self.query_one(DiffView).hunk
        if index is None:
            # No line to show (an empty file added or deleted): one hunk.
            return mine[0] if mine else None
        return mine[index] if index < len(mine) else None

    def action_decide_hunk(self, verdict: str) -> None:
        chosen = self.current_hunk()
        if chosen is None:
            self.notify("No hunk here", severity="warning")
            return
        self.decide([chosen], verdict)

    def _on_screen(self) -> list[hunk_review.NumberedHunk]:
        review, entries = self.hunks, self.entries
        if review is None or not entries or isinstance(entries[self.file_index], UnchangedFile):
            return []
        return review.of_file(entries[self.file_index].path)

    def action_decide_file(self, verdict: str) -> None:
        chosen = self._on_screen()
        if chosen:
            self.decide(chosen, verdict)

    def decide(self, chosen: list[hunk_review.NumberedHunk], verdict: str) -> None:
        """Draw the decision at once, ask for a rejection's reason (it may be
        left empty), then store it; moving on to the next hunk."""
        if verdict == "rejected":
            what = f"hunk {chosen[0].number}" if len(chosen) == 1 else f"{len(chosen)} hunks"

            def answered(reason: str | None) -> None:
                if reason is not None:
                    self._decided(chosen, verdict, reason or None)

            self.app.push_screen(
                RejectScreen(
                    format.plain(f"Reject {what} of {chosen[0].path}"),
                    required=False,
                    placeholder="Why? (optional; enter rejects)",
                ),
                answered,
            )
            return
        self._decided(chosen, verdict, None)

    def _decided(
        self, chosen: list[hunk_review.NumberedHunk], verdict: str, reason: str | None
    ) -> None:
        self._turn += 1
        for item in chosen:
            self.decided[item.number] = verdict
            self.unsaved[item.number] = (self._turn, verdict)
        self.show_decisions()
        if len(chosen) == 1:
            # On to the next hunk of the file, if it has one.
            self.query_one(DiffView).go_to_hunk(chosen[0].index + 1)
        self.store_decision(chosen, verdict, reason, self._turn)

    @work(group="review-decide")
    async def store_decision(
        self, chosen: list[hunk_review.NumberedHunk], verdict: str, reason: str | None, turn: int
    ) -> None:
        """Store a decision on the hunks as drawn, one at a time in the order
        they were made; what the store holds is read again only if it fails."""
        app = deck(self)
        ref = self.current
        async with self._storing:
            app.expect_change(ref)
            stored = await attempt(
                self,
                hunk_review.decide_seen_hunks(
                    app.database, str(ref), chosen, verdict=HunkVerdict(verdict), reason=reason
                ),
                title="decide",
            )
        self._stored += 1
        self._last_stored = time.monotonic()
        for item in chosen:
            if self.unsaved.get(item.number, (None,))[0] == turn:
                del self.unsaved[item.number]
        if stored is None and ref == self.current:
            self.load_hunks()  # what is stored, not what was drawn

    def action_undecided(self) -> None:
        """Move to the next hunk nobody decided on, in this file or the next."""
        review = self.hunks
        if review is None:
            return
        current = self.current_hunk()
        after = current.number if current is not None else 0
        waiting = [item for item in review.hunks if item.number not in self.decided]
        target = next((item for item in waiting if item.number > after), None) or next(
            iter(waiting), None
        )
        if target is None:
            self.notify("Every hunk is decided: P approves the accepted ones")
            return
        paths = [entry.path for entry in self.entries]
        if paths[self.file_index] != target.path:
            self.file_index = paths.index(target.path)
            self.show_file()
        self.query_one(DiffView).go_to_hunk(target.index)

    def action_comment(self) -> None:
        """Ask for a comment on a line of the file shown (the first line the
        hunk at hand changes, unless another is typed), then store it."""
        entries = self.entries
        if self.hunks is None or not entries or isinstance(entries[self.file_index], UnchangedFile):
            self.notify("No file to comment on here", severity="warning")
            return
        path = entries[self.file_index].path
        chosen = self.current_hunk()
        line = "1"
        for tag, i1, _i2, j1, j2 in chosen.hunk.opcodes if chosen is not None else ():
            if tag != "equal":
                line = str(j1 + 1) if j2 > j1 else f"-{i1 + 1}"
                break

        def answered(comment: Comment | None) -> None:
            if comment is not None:
                self.store_comment(path, *comment)

        self.app.push_screen(CommentScreen(format.plain(f"Comment on {path}"), line), answered)

    @work(group="review-comment")
    async def store_comment(self, path: str, line: int, side: CommentSide, text: str) -> None:
        app = deck(self)
        app.expect_change(self.current)
        stored = await attempt(
            self,
            hunk_review.add_comment(
                app.database, str(self.current), path=path, line=line, text=text, side=side
            ),
            title="comment",
        )
        if stored is not None:
            self.notify(format.plain(f"Commented on {path} line {line}"), markup=False)
            self.load_hunks()

    def action_since(self) -> None:
        """Show what changed since the revision reviewed last, or (again)
        the whole change."""
        if self.since is not None:
            self.since = None
            self.fill_files()
            self.refresh_bindings()
            return
        self.load_since()

    @work(exclusive=True, group="review-since")
    async def load_since(self) -> None:
        since = await attempt(
            self, hunk_review.since_last_review(deck(self).database, str(self.current))
        )
        if since is None or since.modification.id != self.current:
            if since is None:
                self.notify("This modification revises none that can be read")
            return
        self.since = since
        self.fill_files()
        self.refresh_bindings()

    def action_approve_in_part(self) -> None:
        review = self.hunks
        if review is None:
            return
        accepted = {number for number, verdict in self.decided.items() if verdict == "accepted"}
        if not accepted:
            self.notify("Accept some hunks first (space), or approve all of it (a)")
            return
        total = len(review.hunks)
        question = format.safe(
            f"Approve only the {len(accepted)} accepted hunk{'s' if len(accepted) != 1 else ''} "
            f"of {total}? What they make is what gets applied; the other "
            f"{total - len(accepted)} are recorded as rejected.\n\n"
        )
        question.append_text(partial_preview(review, accepted))

        def answered(yes: bool | None) -> None:
            if yes:
                self.act(
                    lambda db, ref: hunk_review.approve_in_part(db, ref, numbers=accepted),
                    "Approved in part",
                )

        self.app.push_screen(ConfirmScreen(format.sealed(question), yes="Approve"), answered)

    # Acting

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        shown = self._shown(action)
        permission = TEAM_PERMISSIONS.get(action)
        if shown is not False and permission is not None and team_refusal(self, permission):
            return None  # shown, greyed: pressing it says why
        return shown

    def on_key(self, event: events.Key) -> None:
        if say_why_refused(self, event.key, TEAM_PERMISSIONS):
            event.stop()

    def _shown(self, action: str) -> bool | None:
        """Whether ``action`` is shown and usable here (None: greyed) before
        the team's roles have their say."""
        if action == "since":
            mod = self.modification
            return mod is not None and mod.revises_id is not None
        if self.since is not None and action in HUNK_ACTIONS:
            return False  # the changes since the last review are not what is decided on
        detail = self.detail
        if (
            detail is not None
            and detail.project_status != ProjectStatus.ACTIVE
            and (action in ALLOWED or action in HUNK_ACTIONS or action == "run_tests")
        ):
            return None  # shown, greyed: the title says why
        if action == "run_tests":
            mod = self.modification
            return mod is not None and mod.status in TESTABLE
        wanted = ALLOWED.get(action)
        if wanted is None:
            return True
        mod = self.modification
        return mod is not None and mod.status == wanted

    def action_approve(self) -> None:
        self.act(lambda db, ref: approve_modification(db, ref), "Approved")

    def action_reject(self) -> None:
        mod = self.modification
        if mod is None:
            return

        def answered(comment: str | None) -> None:
            if comment:
                self.act(lambda db, ref: reject_modification(db, ref, comment=comment), "Rejected")

        self.app.push_screen(RejectScreen(f"Reject: {mod.request}"), answered)

    def action_apply(self) -> None:
        detail = self.detail
        if detail is None:
            return
        count = len(detail.files)

        def answered(yes: bool | None) -> None:
            if yes:
                self.act(lambda db, ref: apply_modification(db, ref), "Applied")

        files = f"{count} file{'s' if count != 1 else ''}"
        branch = self.branches.get(detail.modification.project_id)
        writes = (
            f"It writes {files} into the codebase."
            if branch is None
            else f"It commits {files} on branch {escape(format.plain(branch))} of the "
            "linked repository."
        )
        self.app.push_screen(
            ConfirmScreen(
                f"Apply this modification to {escape(format.plain(detail.project_name))}? "
                + writes,
                yes="Apply",
            ),
            answered,
        )

    def action_reopen(self) -> None:
        self.act(lambda db, ref: reopen_modification(db, ref), "Reopened")

    def action_revert(self) -> None:
        """Propose the revert of this applied modification (asks first,
        saying what it makes), then review the revert."""
        detail = self.detail
        if detail is None:
            return
        count = len(detail.files)
        files = f"{count} file{'s' if count != 1 else ''}"
        branch = self.branches.get(detail.modification.project_id)
        if detail.modification.applied_commit is not None or branch is not None:
            where = (
                "a revert commit on the linked repository"
                if branch is None
                else f"a revert commit on branch {format.plain(branch)} of the linked repository"
            )
        else:
            where = f"the {files} written back into the codebase"
        question = format.safe(
            f"Revert this modification of {format.plain(detail.project_name)}? A new "
            f"modification is proposed that restores what its {files} held before it; "
            f"once approved and applied, it makes {where}."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.propose_revert()

        self.app.push_screen(ConfirmScreen(question, yes="Revert"), answered)

    @work(exclusive=True, group="review-action")
    async def propose_revert(self) -> None:
        app = deck(self)
        app.expect_change(self.current)
        revert = await attempt(
            self, revert_modification(app.database, str(self.current)), title="revert"
        )
        if revert is None:
            return
        short = format.short_id(revert.id, shown=app.show_ids)
        self.notify(format.plain(f"Revert proposed as {short}: {revert.request}"), markup=False)
        if revert.id not in self.queue:
            index = self.queue.index(self.current) + 1 if self.current in self.queue else 0
            self.queue.insert(index, revert.id)
        self.current = revert.id
        self.load()

    @work(exclusive=True, group="review-action")
    async def act(self, call: Callable[[Any, str], Awaitable[Modification]], done: str) -> None:
        app = deck(self)
        app.expect_change(self.current)
        result = await attempt(self, call(app.database, str(self.current)), title=done.lower())
        if result is None:
            return
        short = format.short_id(result.id, shown=app.show_ids)
        if result.status == ModificationStatus.FAILED:
            self.notify(
                format.plain(result.failure_reason),
                title=f"Could not apply {short}",
                severity="warning",
                timeout=8,
                markup=False,
            )
        else:
            self.notify(format.plain(f"{done} {short}: {result.request}"), markup=False)
        await self.open_next_waiting()

    async def open_next_waiting(self) -> None:
        """Open the waiting modification after the current one (in the old
        list's order), else the first one waiting; stay if none waits."""
        inbox = await attempt(self, waiting_modifications(deck(self).database))
        if inbox is None:
            return
        waiting = waiting_ids(inbox)
        later = (
            self.queue[self.queue.index(self.current) + 1 :] if self.current in self.queue else []
        )
        following = [item for item in later if item in waiting and item != self.current]
        others = [item for item in waiting if item != self.current]
        self.queue = waiting or [self.current]
        if following or others:
            self.current = (following or others)[0]
        else:
            self.notify("Nothing else waits for review.")
            if self.current not in self.queue:
                self.queue = [self.current]
        self.load()
