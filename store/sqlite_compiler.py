"""SQLite's statement compiler, rendering table hints as ``INDEXED BY``.

SQLAlchemy's SQLite compiler drops what ``Select.with_hint`` asks for; this
one writes it after the table's name, which is where SQLite's ``INDEXED BY
name`` goes. A query names the index it must use only where SQLite's
planner, left alone, picks a plan many times slower (see
``store.repositories.projects``); the hint is given for SQLite only, and a
missing index fails the statement rather than falling back silently.
"""

from __future__ import annotations

from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.sql.expression import FromClause


class HintingSQLiteCompiler(SQLiteCompiler):
    def get_from_hint_text(self, table: FromClause, text: str | None) -> str | None:
        return text
