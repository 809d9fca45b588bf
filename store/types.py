"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, LargeBinary, cast
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine


class JSONType(TypeDecorator[Any]):
    """JSON everywhere, JSONB on PostgreSQL (indexable, compact).

    PostgreSQL's dialect is loaded only when a PostgreSQL database uses the
    type: a command on SQLite does not pay for importing it."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp.

    PostgreSQL keeps the zone itself; SQLite stores text without one, so
    values are normalised to UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StoredBytes(LargeBinary):
    """Binary that reads back as its bytes whatever was stored in it.

    SQLite lets a hand edit put TEXT into a BLOB column; if that text is not
    UTF-8 the driver fails on the whole row. Selecting the column cast to
    BLOB hands back the raw bytes instead, so tampered ciphertext reaches
    decryption and fails there, named and audited, like any other tampering.
    (A no-op on PostgreSQL, whose bytea holds bytes only.)
    """

    def column_expression(self, colexpr: ColumnElement[Any]) -> ColumnElement[Any]:
        return cast(colexpr, LargeBinary())


def utcnow() -> datetime:
    return datetime.now(UTC)
