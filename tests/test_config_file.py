"""The config file (#22): each setting resolved as option, environment
variable, file, default; a wrong value or an unknown key a warning naming
the key and its line, that key at its default and the rest applied; and
``projdeck config path|show|set|edit``."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from store import config
from store.errors import ValidationError
from tests.cli import SCRIPT, Projdeck, run_in_process


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PROJDECK_CONFIG at a file of this test's own (absent until written),
    and no setting named by the environment."""
    path = tmp_path / "conf" / "config.toml"
    monkeypatch.setenv(config.CONFIG_ENV, str(path))
    for setting in config.SETTINGS.values():
        monkeypatch.delenv(setting.env, raising=False)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- precedence -----------------------------------------------------------------------------------


def test_database_url_is_option_then_env_then_file_then_default(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert config.resolve_database_url(None).database == str(config.default_database_path())
    write(config_file, 'database_url = "sqlite:////tmp/from-file.db"\n')
    assert config.resolve_database_url(None).database == "/tmp/from-file.db"
    monkeypatch.setenv(config.DATABASE_URL_ENV, "sqlite:////tmp/from-env.db")
    assert config.resolve_database_url(None).database == "/tmp/from-env.db"
    assert config.resolve_database_url("sqlite:////tmp/opt.db").database == "/tmp/opt.db"


def test_actor_is_env_then_file_then_os_user(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os_user = config.current_actor()
    write(config_file, 'actor = "file-bot"\n')
    assert config.current_actor() == "file-bot"
    assert config.load().resolve("actor").source == "file"
    monkeypatch.setenv(config.ACTOR_ENV, "env-bot")
    assert config.current_actor() == "env-bot"
    monkeypatch.delenv(config.ACTOR_ENV)
    config_file.unlink()
    assert config.current_actor() == os_user


def test_config_path_is_the_variable_else_the_user_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.CONFIG_ENV, str(tmp_path / "mine.toml"))
    assert config.config_path() == tmp_path / "mine.toml"
    monkeypatch.delenv(config.CONFIG_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert config.config_path() == tmp_path / "xdg" / "projdeck" / "config.toml"


# -- bad files ------------------------------------------------------------------------------------


def test_unknown_key_and_wrong_values_warn_with_their_lines_and_the_rest_applies(
    config_file: Path,
) -> None:
    write(
        config_file,
        "# mine\n"
        'actor = "bob"\n'
        "theme = 3\n"
        'live_refresh_seconds = "soon"\n'
        'colour = "red"\n'
        'diff_style = "split"\n'
        "\n"
        "[keymap]\n"
        '"app.help" = "f1"\n'
        '"app.quit" = 5\n',
    )
    loaded = config.load()
    assert loaded.warnings == [
        f"{config_file}:3: theme: must be text, not 3; theme keeps its default",
        f"{config_file}:4: live_refresh_seconds: must be a number of seconds, not 'soon'; "
        "live_refresh_seconds keeps its default",
        f"{config_file}:5: colour: unknown key (known: database_url, actor, theme, diff_style, "
        "editor, pager, live_refresh_seconds, allow_self_approval, keymap)",
        f"{config_file}:6: diff_style: must be one of unified, side-by-side, not 'split'; "
        "diff_style keeps its default",
        f'{config_file}:10: keymap.app.quit: must be keys as text, like "f1" or "ctrl+h,f1"',
    ]
    assert loaded.resolve("actor").value == "bob"
    assert loaded.resolve("theme") == config.Resolved(config.DEFAULT_THEME, "default")
    assert loaded.resolve("live_refresh_seconds").value == config.DEFAULT_LIVE_REFRESH_SECONDS
    assert loaded.keymap == {"app.help": "f1"}


def test_a_bad_database_url_in_the_file_warns_and_the_default_is_used(config_file: Path) -> None:
    write(config_file, '\ndatabase_url = "mysql://h/db"\n')
    assert config.load().warnings == [
        f"{config_file}:2: database_url: unsupported backend 'mysql'; use sqlite:///PATH or "
        "postgresql://...; database_url keeps its default"
    ]
    assert config.resolve_database_url(None).database == str(config.default_database_path())


def test_a_file_that_is_not_toml_is_one_warning_with_its_line_and_every_default(
    config_file: Path,
) -> None:
    write(config_file, 'actor = "bob"\ntheme = = "nord"\n')
    loaded = config.load()
    assert len(loaded.warnings) == 1
    assert loaded.warnings[0].startswith(f"{config_file}:2: not a TOML file (")
    assert "every setting is at its default" in loaded.warnings[0]
    assert loaded.values == {}
    assert config.current_actor() != "bob"


def test_a_wrong_environment_value_is_an_error_naming_the_variable(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROJDECK_LIVE_REFRESH_SECONDS", "-2")
    with pytest.raises(ValidationError) as error:
        config.load().resolve("live_refresh_seconds")
    assert error.value.field == "PROJDECK_LIVE_REFRESH_SECONDS"


def test_set_value_keeps_comments_and_order(config_file: Path) -> None:
    write(config_file, '# my settings\nactor = "bob"  # me\n\n[keymap]\n"app.help" = "f1"\n')
    config.set_value(config_file, "theme", "nord")
    config.set_value(config_file, "actor", "alice")
    config.set_value(config_file, "keymap.app.quit", "ctrl+q")
    assert config_file.read_text(encoding="utf-8") == (
        '# my settings\nactor = "alice"  # me\ntheme = "nord"\n\n'
        '[keymap]\n"app.help" = "f1"\n"app.quit" = "ctrl+q"\n'
    )
    loaded = config.load()
    assert loaded.warnings == []
    assert loaded.values == {"actor": "alice", "theme": "nord"}


def test_commented_defaults_are_a_valid_file_with_nothing_set(config_file: Path) -> None:
    write(config_file, config.commented_defaults())
    loaded = config.load()
    assert (loaded.values, loaded.keymap, loaded.warnings) == ({}, {}, [])


# -- the commands ---------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, config_file: Path) -> Projdeck:
    return Projdeck(f"sqlite:///{tmp_path / 'projdeck.db'}")


def test_config_path_prints_the_file(cli: Projdeck, config_file: Path) -> None:
    assert cli.ok("config", "path") == f"{config_file}\n"


def test_config_show_says_where_each_value_came_from(cli: Projdeck, config_file: Path) -> None:
    write(config_file, 'theme = "nord"\n[keymap]\n"app.help" = "f1"\n')
    cli.env["PROJDECK_ACTOR"] = "env-bot"
    shown = cli.json("config", "show")
    settings = shown["settings"]
    assert settings["database_url"]["source"] == "option"
    assert settings["actor"] == {"value": "env-bot", "source": "env", "env": "PROJDECK_ACTOR"}
    assert settings["theme"]["value"] == "nord" and settings["theme"]["source"] == "file"
    assert settings["diff_style"] == {
        "value": "unified",
        "source": "default",
        "env": "PROJDECK_DIFF_STYLE",
    }
    assert shown["keymap"] == {"app.help": {"keys": "f1", "problem": None}}
    assert shown["path"] == str(config_file) and shown["warnings"] == []
    text = cli.ok("config", "show")
    assert "theme                 nord  [file]" in text


def test_config_show_takes_the_database_url_from_the_file_without_the_option(
    config_file: Path, tmp_path: Path
) -> None:
    write(config_file, "database_url = 'postgresql://alice:pw-secret@db.example/team'\n")
    env = {**os.environ, "PROJDECK_CONFIG": str(config_file)}
    env.pop("PROJDECK_DATABASE_URL", None)
    result = run_in_process([str(SCRIPT), "config", "show"], env=env, input=None)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("database_url"))
    assert "db.example/team" in line and line.endswith("[file]")
    assert "pw-secret" not in result.stdout


def test_config_set_checks_before_writing(cli: Projdeck, config_file: Path) -> None:
    assert cli.ok("config", "set", "live_refresh_seconds", "2") == (
        f"live_refresh_seconds = 2.0 in {config_file}\n"
    )
    cli.ok("config", "set", "keymap.app.help", "f1")
    before = config_file.read_text(encoding="utf-8")
    refused = {
        ("colour", "red"): "colour: unknown key",
        ("live_refresh_seconds", "0"): "live_refresh_seconds: must be more than 0",
        ("diff_style", "split"): "diff_style: must be one of unified, side-by-side",
        ("theme", "no-such-theme"): "theme: no theme is named 'no-such-theme'",
        ("keymap.app.nothing", "f2"): "keymap.app.nothing: no binding has this id",
        ("keymap.app.quit", "ctrl+nokey"): "keymap.app.quit: 'nokey' is not a key",
        ("actor", "bad\nname"): "actor: ",
    }
    for (key, value), problem in refused.items():
        assert problem in cli.fails("config", "set", key, value, code=2)
    assert config_file.read_text(encoding="utf-8") == before
    assert config.load().values == {"live_refresh_seconds": 2.0}
    assert config.load().keymap == {"app.help": "f1"}


def test_a_bad_file_is_warned_about_once_and_the_command_still_runs(
    cli: Projdeck, config_file: Path
) -> None:
    write(config_file, "colour = 'red'\nactor = 'file-bot'\n")
    result = cli.run("project", "list")
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"warning: {config_file}:1: colour: unknown key (known: " + (
        "database_url, actor, theme, diff_style, editor, pager, live_refresh_seconds, "
        "allow_self_approval, keymap)\n"
    )


def fake_editor(tmp_path: Path, line: str) -> str:
    """An editor command that appends ``line`` to the file it is given."""
    script = tmp_path / "editor.sh"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{line}' >> \"$1\"\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_config_edit_makes_the_file_opens_the_editor_and_checks_it(
    cli: Projdeck, config_file: Path, tmp_path: Path
) -> None:
    cli.env["VISUAL"] = fake_editor(tmp_path, 'theme = "nord"')
    assert cli.ok("config", "edit") == f"{config_file} is fine\n"
    text = config_file.read_text(encoding="utf-8")
    assert text.startswith(config.commented_defaults())
    assert config.load().values == {"theme": "nord"}

    cli.env["VISUAL"] = fake_editor(tmp_path, "live_refresh_seconds = -1")
    error = cli.fails("config", "edit")
    assert f"warning: {config_file}:" in error
    assert "live_refresh_seconds: must be more than 0" in error


def test_config_edit_uses_the_configured_editor(
    cli: Projdeck, config_file: Path, tmp_path: Path
) -> None:
    cli.env["VISUAL"] = "false"
    cli.env["PROJDECK_EDITOR"] = fake_editor(tmp_path, 'diff_style = "side-by-side"')
    write(config_file, "")
    cli.ok("config", "edit")
    assert config.load().values == {"diff_style": "side-by-side"}
