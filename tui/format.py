"""How the app writes times, scores and ids: the same everywhere, and
given the moment to count from, so tests can fix it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from store.services.templates import TemplateOrigin

HIDDEN_ID = "········"


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


def template_origin(origin: TemplateOrigin) -> str:
    """The template a project came from, and whether it changed since."""
    text = f"{origin.name} version {origin.version}"
    if origin.removed:
        return f"{text} (the template has been removed since)"
    if origin.changed:
        return f"{text} (the template has changed since: now version {origin.current_version})"
    return f"{text} (the template is unchanged since)"
