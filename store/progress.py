"""Progress of long work, told to whoever shows it: the app's start screen,
a line on a terminal. The store says what it is doing as a ``Step``; a
caller that shows nothing passes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """What is happening now (a sentence), and how far a counted piece of
    work has come (``total`` 0: not counted)."""

    what: str
    done: int = 0
    total: int = 0

    @property
    def counted(self) -> bool:
        return self.total > 0


OnStep = Callable[[Step], None]


def ignore(_step: Step) -> None:
    """The progress of work nobody watches."""
