"""libpq's connection parameters in a PostgreSQL URL, as asyncpg takes them.

``postgresql://USER@HOST/DB?sslmode=require`` is the form psql, libpq and
most hosting dashboards give. asyncpg takes none of these as keywords (the
URL's query would reach ``connect()`` as is, and fail there), so they are
checked when the URL is read and turned into asyncpg's arguments when the
engine is made. A parameter asyncpg cannot honour is refused, naming it.
"""

from __future__ import annotations

import shlex
import ssl
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from store.errors import ValidationError
from store.validation import has_control

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_FILES = ("sslrootcert", "sslcert", "sslkey")
TAKEN = ("sslmode", *_FILES, "connect_timeout", "application_name", "options")
_FIELD = "database URL"


def _one(url: URL, name: str) -> str | None:
    value = url.query.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(_FIELD, f"the parameter {name!r} is given more than once")
    if has_control(value):
        raise ValidationError(_FIELD, f"the parameter {name!r} holds control characters")
    return value


def _settings(options: str) -> dict[str, str]:
    """``options`` as libpq takes it (``-c name=value`` pairs) as server settings."""
    try:
        words = shlex.split(options)
    except ValueError:
        raise ValidationError(
            _FIELD, f"options {options!r} is not a list of -c name=value"
        ) from None
    settings: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        if word == "-c" and index + 1 < len(words):
            pair, index = words[index + 1], index + 2
        elif word.startswith("-c") and len(word) > 2:
            pair, index = word[2:], index + 1
        else:
            raise ValidationError(
                _FIELD, f"options: {word!r} is not -c name=value (the only form projdeck passes on)"
            )
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise ValidationError(_FIELD, f"options: {pair!r} is not name=value")
        settings[name] = value
    return settings


def check(url: URL) -> None:
    """A ValidationError naming the first query parameter of a PostgreSQL
    ``url`` that projdeck cannot pass on, or whose value cannot be used."""
    for name in url.query:
        if name not in TAKEN:
            raise ValidationError(
                _FIELD,
                f"the parameter {name!r} is not one projdeck can pass to PostgreSQL; it takes "
                f"{', '.join(TAKEN)}",
            )
    connect_args(url)


def connect_args(url: URL) -> dict[str, Any]:
    """asyncpg's arguments for ``url``'s libpq parameters (``ssl``,
    ``timeout``, ``server_settings``); the files named are read only when
    the engine connects."""
    args: dict[str, Any] = {}
    mode = _one(url, "sslmode")
    if mode is not None and mode not in SSL_MODES:
        raise ValidationError(_FIELD, f"sslmode {mode!r} is not one of {', '.join(SSL_MODES)}")
    files = {name: _one(url, name) for name in _FILES}
    if any(files.values()):
        if mode == "disable":
            raise ValidationError(_FIELD, "sslmode=disable with certificates: which is meant?")
        args["ssl"] = _context(mode or "prefer", **files)
    elif mode is not None:
        args["ssl"] = mode
    timeout = _one(url, "connect_timeout")
    if timeout is not None:
        try:
            seconds = float(timeout)
        except ValueError:
            seconds = 0.0
        if not seconds > 0:
            raise ValidationError(_FIELD, f"connect_timeout {timeout!r} is not a number of seconds")
        args["timeout"] = seconds
    settings: dict[str, str] = {}
    name = _one(url, "application_name")
    if name is not None:
        settings["application_name"] = name
    options = _one(url, "options")
    if options is not None:
        settings.update(_settings(options))
    if settings:
        args["server_settings"] = settings
    return args


def _context(
    mode: str, *, sslrootcert: str | None, sslcert: str | None, sslkey: str | None
) -> ssl.SSLContext:
    """An SSL context as libpq would make it for ``mode`` and these files:
    verify-ca and verify-full check the server's certificate (verify-full
    its name too); with a root certificate, require checks it as verify-ca
    does; a client certificate is sent when given."""

    def path(value: str | None) -> str | None:
        return str(Path(value).expanduser()) if value else None

    verify = mode in ("verify-ca", "verify-full") or (mode == "require" and sslrootcert)
    try:
        context = ssl.create_default_context(cafile=path(sslrootcert) if verify else None)
        context.check_hostname = mode == "verify-full"
        if not verify:
            context.verify_mode = ssl.CERT_NONE
        if sslcert:
            context.load_cert_chain(path(sslcert) or "", path(sslkey))
    except (OSError, ssl.SSLError) as error:
        raise ValidationError(_FIELD, f"the SSL files cannot be used: {error}") from None
    return context
