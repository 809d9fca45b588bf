"""A file's change split into the hunks its unified diff shows, and the file
rebuilt with only some of them: the one code path behind the diff a reviewer
reads (``store.services.review.unified_diff`` draws these hunks) and the
change applied when they approve it in part.

Hunks are what ``difflib`` groups (the standard library's matcher, three
lines of context, as ``difflib.unified_diff``); a file whose change has no
line to show (an empty file added or deleted, a change of mode only) is one
hunk without lines, so that every changed file can be taken or left."""

from __future__ import annotations

import difflib
import hashlib
from bisect import bisect_left
from collections.abc import Collection
from dataclasses import dataclass

CONTEXT = 3

Opcode = tuple[str, int, int, int, int]


def text_lines(text: str) -> list[str]:
    """``text``'s lines with their ends, broken at "\\n" only, as git and
    every editor count them (``str.splitlines`` also breaks at form feeds,
    U+2028 and other characters an agent could use to make the diff and the
    file disagree about which line is which)."""
    lines = text.split("\n")
    ended = [line + "\n" for line in lines[:-1]]
    return [*ended, lines[-1]] if lines[-1] else ended


def _range(start: int, stop: int) -> str:
    """A side's range in a hunk header, written as ``diff -u`` writes it."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


@dataclass(frozen=True)
class Hunk:
    """One hunk of a file's change: where it stands on each side (0-based,
    end excluded), the matcher's operations in it, and its lines as the
    diff shows them (a one-character prefix, `` ``, ``-`` or ``+``, then
    the line with its end, if it has one)."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int
    opcodes: tuple[Opcode, ...]
    lines: tuple[str, ...]

    @property
    def header(self) -> str:
        if not self.lines:
            return "@@ whole file @@"
        old = _range(self.old_start, self.old_end)
        new = _range(self.new_start, self.new_end)
        return f"@@ -{old} +{new} @@"

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.startswith("+"))

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.startswith("-"))

    def fingerprint(self, path: str) -> str:
        """What the hunk changes, in a file: a decision about it holds as
        long as the hunk it was made about is the one shown."""
        digest = hashlib.sha256()
        for part in (path, self.header, *self.lines):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        return digest.hexdigest()


@dataclass(frozen=True)
class FileHunks:
    """A file's change as hunks, with the lines of each side."""

    path: str
    before: str | None
    after: str | None
    hunks: tuple[Hunk, ...]
    # The matcher's operations over the whole file (equal runs included).
    opcodes: tuple[Opcode, ...]
    old_lines: tuple[str, ...]
    new_lines: tuple[str, ...]

    def rebuilt(self, accepted: Collection[int]) -> str | None:
        """The file with the hunks numbered in ``accepted`` (0-based, in
        this file) made and the others not: ``after`` with all of them,
        ``before`` with none. None where that is no file (a creation left
        out, a deletion taken)."""
        if not self.hunks:
            return self.before
        if self.after is None or self.before is None or not self.hunks[0].lines:
            # A creation or a deletion is one hunk: all or nothing.
            return self.after if 0 in accepted else self.before
        owner = _owners(self.hunks)
        out: list[str] = []
        for code in self.opcodes:
            tag, i1, i2, j1, j2 = code
            if tag != "equal" and owner[code] in accepted:
                out.extend(self.new_lines[j1:j2])
            else:
                out.extend(self.old_lines[i1:i2])
        return "".join(out)


def _owners(hunks: tuple[Hunk, ...]) -> dict[Opcode, int]:
    """Which hunk holds each changing operation (an operation is never in two)."""
    return {
        code: number
        for number, hunk in enumerate(hunks)
        for code in hunk.opcodes
        if code[0] != "equal"
    }


class _Matched(difflib.SequenceMatcher):  # type: ignore[type-arg]
    """difflib's matcher over operations found another way: its grouping
    into hunks (``get_grouped_opcodes``) works on them as on its own."""

    def __init__(self, opcodes: list[Opcode]) -> None:
        super().__init__(None, [], [])
        self._found = opcodes

    def get_opcodes(self) -> list[Opcode]:  # type: ignore[override]
        return list(self._found)


def _anchors(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """The lines found once in each side, as (old index, new index) pairs,
    the longest run of them in the same order on both sides."""
    seen_old: dict[str, int] = {}
    for index, line in enumerate(old):
        seen_old[line] = -1 if line in seen_old else index
    seen_new: dict[str, int] = {}
    for index, line in enumerate(new):
        seen_new[line] = -1 if line in seen_new else index
    pairs = [
        (i, seen_new[line])
        for line, i in seen_old.items()
        if i >= 0 and seen_new.get(line, -1) >= 0
    ]
    pairs.sort()
    # The longest increasing run of new indexes (patience sorting).
    tails: list[int] = []
    tail_at: list[int] = []
    before: list[int] = []
    for position, (_i, j) in enumerate(pairs):
        place = bisect_left(tails, j)
        if place == len(tails):
            tails.append(j)
            tail_at.append(position)
        else:
            tails[place] = j
            tail_at[place] = position
        before.append(tail_at[place - 1] if place else -1)
    run: list[tuple[int, int]] = []
    position = tail_at[-1] if tail_at else -1
    while position >= 0:
        run.append(pairs[position])
        position = before[position]
    return run[::-1]


def _anchored_opcodes(old: list[str], new: list[str]) -> list[Opcode]:
    """Operations turning ``old`` into ``new``: the lines found once on each
    side, in the same order, are kept as they are, and difflib's matcher
    works on what lies between them only (a long file with scattered edits
    costs little, where the matcher alone takes a while)."""
    found: list[Opcode] = []

    def add(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if i1 == i2 and j1 == j2:
            return
        if found and found[-1][0] == tag == "equal":
            found[-1] = (tag, found[-1][1], i2, found[-1][3], j2)
        else:
            found.append((tag, i1, i2, j1, j2))

    i = j = 0
    for anchor_i, anchor_j in [*_anchors(old, new), (len(old), len(new))]:
        between = difflib.SequenceMatcher(None, old[i:anchor_i], new[j:anchor_j])
        for tag, a1, a2, b1, b2 in between.get_opcodes():
            add(tag, i + a1, i + a2, j + b1, j + b2)
        if anchor_i < len(old):
            add("equal", anchor_i, anchor_i + 1, anchor_j, anchor_j + 1)
        i, j = anchor_i + 1, anchor_j + 1
    return found


def split(path: str, before: str | None, after: str | None, *, quick: bool = False) -> FileHunks:
    """``path``'s change from ``before`` to ``after`` (None: absent) as hunks.
    ``quick``: lines found once on each side anchor the match (see
    ``_anchored_opcodes``): for showing a long change fast; the hunks a
    reviewer decides on are difflib's own."""
    old = text_lines(before or "")
    new = text_lines(after or "")
    matcher = (
        _Matched(_anchored_opcodes(old, new)) if quick else difflib.SequenceMatcher(None, old, new)
    )
    # get_grouped_opcodes trims the first and last runs of the matcher's own
    # list in place: the whole-file operations are copied first.
    opcodes = tuple(matcher.get_opcodes())
    hunks = []
    for group in matcher.get_grouped_opcodes(CONTEXT):
        lines: list[str] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(" " + line for line in old[i1:i2])
                continue
            lines.extend("-" + line for line in old[i1:i2])
            lines.extend("+" + line for line in new[j1:j2])
        first, last = group[0], group[-1]
        hunks.append(
            Hunk(
                old_start=first[1],
                old_end=last[2],
                new_start=first[3],
                new_end=last[4],
                opcodes=tuple(group),
                lines=tuple(lines),
            )
        )
    if not hunks:
        hunks.append(Hunk(0, len(old), 0, len(new), (), ()))
    return FileHunks(path, before, after, tuple(hunks), opcodes, tuple(old), tuple(new))


def unified(files: FileHunks) -> tuple[str, int, int]:
    """The unified diff of one file as ``diff -u``/``difflib`` write it
    (``/dev/null`` for an absent side; a line without an end marked "\\ No
    newline at end of file"), and how many lines it adds and removes."""
    shown = [hunk for hunk in files.hunks if hunk.lines]
    if not shown:
        return "", 0, 0
    out = [
        f"--- {'a/' + files.path if files.before is not None else '/dev/null'}\n",
        f"+++ {'b/' + files.path if files.after is not None else '/dev/null'}\n",
    ]
    added = removed = 0
    for hunk in shown:
        out.append(hunk.header + "\n")
        for line in hunk.lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        added += hunk.added
        removed += hunk.removed
    return "".join(out), added, removed


def partial_patch(files: FileHunks, accepted: Collection[int]) -> str:
    """A git patch of ``files``' path making only the hunks numbered in
    ``accepted`` (0-based, in this file) to ``before``: each as the diff shows
    it, its new side's start moved by what the hunks left out would have
    added or removed. Empty when none is accepted. For a file both sides of
    which exist (a creation or deletion is taken whole, not by hunk)."""
    assert files.before is not None and files.after is not None
    out: list[str] = []
    shift = 0
    for number, hunk in enumerate(files.hunks):
        if number not in accepted or not hunk.lines:
            continue
        old = _range(hunk.old_start, hunk.old_end)
        start = hunk.old_start + shift
        new = _range(start, start + hunk.new_end - hunk.new_start)
        out.append(f"@@ -{old} +{new} @@\n")
        for line in hunk.lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        shift += (hunk.new_end - hunk.new_start) - (hunk.old_end - hunk.old_start)
    if not out:
        return ""
    path = files.path
    return f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n" + "".join(out)
