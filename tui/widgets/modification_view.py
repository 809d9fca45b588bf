"""One modification read-only: request, review, impact analysis, test
results and the change of each file (coloured for the app's theme)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table

from store import text as text_safety
from store.services.review import ModificationDetail
from tui import format
from tui.widgets.code_theme import DARK


def _readable(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def render_modification(
    detail: ModificationDetail, now: datetime, *, theme: str = DARK
) -> RenderableType:
    """The modification as the history shows it; its diffs coloured in the
    Pygments style ``theme`` (``code_theme.app_syntax_theme``: the app's)."""
    mod = detail.modification
    fields = Table.grid(padding=(0, 1))
    fields.add_column(style="bold", no_wrap=True)
    fields.add_column()
    # Text, not str, for every value: a table reads strings as markup.
    fields.add_row("Project", format.safe(detail.project_name))
    fields.add_row("Status", format.status_text(mod.status))
    fields.add_row(
        "Requested", format.safe(f"by {mod.requested_by}, {format.ago(mod.requested_at, now)}")
    )
    if mod.reviewed_by:
        fields.add_row(
            "Reviewed", format.safe(f"by {mod.reviewed_by}, {format.ago(mod.reviewed_at, now)}")
        )
    if mod.review_comment:
        fields.add_row("Comment", format.safe(mod.review_comment))
    if mod.applied_at:
        fields.add_row("Applied", format.ago(mod.applied_at, now))
    if mod.failure_reason:
        fields.add_row("Failed", format.safe(mod.failure_reason, style="red"))
    parts: list[RenderableType] = [format.safe(mod.request, style="bold"), format.safe(""), fields]
    if mod.impact_analysis:
        impact = Table.grid(padding=(0, 1))
        impact.add_column(style="bold", no_wrap=True)
        impact.add_column()
        for key, value in mod.impact_analysis.items():
            impact.add_row(format.safe(key.replace("_", " ")), format.safe(_readable(value)))
        parts += [format.safe(""), format.safe("Impact analysis", style="bold underline"), impact]
    if mod.test_results:
        results = mod.test_results
        line = format.safe()
        line.append(f"{results.get('passed', 0)} passed", style="green")
        line.append(" · ")
        line.append(
            f"{results.get('failed', 0)} failed", style="red" if results.get("failed") else ""
        )
        line.append(f" · {results.get('skipped', 0)} skipped")
        parts += [
            format.safe(""),
            format.safe("Tests", style="bold underline"),
            format.sealed(line),
        ]
        for failure in results.get("failures", []) or []:
            if isinstance(failure, dict):
                parts.append(
                    format.safe(
                        f"  ✗ {failure.get('name', '?')}: {failure.get('message', '')}", style="red"
                    )
                )
    files = Table(box=None, show_header=True, header_style="bold", padding=(0, 1))
    files.add_column("file")
    files.add_column("change")
    files.add_column("+", justify="right", style="green")
    files.add_column("-", justify="right", style="red")
    for change in detail.files:
        files.add_row(
            format.safe(change.path), str(change.kind), str(change.added), str(change.removed)
        )
    parts += [
        format.safe(""),
        format.safe(f"Files (against {detail.against})", style="bold underline"),
        files,
    ]
    for change in detail.files:
        if change.diff:
            parts += [
                format.safe(""),
                Syntax(
                    text_safety.visible(change.diff, multiline=True),
                    "diff",
                    theme=theme,
                    word_wrap=True,
                ),
            ]
    return Group(*parts)
