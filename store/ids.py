"""How records are named: by full id, by a prefix of it, in short, and
their times in JSON. Shared by every service that resolves or prints a row."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

# The fewest characters of an id that name a row (``mod show 3f2a9c``).
MIN_ID_PREFIX = 6
_HEX = re.compile(r"^[0-9a-f]+$")


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


def short_id(row_id: uuid.UUID) -> str:
    """An id as messages show it: its first eight characters."""
    return str(row_id)[:8]


def iso(value: datetime | None) -> str | None:
    """A time as JSON gives it (ISO 8601), or None."""
    return value.isoformat() if value is not None else None
