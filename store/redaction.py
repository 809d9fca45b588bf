"""URLs as a person may see them: the credentials they hold masked. One
function for every URL projdeck shows, logs, audits or exports (database
URLs, project webhooks, agents' webhook deliveries)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

MASK = "***"
_SENSITIVE_PARAM = re.compile(
    r"token|secret|password|passwd|pwd|key|sig|signature|auth|credential|session|code",
    re.I,
)
# A path segment that looks like a generated credential (Slack, Discord
# webhook URLs carry theirs in the path): long, letters and digits mixed.
_TOKEN_SEGMENT = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-]{24,}$")
_WEB = {"http", "https"}


def mask_url(url: URL | str) -> str:
    """``url`` with its credentials masked: the password, token-like query
    and fragment parameters and, in web URLs, a user name given alone (a
    token) and path segments that look like generated tokens. Everything else
    is kept as written, and masking a masked URL changes nothing."""
    raw = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    try:
        parts = urlsplit(raw)
    except ValueError:
        # urlsplit refuses some malformed hosts, such as an unclosed "[".
        return "<invalid URL>"
    web = parts.scheme.lower() in _WEB
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        if colon:
            netloc = f"{user}:{MASK}@{host}"
        elif web:
            netloc = f"{MASK}@{host}"
    path = parts.path
    if web:
        path = "/".join(
            MASK if _TOKEN_SEGMENT.fullmatch(segment) else segment for segment in path.split("/")
        )
    query, fragment = _mask_params(parts.query), _mask_params(parts.fragment)
    if (netloc, path, query, fragment) == (parts.netloc, parts.path, parts.query, parts.fragment):
        return raw
    # Put together by hand: urlunsplit drops the empty authority of
    # sqlite:////absolute/path and so changes the path.
    masked = f"{parts.scheme}:" if parts.scheme else ""
    if parts.netloc or raw[len(masked) :].startswith("//"):
        masked += f"//{netloc}"
    masked += path
    if query:
        masked += f"?{query}"
    if fragment:
        masked += f"#{fragment}"
    return masked


def _mask_params(raw: str) -> str:
    if "=" not in raw:
        return raw
    pieces = []
    for piece in raw.split("&"):
        key, equals, value = piece.partition("=")
        if equals and value and _SENSITIVE_PARAM.search(unquote(key)):
            value = MASK
        pieces.append(f"{key}{equals}{value}")
    return "&".join(pieces)
