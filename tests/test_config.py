"""Resolving and showing database URLs, naming the actor and the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import config
from store.errors import ValidationError
from store.redaction import mask_url


def test_option_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.DATABASE_URL_ENV, "sqlite:////tmp/from-env.db")
    url = config.resolve_database_url("sqlite:////tmp/from-option.db")
    assert url.database == "/tmp/from-option.db"


def test_environment_wins_over_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.DATABASE_URL_ENV, "postgresql://u@db.example/team")
    url = config.resolve_database_url(None)
    assert url.drivername == "postgresql+asyncpg"
    assert url.host == "db.example"


def test_default_is_sqlite_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(config.DATABASE_URL_ENV, raising=False)
    url = config.resolve_database_url(None)
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == str(config.default_database_path())
    assert url.database.endswith("projdeck.db")


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite"),
        ("postgresql://h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://h/db", "postgresql+asyncpg"),
    ],
)
def test_plain_urls_map_to_async_drivers(given: str, driver: str) -> None:
    assert config.normalize_url(given).drivername == driver


def test_unsupported_backend_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationError, match="database URL: unsupported backend 'mysql'"):
        config.normalize_url("mysql://h/db")


def test_masked_url_never_shows_the_password() -> None:
    masked = mask_url("postgresql://alice:s3cr3t-pw@db.example:5432/team")
    assert "s3cr3t-pw" not in masked
    assert "alice" in masked and "db.example" in masked


def test_actor_from_environment_else_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.ACTOR_ENV, "review-bot")
    assert config.current_actor() == "review-bot"
    monkeypatch.delenv(config.ACTOR_ENV)
    assert config.current_actor()  # the OS user name, whatever it is here


def test_machine_id_is_made_once_and_kept_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROJDECK_MACHINE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    first = config.machine_id()
    assert first == config.machine_id()
    assert (tmp_path / "projdeck" / "machine-id").read_text().strip() == first
    assert [path.name for path in (tmp_path / "projdeck").iterdir()] == ["machine-id"]
    monkeypatch.setenv("PROJDECK_MACHINE", "laptop-7")
    assert config.machine_id() == "laptop-7"
    monkeypatch.setenv("PROJDECK_MACHINE", "bad\nname")
    with pytest.raises(ValidationError) as error:
        config.machine_id()
    assert error.value.field == "PROJDECK_MACHINE"
