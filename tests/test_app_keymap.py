"""The app and the config file (#22): keys remapped by binding id, the
theme chosen kept for the next start, a bad file told at start while the
app still opens, and at 80x24 every screen's footer still shows ``?`` and
``q``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Footer

from store import config
from tests.app_support import FIXED_NOW, press, settle, wait_until
from tui.app import ProjdeckApp
from tui.screens.help import HelpScreen
from tui.screens.projects import ProjectsScreen


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv(config.CONFIG_ENV, str(path))
    for setting in config.SETTINGS.values():
        if setting.key != "actor":
            monkeypatch.delenv(setting.env, raising=False)
    return path


def configured_app(url: URL, config_file: Path | None = None, text: str = "") -> ProjdeckApp:
    """The app as ``projdeck`` runs it for a person: with the config file
    (written first with ``text``, given ``config_file``)."""
    if config_file is not None:
        config_file.write_text(text, encoding="utf-8")
    return ProjdeckApp(url, clock=lambda: FIXED_NOW, show_ids=False, config=config.load())


@contextlib.asynccontextmanager
async def running(app: ProjdeckApp) -> AsyncIterator[Pilot[None]]:
    """``app`` under Pilot, settled on its first screen."""
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        yield pilot


def told(app: ProjdeckApp) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


async def test_a_binding_remapped_by_its_id_answers_to_its_new_key(
    demo_url: URL, config_file: Path
) -> None:
    app = configured_app(demo_url, config_file, '[keymap]\n"app.help" = "f1"\n')
    async with running(app) as pilot:
        await press(pilot, "question_mark")
        assert isinstance(app.screen, ProjectsScreen)
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        # The help names each key by the id the keymap remaps.
        keys = {binding_id: key for key, _, binding_id, _ in app.screen.rows}
        assert keys["app.help"] == "f1"
        assert keys["projects.new"] == "n"
        await press(pilot, "escape")
        assert isinstance(app.screen, ProjectsScreen)
        assert told(app) == []


async def test_bad_keymap_entries_are_told_and_the_rest_applies(
    demo_url: URL, config_file: Path
) -> None:
    app = configured_app(
        demo_url,
        config_file,
        '[keymap]\n"app.help" = "f1"\n"app.quit" = "ctrl+nokey"\n"app.nothing" = "f2"\n',
    )
    async with running(app) as pilot:
        await wait_until(pilot, lambda: "app.nothing" in "".join(told(app)), 10)
        messages = "\n".join(told(app))
        assert f"{config_file}:3: keymap.app.quit: 'nokey' is not a key" in messages
        assert f"{config_file}:4: keymap.app.nothing: no binding has this id" in messages
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen)


async def test_a_bad_config_file_is_told_at_start_and_the_app_opens_with_defaults(
    demo_url: URL, config_file: Path
) -> None:
    app = configured_app(
        demo_url, config_file, 'theme = "no-such-theme"\nlive_refresh_seconds = 0\n'
    )
    async with running(app):
        assert isinstance(app.screen, ProjectsScreen)
        assert app.theme == config.DEFAULT_THEME
        assert app.live.seconds == config.DEFAULT_LIVE_REFRESH_SECONDS
        messages = "\n".join(told(app))
        assert f"{config_file}:1: theme: no theme is named 'no-such-theme'" in messages
        assert f"{config_file}:2: live_refresh_seconds: must be more than 0" in messages
    app = configured_app(demo_url, config_file, "not = toml = at all\n")
    async with running(app):
        assert isinstance(app.screen, ProjectsScreen)
        assert f"{config_file}:1: not a TOML file" in "\n".join(told(app))


async def test_the_theme_chosen_is_kept_and_used_on_the_next_start(
    demo_url: URL, config_file: Path
) -> None:
    app = configured_app(demo_url, config_file, "# mine\nlive_refresh_seconds = 2\n")
    async with running(app) as pilot:
        assert app.live.seconds == 2.0
        app.theme = "nord"  # what the palette's "Change theme" does
        await wait_until(pilot, lambda: config.load().values.get("theme") == "nord", 10)
    assert config_file.read_text(encoding="utf-8") == (
        '# mine\nlive_refresh_seconds = 2\ntheme = "nord"\n'
    )
    again = configured_app(demo_url)
    async with running(again):
        assert again.theme == "nord"


async def test_a_theme_named_by_the_environment_is_not_written(
    demo_url: URL, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROJDECK_THEME", "gruvbox")
    app = configured_app(demo_url)
    async with running(app) as pilot:
        assert app.theme == "gruvbox"
        app.theme = "nord"
        await settle(pilot)
        await pilot.pause(0.2)
    assert not config_file.exists()


async def test_the_app_without_a_config_ignores_the_file(demo_url: URL, config_file: Path) -> None:
    """Tests and screenshots draw the same whatever a person configured."""
    config_file.write_text('theme = "nord"\n[keymap]\n"app.help" = "f1"\n', encoding="utf-8")
    app = ProjdeckApp(demo_url, clock=lambda: FIXED_NOW)
    async with running(app) as pilot:
        assert app.theme == config.DEFAULT_THEME
        app.theme = "gruvbox"
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
    assert config.load().values == {"theme": "nord"}


# -- 80x24 ----------------------------------------------------------------------------------------


def footer_text(pilot: Pilot[None]) -> str:
    """The footer's line as drawn on the terminal."""
    screen = pilot.app.screen
    footer = screen.query_one(Footer)
    strips = screen._compositor.render_strips()
    return "".join(segment.text for segment in strips[footer.region.y])


# Each main screen and the screens opened from them, by the keys that
# reach them from the Projects list.
SCREENS = {
    "ProjectsScreen": (),
    "TemplatesScreen": ("2",),
    "ModificationsScreen": ("3",),
    "AuditScreen": ("4",),
    "InboxScreen": ("5",),
    "ActivityScreen": ("6",),
    "ProjectDetailScreen": ("enter",),
    "ReviewScreen": ("5", "enter"),
    "ConversationScreen": ("6", "down", "enter"),
}


@pytest.mark.parametrize(("name", "keys"), SCREENS.items(), ids=SCREENS.keys())
async def test_at_80x24_every_footer_shows_help_and_quit(
    demo_url: URL, name: str, keys: tuple[str, ...]
) -> None:
    app = ProjdeckApp(demo_url, clock=lambda: FIXED_NOW, show_ids=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, *keys)
        screen = app.screen
        assert type(screen).__name__ == name
        # Also after a dialog over it has closed.
        for _ in range(2):
            line = footer_text(pilot)
            assert len(line) == 80
            assert "? Help" in line and "q Quit" in line, line
            assert line.rstrip().endswith("^p palette"), line
            await press(pilot, "question_mark")
            assert isinstance(app.screen, HelpScreen)
            await press(pilot, "escape")
            assert app.screen is screen


async def test_at_full_width_the_footer_keeps_textual_order(demo_url: URL) -> None:
    app = ProjdeckApp(demo_url, clock=lambda: FIXED_NOW, show_ids=False)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        line = footer_text(pilot)
        assert line.index("/ Filter") < line.index("? Help") < line.index("q Quit")


def test_every_binding_has_a_unique_id_of_its_module_and_action() -> None:
    import importlib
    import pkgutil

    import tui.screens
    import tui.widgets

    modules = ["tui.app"] + [
        f"{package.__name__}.{info.name}"
        for package in (tui.screens, tui.widgets)
        for info in pkgutil.iter_modules(package.__path__)
    ]
    owners: dict[str, str] = {}
    for name in modules:
        for value in vars(importlib.import_module(name)).values():
            if not isinstance(value, type) or value.__module__ != name:
                continue
            for binding in vars(value).get("BINDINGS", []):
                assert isinstance(binding, Binding), f"{value.__name__}: {binding!r}"
                where = f"{name}.{value.__name__} {binding.key} {binding.action}"
                assert binding.id, f"{where} has no id"
                action = binding.action.split("(")[0].split(".")[-1]
                assert binding.id.startswith(f"{name.rsplit('.', 1)[1]}.{action}"), where
                assert owners.setdefault(binding.id, where) == where, (
                    f"{binding.id}: {owners[binding.id]} and {where}"
                )
    assert {"app.help", "app.quit", "projects.new", "tables.cursor_down"} <= owners.keys()
