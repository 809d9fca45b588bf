"""Live refresh: when another process writes (an agent proposing through
the CLI, a colleague approving), the app notices within a second, tells the
person what changed in the inbox, and the screen on show redraws itself
(screens opt in with a ``store_changed()`` method).

A check asks the store's ChangeProbe whether anything changed: one short
read on a kept connection (``PRAGMA data_version`` and the highest audit
id). On SQLite a timer runs it every ``seconds`` (the config file's
``live_refresh_seconds``, else POLL_SECONDS). On PostgreSQL every write
notifies as it commits (store/notify.py): a notification runs the check
(a burst of them within DEBOUNCE_SECONDS, one check), and while the
listener is healthy the timer only runs one when SAFETY_NET_SECONDS passed
without any. When the listening connection ends the timer polls again,
every ``seconds``, and a new listener is tried after RELISTEN_DELAYS."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from textual.app import App, ScreenStackError

from store.config import DEFAULT_LIVE_REFRESH_SECONDS
from store.errors import StoreError, StoreUnavailable
from store.models import ModificationStatus
from store.services.changes import ChangeProbe
from tui import format
from tui.context import as_deck

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.worker import Worker

    from store.notify import ChangeListener, Notice
    from store.services.review import Inbox

POLL_SECONDS = DEFAULT_LIVE_REFRESH_SECONDS
# PostgreSQL, listening: a check at least this often, for a notification
# that never came (a network that froze without closing the connection).
SAFETY_NET_SECONDS = 10.0
# Notifications within this long of the first make one check.
DEBOUNCE_SECONDS = 0.05
# Seconds before each new try to listen after a failure; the last repeats.
RELISTEN_DELAYS = (5.0, 10.0, 20.0, 40.0, 60.0)
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
        # When the last check started (time.monotonic()).
        self._checked_at = 0.0
        # PostgreSQL: the listener while it listens; a notification not yet
        # checked; the timer that gathers a burst of them; failed tries.
        self.listener: ChangeListener | None = None
        self._told = False
        self._gathering: Timer | None = None
        self._failures = 0
        self._closed = False

    def start(self) -> None:
        self.probe = ChangeProbe(self.deck.database)
        self.app.set_interval(self.seconds, self._tick, name="live-refresh")
        if self.deck.database.backend == "postgresql":
            self._listen(0.0)

    @property
    def listening(self) -> bool:
        """Whether the app is told of changes now (else it polls)."""
        return self.listener is not None and self.listener.listening

    def expect(self, modification_id: uuid.UUID) -> None:
        """This app is about to change ``modification_id``: no notification."""
        self.own.add(modification_id)

    async def close(self) -> None:
        self._closed = True
        listener, self.listener = self.listener, None
        if listener is not None:
            await listener.close()
        if self.probe is not None:
            await self.probe.close()

    def _tick(self) -> None:
        if self.listening and time.monotonic() - self._checked_at < SAFETY_NET_SECONDS:
            return
        self._run_check()

    def _run_check(self) -> None:
        if self._busy or self.probe is None or self.deck.is_connection_lost:
            return
        self._busy = True
        # What was told before this check's reading, it sees.
        self._told = False
        self._checked_at = time.monotonic()
        self._run(self._check, group="live-refresh")

    def _run(
        self, work: Callable[[], Coroutine[None, None, None]], group: str, exclusive: bool = False
    ) -> Worker[None]:
        """``work`` in a worker (a function that makes the coroutine when it
        starts: a coroutine made here would never be awaited should the
        worker not start, the app closing)."""
        return self.app.run_worker(work, group=group, exclusive=exclusive)

    def _listen(self, delay: float) -> None:
        """Start a listener, after ``delay`` seconds (a timer, not a worker
        that sleeps: the app waits for no one)."""
        if delay:
            self.app.set_timer(delay, self._listen_now, name="live-listen")
        else:
            self._listen_now()

    def _listen_now(self) -> None:
        if not self._closed:
            self._run(self._start_listener, group="live-listen", exclusive=True)

    async def _start_listener(self) -> None:
        from store.notify import ChangeListener

        listener = ChangeListener(self.deck.database, self._notified, self._lost)
        try:
            await listener.start()
        except StoreError:
            self._listen_later()
            return
        if self._closed:
            await listener.close()
            return
        self.listener = listener
        self._failures = 0
        # A first reading, or what was written while nobody listened.
        self._gather()

    def _notified(self, _notice: Notice) -> None:
        # Called by the driver, outside the app's context: on to the app's queue.
        self.app.call_later(self._gather)

    def _gather(self) -> None:
        self._told = True
        if self._gathering is None:
            self._gathering = self.app.set_timer(DEBOUNCE_SECONDS, self._gathered)

    def _gathered(self) -> None:
        self._gathering = None
        # A check running now may have read before the change: it checks
        # again when it ends (``_told`` is still set).
        self._run_check()

    def _lost(self, _reason: str) -> None:
        # Called by the driver, outside the app's context. Polling every
        # ``seconds`` takes over until a new listener listens.
        self.app.call_later(self._replace_listener)

    def _replace_listener(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            self._run(listener.close, group="live-close")
        if not self._closed:
            self._listen_later()

    def _listen_later(self) -> None:
        delay = RELISTEN_DELAYS[min(self._failures, len(RELISTEN_DELAYS) - 1)]
        self._failures += 1
        self._listen(delay)

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
            if self._told and self.listening:
                self._gather()

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
