"""What the repositories share: paging and text search helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Mapped

T = TypeVar("T")

MAX_PAGE = 500


@dataclass
class Page(Generic[T]):
    """One page of rows, and how many rows the whole query has."""

    items: list[T]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def clamp_limit(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_any(term: str, *columns: Mapped[str] | Mapped[str | None]) -> ColumnElement[bool]:
    """Case-insensitive substring match on any of the columns."""
    pattern = f"%{escape_like(term)}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))
