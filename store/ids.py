"""How records are named: by full id, by a prefix of it, in short, and
their times in JSON. Shared by every service that resolves or prints a row."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from store.errors import NotFound, ValidationError

# The fewest characters of an id that name a row (``mod show 3f2a9c``).
MIN_ID_PREFIX = 6
_HEX = re.compile(r"^[0-9a-f]+$")

Row = TypeVar("Row")


def full_id(ref: str) -> uuid.UUID | None:
    """``ref`` as an id, if it is a whole one."""
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def id_prefix(ref: str) -> str | None:
    """The start of an id ``ref`` gives (any case, dashes or not), if it is
    hex of at least ``MIN_ID_PREFIX`` characters."""
    prefix = ref.lower().replace("-", "")
    if len(prefix) >= MIN_ID_PREFIX and _HEX.fullmatch(prefix):
        return prefix
    return None


def checked_id_prefix(ref: str, what: str, field: str) -> str:
    """The id prefix ``ref`` gives, else a ValidationError of ``field``
    saying what naming a ``what`` by its id takes."""
    prefix = id_prefix(ref)
    if prefix is None:
        raise ValidationError(
            field,
            f"{ref!r} is not a {what} id; give the id or at least "
            f"{MIN_ID_PREFIX} of its first characters",
        )
    return prefix


def only_match(matches: Sequence[Row], ref: str, what: str, field: str) -> Row:
    """The one ``what`` whose id starts as ``ref`` does: none is NotFound,
    several a ValidationError of ``field``."""
    if len(matches) > 1:
        raise ValidationError(field, f"id prefix {ref!r} matches several {what}s; give more of it")
    if not matches:
        raise NotFound(f"no {what} matches {ref!r}")
    return matches[0]


def short_id(row_id: uuid.UUID) -> str:
    """An id as messages show it: its first eight characters."""
    return str(row_id)[:8]


def iso(value: datetime | None) -> str | None:
    """A time as JSON gives it (ISO 8601), or None."""
    return value.isoformat() if value is not None else None
