"""The diff of one file, unified or side by side, syntax highlighted.

A Line API widget: it draws only the rows on screen (and keeps the last
ones drawn), so a 5,000-line file scrolls as fast as a short one. The rows
come from the store's unified diff of the file (what ``projdeck mod show
--diff`` prints), each line coloured from the before or after text, each
side highlighted once with Pygments through Rich's theme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from itertools import zip_longest

from rich.cells import cell_len
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

THEME = "monokai"


class RowKind(StrEnum):
    HUNK = "hunk"
    CONTEXT = "context"
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"  # side by side: a removed line beside an added one


@dataclass(frozen=True)
class DiffRow:
    """One row: a hunk header, or an old line and/or a new line (by index
    into each side's highlighted lines)."""

    kind: RowKind
    old: int | None = None
    new: int | None = None
    header: str = ""


def highlight_lines(path: str, text: str | None) -> list[Text]:
    """Each line of ``text`` as Rich Text coloured for the file's language
    (no background: the row kind sets it)."""
    if not text:
        return []
    lexer = Syntax("", Syntax.guess_lexer(path)).lexer
    if lexer is None:
        return [Text(line.expandtabs(4)) for line in text.splitlines()]
    theme = Syntax.get_theme(THEME)
    lines: list[Text] = [Text()]
    styles: dict[object, Style] = {}
    for token_type, value in lexer.get_tokens(text):
        style = styles.get(token_type)
        if style is None:
            full = theme.get_style_for_token(token_type)
            style = styles[token_type] = Style(
                color=full.color, bold=full.bold, italic=full.italic, underline=full.underline
            )
        parts = value.split("\n")
        for index, part in enumerate(parts):
            if index:
                lines.append(Text())
            if part:
                lines[-1].append(part.expandtabs(4), style)
    return lines[: len(text.splitlines())]


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


def _line(lines: list[str], index: int) -> str:
    return lines[index] if index < len(lines) else ""


class DiffView(ScrollView, can_focus=True):
    """The diff of one file; ``s`` on the review screen toggles the layout."""

    COMPONENT_CLASSES = {
        "diff-view--added",
        "diff-view--removed",
        "diff-view--hunk",
        "diff-view--gutter",
        "diff-view--match",
        "diff-view--current-match",
    }
    DEFAULT_CSS = """
    DiffView > .diff-view--added { background: $success 20%; }
    DiffView > .diff-view--removed { background: $error 20%; }
    DiffView > .diff-view--hunk { color: $accent; text-style: bold; }
    DiffView > .diff-view--gutter { color: $text-muted; }
    DiffView > .diff-view--match { background: $warning 40%; }
    DiffView > .diff-view--current-match { background: $warning; color: $background; }
    """

    side_by_side: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path = ""
        self._old_text: list[str] = []
        self._new_text: list[str] = []
        self._old: list[Text] = []
        self._new: list[Text] = []
        self.rows: list[DiffRow] = []
        self.message = ""
        self.search = ""
        self.matches: list[int] = []
        self.current_match: int | None = None
        self._generation = 0
        self._diff = ""
        self._gutter = 1
        self._cache: LRUCache[tuple[int, int], Strip] = LRUCache(1024)

    def show(self, path: str, before: str | None, after: str | None, diff: str) -> None:
        """Show ``diff``, the unified diff of ``path`` from ``before`` to
        ``after`` (None: absent): plain at once, coloured when a thread has highlighted it
        (Pygments takes about 0.4 s for 5,000 lines of Python)."""
        self.path = path
        self._old_text = (before or "").splitlines()
        self._new_text = (after or "").splitlines()
        self._old = [Text(line.expandtabs(4)) for line in self._old_text]
        self._new = [Text(line.expandtabs(4)) for line in self._new_text]
        self.message = "" if before != after else "No change against the codebase."
        self._diff = diff
        self._generation += 1
        self._build()
        self.scroll_to(0, 0, animate=False)
        self._highlight(self._generation, path, before, after)

    @work(thread=True, exclusive=True, group="diff-highlight")
    def _highlight(self, generation: int, path: str, before: str | None, after: str | None) -> None:
        old, new = highlight_lines(path, before), highlight_lines(path, after)
        self.app.call_from_thread(self._highlighted, generation, old, new)

    def _highlighted(self, generation: int, old: list[Text], new: list[Text]) -> None:
        # Pygments and splitlines agree on "\n" only: keep the plain lines otherwise.
        if (
            generation != self._generation
            or len(old) != len(self._old)
            or len(new) != len(self._new)
        ):
            return
        self._old, self._new = old, new
        self._cache.clear()
        self.refresh()

    def clear(self, message: str = "") -> None:
        self._generation += 1
        self.path = ""
        self._old_text = self._new_text = []
        self._old = self._new = []
        self._diff = ""
        self.message = message
        self._build()

    def _build(self) -> None:
        self.rows = diff_rows(self._diff, side_by_side=self.side_by_side)
        self._gutter = len(str(max(len(self._old_text), len(self._new_text), 1)))
        self._cache.clear()
        self._find_matches()
        self._resize()
        self.refresh()

    def _resize(self) -> None:
        if self.side_by_side:
            width = 0
        else:
            longest = max(
                (cell_len(self._line_text(row)) for row in self.rows[:20000]),
                default=0,
            )
            width = longest + 2 * self._gutter + 5
        self.virtual_size = Size(width, max(len(self.rows), 1))

    def watch_side_by_side(self) -> None:
        if self.is_mounted:
            top = self.scroll_y
            self._build()
            self.scroll_to(0, top, animate=False)

    def on_resize(self) -> None:
        self._cache.clear()

    # Search

    def _line_text(self, row: DiffRow) -> str:
        if row.kind == RowKind.HUNK:
            return row.header
        parts = []
        if row.old is not None and (self.side_by_side or row.new is None):
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

    def _code(self, row: DiffRow, side: str) -> Text:
        index = row.old if side == "old" else row.new
        if index is None:
            return Text()
        lines = self._old if side == "old" else self._new
        return lines[index].copy() if index < len(lines) else Text()

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

    def _number(self, value: int | None) -> str:
        return (str(value + 1) if value is not None else "").rjust(self._gutter)

    def _unified_line(self, row: DiffRow, y: int) -> Text:
        gutter = self.get_component_rich_style("diff-view--gutter")
        if row.kind == RowKind.HUNK:
            line = Text(row.header, style=self.get_component_rich_style("diff-view--hunk"))
            self._mark(line, y)
            return line
        sign, side, background = {
            RowKind.CONTEXT: (" ", "new", None),
            RowKind.ADDED: ("+", "new", "diff-view--added"),
            RowKind.REMOVED: ("-", "old", "diff-view--removed"),
        }[row.kind]
        code = self._code(row, side)
        self._mark(code, y)
        line = Text(f"{self._number(row.old)} {self._number(row.new)} ", style=gutter)
        line.append(f"{sign} ")
        line.append_text(code)
        if background is not None:
            line.stylize(self.get_component_rich_style(background))
        return line

    def _half(self, row: DiffRow, side: str, width: int, y: int) -> Text:
        index = row.old if side == "old" else row.new
        gutter = self.get_component_rich_style("diff-view--gutter")
        line = Text(f"{self._number(index)} ", style=gutter)
        if index is None:
            line.truncate(width, pad=True)
            return line
        code = self._code(row, side)
        self._mark(code, y)
        line.append_text(code)
        line.truncate(width, overflow="ellipsis", pad=True)
        changed = row.kind in (RowKind.ADDED, RowKind.REMOVED, RowKind.CHANGED)
        if changed:
            line.stylize(
                self.get_component_rich_style(
                    "diff-view--removed" if side == "old" else "diff-view--added"
                )
            )
        return line

    def _side_by_side_line(self, row: DiffRow, y: int, width: int) -> Text:
        if row.kind == RowKind.HUNK:
            line = Text(row.header, style=self.get_component_rich_style("diff-view--hunk"))
            self._mark(line, y)
            return line
        half = max((width - 1) // 2, 1)
        line = self._half(row, "old", half, y)
        line.truncate(half, pad=True)
        line.append("│", style=self.get_component_rich_style("diff-view--gutter"))
        line.append_text(self._half(row, "new", width - half - 1, y))
        return line

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
        strip = self._cache.get(key)
        if strip is None:
            row = self.rows[index]
            if self.side_by_side:
                text = self._side_by_side_line(row, index, width)
            else:
                text = self._unified_line(row, index)
                text.pad_right(max(self.virtual_size.width - text.cell_len, 0))
            text.no_wrap = True
            strip = Strip(text.render(self.app.console), text.cell_len)
            self._cache[key] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_style(base).simplify()
