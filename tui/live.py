"""Live refresh: when another process writes (an agent proposing through
the CLI, a colleague approving), the app notices within a second, tells the
person what changed in the inbox, and the screen on show redraws itself
(screens opt in with a ``store_changed()`` method).

A timer asks the store's ChangeProbe every ``seconds`` (the config file's
``live_refresh_seconds``, else POLL_SECONDS): one short read on a kept
connection (``PRAGMA data_version`` and the highest audit id)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from textual.app import App, ScreenStackError

from store.config import DEFAULT_LIVE_REFRESH_SECONDS
from store.errors import StoreError, StoreUnavailable
from store.models import ModificationStatus
from store.services.changes import ChangeProbe
from tui import format
from tui.context import as_deck

if TYPE_CHECKING:
    from store.services.review import Inbox

POLL_SECONDS = DEFAULT_LIVE_REFRESH_SECONDS
WAITING = (ModificationStatus.PENDING, ModificationStatus.APPROVED)
# What a modification that left the inbox became, in a notification's words.
LEFT_WORDS = {
    ModificationStatus.APPLIED: "Applied elsewhere",
    ModificationStatus.REJECTED: "Rejected elsewhere",
    ModificationStatus.FAILED: "Failed to apply elsewhere (conflict)",
}


class LiveRefresh:
    def __init__(self, app: App[Any], seconds: float = POLL_SECONDS) -> None:
        self.app = app
        self.seconds = seconds
        self.deck = as_deck(app)
        self.probe: ChangeProbe | None = None
        self.waiting: dict[uuid.UUID, tuple[ModificationStatus, str, str]] | None = None
        # Modifications this app just acted on: their change is no news.
        self.own: set[uuid.UUID] = set()
        self._busy = False

    def start(self) -> None:
        self.probe = ChangeProbe(self.deck.database)
        self.app.set_interval(self.seconds, self._tick, name="live-refresh")

    def expect(self, modification_id: uuid.UUID) -> None:
        """This app is about to change ``modification_id``: no notification."""
        self.own.add(modification_id)

    async def close(self) -> None:
        if self.probe is not None:
            await self.probe.close()

    def _tick(self) -> None:
        if self._busy or self.probe is None or self.deck.is_connection_lost:
            return
        self._busy = True
        self.app.run_worker(self._check(), group="live-refresh")

    async def _check(self) -> None:
        # Loaded here, after the first screen is drawn, not at start-up.
        from store.services.review import modification_statuses, waiting_modifications

        try:
            assert self.probe is not None
            try:
                changed = await self.probe.changed()
                if not changed and self.waiting is not None:
                    return
                inbox = await waiting_modifications(self.deck.database)
                # What became of those that left the inbox, to say so.
                gone = self._gone(inbox)
                statuses = await modification_statuses(self.deck.database, gone) if gone else {}
            except StoreUnavailable as error:
                self.deck.connection_lost(error.message)
                return
            except StoreError:
                return
            self._announce(inbox, statuses)
            if changed:
                try:
                    screen = self.app.screen
                except ScreenStackError:  # the app closed while this check ran
                    return
                hook = getattr(screen, "store_changed", None)
                if hook is not None:
                    hook()
        finally:
            self._busy = False

    def _gone(self, inbox: Inbox) -> list[uuid.UUID]:
        """Modifications that were waiting at the last reading and are not now."""
        if self.waiting is None:
            return []
        now = {item.id for group in inbox.groups for item in group.items}
        return [key for key in self.waiting if key not in now]

    def _announce(self, inbox: Inbox, statuses: dict[uuid.UUID, ModificationStatus]) -> None:
        """Notify what changed in the inbox since the last reading;
        ``statuses`` says where those that left it stand now."""
        now = {
            item.id: (item.status, group.project_name, item.request)
            for group in inbox.groups
            for item in group.items
        }
        before, self.waiting = self.waiting, now
        if before is None:
            return
        news: list[str] = []
        added = [key for key in now if key not in before and key not in self.own]
        approved = [
            key
            for key, (status, _, _) in now.items()
            if key in before
            and before[key][0] != status
            and status == ModificationStatus.APPROVED
            and key not in self.own
        ]
        left = [key for key in before if key not in now and key not in self.own]
        for key in added:
            _, project, request = now[key]
            news.append(f"New: {project}: {request.splitlines()[0] if request else ''}")
        for key in approved:
            news.append(f"Approved elsewhere: {self._name(key, now)}")
        for key in left:
            status = statuses.get(key)
            if status in WAITING:
                continue  # still waiting, beyond the inbox's first rows
            words = "Left the inbox" if status is None else LEFT_WORDS.get(status, "Left the inbox")
            news.append(f"{words}: {self._name(key, before)}")
        self.own.clear()
        if news:
            self.app.notify(
                "\n".join(news[:5]) + (f"\n… and {len(news) - 5} more" if len(news) > 5 else ""),
                title=f"Inbox: {inbox.waiting} waiting",
                timeout=6,
                markup=False,
            )

    def _name(
        self, key: uuid.UUID, table: dict[uuid.UUID, tuple[ModificationStatus, str, str]]
    ) -> str:
        _, project, request = table[key]
        return (
            f"{project} {format.short_id(key, shown=self.deck.show_ids)} {request.splitlines()[0]}"
        )
