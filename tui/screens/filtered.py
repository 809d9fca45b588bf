"""What the screens filtered as you type share: the query runs once typing
pauses, not on every key."""

from __future__ import annotations

from textual import on
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input

# Seconds of no typing before a filter runs.
TYPING_PAUSE = 0.2


class FilteredScreen(Screen[None]):
    """A screen that reads its rows again (``reload``) once typing pauses in
    any of its inputs of class ``as-you-type``: a text search scans a table,
    and stale scans would queue behind the newest."""

    _typing: Timer | None = None

    def reload(self) -> None:
        raise NotImplementedError

    @on(Input.Changed, ".as-you-type")
    def _typed(self) -> None:
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE, self.reload)
