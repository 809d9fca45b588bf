"""What screens and widgets reach through the app: the open database, the
moment times are counted from, and whether ids are drawn."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar, cast

from textual.dom import DOMNode
from textual.widget import Widget

from store.errors import SchemaOutOfDate, StoreError, StoreUnavailable

if TYPE_CHECKING:
    from tui.app import ProjdeckApp

T = TypeVar("T")


def deck(node: DOMNode) -> ProjdeckApp:
    return cast("ProjdeckApp", node.app)


async def attempt(node: Widget, work: Awaitable[T], *, title: str = "") -> T | None:
    """Await a service call; a store error becomes a notification and None,
    so a worker never takes the app down. A lost connection is shown in the
    header until it comes back (the app watches for that)."""
    try:
        return await work
    except StoreUnavailable as error:
        if not isinstance(error, SchemaOutOfDate):
            deck(node).connection_lost(error.message)
            return None
        node.notify(
            error.message, title=title or "Error", severity="error", timeout=8, markup=False
        )
        return None
    except StoreError as error:
        # Messages quote names as given: never read them as markup.
        node.notify(
            error.message, title=title or "Error", severity="error", timeout=8, markup=False
        )
        return None
