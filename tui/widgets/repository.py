"""What the screens show of a project's git repository: a modification
against its branch (the review screen's rows: the commit it was made
against, how far the branch moved since, whether it still applies, the
commit it was applied as), and git's services loaded off the drawing loop."""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import TYPE_CHECKING

from rich.text import Text

from tui import format

if TYPE_CHECKING:
    from store.services.git import ChangeState

GIT_SERVICES = "store.services.git"
CHECKING = "checking against the repository…"
# Conflicting or edited files named before "and N more".
LISTED = 5

# A label and its value, as a row of a screen's fields.
Row = tuple[str, Text]


async def load_git() -> None:
    """Import the git services (libgit2 with them, 0.1-0.2 s) in a thread,
    not on the loop that draws; at once when they are loaded already."""
    if GIT_SERVICES not in sys.modules:
        await asyncio.to_thread(importlib.import_module, GIT_SERVICES)


def checking_rows() -> list[Row]:
    """The rows while the repository is read."""
    return [("Git", format.safe(CHECKING, style="dim"))]


def _listed(items: tuple[str, ...], separator: str) -> str:
    shown = separator.join(items[:LISTED])
    more = len(items) - LISTED
    return shown + (f"{separator}and {more} more" if more > 0 else "")


def _base(state: ChangeState, base: str) -> Text:
    line = format.safe()
    line.append(base[:12], style="bold")
    branch = state.branch
    if branch is not None and state.moved_by == 0:
        line.append(" · the tip of ")
        line.append(branch)
    elif branch is not None and state.moved_by is not None:
        plural = "s" if state.moved_by != 1 else ""
        line.append(" · ")
        line.append(branch)
        line.append(f" has moved {state.moved_by} commit{plural} since", style="yellow")
    return format.sealed(line)


def _applies(state: ChangeState) -> Text:
    if state.applies:
        return format.safe("cleanly now", style="green")
    reasons = []
    if state.conflicts:
        reasons.append(f"it conflicts with the branch: {_listed(state.conflicts, '; ')}")
    if state.dirty:
        reasons.append(f"uncommitted edits in the way: {_listed(state.dirty, ', ')}")
    if not reasons and state.problem is not None:
        reasons.append(state.problem)
    line = format.safe()
    line.append("no", style="bold red")
    if reasons:
        line.append(", ")
        line.append("; ".join(reasons))
    return format.sealed(line)


def change_rows(state: ChangeState) -> list[Row]:
    """A modification against its project's repository, as rows: its base
    commit and how far the branch moved since, whether it applies now (or
    what is in the way), the commit it was applied as, and why a figure is
    missing. Branch names, paths and messages are shown as text."""
    rows: list[Row] = []
    if state.base_commit is not None:
        rows.append(("Base", _base(state, state.base_commit)))
    if state.applies is not None:
        rows.append(("Applies", _applies(state)))
    if state.applied_commit is not None:
        applied = format.safe("as ")
        applied.append(state.applied_commit[:12], style="bold")
        if state.branch is not None:
            applied.append(" on ")
            applied.append(state.branch)
        rows.append(("Applied", format.sealed(applied)))
    if state.problem is not None and state.applies is None:
        rows.append(("Git", format.safe(state.problem, style="yellow")))
    return rows
