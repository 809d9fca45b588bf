"""The Textual app (placeholder entry until the app issue lands)."""

from __future__ import annotations

from sqlalchemy.engine import URL


def run_app(url: URL) -> None:
    raise SystemExit("the terminal app is not built yet; use the CLI commands (projdeck --help)")
