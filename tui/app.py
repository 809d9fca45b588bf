"""The Textual app: main screens as modes (Projects, Templates,
Modifications, Audit), the database opened in a worker, help and palette."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import inspect
import signal
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import URL
from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input, TextArea

from store.config import UserConfig, describe_url
from store.engine import Database, open_database
from store.errors import StoreError
from store.progress import OnStep, Step
from store.text import visible
from store.types import utcnow
from tui.context import Deck, UnsavedWork
from tui.live import POLL_SECONDS, LiveRefresh
from tui.palette import ProjdeckCommands
from tui.screens.projects import ProjectsScreen
from tui.screens.start import StartScreen

RECONNECT_SECONDS = 2.0


def _lazy(module: str, name: str) -> Callable[[], Screen[None]]:
    """A main screen made from its module imported on first use: start-up
    imports only what the Projects screen draws."""

    def make() -> Screen[None]:
        screen: type[Screen[None]] = getattr(importlib.import_module(module), name)
        return screen()

    return make


# The collector's thresholds for the app run for a person: young sweeps every
# 2,000 allocations instead of 700, full sweeps a tenth as often. A full sweep
# of what a long session made holds a keystroke for tens of milliseconds;
# scrolling 600 rows met nine of them with Python's defaults, none with these.
GC_THRESHOLDS = (2000, 20, 100)

# At the latest, how long after the database opened the app starts watching
# it and preloading the other screens (see first_rows_shown).
BACKGROUND_AFTER_SECONDS = 2.0

_LAZY_MODULES = (
    "tui.screens.audit",
    "tui.screens.modifications",
    "tui.screens.inbox",
    "tui.screens.templates",
    "tui.screens.activity",
)


class Prepare(Protocol):
    """Work on the opened database before the first screen (the demo
    fills it), telling each step to ``on_step``."""

    def __call__(self, db: Database, *, on_step: OnStep) -> Awaitable[object]: ...


class ProjdeckApp(App[None]):
    """projdeck's terminal app over one database."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification, whatever it quotes, shows hidden characters
        as text (``store.text``): none reaches the terminal as a command."""
        super().notify(
            visible(message, multiline=True),
            title=visible(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    TITLE = "projdeck"
    # The screens' own files too: read once here, or the first opening of
    # such a screen would re-read every style in the app.
    CSS_PATH = [
        "app.tcss",
        "screens/activity.tcss",
        "screens/inbox.tcss",
        "screens/review.tcss",
        "screens/template_form.tcss",
    ]
    MODES = {
        "projects": ProjectsScreen,
        "templates": _lazy("tui.screens.templates", "TemplatesScreen"),
        "modifications": _lazy("tui.screens.modifications", "ModificationsScreen"),
        "audit": _lazy("tui.screens.audit", "AuditScreen"),
        "inbox": _lazy("tui.screens.inbox", "InboxScreen"),
        "activity": _lazy("tui.screens.activity", "ActivityScreen"),
    }
    COMMANDS = App.COMMANDS | {ProjdeckCommands}
    BINDINGS = [
        Binding(
            "1", "main_screen('projects')", "Projects", show=False, id="app.main_screen.projects"
        ),
        Binding(
            "2", "main_screen('templates')", "Templates", show=False, id="app.main_screen.templates"
        ),
        Binding(
            "3",
            "main_screen('modifications')",
            "Modifications",
            show=False,
            id="app.main_screen.modifications",
        ),
        Binding("4", "main_screen('audit')", "Audit", show=False, id="app.main_screen.audit"),
        Binding("5", "main_screen('inbox')", "Inbox", show=False, id="app.main_screen.inbox"),
        Binding(
            "6", "main_screen('activity')", "Activity", show=False, id="app.main_screen.activity"
        ),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        url: URL,
        *,
        prepare: Prepare | None = None,
        label: str | None = None,
        preparing: Step | None = None,
        clock: Callable[[], datetime] = utcnow,
        show_ids: bool = True,
        steady_cursor: bool = False,
        freeze_gc: bool = False,
        exit_on_signals: bool = False,
        config: UserConfig | None = None,
    ) -> None:
        """``prepare`` runs on the opened database before the first screen
        (the demo fills it), ``preparing`` the step the start screen shows
        from its first frame while it does; ``clock`` and ``show_ids`` let tests and
        screenshots draw the same picture every time. ``freeze_gc`` (the
        app run for a person, see ``run_app``) keeps what start-up made out
        of the garbage collector's sweeps. ``exit_on_signals`` (the same)
        makes SIGTERM and SIGHUP (its terminal closed) end the app as q does,
        so the database is closed and a demo's temporary files removed.
        ``config`` (the config file, ``store.config.load()``) gives the
        theme, the keymap and the live refresh's interval, and is where a
        theme chosen in the palette is kept; without it, every default
        (tests and screenshots draw the same whatever a person configured)."""
        super().__init__()
        self.config = config
        self.config_warnings: list[str] = list(config.warnings) if config else []
        # Whether a theme the person picks is written to the config file (not
        # when the theme is named by the environment).
        self._keep_theme = False
        if config is not None:
            self._apply_config(config)
        self.url = url
        self.prepare = prepare
        self.preparing = preparing
        self.clock = clock
        self.show_ids = show_ids
        self.steady_cursor = steady_cursor
        self.freeze_gc = freeze_gc
        self.exit_on_signals = exit_on_signals
        self.sub_title = visible(label or describe_url(url))
        self._database: Database | None = None
        self._background_started = False
        self._connection_lost = False
        self._sub_title_when_connected = self.sub_title
        self.live = LiveRefresh(
            self,
            config.resolve("live_refresh_seconds").value if config else POLL_SECONDS,
        )
        # Every open project's detail, under any main screen: quitting asks
        # first if one has unsaved settings.
        self.open_projects: set[UnsavedWork] = set()

    def _apply_config(self, config: UserConfig) -> None:
        """The configured theme and keymap; what cannot be applied is a
        warning shown at start, and its default is kept."""
        from tui.bindings import key_problem

        try:
            theme = config.resolve("theme")
        except StoreError as error:
            self.config_warnings.append(f"{error.message}; the default theme is used")
        else:
            if theme.value in self.available_themes:
                self.theme = theme.value
            else:
                where = config.where("theme") if theme.source == "file" else "$PROJDECK_THEME"
                self.config_warnings.append(
                    f"{where}: theme: no theme is named {theme.value!r} (the palette's "
                    f"'Change theme' lists them); {self.theme} is used"
                )
            self._keep_theme = theme.source in ("file", "default")
        keymap: dict[str, str] = {}
        for binding_id, keys in config.keymap.items():
            problem = key_problem(keys)
            if problem:
                self.config_warnings.append(
                    f"{config.where(f'keymap.{binding_id}')}: keymap.{binding_id}: {problem}"
                )
            else:
                keymap[binding_id] = keys
        self.set_keymap(keymap)

    def watch_theme(self, theme: str) -> None:
        """A theme the person chose (the palette's "Change theme") is kept
        in the config file for the next start."""
        if self._keep_theme and self.config is not None and self.is_running:
            self.keep_theme(theme)

    @work(exclusive=True, group="keep-theme", thread=True)
    def keep_theme(self, theme: str) -> None:
        from store.config import set_value

        assert self.config is not None
        try:
            set_value(self.config.path, "theme", theme)
        except (OSError, StoreError) as error:
            message = error.message if isinstance(error, StoreError) else str(error)
            self.call_from_thread(
                self.notify,
                f"The theme could not be kept in {self.config.path}: {message}",
                title="Config file",
                severity="warning",
                markup=False,
            )

    def _show_config_warnings(self) -> None:
        if self.config_warnings:
            self.notify(
                "\n".join(self.config_warnings),
                title="Config file",
                severity="warning",
                timeout=15,
                markup=False,
            )

    @property
    def database(self) -> Database:
        if self._database is None:
            raise RuntimeError("the database is not open yet")
        return self._database

    @property
    def ready(self) -> bool:
        return self._database is not None

    def get_default_screen(self) -> Screen[None]:
        return StartScreen(self.preparing)

    def on_mount(self) -> None:
        self._freeze_gc()
        self._handle_signals()
        self._show_config_warnings()
        self.open_store()

    def _handle_signals(self) -> None:
        """Killed politely (SIGTERM) or left by its terminal (SIGHUP), the
        app exits as on q but without asking (no one may be there to answer),
        with the status a shell gives a process ended by that signal."""
        if not self.exit_on_signals:
            return
        loop = asyncio.get_running_loop()
        for name in ("SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is None:  # no SIGHUP on Windows
                continue
            with contextlib.suppress(NotImplementedError, RuntimeError):
                # Windows' event loops take no signal handlers.
                loop.add_signal_handler(number, self.exit, None, 128 + number)

    def _freeze_gc(self) -> None:
        """Move every object alive now (modules, classes, the app and its
        first screen) out of the collector's reach. They live as long as the
        process; left in, each full collection walks them all again, and one
        such sweep in the middle of opening a screen doubled the time to its
        first paint (about 75 ms more, measured in benchmarks/). Then the
        collector runs less often (GC_THRESHOLDS)."""
        if self.freeze_gc:
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # A blinking cursor is caught on or off at random by a picture.
        if self.steady_cursor and isinstance(event.widget, Input | TextArea):
            event.widget.cursor_blink = False

    def _show_step(self, step: Step) -> None:
        """A step of opening the database, on the start screen while it shows."""
        start = self.screen
        if isinstance(start, StartScreen):
            start.show_step(step)

    @work(exclusive=True, group="open")
    async def open_store(self) -> None:
        try:
            database = await open_database(self.url, on_step=self._show_step)
            try:
                from store.services.startup import prepare_database

                await prepare_database(database, on_step=self._show_step)
                if self.prepare is not None:
                    await self.prepare(database, on_step=self._show_step)
            except BaseException:
                await database.dispose()
                raise
        except (StoreError, OSError) as error:
            # OSError: a SQLite path that cannot be created (the store
            # translates errors of connecting, not of making the folder).
            message = error.message if isinstance(error, StoreError) else str(error)
            start = self.screen
            if isinstance(start, StartScreen):
                start.show_error(message)
            return
        self._database = database
        member = database.team
        if member is not None and member.role is not None:
            # Who the team database is open as: what its greyed keys follow.
            self.sub_title = f"{self.sub_title} · as {visible(member.login)} ({member.role})"
            self._sub_title_when_connected = self.sub_title
        await self.switch_mode("projects")
        # The Projects screen says when its first rows are drawn; should it
        # not (its read failed), what waits for it starts anyway.
        self.set_timer(BACKGROUND_AFTER_SECONDS, self.first_rows_shown)

    def first_rows_shown(self) -> None:
        """The first screen has drawn its rows: start what waited for them.
        Watching the store for other processes' writes, and loading the
        other screens' code in a thread, both compete with the first page
        (its read, its drawing) when started with it: about 0.1 s later on
        the 100,000-project workspace (benchmarks/)."""
        if self._background_started or self._database is None:
            return
        self._background_started = True
        self.live.start()
        self._freeze_gc()
        self.preload_screens()
        self.reconcile_repositories()

    @work(group="reconcile")
    async def reconcile_repositories(self) -> None:
        """Modifications a process committed on this machine's linked
        repositories but stopped before recording are recorded now (with an
        audit row), and the person told."""
        # git's library loads in a thread, not on the drawing loop.
        linked = await asyncio.to_thread(importlib.import_module, "store.services.linked")
        try:
            fixed = await linked.reconcile(self.database)
        except StoreError as error:
            self.notify(error.message, title="Repositories", severity="warning", markup=False)
            return
        if fixed:
            what = "1 modification" if len(fixed) == 1 else f"{len(fixed)} modifications"
            self.notify(
                f"{what} found committed on the linked branch and recorded as applied "
                "(the process applying it stopped before the database knew).",
                title="Repositories reconciled",
                markup=False,
            )

    @work(group="preload")
    async def preload_screens(self) -> None:
        """Import the other main screens' code in a thread once the first
        screen is up, so the first switch to each does not wait for it."""
        for module in _LAZY_MODULES:
            await asyncio.to_thread(importlib.import_module, module)
        self._freeze_gc()
        if self.config is not None and self.config.keymap:
            await self.check_keymap(self.config)

    async def check_keymap(self, config: UserConfig) -> None:
        """The keymap's binding ids no binding has, told once every screen's
        code is loaded (it takes them all to know)."""
        from tui.bindings import binding_ids, key_problem

        known = await asyncio.to_thread(binding_ids)
        unknown = [
            f"{config.where(f'keymap.{binding_id}')}: keymap.{binding_id}: no binding has "
            "this id (the help screen, ?, lists them)"
            for binding_id, keys in config.keymap.items()
            if binding_id not in known and not key_problem(keys)
        ]
        if unknown:
            self.notify(
                "\n".join(unknown),
                title="Config file",
                severity="warning",
                timeout=15,
                markup=False,
            )

    async def on_unmount(self) -> None:
        await self.live.close()
        if self._database is not None:
            await self._database.dispose()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Until the database is open only quitting makes sense.
        return self.ready or action not in {"main_screen", "help"}

    async def action_main_screen(self, mode: str) -> None:
        # Each main screen keeps its own stack: 1 after 2 returns to where
        # the person was in Projects (a project's detail stays open, with
        # any unsaved settings; escape goes back to the list).
        await self.switch_mode(mode)

    async def action_quit(self) -> None:
        """Quit, asking first if a project's settings have unsaved edits."""
        from tui.screens.confirm import ConfirmScreen

        unsaved = [screen for screen in self.open_projects if screen.has_unsaved_settings]
        if not unsaved:
            self.exit()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.exit()

        self.push_screen(
            ConfirmScreen(
                "A project's settings have unsaved changes. Quit and discard them?", yes="Quit"
            ),
            answered,
        )

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def connection_lost(self, message: str) -> None:
        """Show that the database stopped answering, once, and watch for it
        to come back."""
        if self._connection_lost:
            return
        self._connection_lost = True
        self._sub_title_when_connected = self.sub_title
        self.sub_title = "⚠ connection lost, retrying"
        self.notify(
            f"{message}. Retrying every {RECONNECT_SECONDS:g} s.",
            title="Database unreachable",
            severity="error",
            timeout=10,
            markup=False,
        )
        self.watch_connection()

    @property
    def is_connection_lost(self) -> bool:
        return self._connection_lost

    def expect_change(self, modification_id: uuid.UUID) -> None:
        self.live.expect(modification_id)

    @work(exclusive=True, group="connection")
    async def watch_connection(self) -> None:
        while not await self.database.ping():  # noqa: ASYNC110 (polling a server)
            await asyncio.sleep(RECONNECT_SECONDS)
        self._connection_lost = False
        self.sub_title = self._sub_title_when_connected
        self.notify("The database answers again.", title="Reconnected")
        reload = getattr(self.screen, "action_reload", None) or getattr(self.screen, "reload", None)
        if reload is not None:
            result = reload()
            if inspect.isawaitable(result):
                await result


def run_app(url: URL, *, demo: bool = False) -> int:
    """Run the app on ``url``; with ``demo``, on a fresh temporary SQLite
    database filled with the demo workspace (removed on exit, also when the
    app is ended by SIGTERM or SIGHUP). Returns the exit status."""
    from store.config import load

    config = load()
    if not demo:
        app = ProjdeckApp(url, freeze_gc=True, exit_on_signals=True, config=config)
        app.run()
        return app.return_code or 0
    with demo_app(config) as app:
        app.run()
        return app.return_code or 0


@contextlib.contextmanager
def demo_app(config: UserConfig | None = None) -> Iterator[ProjdeckApp]:
    """The app of ``projdeck --demo``: on a copy of the demo kept in the
    user cache dir, or on a new one it builds (and keeps) as it opens, in a
    temporary folder removed when the block ends. Its secrets are sealed
    with a key made for the demo only."""
    import os
    import tempfile
    from functools import partial
    from pathlib import Path

    from store import crypto
    from store.config import normalize_url
    from store.demo import DEMO_STEPS
    from store.demo_cache import DemoCache, fill_and_cache

    with tempfile.TemporaryDirectory(prefix="projdeck-demo-") as folder:
        target = Path(folder) / "demo.db"
        cache = DemoCache.default()
        key = cache.copy_to(target)
        prepare = preparing = None
        if key is None:
            key = crypto.encode_key(crypto.new_key().material)
            prepare = partial(fill_and_cache, cache=cache, key=key)
            # Its progress bar from the first frame: making the database
            # is the first of the demo's steps.
            preparing = Step("Building the demo: its database…", 0, DEMO_STEPS)
        os.environ[crypto.SECRET_KEY_ENV] = key
        os.environ.pop(crypto.PREVIOUS_KEYS_ENV, None)
        yield ProjdeckApp(
            normalize_url(f"sqlite:///{target}"),
            prepare=prepare,
            preparing=preparing,
            label=f"demo · sqlite (temporary) {target}",
            freeze_gc=True,
            exit_on_signals=True,
            config=config,
        )


if TYPE_CHECKING:
    # The app is what its screens and widgets take it for (tui.context.Deck).
    _app_is_a_deck: type[Deck] = ProjdeckApp
