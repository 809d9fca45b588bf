"""Environment files (``.env``) as python-dotenv reads them: the names and
values of one, each named by its line, for ``secret import``; a name and
value written as a line python-dotenv reads back the same, for ``secret
export --dotenv``.

Values are taken as written: ``${VAR}`` is not expanded (an import must not
pull the importing shell's environment into a project's secrets), so a file
written here is read back the same by python-dotenv's parser, and by
``dotenv_values(..., interpolate=False)``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from store.crypto import SecretValue
from store.errors import ValidationError

# What a double-quoted value escapes: the backslash and the quote, and the
# controls python-dotenv decodes (\a \b \f \n \r \t \v); other characters
# stand as they are.
_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        '"': '\\"',
        "\a": "\\a",
        "\b": "\\b",
        "\f": "\\f",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\v": "\\v",
    }
)


@dataclass(frozen=True)
class Entry:
    """One ``NAME=value`` of a file, and where it was: ``line 7``."""

    name: str
    value: SecretValue
    label: str


def parse(text: str, *, field: str = "dotenv", limit: int | None = None) -> list[Entry]:
    """The names and values of an environment file, in order, by
    python-dotenv's parser. Refused, naming the line: a line the parser
    cannot read, a name without ``=`` (no value), a name given twice; and a
    file holding none, or more than ``limit``. Names and values are left to
    the caller to check (the messages never quote a value)."""
    from dotenv.parser import parse_stream

    entries: list[Entry] = []
    first_line: dict[str, int] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = _line_of(binding.original.string, binding.original.line)
        if binding.error:
            raise ValidationError(
                f"line {line}", "is not NAME=value (quotes not closed, or no name)"
            )
        if binding.key is None:
            continue  # a blank line or a comment
        if binding.value is None:
            raise ValidationError(
                f"line {line}",
                f"{binding.key} has no value (no '='); write {binding.key}=value",
            )
        if binding.key in first_line:
            raise ValidationError(
                f"line {line}",
                f"{binding.key} is given twice (first on line {first_line[binding.key]})",
            )
        first_line[binding.key] = line
        if limit is not None and len(entries) >= limit:
            raise ValidationError(field, f"holds more than {limit:,} names; split the file")
        entries.append(Entry(binding.key, SecretValue(binding.value), f"line {line}"))
    if not entries:
        raise ValidationError(field, "holds no NAME=value lines")
    return entries


def _line_of(original: str, start: int) -> int:
    """The line a binding's name is on: the parser counts from the blank
    lines and comments before it."""
    leading = original[: len(original) - len(original.lstrip())]
    return start + leading.count("\n") + leading.count("\r") - leading.count("\r\n")


def line(name: str, value: str) -> str:
    """``NAME="value"``, escaped so that python-dotenv reads back ``value``
    exactly (newlines, quotes, ``#``, ``$``, backslashes and any Unicode)."""
    return f'{name}="{value.translate(_ESCAPES)}"'
