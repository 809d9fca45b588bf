"""What screens and widgets reach through the app: the open database, the
moment times are counted from, and whether ids are drawn. They name it by
the ``Deck`` protocol, never by importing the app (which imports them)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from textual.dom import DOMNode
from textual.widget import Widget

from store.config import UserConfig
from store.errors import SchemaOutOfDate, StoreError, StoreUnavailable, ValidationError

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from store.engine import Database
    from store.services.team import Permission

T = TypeVar("T")


def configured(app: object, key: str) -> Any:
    """The config file's ``key`` (or its environment variable) when the app
    was started with the config file (``run_app``); None otherwise, or when
    the value is not usable (the warning at start said why). Tests and
    screenshots start the app without it and draw the defaults."""
    config = getattr(app, "config", None)
    if not isinstance(config, UserConfig):
        return None
    try:
        return config.resolve(key).value
    except ValidationError:
        return None


class UnsavedWork(Protocol):
    """An open screen that may hold edits not yet saved (asked before quitting)."""

    @property
    def has_unsaved_settings(self) -> bool: ...


class Deck(Protocol):
    """What screens and widgets need from the app (``tui.app.ProjdeckApp``)."""

    clock: Callable[[], datetime]
    show_ids: bool
    # Every open project's detail, under any main screen.
    open_projects: set[UnsavedWork]

    @property
    def database(self) -> Database: ...

    @property
    def is_connection_lost(self) -> bool: ...

    def connection_lost(self, message: str) -> None:
        """Say the database stopped answering, and watch for it to return."""

    def first_rows_shown(self) -> None:
        """The first screen has drawn its rows: start what waited for them."""

    def expect_change(self, modification_id: uuid.UUID) -> None:
        """This app is about to change ``modification_id``: the live
        refresh announces no news of it."""


def deck(node: DOMNode) -> Deck:
    """The app ``node`` belongs to, as screens and widgets see it."""
    return cast("Deck", node.app)


def as_deck(app: App[Any]) -> Deck:
    """The app itself, as what the app's parts need of it."""
    return cast("Deck", app)


def team_refusal(node: DOMNode, permission: Permission) -> str | None:
    """Why the role a team database is open as may not do ``permission``,
    in the store's words ("role 'ci-agent' (projdeck_agent) may not approve
    modifications"); None when it may, and always on SQLite or a PostgreSQL
    database without a team."""
    from store.services.team import refusal

    try:
        database = deck(node).database
    except RuntimeError:  # not open yet: nothing to refuse
        return None
    return refusal(database, permission)


def say_why_refused(screen: Screen[Any], key: str, permissions: Mapping[str, Permission]) -> bool:
    """When ``key`` is bound to an action shown greyed because the connected
    role may not do it (``permissions``: action name to what it needs), say
    why in a notification and give True; else False (the key goes on)."""
    active = screen.active_bindings.get(key)
    if active is None or active.enabled:
        return False
    action = active.binding.action.split("(", 1)[0].rsplit(".", 1)[-1]
    permission = permissions.get(action)
    refused = None if permission is None else team_refusal(screen, permission)
    if refused is None:
        return False
    screen.notify(refused, title="Not permitted", severity="warning", timeout=8, markup=False)
    return True


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


def copy_to_clipboard(node: Widget, text: str, what: str) -> None:
    """Put ``text`` on the clipboard (the terminal's, through OSC 52) and
    say what was copied (``what``: "the id of project 'Billing'")."""
    node.app.copy_to_clipboard(text)
    node.notify(f"Copied {what}", markup=False)
