"""Where the database is, who is acting, and the person's other settings:
resolved the same way by the CLI, the app and Alembic's ``env.py``.

The settings are read from ``config.toml`` in the user config dir (or where
``PROJDECK_CONFIG`` says); each resolves as the command-line option, else
the environment variable, else the file, else the default. A wrong value
or an unknown key in the file is a warning naming the key, the problem and
the file's line; that key keeps its default and the rest of the file still
applies. A file that is not TOML at all is one warning and every default."""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import stat
import threading
import tomllib
import uuid
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from store import validation
from store.errors import ValidationError

APP_NAME = "projdeck"
DATABASE_URL_ENV = "PROJDECK_DATABASE_URL"
ACTOR_ENV = "PROJDECK_ACTOR"
MACHINE_ENV = "PROJDECK_MACHINE"

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
}


def default_database_path() -> Path:
    """The embedded default: ``projdeck.db`` in the user's data directory."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "projdeck.db"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


def resolve_database_url(option: str | None = None) -> URL:
    """The database URL, first match wins: the ``--db-url`` option,
    ``PROJDECK_DATABASE_URL``, ``database_url`` in the config file
    (below), then the SQLite file in the user data dir.

    Plain ``sqlite://`` and ``postgresql://`` URLs are mapped to the async
    drivers projdeck uses (aiosqlite, asyncpg).
    """
    raw: str = resolve("database_url", option).value
    return normalize_url(raw)


def normalize_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValidationError(
            "database URL",
            "not a URL; use sqlite:///PATH or postgresql://USER@HOST/DB",
        ) from None
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise ValidationError(
            "database URL",
            f"unsupported backend {url.drivername!r}; use sqlite:///PATH or postgresql://...",
        )
    url = url.set(drivername=driver)
    if driver.startswith("postgresql"):
        # libpq's parameters (sslmode=require...), checked now, used on connect.
        from store import pg_params

        pg_params.check(url)
    if driver.startswith("sqlite") and url.database in (None, "", ":memory:"):
        raise ValidationError(
            "database URL", "an in-memory SQLite database cannot be shared; give a file path"
        )
    return url


def describe_url(url: URL) -> str:
    """A short label for headers: the backend and the file or host."""
    if url.get_backend_name() == "sqlite":
        return f"sqlite {url.database}"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"postgresql {url.username or ''}{'@' if url.username else ''}{host}{port}/{url.database or ''}"


def machine_id() -> str:
    """Which machine this is, for what is kept per machine (the repository
    a project is linked to): ``PROJDECK_MACHINE``, else an id made once and
    kept in the user's data directory."""
    given = os.environ.get(MACHINE_ENV, "").strip()
    if given:
        return validation.name(MACHINE_ENV, given, limit=64)
    from platformdirs import user_data_path

    path = user_data_path(APP_NAME, appauthor=False) / "machine-id"
    with contextlib.suppress(FileNotFoundError):
        return validation.name(str(path), path.read_text(encoding="utf-8"), limit=64)
    path.parent.mkdir(parents=True, exist_ok=True)
    made = uuid.uuid4().hex
    written = path.with_name(f".machine-id.{made}")
    written.write_text(made + "\n", encoding="utf-8")
    try:
        # Whole, and only if absent: two processes starting at once keep one id.
        os.link(written, path)
    except FileExistsError:
        made = validation.name(str(path), path.read_text(encoding="utf-8"), limit=64)
    finally:
        written.unlink()
    return made


def current_actor() -> str:
    """Who the audit log names: on a team database (PostgreSQL after
    ``projdeck team init``) the connected role, which the database holds
    every write to; else ``PROJDECK_ACTOR``, else ``actor`` in the config
    file, else the OS user. The name is checked like every other
    (ValidationError naming the variable)."""
    if _database_actor is not None:
        return _database_actor
    actor: str = resolve("actor").value
    return actor


# The connected role of the team database this process has open (set by
# store.engine.open_database, cleared when it is closed); None otherwise.
_database_actor: str | None = None


def use_database_actor(name: str | None) -> None:
    """Make ``name`` (the role a team database is connected as) the actor of
    every write that names none; None goes back to ``PROJDECK_ACTOR``."""
    global _database_actor
    _database_actor = name


def database_actor() -> str | None:
    """The connected role of the open team database, if one is open."""
    return _database_actor


def self_approval_allowed() -> bool:
    """Whether a person may approve a modification they requested
    (``allow_self_approval``, for someone working alone; off by default)."""
    return bool(resolve("allow_self_approval").value)


# The config file.

CONFIG_ENV = "PROJDECK_CONFIG"
FILE_NAME = "config.toml"
KEYMAP = "keymap"
DIFF_STYLES = ("unified", "side-by-side")
DEFAULT_THEME = "textual-dark"
DEFAULT_LIVE_REFRESH_SECONDS = 0.5
MAX_LIVE_REFRESH_SECONDS = 3600.0

Source = Literal["option", "env", "file", "default"]


def config_path() -> Path:
    """Where the config file is: ``PROJDECK_CONFIG``, else ``config.toml``
    in the user config dir (platformdirs)."""
    given = os.environ.get(CONFIG_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / FILE_NAME


def _text(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(key, f"must be text, not {value!r}")
    if not value.strip():
        raise ValidationError(key, "must not be empty")
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise ValidationError(key, "must be one line without control characters")
    return value.strip()


def _database_url(key: str, value: object) -> str:
    text = _text(key, value)
    try:
        normalize_url(text)
    except ValidationError as error:
        raise ValidationError(key, error.problem) from None
    return text


def _actor(key: str, value: object) -> str:
    return validation.name(key, value)


def _flag(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
        return _FLAG_WORDS[value.strip().lower()]
    raise ValidationError(key, f"must be true or false, not {value!r}")


_FLAG_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _diff_style(key: str, value: object) -> str:
    if value not in DIFF_STYLES:
        raise ValidationError(key, f"must be one of {', '.join(DIFF_STYLES)}, not {value!r}")
    return str(value)


def _seconds(key: str, value: object) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValidationError(key, f"must be a number of seconds, not {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(key, f"must be a number of seconds, not {value!r}")
    if not 0 < value <= MAX_LIVE_REFRESH_SECONDS:
        raise ValidationError(
            key, f"must be more than 0 and at most {MAX_LIVE_REFRESH_SECONDS:g} seconds"
        )
    return float(value)


@dataclass(frozen=True)
class Setting:
    """One key of the file: its variable, its option, its default, its check."""

    key: str
    check: Callable[[str, object], object]
    default: Callable[[], object]
    help: str
    option: str | None = None
    # The database URL's variable is checked where it is used (normalize_url).
    check_env: bool = True

    @property
    def env(self) -> str:
        return f"PROJDECK_{self.key.upper()}"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


SETTINGS: dict[str, Setting] = {
    setting.key: setting
    for setting in (
        Setting(
            "database_url",
            _database_url,
            default_database_url,
            "sqlite:///PATH or postgresql://USER@HOST/DB",
            option="--db-url",
            check_env=False,
        ),
        Setting("actor", _actor, _os_user, "who the audit log names"),
        Setting("theme", _text, lambda: DEFAULT_THEME, "the app's theme"),
        Setting(
            "diff_style",
            _diff_style,
            lambda: DIFF_STYLES[0],
            "how the review screen shows a diff: unified or side-by-side",
        ),
        Setting("editor", _text, lambda: None, "command to write text in; else $VISUAL, $EDITOR"),
        Setting("pager", _text, lambda: None, "command to page long output; else $PAGER"),
        Setting(
            "live_refresh_seconds",
            _seconds,
            lambda: DEFAULT_LIVE_REFRESH_SECONDS,
            "how often the app looks for other processes' writes",
        ),
        Setting(
            "allow_self_approval",
            _flag,
            lambda: False,
            "whether you may approve modifications you requested (working alone)",
        ),
    )
}


@dataclass(frozen=True)
class Resolved:
    """A setting's value and where it came from."""

    value: Any
    source: Source


@dataclass
class UserConfig:
    """What the file says, already checked: ``values`` holds the keys it set
    well, ``keymap`` its [keymap] table (binding id to keys, checked by the
    app, which knows the bindings), ``warnings`` what was wrong, and
    ``lines`` where each key is in the file (to name it in later warnings)."""

    path: Path
    values: dict[str, object] = field(default_factory=dict)
    keymap: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)

    def where(self, key: str) -> str:
        """``path:line`` of ``key`` (a [keymap] entry as ``keymap.ID``)."""
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line else str(self.path)

    def resolve(self, key: str, option: object = None) -> Resolved:
        """``key``'s value: the option, the environment variable, the file,
        the default. A wrong environment value is an error naming the variable."""
        setting = SETTINGS[key]
        if option is not None and option != "":
            return Resolved(option, "option")
        raw = os.environ.get(setting.env, "").strip()
        if raw:
            return Resolved(setting.check(setting.env, raw) if setting.check_env else raw, "env")
        if key in self.values:
            return Resolved(self.values[key], "file")
        return Resolved(setting.default(), "default")


def _key_lines(text: str) -> dict[str, int]:
    """The line each key is set on (tomllib tells values, not lines): top
    level keys by name, [keymap] entries as ``keymap.ID``. Dotted and quoted
    keys are read as TOML writes them."""
    lines: dict[str, int] = {}
    table = ""
    header = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
    assignment = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_.\- ]+?))\s*=""")
    for number, line in enumerate(text.splitlines(), start=1):
        if match := header.match(line):
            table = _unquote(match.group(1))
            continue
        if match := assignment.match(line):
            key = _unquote(match.group(1))
            lines.setdefault(f"{table}.{key}" if table else key, number)
    return lines


def _unquote(dotted: str) -> str:
    parts = re.findall(r"""\s*("[^"]*"|'[^']*'|[^.]+)\s*\.?""", dotted)
    return ".".join(part.strip().strip("\"'") for part in parts)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``[keymap] app.help = "f1"`` and ``"app.help" = "f1"`` alike."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def parse(text: str, path: Path) -> UserConfig:
    """The settings ``text`` (the file at ``path``) holds, checked."""
    config = UserConfig(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"line (\d+)", str(error))
        line = f":{found.group(1)}" if found else ""
        config.warnings.append(
            f"{path}{line}: not a TOML file ({error}); every setting is at its default"
        )
        return config
    config.lines = _key_lines(text)
    for key, value in data.items():
        if key == KEYMAP:
            _read_keymap(config, value)
            continue
        setting = SETTINGS.get(key)
        if setting is None:
            known = ", ".join([*SETTINGS, KEYMAP])
            config.warnings.append(f"{config.where(key)}: {key}: unknown key (known: {known})")
            continue
        try:
            config.values[key] = setting.check(key, value)
        except ValidationError as error:
            config.warnings.append(f"{config.where(key)}: {error.message}; {key} keeps its default")
    return config


def _read_keymap(config: UserConfig, table: object) -> None:
    if not isinstance(table, dict):
        config.warnings.append(
            f'{config.where(KEYMAP)}: {KEYMAP}: must be a table ([keymap] binding-id = "keys")'
        )
        return
    for binding_id, keys in _flatten(table).items():
        where = config.where(f"{KEYMAP}.{binding_id}")
        if not isinstance(keys, str) or not keys.strip():
            config.warnings.append(
                f'{where}: {KEYMAP}.{binding_id}: must be keys as text, like "f1" or "ctrl+h,f1"'
            )
            continue
        config.keymap[binding_id] = keys.strip()


def load(path: Path | None = None) -> UserConfig:
    """The config file read and checked; an absent file is no settings and
    no warning, an unreadable one a warning."""
    path = path or config_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        return UserConfig(path)
    except OSError as error:
        return _unreadable(path, error.strerror or str(error))
    # Read again only when the file changed: the actor is resolved on every write.
    version = (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return UserConfig(path)
    except OSError as error:
        return _unreadable(path, error.strerror or str(error))
    except UnicodeDecodeError:
        return _unreadable(path, "not UTF-8 text")
    config = parse(text, path)
    _CACHE[path] = (version, config)
    return config


_CACHE: dict[Path, tuple[tuple[int, int, int, int], UserConfig]] = {}


def _unreadable(path: Path, reason: str) -> UserConfig:
    return UserConfig(
        path, warnings=[f"{path}: cannot be read ({reason}); every setting is at its default"]
    )


def resolve(key: str, option: object = None) -> Resolved:
    """``key`` resolved against the config file (read now)."""
    return load().resolve(key, option)


def check_value(key: str, value: str) -> object:
    """``value`` as ``config set KEY VALUE`` would store it, or a
    ValidationError naming the key. ``keymap.ID`` takes keys as text."""
    if key.startswith(f"{KEYMAP}.") and len(key) > len(KEYMAP) + 1:
        return _text(key, value)
    setting = SETTINGS.get(key)
    if setting is None:
        known = ", ".join([*SETTINGS, f"{KEYMAP}.BINDING_ID"])
        raise ValidationError(key, f"unknown key (known: {known})")
    return setting.check(key, value)


def set_value(path: Path, key: str, value: object) -> None:
    """Write ``key = value`` into the file at ``path`` (made if missing),
    keeping the person's comments and the order of what is there. The file
    is replaced whole, so a reader never sees half of it."""
    import tomlkit

    with _WRITING:
        try:
            document = tomlkit.parse(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            document = tomlkit.document()
        except tomlkit.exceptions.ParseError as error:
            raise ValidationError(str(path), f"not a TOML file ({error}); fix it first") from None
        if key.startswith(f"{KEYMAP}."):
            keymap = document.get(KEYMAP)
            if keymap is None:
                keymap = tomlkit.table()
                document[KEYMAP] = keymap
            if not isinstance(keymap, MutableMapping):
                raise ValidationError(KEYMAP, f"in {path} is not a table; fix it first")
            keymap[key[len(KEYMAP) + 1 :]] = value
        else:
            # tomlkit puts a new top-level key before the first table.
            document[key] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        written = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        try:
            written.write_text(tomlkit.dumps(document), encoding="utf-8")
            with contextlib.suppress(FileNotFoundError):
                written.chmod(stat.S_IMODE(path.stat().st_mode))
            os.replace(written, path)
        finally:
            written.unlink(missing_ok=True)


# One writer at a time in this process (the app keeps a theme from a thread).
_WRITING = threading.Lock()


def commented_defaults() -> str:
    """A new config file: every key at its default, commented out."""
    lines = [
        "# projdeck's settings (docs/configuration.md). A command-line option or",
        "# an environment variable (PROJDECK_<KEY>) wins over what is set here.",
        "",
    ]
    for setting in SETTINGS.values():
        default = setting.default()
        shown = '""' if default is None else _toml_value(default)
        lines.append(f"# {setting.help} (${setting.env})")
        lines.append(f"# {setting.key} = {shown}")
        lines.append("")
    lines += [
        "# Keys by binding id (`?` in the app lists the ids), e.g.:",
        "# [keymap]",
        '# "app.help" = "f1"',
        "",
    ]
    return "\n".join(lines)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
