"""How the app writes times, scores and ids: the same everywhere, and
given the moment to count from, so tests can fix it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import JustifyMethod, OverflowMethod
from rich.style import Style
from rich.text import Text

from store import text as text_safety

if TYPE_CHECKING:
    from store.services.git import RepositoryStatus
    from store.services.templates import TemplateOrigin

HIDDEN_ID = "········"


# How a hidden character's stand-in is marked, so it cannot pass for text
# that was typed (a literal "␛" or "<U+202E>" in a name is shown plain).
HIDDEN_STYLE = "bold reverse red"


def safe(
    value: object = "",
    style: str | Style = "",
    *,
    multiline: bool = True,
    overflow: OverflowMethod | None = None,
    no_wrap: bool | None = None,
    justify: JustifyMethod | None = None,
) -> Text:
    """Stored text as a Rich ``Text`` to show in the app: never markup, and
    every character a terminal would act on or a reader could not see
    (escape sequences, bidirectional overrides, zero-width characters) shown
    as a marked stand-in (see ``store.text``); tabs and newlines are kept
    unless ``multiline`` is false. Every screen shows stored text through
    this (tables through ``SafeTable``, notifications through the app)."""
    plain = "" if value is None else str(value)
    if not text_safety.has_hidden(plain, multiline=multiline):
        return Text(plain, style=style, overflow=overflow, no_wrap=no_wrap, justify=justify)
    shown = Text(style=style, overflow=overflow, no_wrap=no_wrap, justify=justify)
    start = 0
    for match in text_safety.hidden(plain, multiline=multiline):
        shown.append(plain[start : match.start()])
        shown.append(text_safety.stand_in(match.group()), style=HIDDEN_STYLE)
        start = match.end()
    shown.append(plain[start:])
    return shown


def sealed(text: Text) -> Text:
    """``text`` (built from several pieces of stored text) with its hidden
    characters shown as marked stand-ins, its styles kept."""
    plain = text.plain
    if not text_safety.has_hidden(plain, multiline=True):
        return text
    matches = text_safety.hidden(plain, multiline=True)
    cuts = sorted({offset for match in matches for offset in (match.start(), match.end())})
    shown = text.blank_copy()
    for piece in text.divide(cuts):
        if text_safety.has_hidden(piece.plain, multiline=True):
            shown.append(text_safety.visible(piece.plain, multiline=True), style=HIDDEN_STYLE)
        else:
            shown.append_text(piece)
    return shown


def cell(value: str | Text) -> Text:
    """A table cell or a line of stored text: ``safe`` for a string,
    ``sealed`` for a ``Text``."""
    return sealed(value) if isinstance(value, Text) else safe(value)


def safe_renderable(value: object) -> object:
    """A cell or a line about to be shown, made safe whatever it is: a string
    becomes ``safe`` text (never markup), a ``Text`` holding hidden
    characters has them shown; anything else is left as it is."""
    return cell(value) if isinstance(value, str | Text) else value


def plain(value: object) -> str:
    """Stored text for a place that takes a plain string (a title, a
    notification, an input's value): one line, hidden characters replaced."""
    return text_safety.visible("" if value is None else str(value))


def ago(when: datetime | None, now: datetime) -> str:
    """A time as its distance from ``now``: "just now", "5m ago", "3h ago",
    "4d ago", then the date."""
    if when is None:
        return "—"
    seconds = int((now - when).total_seconds())
    if seconds < 0:
        return when.strftime("%Y-%m-%d %H:%M")
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    if seconds < 86400 * 30:
        return f"{seconds // 86400}d ago"
    return when.strftime("%Y-%m-%d")


def stamp(when: datetime | None) -> str:
    """A full UTC time."""
    return "—" if when is None else when.strftime("%Y-%m-%d %H:%M UTC")


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def score_style(value: float | None) -> str:
    if value is None:
        return "dim"
    if value >= 80:
        return "green"
    if value >= 50:
        return "yellow"
    return "red"


def score_bar(value: float | None, width: int = 20) -> Text:
    """A score as a bar of ``width`` cells and the number."""
    if value is None:
        return Text("not measured", style="dim")
    filled = round(value / 100 * width)
    bar = Text("█" * filled, style=score_style(value))
    bar.append("░" * (width - filled), style="dim")
    bar.append(f" {value:.0f}")
    return bar


def short_id(value: uuid.UUID | str | None, *, shown: bool = True) -> str:
    if value is None:
        return "—"
    return str(value)[:8] if shown else HIDDEN_ID


STATUS_STYLES = {
    "active": "green",
    "archived": "yellow",
    "deleted": "red",
    "pending": "cyan",
    "approved": "blue",
    "applied": "green",
    "failed": "red",
    "rejected": "magenta",
    "debug": "dim",
    "info": "",
    "warning": "yellow",
    "error": "red",
    "critical": "bold red",
}


def status_text(value: str) -> Text:
    return Text(str(value), style=STATUS_STYLES.get(str(value), ""))


def snapshot_state(commit: str | None, repository: RepositoryStatus | None) -> str:
    """The commit a codebase snapshot is at, and how far the linked branch
    has moved since (when this machine has the repository)."""
    if commit is None:
        return "not synced from git" + (" (projdeck project sync)" if repository else "")
    text = f"{commit[:12]}"
    if repository is None:
        return text
    if repository.problem is not None:
        return f"{text} ({repository.problem})"
    if repository.ahead == 0:
        return f"{text} (the tip of {repository.branch})"
    if repository.ahead is not None:
        plural = "s" if repository.ahead != 1 else ""
        return f"{text} ({repository.branch} has moved {repository.ahead} commit{plural} since)"
    return text


def template_origin(origin: TemplateOrigin) -> str:
    """The template a project came from, and whether it changed since."""
    text = f"{origin.name} version {origin.version}"
    if origin.removed:
        return f"{text} (the template has been removed since)"
    if origin.changed:
        return f"{text} (the template has changed since: now version {origin.current_version})"
    return f"{text} (the template is unchanged since)"
