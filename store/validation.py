"""Checks on every input, each failing with a ValidationError that names the
field and the problem. Limits are stated here and in the README."""

from __future__ import annotations

import json
import math
import posixpath
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from store import text as text_safety
from store.errors import ValidationError
from store.redaction import mask_url

MAX_NAME = 255
MAX_FILE_BYTES = 1024 * 1024
MAX_CODEBASE_BYTES = 50 * 1024 * 1024
MAX_CODEBASE_FILES = 10_000
MAX_PATH = 1024
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
# Longer integers are refused while parsing, before Python's own limit on
# converting digits (4,300) would raise a bare ValueError.
MAX_JSON_NUMBER_DIGITS = 1000
MAX_TEXT = 100_000
MAX_LIST_ITEMS = 1000
MAX_URL = 2048
# A time recorded by CI or an agent may run a little ahead of ours (another
# machine's clock); further ahead is a mistake.
CLOCK_SKEW = timedelta(minutes=5)

_GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# Unicode's control characters (category Cc): C0, DEL and C1.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def has_control(value: str) -> bool:
    """Whether ``value`` holds a control character (tab, newline, NUL, ESC...)."""
    return _CONTROL.search(value) is not None


def _check_encodable(field: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(field, "is not valid Unicode text (lone surrogate)") from None


def name(field: str, value: Any, *, limit: int = MAX_NAME) -> str:
    """A one-line name: 1..limit characters, no control characters.
    Surrounding white space is dropped."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    cleaned: str = value.strip()
    if not cleaned:
        raise ValidationError(field, "must not be empty")
    if len(cleaned) > limit:
        raise ValidationError(field, f"is {len(cleaned)} characters long; at most {limit} allowed")
    if has_control(cleaned):
        raise ValidationError(field, "must not contain control characters (tabs, newlines, NUL)")
    _check_encodable(field, cleaned)
    return cleaned


def text(field: str, value: Any, *, limit: int = MAX_TEXT) -> str:
    """Free text (several lines allowed), no NUL, bounded."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    if len(value) > limit:
        raise ValidationError(field, f"is {len(value)} characters long; at most {limit} allowed")
    if "\x00" in value:
        raise ValidationError(field, "must not contain NUL characters")
    _check_encodable(field, value)
    return value


def enum_value(field: str, value: Any, allowed: type[Any]) -> Any:
    try:
        return allowed(value)
    except ValueError:
        choices = ", ".join(member.value for member in allowed)
        raise ValidationError(field, f"{value!r} is not one of: {choices}") from None


def github_owner(value: str) -> str:
    if not _GITHUB_OWNER.fullmatch(value):
        raise ValidationError(
            "github_owner",
            f"{value!r} is not a GitHub user or organisation name "
            "(1-39 letters, digits or single hyphens, not starting or ending with one)",
        )
    return value


def github_repo(value: str) -> str:
    if not _GITHUB_REPO.fullmatch(value) or value in {".", ".."}:
        raise ValidationError(
            "github_repo",
            f"{value!r} is not a GitHub repository name (1-100 letters, digits, '.', '-', '_')",
        )
    return value


_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# The modes git gives a file: plain or executable (links and submodules
# are never carried).
FILE_MODES = (0o100644, 0o100755)


def commit_id(field: str, value: Any) -> str:
    """A full git commit id: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits."""
    if not isinstance(value, str) or not _COMMIT_ID.fullmatch(value):
        raise ValidationError(field, "is not a full git commit id (40 or 64 lower-case hex digits)")
    return value


def file_modes(field: str, value: Any) -> dict[str, int]:
    """File paths to git modes (0o100644 plain, 0o100755 executable)."""
    if not isinstance(value, Mapping) or len(value) > MAX_CODEBASE_FILES:
        raise ValidationError(field, f"must map at most {MAX_CODEBASE_FILES} file paths to modes")
    result: dict[str, int] = {}
    for raw_path, mode in value.items():
        path = codebase_path(raw_path, field)
        if type(mode) is not int or mode not in FILE_MODES:
            raise ValidationError(
                field, f"the mode of {path!r} is not 100644 (plain) or 100755 (executable)"
            )
        result[path] = mode
    return result


def repository_path(field: str, value: Any) -> str:
    """The absolute path of a linked repository: one line, no control
    characters (it is shown wherever the link is)."""
    path = name(field, value, limit=MAX_PATH)
    if not (path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", path)):
        raise ValidationError(field, f"{path!r} is not an absolute path")
    return path


def github_pair(value: str) -> tuple[str, str]:
    """``OWNER/REPO`` as given on the command line."""
    owner, slash, repo = value.partition("/")
    if not slash or not owner or not repo:
        raise ValidationError("github", f"{value!r} is not OWNER/REPO")
    return github_owner(owner), github_repo(repo)


def webhook_url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError("webhook_url", "must be text")
    if len(value) > MAX_URL:
        raise ValidationError("webhook_url", f"is longer than {MAX_URL} characters")
    if has_control(value) or any(char.isspace() for char in value):
        raise ValidationError("webhook_url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - a port outside 0-65535 raises here
    except ValueError:
        raise ValidationError("webhook_url", "is not a well-formed URL") from None
    if parts.scheme not in {"http", "https"} or not host:
        # Quoted masked: the URL may hold a credential.
        raise ValidationError(
            "webhook_url", f"{mask_url(value)!r} is not an http(s) URL with a host"
        )
    return value


def score(field: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(field, "must be a number from 0 to 100")
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a number") from None
    if math.isnan(number) or not 0 <= number <= 100:
        raise ValidationError(field, f"{value!r} is outside 0-100")
    return number


def codebase_path(value: Any, field: str = "codebase") -> str:
    """A file path inside a codebase: relative, normalised, no ``..``."""
    if not isinstance(value, str) or not value:
        raise ValidationError(field, "a file path must be non-empty text")
    if "\x00" in value:
        raise ValidationError(field, f"path {value!r} contains a NUL character")
    if has_control(value):
        raise ValidationError(field, f"path {value!r} contains control characters")
    if "\\" in value:
        raise ValidationError(field, f"path {value!r} uses '\\'; use '/' between folders")
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        raise ValidationError(
            field, f"path {value!r} is absolute; paths are relative to the project"
        )
    if ".." in value.split("/"):
        raise ValidationError(field, f"path {value!r} contains '..'")
    normal = posixpath.normpath(value)
    if normal in {".", ""} or value.endswith("/"):
        raise ValidationError(field, f"path {value!r} does not name a file")
    if len(normal) > MAX_PATH:
        raise ValidationError(field, f"path is longer than {MAX_PATH} characters")
    _check_encodable(field, normal)
    lookalike = text_safety.path_lookalike(normal)
    if lookalike is not None:
        raise ValidationError(
            field,
            f"path {text_safety.visible(normal)!r} {lookalike}; it could pass for another path",
        )
    return normal


def codebase(value: Any, field: str = "codebase") -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must map file paths to contents")
    if len(value) > MAX_CODEBASE_FILES:
        raise ValidationError(
            field, f"has {len(value)} files; at most {MAX_CODEBASE_FILES} allowed"
        )
    result: dict[str, str] = {}
    total = 0
    for raw_path, content in value.items():
        path = codebase_path(raw_path, field)
        if path in result:
            raise ValidationError(field, f"path {raw_path!r} is the same file as another path")
        result[path] = file_content(f"{field}[{path}]", content)
        total += len(content.encode("utf-8"))
        if total > MAX_CODEBASE_BYTES:
            raise ValidationError(
                field, f"is larger than {MAX_CODEBASE_BYTES // (1024 * 1024)} MiB"
            )
    return result


def file_content(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, "file content must be text")
    if "\x00" in value:
        raise ValidationError(field, "contains a NUL byte; binary files are not stored")
    _check_encodable(field, value)
    size = len(value.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise ValidationError(field, f"is {size} bytes; at most {MAX_FILE_BYTES} (1 MiB) per file")
    return value


def string_list(field: str, value: Any, *, item_limit: int = 500) -> list[str]:
    if not isinstance(value, list | tuple):
        raise ValidationError(field, "must be a list of text items")
    if len(value) > MAX_LIST_ITEMS:
        raise ValidationError(field, f"has {len(value)} items; at most {MAX_LIST_ITEMS} allowed")
    return [text(f"{field}[{index}]", item, limit=item_limit) for index, item in enumerate(value)]


def environment(value: Any) -> dict[str, str]:
    field = "environment_vars"
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must map variable names to values")
    if len(value) > MAX_LIST_ITEMS:
        raise ValidationError(field, f"has {len(value)} variables; at most {MAX_LIST_ITEMS}")
    result = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _ENV_NAME.fullmatch(key) or len(key) > 255:
            raise ValidationError(field, f"{key!r} is not a variable name (letters, digits, _)")
        result[key] = text(f"{field}[{key}]", item, limit=32_768)
    return result


def parse_json(field: str, text: str) -> Any:
    """JSON text as a value, or a ValidationError naming ``field``: also for
    nesting the parser cannot follow (100,000 brackets) and numbers too long
    to convert, which would otherwise raise RecursionError or ValueError."""

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_JSON_NUMBER_DIGITS:
            raise ValidationError(
                field, f"has a number longer than {MAX_JSON_NUMBER_DIGITS} digits"
            )
        return int(digits)

    try:
        return json.loads(text, parse_int=integer)
    except json.JSONDecodeError as error:
        raise ValidationError(
            field, f"is not valid JSON ({error.msg} at line {error.lineno})"
        ) from None
    except RecursionError:
        raise ValidationError(field, f"is nested deeper than {MAX_JSON_DEPTH} levels") from None


def json_object(field: str, value: Any) -> dict[str, Any]:
    """A JSON object: bounded in size and depth, text free of NUL (PostgreSQL
    refuses it in JSONB), numbers finite."""
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must be a JSON object")
    _check_json(field, value, 0)
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ValidationError(field, f"is not JSON ({error})") from None
    if size > MAX_JSON_BYTES:
        raise ValidationError(field, f"is {size} bytes as JSON; at most {MAX_JSON_BYTES}")
    return dict(value)


def _check_json(field: str, value: Any, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ValidationError(field, f"is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(field, "contains a NUL character")
        _check_encodable(field, value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(field, "object keys must be text")
            _check_json(field, key, depth + 1)
            _check_json(field, item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_json(field, item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(field, "numbers must be finite")
    elif value is not None and not isinstance(value, bool | int | float):
        raise ValidationError(field, f"holds a {type(value).__name__}, which is not JSON")


def boolean(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError(field, "must be true or false")


def recorded_time(field: str, value: datetime | None) -> datetime:
    """When something happened, as a script or an agent records it: now by
    default; a time with a zone, not in the future (a few minutes of another
    clock aside, counted as now), in UTC."""
    now = datetime.now(UTC)
    if value is None:
        return now
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(field, "must be a date-time with a time zone")
    if value > now + CLOCK_SKEW:
        raise ValidationError(
            field, f"{value.astimezone(UTC).isoformat()} is in the future (it is {now.isoformat()})"
        )
    return min(value, now).astimezone(UTC)
