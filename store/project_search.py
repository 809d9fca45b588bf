"""What the projects list finds inside projects: a dependency by its name, a
stack word, a codebase path by a glob. The rules the queries, the schema
behind them (revision 0012) and the checks on what a person types share.

- A dependency is matched by name: the stored entry up to its first version
  or extras mark (``fastapi>=0.110`` and ``uvicorn[standard]`` name
  ``fastapi`` and ``uvicorn``; npm's ``react@^18`` names ``react`` and
  ``@vitejs/plugin-react@^4`` names ``@vitejs/plugin-react``), in any case
  (ASCII letters, as SQLite's ``lower()`` and the PostgreSQL function fold
  them). No other normalisation: ``python-dateutil`` is not
  ``python_dateutil``.
- A stack word matches the ``tech_stack`` a project records in its state (a
  project made from a template records the template's, in lower case) or a
  dependency's name.
- A path pattern is a glob over the codebase's paths, matched whole: ``*``
  is any run of characters (``/`` included), ``?`` one character, anything
  else itself, in any case (as the list's text search).

PostgreSQL answers the dependency from a GIN index on the names
(``DEPENDENCY_NAMES_FUNCTION`` of the ``dependencies`` column) and the
stack's recorded words from the GIN index on ``state``; SQLite from
``PROJECT_SEARCH_TERMS_TABLE``, one row per name and stack word, kept in
step by triggers. Paths are read from the codebase itself (``jsonb_object_keys``,
``json_each``): no index holds them.
"""

from __future__ import annotations

import re

from store import validation
from store.errors import ValidationError
from store.models import DEPENDENCY_NAMES_FUNCTION, PROJECT_SEARCH_TERMS_TABLE

__all__ = ["DEPENDENCY_NAMES_FUNCTION", "PROJECT_SEARCH_TERMS_TABLE"]

# SQLite: PROJECT_SEARCH_TERMS_TABLE's rows are (kind, term, status,
# project_id), of these kinds.
DEPENDENCY = "dependency"
STACK = "stack"

# Where a dependency's name ends: white space, a version or extras mark, or
# an ``@`` after the first character (npm's ``name@range``; a scope's own
# ``@`` comes first). Revision 0012 writes the same rule in SQL.
_NAME = re.compile(r"@?[^\t\n\r <>=!~^;\[(,@]*")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# A dependency entry is at most 500 characters (validation.string_list).
MAX_DEPENDENCY = 500
MAX_STACK_WORD = 50
MAX_PATTERN = validation.MAX_PATH
# More ``*`` than this (runs of them count once) is refused: each one
# multiplies the work of matching a path that almost fits.
MAX_PATTERN_STARS = 16


def ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def dependency_name(entry: str) -> str:
    """The name a dependency entry is found by (empty if it has none)."""
    match = _NAME.match(entry.strip(" "))
    return ascii_lower(match.group() if match else "")


def check_dependency(value: object, field: str = "dependency") -> str:
    """A dependency name to look for, as the search matches it (lower case);
    a ValidationError naming ``field`` for a requirement with a version."""
    cleaned = validation.name(field, value, limit=MAX_DEPENDENCY)
    name = dependency_name(cleaned)
    if name != ascii_lower(cleaned):
        hint = f" ({name!r})" if name else ""
        raise ValidationError(
            field,
            f"{cleaned!r} is not a package name: give the name alone{hint}, "
            "without a version, extras or spaces",
        )
    return name


def check_stack(value: object, field: str = "stack") -> str:
    """A stack word to look for, in lower case (templates record theirs so)."""
    cleaned = validation.name(field, value, limit=MAX_DEPENDENCY).lower()
    if any(char.isspace() for char in cleaned):
        raise ValidationError(field, f"{cleaned!r} is more than one word")
    return cleaned


def check_path_pattern(value: object, field: str = "file") -> str:
    """A glob over codebase paths, as given (runs of ``*`` made one)."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    pattern = re.sub(r"\*{2,}", "*", value)
    if not pattern:
        raise ValidationError(field, "give a path or a pattern such as 'src/*.py'")
    if len(pattern) > MAX_PATTERN:
        raise ValidationError(
            field, f"is {len(pattern)} characters long; at most {MAX_PATTERN} allowed"
        )
    if validation.has_control(pattern):
        raise ValidationError(field, "must not contain control characters (tabs, newlines, NUL)")
    validation.text(field, pattern, limit=MAX_PATTERN)
    if pattern.startswith("/"):
        raise ValidationError(
            field, f"{pattern!r} starts with '/'; paths are relative to the project"
        )
    if pattern.count("*") > MAX_PATTERN_STARS:
        raise ValidationError(field, f"has more than {MAX_PATTERN_STARS} '*' wildcards")
    return pattern


_LIKE = {"*": "%", "?": "_", "%": "\\%", "_": "\\_", "\\": "\\\\"}


def glob_as_like(pattern: str) -> str:
    """A glob (``*``, ``?``) as a LIKE pattern escaped with ``\\``: the
    glob's other characters, LIKE's ``%`` and ``_`` among them, match only
    themselves."""
    return "".join(_LIKE.get(char, char) for char in pattern)
