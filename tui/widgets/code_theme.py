"""Which colours code is drawn in: a dark Pygments style under a dark app
theme, a light one under a light theme (the diff, the codebase and the
modification views follow the app's theme, and redraw when it changes)."""

from __future__ import annotations

from typing import Any

from textual.app import App

# Dark: the colours the views have always had. Light: dark enough on a
# light background, added and removed lines' tints included.
DARK = "monokai"
LIGHT = "friendly"


def syntax_theme(dark: bool) -> str:
    """The Pygments style for a dark (or light) app theme."""
    return DARK if dark else LIGHT


def app_syntax_theme(app: App[Any]) -> str:
    """The Pygments style for ``app``'s theme as it is now."""
    return syntax_theme(app.current_theme.dark)
