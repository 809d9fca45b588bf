"""What the repositories share: the session they query, paging and text
search helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Boolean, ColumnElement, String, literal, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

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


class Repository:
    """Queries of one table group in the session of the service that owns
    the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name


def clamp_limit(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Condition(ColumnElement[bool]):
    """A condition of our own, compiled for each database (``@compiles``);
    a subclass names its parts in ``_traverse_internals``, so that
    statements holding it are cached by them."""

    type = Boolean()
    _is_implicitly_boolean = True


class LikeAnyCase(_Condition):
    """``value LIKE pattern`` in any case, ``\\`` escaping: ILIKE on
    PostgreSQL (which its trigram indexes serve), plain LIKE on SQLite,
    whose LIKE ignores case already (ASCII, as its ``lower()`` does):
    SQLAlchemy's ``ilike`` there calls ``lower()`` twice a row, which
    doubles the time of a search through a large table."""

    inherit_cache = True
    _traverse_internals = [
        ("value", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, value: Any, pattern: ColumnElement[str]) -> None:
        # A mapped attribute (Project.name) stands for its column.
        clause = getattr(value, "__clause_element__", None)
        self.value: ColumnElement[Any] = clause() if clause is not None else value
        self.pattern = pattern


@compiles(LikeAnyCase)
def _like_any_case(element: LikeAnyCase, compiler: SQLCompiler, **kw: object) -> str:
    return compiler.process(element.value.ilike(element.pattern, escape="\\"), **kw)


@compiles(LikeAnyCase, "sqlite")
def _like_any_case_sqlite(element: LikeAnyCase, compiler: SQLCompiler, **kw: object) -> str:
    return compiler.process(element.value.like(element.pattern, escape="\\"), **kw)


class PerBackend(_Condition):
    """A condition written once for PostgreSQL and once for SQLite, where
    the two answer it from different schema objects; a statement holding it
    is built once and compiles for the database it runs on. Bound
    parameters the two share are one and the same."""

    inherit_cache = True
    _traverse_internals = [
        ("postgresql", InternalTraversal.dp_clauseelement),
        ("sqlite", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, *, postgresql: ColumnElement[bool], sqlite: ColumnElement[bool]) -> None:
        self.postgresql = postgresql
        self.sqlite = sqlite


@compiles(PerBackend)
def _per_backend(element: PerBackend, compiler: SQLCompiler, **kw: object) -> str:
    # In parentheses: an OR inside must not mix with the ANDs around it.
    return f"({compiler.process(element.postgresql, **kw)})"


@compiles(PerBackend, "sqlite")
def _per_backend_sqlite(element: PerBackend, compiler: SQLCompiler, **kw: object) -> str:
    return f"({compiler.process(element.sqlite, **kw)})"


def contains_any(term: str, *columns: Mapped[str] | Mapped[str | None]) -> ColumnElement[bool]:
    """Case-insensitive substring match on any of the columns."""
    pattern = literal(f"%{escape_like(term)}%", String())
    return or_(*(LikeAnyCase(column, pattern) for column in columns))
