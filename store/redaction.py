"""What may be kept of values that can hold credentials: one rule for every
place projdeck stores what services, agents and webhooks hand it (audit
metadata, messages' metadata, runs' errors and test results, webhook
deliveries) and for workspace exports, and one mask for URLs.

The rule (``redact``), applied before anything is stored:

- by key: in a JSON object, a value under a key that names a credential
  (password, passwd, passphrase, secret, token, api_key, access_key,
  private_key, client_secret, authorization, cookie, credential,
  session_id, ...; also run together or in camel case, as dbPassword or
  GITHUB_TOKEN) becomes ``[redacted]``. A key that counts or describes one
  keeps its value: ``input_tokens``, ``tokens_used``, ``token_count``,
  ``secret_name``, ``api_key_id``, ``token_expires_at``. ``None``, booleans
  and empty text are kept under any key.
- by shape, inside any text: bearer tokens, HTTP basic credentials,
  providers' keys (``sk-``, ``ghp_``, ``github_pat_``, ``xoxb-``,
  ``AKIA...``, ``AIza...``, ``glpat-``, ...), JSON Web Tokens, PEM private
  key blocks, and ``name=value``, ``"name": "value"`` and ``Name: value``
  lines whose name is a credential's: just the credential is replaced.
- URLs, alone or inside text: their credentials masked (``mask_url``).

Everything else is kept as written (a commit hash, a UUID, "secretary",
"passwordless", "tokenizer", prose), and redacting a redacted value changes
nothing.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

REDACTED = "[redacted]"
MASK = "***"
INVALID_URL = "<invalid URL>"

# -- by key ----------------------------------------------------------------------

# Words that name a credential, alone or as a pair run together (api_key,
# session_id); a word that ends in one names one too (dbpassword,
# githubtoken), a word that merely starts with one does not (passwordless,
# tokenizer, secretary). "tokens" (plural) is a count, not a credential.
_CREDENTIAL_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "credentials",
    "authorization",
    "cookie",
    "cookies",
    "bearer",
    "apikey",
    "accesskey",
    "privatekey",
    "secretkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "sessionkey",
    "sessionid",
    "authkey",
    "ciphertext",
    "plaintext",
)
# The last word of a key that is about a credential rather than one: how
# many, how long, when, which (input_tokens is no credential either way).
_ABOUT_WORDS = frozenset(
    {
        "at",
        "budget",
        "changed",
        "count",
        "counts",
        "created",
        "expired",
        "expires",
        "expiration",
        "expiry",
        "field",
        "fields",
        "file",
        "format",
        "hint",
        "id",
        "ids",
        "keys",
        "kind",
        "len",
        "length",
        "limit",
        "limits",
        "max",
        "min",
        "name",
        "names",
        "number",
        "path",
        "policy",
        "remaining",
        "required",
        "reset",
        "rotated",
        "scope",
        "scopes",
        "set",
        "size",
        "source",
        "total",
        "ttl",
        "type",
        "updated",
        "uri",
        "url",
        "usage",
        "used",
    }
)
# Word boundaries of snake_case, kebab-case, dotted and camelCase keys.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def _key_words(key: str) -> list[str]:
    return [word for word in _SEPARATORS.split(_CAMEL.sub("_", key).lower()) if word]


def _names_credential(word: str) -> bool:
    return word.endswith(_CREDENTIAL_WORDS)


def is_credential_key(key: object) -> bool:
    """Whether a value under ``key`` is a credential: the key names one
    (``api_key``, ``DB_PASSWORD``, ``X-Auth-Token``, ``basic_auth``) and its
    last word does not make it about one (``token_count``, ``secret_name``)."""
    if not isinstance(key, str):
        return False
    # Keys repeat (audit metadata, agents' metadata): short ones are remembered.
    return _remembered(key) if len(key) <= 100 else _key_names_credential(key)


def _key_names_credential(key: str) -> bool:
    words = _key_words(key)
    last = len(words) - 1
    for index in range(len(words)):
        for span in (1, 2):
            end = index + span - 1
            if end > last:
                break
            joined = "".join(words[index : end + 1])
            named = _names_credential(joined) or (span == 1 and end == last and joined == "auth")
            if named and (end == last or words[last] not in _ABOUT_WORDS):
                return True
    return False


_remembered = lru_cache(maxsize=4096)(_key_names_credential)


# -- by shape --------------------------------------------------------------------

# A PEM private key block, or the start of one cut off (an excerpt).
_PEM = re.compile(
    r"-----BEGIN (?P<label>(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----"
    r"(?P<body>.*?)(?P<end>-----END (?P=label)-----|\Z)",
    re.S,
)
_URL_IN_TEXT = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]+")
# "Name: value" on a line of its own (HTTP headers, YAML, .env dumps).
_LINE = re.compile(
    r"^(?P<lead>[ \t>*-]*)(?P<name>[A-Za-z][A-Za-z0-9_.-]{0,63})(?P<sep>[ \t]*:[ \t]*)"
    r"(?P<value>[^\n]*)$",
    re.M,
)
_AUTH_SCHEMES = frozenset(
    {"basic", "bearer", "digest", "token", "negotiate", "ntlm", "apikey", "aws4-hmac-sha256"}
)
_SCHEME_VALUE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9-]*)(?P<space>[ \t]+)(?P<rest>\S.*)")
# '"name": "value"' and "'name': 'value'" (JSON or a Python dict inside text).
_QUOTED_PAIR = re.compile(
    r"(?P<kq>[\"'])(?P<name>[A-Za-z_][A-Za-z0-9_. -]{0,63})(?P=kq)(?P<sep>[ \t]*[:=][ \t]*)"
    r"(?P<vq>[\"'])(?P<value>(?:\\.|(?!(?P=vq))[^\\\n])*)(?P=vq)"
)
# name=value (query strings, .env files, command lines); not "==".
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_])(?P<name>[A-Za-z][A-Za-z0-9_.-]{0,63})(?P<sep>[ \t]*=(?!=)[ \t]*)"
    r"(?:(?P<q>[\"'])(?P<quoted>[^\"'\n]*)(?P=q)|(?P<value>[^\s\"'&;,()\[\]{}<>]++)(?!\())"
)
_BEARER = re.compile(
    r"(?<![A-Za-z0-9_-])(?P<scheme>[Bb]earer|BEARER)(?P<space>[ \t]+)"
    r"(?P<value>[A-Za-z0-9_~+/-]+(?:\.[A-Za-z0-9_~+/-]+)*=*)"
)
_BASIC = re.compile(
    r"(?<![A-Za-z0-9_-])(?P<scheme>[Bb]asic|BASIC)(?P<space>[ \t]+)"
    r"(?P<value>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])"
)
# Keys whose shape gives them away, as their providers issue them.
_PROVIDER_KEY = re.compile(
    r"(?<![A-Za-z0-9_-])(?:"
    r"sk-(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic (sk-proj-, sk-ant-)
    r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|whsec_[A-Za-z0-9+/=]{20,}"  # Stripe webhook signing secrets
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{30,}"  # GitHub fine-grained tokens
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"  # Slack
    r"|(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}"  # AWS
    r"|AIza[A-Za-z0-9_-]{35}"  # Google
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face
    r"|npm_[A-Za-z0-9]{36,}"  # npm
    r"|pypi-[A-Za-z0-9_-]{50,}"  # PyPI
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JSON Web Tokens
    r")(?![A-Za-z0-9_-])"
)
# What stands in for a value without being one: already redacted or masked,
# a reference to the environment, a placeholder.
_PLACEHOLDER = re.compile(
    r"\[redacted\]|\*+|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^<>]*>|%s|null|none|true|false", re.I
)


def _stands_in(value: str) -> bool:
    return not value.strip() or _PLACEHOLDER.fullmatch(value.strip()) is not None


def _looks_like_credential(value: str) -> bool:
    """A bearer token rather than a word ("the bearer instrument")."""
    return len(value) >= 8 and (
        any(char.isdigit() for char in value)
        or (any(char.isupper() for char in value) and any(char.islower() for char in value))
        or any(char in "._~+/=" for char in value)
    )


def _url(match: re.Match[str]) -> str:
    masked = mask_url(match[0])
    # A key redacted where the host stood ("https://[redacted]") is not a URL
    # urlsplit reads; it holds nothing more to mask.
    return match[0] if masked == INVALID_URL and REDACTED in match[0] else masked


def _pem(match: re.Match[str]) -> str:
    label = match["label"]
    end = f"-----END {label}-----" if match["end"] else ""
    return f"-----BEGIN {label}-----{REDACTED}{end}"


def _line(match: re.Match[str]) -> str:
    value = match["value"].rstrip()
    if not value or _stands_in(value) or not is_credential_key(match["name"]):
        return match[0]
    head = f"{match['lead']}{match['name']}{match['sep']}"
    tail = match["value"][len(value) :]
    words = _key_words(match["name"])
    if "cookie" in words or "cookies" in words:
        return head + REDACTED + tail
    scheme = _SCHEME_VALUE.fullmatch(value)
    if scheme is not None and scheme["scheme"].lower() in _AUTH_SCHEMES:
        if _stands_in(scheme["rest"]):
            return match[0]
        return f"{head}{scheme['scheme']}{scheme['space']}{REDACTED}{tail}"
    if any(char.isspace() for char in value):
        # Prose ("Password: at least 12 characters"), not a value.
        return match[0]
    return head + REDACTED + tail


def _quoted_pair(match: re.Match[str]) -> str:
    if _stands_in(match["value"]) or not is_credential_key(match["name"]):
        return match[0]
    quote = match["vq"]
    return f"{match['kq']}{match['name']}{match['kq']}{match['sep']}{quote}{REDACTED}{quote}"


def _assignment(match: re.Match[str]) -> str:
    value = match["quoted"] if match["q"] else match["value"]
    if _stands_in(value) or not is_credential_key(match["name"]):
        return match[0]
    quote = match["q"] or ""
    return f"{match['name']}{match['sep']}{quote}{REDACTED}{quote}"


def _bearer(match: re.Match[str]) -> str:
    if not _looks_like_credential(match["value"]):
        return match[0]
    return f"{match['scheme']}{match['space']}{REDACTED}"


def _basic(match: re.Match[str]) -> str:
    # HTTP basic credentials are base64 of "user:password"; a word after
    # "Basic" ("Basic settings") does not decode to that.
    try:
        decoded = base64.b64decode(match["value"], validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return match[0]
    if ":" not in decoded or not decoded.isprintable():
        return match[0]
    return f"{match['scheme']}{match['space']}{REDACTED}"


def redact_text(text: str) -> str:
    """``text`` with every credential it holds replaced (by shape, see the
    module's docstring), and the rest as written."""
    if "-----BEGIN " in text:
        text = _PEM.sub(_pem, text)
    if "://" in text:
        text = _URL_IN_TEXT.sub(_url, text)
    if ":" in text:
        text = _LINE.sub(_line, text)
    if "=" in text or ":" in text:
        text = _QUOTED_PAIR.sub(_quoted_pair, text)
    if "=" in text:
        text = _ASSIGNMENT.sub(_assignment, text)
    text = _BEARER.sub(_bearer, text)
    text = _BASIC.sub(_basic, text)
    return _PROVIDER_KEY.sub(REDACTED, text)


def redact(value: Any) -> Any:
    """``value`` (JSON: objects, arrays, text, numbers) with its credentials
    replaced: by key in objects, by shape in text (keys included), URLs
    masked. Numbers, booleans and ``None`` are kept, except under a key that
    names a credential."""
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            name = redact_text(key) if isinstance(key, str) else key
            if is_credential_key(name) and item not in (None, "") and not isinstance(item, bool):
                result[name] = REDACTED
            else:
                result[name] = redact(item)
        return result
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


# The columns that hold what agents and webhooks hand projdeck, redacted
# before they are stored and again when a workspace is exported or brought
# in. The audit log's metadata is redacted when its row is written and never
# rewritten: the hash chain covers it.
REDACTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "messages": ("metadata",),
    "agent_runs": ("error", "test_results"),
    "webhook_deliveries": ("url", "response_excerpt"),
}


def redact_row(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row of ``table`` (column names to JSON values) with its columns in
    ``REDACTED_COLUMNS`` redacted; other tables' rows as given."""
    columns = REDACTED_COLUMNS.get(table)
    if not columns or not isinstance(row, dict):
        return row
    return {name: redact(value) if name in columns else value for name, value in row.items()}


# -- URLs ------------------------------------------------------------------------

_SENSITIVE_PARAM = re.compile(
    r"token|secret|password|passwd|pwd|key|sig|signature|auth|credential|session|code",
    re.I,
)
# A path segment that looks like a generated credential (Slack, Discord
# webhook URLs carry theirs in the path): long, letters and digits mixed.
_TOKEN_SEGMENT = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-]{24,}$")
# A git object id after one of these segments names a revision (a commit's
# page on a forge), not a credential.
_REVISION_SEGMENT = re.compile(r"[0-9a-f]{7,64}")
_BEFORE_REVISION = frozenset({"commit", "commits", "tree", "blob", "blame", "raw", "compare"})
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
        return INVALID_URL
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
        path = _mask_path(path)
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


def _mask_path(path: str) -> str:
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if not _TOKEN_SEGMENT.fullmatch(segment):
            continue
        if (
            index
            and segments[index - 1] in _BEFORE_REVISION
            and _REVISION_SEGMENT.fullmatch(segment)
        ):
            continue
        segments[index] = MASK
    return "/".join(segments)


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
