"""The diff of one file, unified or side by side, syntax highlighted.

A Line API widget: it draws only the rows on screen (and keeps the last
ones drawn), so a 5,000-line file opens and scrolls as fast as a short one.
The rows come from the store's unified diff of the file (what ``projdeck mod
show --diff`` prints), each line coloured from the before or after text.
Colouring reads Pygments' tokens of each side only as far down as the view
has reached, in a thread: the first screen is coloured in milliseconds, and
the rest of a long file only when scrolled to. The colours follow the app's
theme (a light style under a light theme), read again when it changes.
Side by side, each half shows its lines from the same column: scrolling
sideways moves the code of both halves, their line numbers stay.
"""

from __future__ import annotations

import re
import threading
import time
from bisect import bisect_right
from collections.abc import Iterator
from enum import StrEnum
from itertools import zip_longest
from typing import NamedTuple

from rich.cells import cell_len
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Span, Text
from textual import work
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store import text as text_safety
from tui import format
from tui.widgets.code_theme import DARK, app_syntax_theme

# In the gutter, beside a line that holds control or bidirectional characters.
WARNING_MARK = "⚠"
# Lines coloured at a time once those on screen are, and the pause after
# each such chunk, as a multiple of the time it took: the rest of the file
# is coloured in the background, and a thread that held the GIL most of the
# time would slow the app's own threads (the database's, a diff's) and its
# loop several times over while it runs (measured: opening the changes
# since the last review took 250-400 ms instead of 100 ms while the file
# shown just before was being coloured).
COLOUR_CHUNK = 50
COLOUR_PAUSE = 4.0
# What Pygments names a token type: a tuple such as ("Keyword", "Constant").
TokenType = tuple[str, ...]


class RowKind(StrEnum):
    HUNK = "hunk"
    CONTEXT = "context"
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"  # side by side: a removed line beside an added one
    COMMENT = "comment"  # a reviewer's comment, under the line it is about


class DiffRow(NamedTuple):
    """One row: a hunk header, or an old line and/or a new line (by index
    into each side's lines). A tuple: a long diff makes thousands."""

    kind: RowKind
    old: int | None = None
    new: int | None = None
    header: str = ""


def _lines(text: str) -> list[str]:
    """The lines of ``text`` as the store's diff counts them (broken at "\n"
    only), without their ends; a "\r" ending a line is part of its end."""
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _lines_agree(text: str) -> bool:
    """Whether Pygments counts the lines of ``text`` as the view does: it
    breaks at "\n" only, str.splitlines at other breaks too."""
    return text.count("\n") + (not text.endswith("\n")) == len(text.splitlines())


class Highlighter:
    """One side's lines coloured for the file's language (no background:
    the row kind sets it), read from Pygments' token stream only as far as
    asked: ``advance(n)`` colours the lines up to ``n``; ``line(i)`` is a
    coloured line once ready, else None."""

    def __init__(self, path: str, text: str | None, theme: str = DARK) -> None:
        # Finding the lexer (Pygments loads its module) waits for the first advance.
        self._path = path
        self._theme = theme
        self._text = text or ""
        self._tokens: Iterator[tuple[TokenType, str]] | None = None
        self._done = not self._text
        self._styles: dict[TokenType, Style] = {}
        # The complete lines so far, and the pieces of the one being read.
        self._lines: list[Text] = []
        self._pieces: list[str] = []
        self._spans: list[Span] = []
        self._length = 0
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        """No more colours to come: all read, or no language to colour."""
        return self._done

    @property
    def ready(self) -> int:
        """How many lines are coloured."""
        return len(self._lines)

    def line(self, index: int) -> Text | None:
        """Line ``index`` coloured, or None until it is."""
        lines = self._lines
        return lines[index] if index < len(lines) else None

    def _style(self, token_type: TokenType) -> Style:
        style = self._styles.get(token_type)
        if style is None:
            full = Syntax.get_theme(self._theme).get_style_for_token(token_type)
            style = self._styles[token_type] = Style(
                color=full.color, bold=full.bold, italic=full.italic, underline=full.underline
            )
        return style

    def _start(self) -> Iterator[tuple[TokenType, str]] | None:
        lexer = Syntax("", Syntax.guess_lexer(self._path)).lexer
        if lexer is None or not _lines_agree(self._text):
            return None
        tokens: Iterator[tuple[TokenType, str]] = iter(lexer.get_tokens(self._text))
        return tokens

    def advance(self, upto: int) -> None:
        """Colour the lines before ``upto`` (a thread may call this)."""
        with self._lock:
            if self._done:
                return
            if self._tokens is None:
                self._tokens = self._start()
            lines = self._lines
            while self._tokens is not None and len(lines) < upto:
                token = next(self._tokens, None)
                if token is None:
                    self._tokens = None
                    self._end_line()
                    break
                token_type, value = token
                style = self._style(token_type)
                for index, piece in enumerate(value.split("\n")):
                    if index:
                        self._end_line()
                    if piece:
                        if "\t" in piece:
                            piece = piece.expandtabs(4)
                        end = self._length + len(piece)
                        if style:
                            self._spans.append(Span(self._length, end, style))
                        self._pieces.append(piece)
                        self._length = end
            if self._tokens is None:
                self._done = True
                self._text = ""

    def _end_line(self) -> None:
        line = Text("".join(self._pieces), spans=self._spans)
        if line.plain.endswith("\r"):  # part of the line's end (see _lines)
            line.right_crop(1)
        self._lines.append(line)
        self._pieces, self._spans, self._length = [], [], 0


HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _start(first: str, count: str | None) -> int:
    """The 0-based index a hunk side starts at (an empty side names the
    line before it)."""
    return int(first) - 1 if count is None or int(count) else int(first)


def diff_rows(diff: str, *, side_by_side: bool) -> list[DiffRow]:
    """The rows of a unified diff (the store's, so the screen shows what
    ``projdeck mod show --diff`` prints); side by side, a run of removed
    lines pairs with the added lines after it."""
    rows: list[DiffRow] = []
    removed: list[int] = []
    added: list[int] = []

    def flush() -> None:
        if side_by_side:
            for old, new in zip_longest(removed, added):
                kind = (
                    RowKind.CHANGED
                    if old is not None and new is not None
                    else RowKind.REMOVED
                    if old is not None
                    else RowKind.ADDED
                )
                rows.append(DiffRow(kind, old, new))
        else:
            rows.extend(DiffRow(RowKind.REMOVED, old=old) for old in removed)
            rows.extend(DiffRow(RowKind.ADDED, new=new) for new in added)
        removed.clear()
        added.clear()

    lines = diff.split("\n")
    if len(lines) >= 2 and lines[0].startswith("---") and lines[1].startswith("+++"):
        lines = lines[2:]
    old = new = 0
    for line in lines:
        header = HUNK_HEADER.match(line)
        if header is not None:
            flush()
            old, new = _start(*header.group(1, 2)), _start(*header.group(3, 4))
            rows.append(DiffRow(RowKind.HUNK, header=header.group(0)))
        elif line.startswith("-"):
            removed.append(old)
            old += 1
        elif line.startswith("+"):
            added.append(new)
            new += 1
        elif line.startswith(" "):
            flush()
            rows.append(DiffRow(RowKind.CONTEXT, old, new))
            old += 1
            new += 1
    flush()
    return rows


# Lines of one comment shown under its line, at most.
COMMENT_LINES = 8


def with_comments(rows: list[DiffRow], comments: list[tuple[str, int, str]]) -> list[DiffRow]:
    """``rows`` with each comment (side, line from 1, text) under the row
    showing that line; comments on lines the diff does not show come first,
    saying which line they are about (line 0: on no line, said as it is)."""
    if not comments:
        return rows
    under: dict[tuple[str, int], list[str]] = {}
    for side, line, text in comments:
        under.setdefault((side, line - 1), []).append(text)
    out: list[DiffRow] = []
    placed: set[tuple[str, int]] = set()
    for row in rows:
        out.append(row)
        for side, index in (("old", row.old), ("new", row.new)):
            if index is not None and (side, index) in under and (side, index) not in placed:
                placed.add((side, index))
                out.extend(_comment_rows(under[side, index]))
    elsewhere = [
        # Line 0: a comment on no line of this diff (its line is gone).
        text if index < 0 else f"line {'-' if side == 'old' else ''}{index + 1}: {text}"
        for (side, index), texts in sorted(under.items())
        if (side, index) not in placed
        for text in texts
    ]
    return [*_comment_rows(elsewhere), *out]


def _comment_rows(texts: list[str]) -> list[DiffRow]:
    rows: list[DiffRow] = []
    for text in texts:
        lines = text.split("\n")
        shown = lines[:COMMENT_LINES] + (["…"] if len(lines) > COMMENT_LINES else [])
        rows.extend(
            DiffRow(RowKind.COMMENT, header=("💬 " if n == 0 else "   ") + line)
            for n, line in enumerate(shown)
        )
    return rows


def _line(lines: list[str], index: int) -> str:
    return lines[index] if index < len(lines) else ""


def _width(line: str) -> int:
    """Cells ``line`` takes once tabs are expanded (quick for ASCII)."""
    if "\t" in line:
        line = line.expandtabs(4)
    return len(line) if line.isascii() else cell_len(text_safety.visible(line, multiline=True))


class DiffView(ScrollView, can_focus=True):
    """The diff of one file; ``s`` on the review screen toggles the layout."""

    COMPONENT_CLASSES = {
        "diff-view--added",
        "diff-view--removed",
        "diff-view--hunk",
        "diff-view--gutter",
        "diff-view--match",
        "diff-view--current-match",
        "diff-view--current-hunk",
        "diff-view--accepted",
        "diff-view--rejected",
        "diff-view--comment",
    }
    DEFAULT_CSS = """
    DiffView > .diff-view--added { background: $success 20%; }
    DiffView > .diff-view--removed { background: $error 20%; }
    DiffView > .diff-view--hunk { color: $accent; text-style: bold; }
    DiffView > .diff-view--gutter { color: $text-muted; }
    DiffView > .diff-view--match { background: $warning 40%; }
    DiffView > .diff-view--current-match { background: $warning; color: $background; }
    DiffView > .diff-view--current-hunk { background: $accent 30%; }
    DiffView > .diff-view--accepted { color: $success; text-style: bold; }
    DiffView > .diff-view--rejected { color: $error; text-style: bold; }
    DiffView > .diff-view--comment { color: $warning; text-style: italic; }
    """

    side_by_side: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path = ""
        self._old_text: list[str] = []
        self._new_text: list[str] = []
        self._old = Highlighter("", None)
        self._new = Highlighter("", None)
        # What the highlighters colour (path, before, after, one text for
        # both sides), kept to colour it again when the app's theme changes.
        self._sources: tuple[str, str | None, str | None, bool] = ("", None, None, True)
        self.rows: list[DiffRow] = []
        self.message = ""
        # Set: the view shows one file as it is (under this note), not a diff.
        self.note: str | None = None
        self.search = ""
        self.matches: list[int] = []
        self.current_match: int | None = None
        self._generation = 0
        self._diff = ""
        self._gutter = 1
        self._longest = 0
        self._cache: LRUCache[tuple[int, int], Strip] = LRUCache(1024)
        # Side by side: the column the cached rows' code starts from.
        self._cached_x = 0
        # The lowest row drawn without its colours, and the generation a
        # thread is colouring.
        self._uncoloured: int | None = None
        self._colouring = 0
        # The rows of the hunk headers; the hunk the reviewer is on (an
        # index into them); each hunk's decision (by the same index), drawn
        # in a column of the gutter, which shows only once decisions are set.
        self.hunk_rows: list[int] = []
        self.current_hunk: int | None = None
        self.hunk_marks: dict[int, str] | None = None
        # Comments under their lines: (side "new" or "old", line from 1, text).
        self.comments: list[tuple[str, int, str]] = []

    def show(
        self,
        path: str,
        before: str | None,
        after: str | None,
        diff: str,
        comments: list[tuple[str, int, str]] | None = None,
    ) -> None:
        """Show ``diff``, the unified diff of ``path`` from ``before`` to
        ``after`` (None: absent), with ``comments`` under their lines (see
        ``set_comments``): plain at once, each line coloured as soon as a
        thread has read that far into Pygments' tokens (about 0.1 ms a line)."""
        self.path = path
        self.comments = comments or []
        self._old_text = _lines(before or "")
        self._new_text = _lines(after or "")
        self._highlight(path, before, after, shared=False)
        self.message = "" if before != after else "No change against the codebase."
        self.note = None
        self._diff = diff
        self._generation += 1
        self._build()
        self.scroll_to(0, 0, animate=False)

    def show_content(self, path: str, content: str, note: str) -> None:
        """Show ``content``, the file ``path`` as it is, under a line saying
        ``note`` (always unified: there is one side)."""
        self.path = path
        self._old_text = self._new_text = _lines(content)
        self._highlight(path, content, content, shared=True)
        self.message = ""
        self.note = note
        self._diff = ""
        self._generation += 1
        self._build()
        self.scroll_to(0, 0, animate=False)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _highlight(self, path: str, before: str | None, after: str | None, *, shared: bool) -> None:
        """Colour ``before`` and ``after`` (one text for both sides if
        ``shared``) in the syntax theme of the app's theme."""
        self._sources = (path, before, after, shared)
        theme = app_syntax_theme(self.app)
        self._old = Highlighter(path, before, theme)
        self._new = self._old if shared else Highlighter(path, after, theme)

    def _theme_changed(self, _theme: object) -> None:
        """Colour the code again for the new theme (dark or light), and
        draw every row again once the new theme's styles are in place."""
        path, before, after, shared = self._sources
        self._highlight(path, before, after, shared=shared)
        self._generation += 1
        self._uncoloured = None
        self._cache.clear()
        self.refresh()
        self.call_after_refresh(self._coloured, self._generation)

    @property
    def split(self) -> bool:
        """Whether rows are drawn side by side."""
        return self.side_by_side and self.note is None

    def _want_colours(self, row: int) -> None:
        """``row`` was drawn plain: colour it, then the rest of the file."""
        self._uncoloured = max(self._uncoloured or 0, row)
        if self._colouring != self._generation:
            self._colouring = self._generation
            self._colour(self._generation, self._old, self._new)

    def _lines_through(self, row: int) -> tuple[int, int]:
        """How many lines of each side the rows down to ``row`` show."""
        old = new = 0
        for diff_row in reversed(self.rows[: row + 1]):
            old = max(old, (diff_row.old or 0) + 1)
            new = max(new, (diff_row.new or 0) + 1)
            if diff_row.old is not None and diff_row.new is not None:
                break
        return old, new

    @work(thread=True, group="diff-colour")
    def _colour(self, generation: int, old: Highlighter, new: Highlighter) -> None:
        """Colour the rows drawn plain and a screen beyond first, then the
        rest of the file a chunk at a time (so scrolling finds it coloured);
        the view redraws each time rows it drew plain have their colours."""
        while generation == self._generation and not (old.done and new.done):
            wanted = self._uncoloured
            if wanted is not None:
                ahead = min(wanted + max(self.size.height, 20) * 2, len(self.rows) - 1)
                old_upto, new_upto = self._lines_through(ahead)
            else:
                old_upto, new_upto = old.ready + COLOUR_CHUNK, new.ready + COLOUR_CHUNK
            started = time.perf_counter()
            old.advance(old_upto)
            new.advance(new_upto)
            if wanted is not None:
                self._uncoloured = None
                self.app.call_from_thread(self._coloured, generation)
            else:
                time.sleep((time.perf_counter() - started) * COLOUR_PAUSE)
        # Rows drawn plain while the last chunks were read.
        self.app.call_from_thread(self._coloured, generation)

    def _coloured(self, generation: int) -> None:
        if generation == self._generation:
            self._cache.clear()
            self.refresh()

    def clear(self, message: str = "") -> None:
        self._generation += 1
        self.path = ""
        self._old_text = self._new_text = []
        self._highlight("", None, None, shared=True)
        self._diff = ""
        self.message = message
        self.note = None
        self._build()

    def _build(self) -> None:
        if self.note is not None:
            self.rows = [DiffRow(RowKind.HUNK, header=self.note)]
            self.rows.extend(DiffRow(RowKind.CONTEXT, i, i) for i in range(len(self._new_text)))
        else:
            self.rows = with_comments(
                diff_rows(self._diff, side_by_side=self.side_by_side), self.comments
            )
        self._gutter = len(str(max(len(self._old_text), len(self._new_text), 1)))
        self.hunk_rows = (
            []
            if self.note is not None
            else [y for y, row in enumerate(self.rows) if row.kind == RowKind.HUNK]
        )
        if self.current_hunk is not None and self.current_hunk >= len(self.hunk_rows):
            self.current_hunk = None
        self._cache.clear()
        self._uncoloured = None
        self._find_matches()
        self._measure()
        self._resize()
        self.refresh()

    def _measure(self) -> None:
        """The widest row's text; side by side, the widest line of either
        side (a hunk header or a comment is cut to the view there)."""
        rows = self.rows[:20000]
        if not self.split:
            self._longest = max((_width(self._line_text(row)) for row in rows), default=0)
            return
        old, new = self._old_text, self._new_text
        self._longest = max(
            (
                max(
                    _width(_line(old, row.old)) if row.old is not None else 0,
                    _width(_line(new, row.new)) if row.new is not None else 0,
                )
                for row in rows
                if row.kind not in (RowKind.HUNK, RowKind.COMMENT)
            ),
            default=0,
        )

    def _halves(self, width: int) -> tuple[int, int]:
        """Side by side in ``width`` cells: the width of each half (the
        decision column and the rule between them aside)."""
        room = width - (self.hunk_marks is not None)
        half = max((room - 1) // 2, 1)
        return half, max(room - half - 1, 1)

    def _resize(self) -> None:
        width = 0
        if not self.split:
            width = self._longest + 2 * self._gutter + 5 + (self.hunk_marks is not None)
        else:
            # Far enough sideways that the longest line ends in the left
            # half, the narrower one (its line numbers and mark stay put).
            code = self._halves(self.size.width)[0] - self._gutter - 1
            if self._longest > code:
                width = self.size.width + self._longest - max(code, 0)
        self.virtual_size = Size(width, max(len(self.rows), 1))

    def watch_side_by_side(self) -> None:
        if self.is_mounted:
            top = self.scroll_y
            self._build()
            self.scroll_to(0, top, animate=False)

    def on_resize(self) -> None:
        self._cache.clear()
        if self.split:
            self._resize()

    # Hunks

    def set_hunk_marks(self, marks: dict[int, str] | None) -> None:
        """Each hunk's decision ("accepted", "rejected"; by its index in
        the file), drawn in the gutter; None: no decision column."""
        if marks != self.hunk_marks:
            column = (marks is None) != (self.hunk_marks is None)
            if column:
                self.hunk_marks = marks
                self._cache.clear()
                self._resize()
            else:
                old, new = self.hunk_marks or {}, marks or {}
                changed = {index for index in {*old, *new} if old.get(index) != new.get(index)}
                self.hunk_marks = marks
                self._forget_hunks(changed)
            self.refresh()

    def _forget_hunks(self, indexes: set[int]) -> None:
        """Drop the drawn rows of these hunks (the others are as drawn; rows
        are kept by row and width, and a resize drops them all)."""
        for index in indexes:
            if not 0 <= index < len(self.hunk_rows):
                continue
            end = self.hunk_rows[index + 1] if index + 1 < len(self.hunk_rows) else len(self.rows)
            for row in range(self.hunk_rows[index], end):
                self._cache.discard((row, self.size.width))

    def set_comments(self, comments: list[tuple[str, int, str]]) -> None:
        """Comments to show under their lines: (side "new" or "old", line
        from 1, text)."""
        if comments != self.comments:
            self.comments = comments
            if self.note is None and self._diff:
                top = self.scroll_y
                self._build()
                self.scroll_to(0, top, animate=False)

    def hunk_of_row(self, row: int) -> int | None:
        """The index of the hunk ``row`` belongs to."""
        index = bisect_right(self.hunk_rows, row) - 1
        return index if index >= 0 else None

    @property
    def hunk(self) -> int | None:
        """The hunk the reviewer is on: the one moved to, else the one at the
        top of the view, else the first."""
        if not self.hunk_rows:
            return None
        if self.current_hunk is not None:
            return self.current_hunk
        return self.hunk_of_row(round(self.scroll_y)) or 0

    def go_to_hunk(self, index: int) -> None:
        """Make hunk ``index`` the current one and bring its header near the
        top of the view."""
        if not 0 <= index < len(self.hunk_rows):
            return
        previous, self.current_hunk = self.current_hunk, index
        target = self.hunk_rows[index]
        if target - self.scroll_y not in range(max(self.size.height - 3, 1)):
            self.scroll_to(y=max(target - 1, 0), animate=False)
        # Only the two headers' highlight changes.
        for hunk in (previous, index):
            if hunk is not None and hunk < len(self.hunk_rows):
                self._cache.discard((self.hunk_rows[hunk], self.size.width))
        self.refresh()

    def step_hunk(self, step: int) -> bool:
        """Move to the next (``step`` 1) or previous hunk; False at the end."""
        current = self.hunk
        if current is None:
            return False
        wanted = current + step if self.current_hunk is not None else max(current, 0)
        if not 0 <= wanted < len(self.hunk_rows):
            return False
        self.go_to_hunk(wanted)
        return True

    def _decision(self, row: int) -> Text:
        """The gutter's decision column: ✓ or ✗ on the lines of a hunk
        accepted or rejected, else a space."""
        if self.hunk_marks is None:
            return Text()
        index = self.hunk_of_row(row)
        mark = self.hunk_marks.get(index) if index is not None else None
        if mark == "accepted":
            return Text("✓", style=self.get_component_rich_style("diff-view--accepted"))
        if mark == "rejected":
            return Text("✗", style=self.get_component_rich_style("diff-view--rejected"))
        return Text(" ")

    def _comment(self, row: DiffRow, y: int) -> Text:
        line = self._decision(y)
        line.append(" " * (2 * self._gutter + 2))
        line.append_text(
            format.safe(row.header, self.get_component_rich_style("diff-view--comment"))
        )
        self._mark(line, y)
        return line

    def _hunk_header(self, row: DiffRow, y: int) -> Text:
        line = self._decision(y)
        line.append(row.header, style=self.get_component_rich_style("diff-view--hunk"))
        index = self.hunk_of_row(y)
        mark = self.hunk_marks.get(index) if self.hunk_marks and index is not None else None
        if mark is not None:
            line.append(f"  {mark}", style=self.get_component_rich_style(f"diff-view--{mark}"))
        if self.current_hunk is not None and index == self.current_hunk and self.note is None:
            line.stylize(self.get_component_rich_style("diff-view--current-hunk"))
        self._mark(line, y)
        return line

    # Search

    def _line_text(self, row: DiffRow) -> str:
        if row.kind in (RowKind.HUNK, RowKind.COMMENT):
            return row.header
        parts = []
        if row.old is not None and (self.split or row.new is None):
            parts.append(_line(self._old_text, row.old))
        if row.new is not None:
            parts.append(_line(self._new_text, row.new))
        return "\n".join(parts)

    def _find_matches(self) -> None:
        needle = self.search.casefold()
        self.matches = (
            [y for y, row in enumerate(self.rows) if needle in self._line_text(row).casefold()]
            if needle
            else []
        )
        self.current_match = None

    def find(self, text: str, *, forward: bool = True, again: bool = False) -> bool:
        """Highlight ``text`` in the diff and scroll to the next match after
        the top of the view (``again``: after the current match)."""
        if text != self.search:
            self.search = text
            self._find_matches()
            again = False
        self._cache.clear()
        if not self.matches:
            self.refresh()
            return False
        if again and self.current_match is not None:
            start = self.current_match + (1 if forward else -1)
        else:
            start = int(self.scroll_y)
        if forward:
            following = [y for y in self.matches if y >= start]
            target = following[0] if following else self.matches[0]
        else:
            before = [y for y in self.matches if y <= start]
            target = before[-1] if before else self.matches[-1]
        self.current_match = target
        if target - self.scroll_y not in range(self.size.height):
            self.scroll_to(y=max(target - self.size.height // 3, 0), animate=False)
        self.refresh()
        return True

    # Drawing

    def _code(self, row: DiffRow, side: str, y: int) -> Text:
        index = row.old if side == "old" else row.new
        if index is None:
            return Text()
        highlighter, lines = (
            (self._old, self._old_text) if side == "old" else (self._new, self._new_text)
        )
        coloured = highlighter.line(index)
        if coloured is not None:
            return format.sealed(coloured.copy())
        if not highlighter.done:
            self._want_colours(y)
        return format.safe(_line(lines, index).expandtabs(4))

    def _warning(self, row: DiffRow, side: str | None = None) -> Text:
        """The gutter's mark: ⚠ on a line holding control or bidirectional
        characters (text a terminal or an editor shows otherwise than it
        is: the "Trojan Source" kind), else a space."""
        for name in ("old", "new") if side is None else (side,):
            index = row.old if name == "old" else row.new
            lines = self._old_text if name == "old" else self._new_text
            if index is not None and text_safety.has_hidden(_line(lines, index), multiline=True):
                return Text(WARNING_MARK, style="bold red")
        return Text(" ")

    def _mark(self, text: Text, y: int) -> None:
        if not self.search or y not in self.matches:
            return
        style = self.get_component_rich_style(
            "diff-view--current-match" if y == self.current_match else "diff-view--match"
        )
        needle = self.search.casefold()
        plain = text.plain.casefold()
        start = plain.find(needle)
        while start >= 0:
            text.stylize(style, start, start + len(needle))
            start = plain.find(needle, start + len(needle))

    def _tint(self, component: str) -> Style:
        """An added or removed line's background, and only that: the code
        keeps its colours."""
        return Style(bgcolor=self.get_component_rich_style(component).bgcolor)

    def _number(self, value: int | None) -> str:
        return (str(value + 1) if value is not None else "").rjust(self._gutter)

    def _unified_line(self, row: DiffRow, y: int) -> Text:
        gutter = self.get_component_rich_style("diff-view--gutter")
        if row.kind == RowKind.HUNK:
            return self._hunk_header(row, y)
        if row.kind == RowKind.COMMENT:
            return self._comment(row, y)
        sign, side, background = {
            RowKind.CONTEXT: (" ", "new", None),
            RowKind.ADDED: ("+", "new", "diff-view--added"),
            RowKind.REMOVED: ("-", "old", "diff-view--removed"),
        }[row.kind]
        code = self._code(row, side, y)
        self._mark(code, y)
        line = self._decision(y)
        line.append(f"{self._number(row.old)} {self._number(row.new)}", style=gutter)
        line.append_text(self._warning(row))
        line.append(f"{sign} ")
        line.append_text(code)
        if background is not None:
            line.stylize(self._tint(background))
        return line

    def _half(self, row: DiffRow, side: str, width: int, y: int, x: int) -> Strip:
        """One side of a row in ``width`` cells: its line number and mark,
        then its code from column ``x`` (scrolled sideways)."""
        console = self.app.console
        index = row.old if side == "old" else row.new
        gutter = self.get_component_rich_style("diff-view--gutter")
        head = Text(self._number(index), style=gutter)
        head.append_text(self._warning(row, side))
        head.truncate(width, pad=index is None)
        if index is None:
            return Strip(head.render(console), width)
        room = width - head.cell_len
        code = self._code(row, side, y)
        self._mark(code, y)
        code.truncate(x + room, pad=True)
        if row.kind in (RowKind.ADDED, RowKind.REMOVED, RowKind.CHANGED):
            tint = self._tint("diff-view--removed" if side == "old" else "diff-view--added")
            head.stylize(tint)
            code.stylize(tint)
        return Strip.join(
            [
                Strip(head.render(console), head.cell_len),
                Strip(code.render(console), x + room).crop(x, x + room),
            ]
        )

    def _side_by_side_line(self, row: DiffRow, y: int, width: int, x: int) -> Strip:
        console = self.app.console
        if row.kind in (RowKind.HUNK, RowKind.COMMENT):
            text = self._hunk_header(row, y) if row.kind == RowKind.HUNK else self._comment(row, y)
            return Strip(text.render(console), text.cell_len)
        decision = self._decision(y)
        left, right = self._halves(width)
        rule = Text("│", style=self.get_component_rich_style("diff-view--gutter"))
        return Strip.join(
            [
                Strip(decision.render(console), decision.cell_len),
                self._half(row, "old", left, y, x),
                Strip(rule.render(console), 1),
                self._half(row, "new", right, y, x),
            ]
        )

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if index >= len(self.rows):
            if index == 0 and self.message:
                return Strip(
                    Text(self.message, style="italic").render(self.app.console)
                ).crop_extend(0, width, base)
            return Strip.blank(width, base)
        key = (index, width)
        if self.split:
            # Side by side, the rows scroll sideways inside their halves:
            # drawn again from the new column.
            if scroll_x != self._cached_x:
                self._cached_x = scroll_x
                self._cache.clear()
            strip = self._cache.get(key)
            if strip is None:
                strip = self._side_by_side_line(self.rows[index], index, width, scroll_x)
                self._cache[key] = strip
            return strip.crop_extend(0, width, base).apply_style(base).simplify()
        strip = self._cache.get(key)
        if strip is None:
            text = self._unified_line(self.rows[index], index)
            text.pad_right(max(self.virtual_size.width - text.cell_len, 0))
            text.no_wrap = True
            strip = Strip(text.render(self.app.console), text.cell_len)
            self._cache[key] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_style(base).simplify()
