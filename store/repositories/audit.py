"""Queries on ``audit_log``."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import column, func, literal, literal_column, select, table
from sqlalchemy.sql import Select
from sqlmodel import col

from store.models import AUDIT_FTS_TABLE, AuditCategory, AuditEntry, Severity
from store.repositories.base import Repository, clamp_limit, contains_any, escape_like


@dataclass
class AuditFilter:
    project_id: uuid.UUID | None = None
    actor: str | None = None
    event_type: str | None = None
    category: AuditCategory | None = None
    severity: Severity | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None

    def apply(self, query: Select[Any], dialect: str | None = None) -> Select[Any]:
        """``query`` narrowed by the filters; on SQLite (``dialect``) a text
        search of three characters or more uses the full-text index."""
        if self.project_id is not None:
            query = query.where(col(AuditEntry.project_id) == self.project_id)
        if self.actor is not None:
            query = query.where(col(AuditEntry.actor) == self.actor)
        if self.event_type is not None:
            query = query.where(col(AuditEntry.event_type) == self.event_type)
        if self.category is not None:
            query = query.where(col(AuditEntry.category) == self.category)
        if self.severity is not None:
            query = query.where(col(AuditEntry.severity) == self.severity)
        if self.since is not None:
            query = query.where(col(AuditEntry.at) >= self.since)
        if self.until is not None:
            query = query.where(col(AuditEntry.at) < self.until)
        if self.uses_fts(dialect):
            assert self.search is not None
            query = query.where(col(AuditEntry.id).in_(_fts_matches(self.search)))
        elif self.search:
            # PostgreSQL answers this ILIKE from its trigram indexes.
            query = query.where(
                contains_any(
                    self.search,
                    col(AuditEntry.description),
                    col(AuditEntry.event_type),
                    col(AuditEntry.actor),
                )
            )
        return query

    def uses_fts(self, dialect: str | None) -> bool:
        """Whether the text search is answered by SQLite's full-text index."""
        return bool(self.search) and dialect == "sqlite" and len(self.search or "") >= _TRIGRAM

    def only_search(self) -> bool:
        """Whether the text search is the only filter."""
        return all(
            value is None
            for value in (
                self.project_id,
                self.actor,
                self.event_type,
                self.category,
                self.severity,
                self.since,
                self.until,
            )
        )


# The FTS5 trigram tokenizer indexes every three characters: a quoted term of
# at least that length matches where it occurs as a substring, in any case,
# in any indexed column, as the ILIKE does; shorter terms fall back to it.
_TRIGRAM = 3
_FTS = table(AUDIT_FTS_TABLE, column("rowid"))


def _fts_matches(term: str) -> Select[Any]:
    phrase = '"' + term.replace('"', '""') + '"'
    return select(_FTS.c.rowid).where(literal_column(AUDIT_FTS_TABLE).op("MATCH")(phrase))


class AuditRepository(Repository):
    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    async def actors(self, prefix: str = "", *, limit: int = 20) -> list[str]:
        """The distinct actors starting with ``prefix`` (as typed, in the
        database's order), at most ``limit``. A loose scan of the actor index:
        one seek per name, however many rows each name has."""
        actor = col(AuditEntry.actor)
        pattern = f"{escape_like(prefix)}%"
        first = select(func.min(actor).label("name"), literal(1).label("n")).where(actor >= prefix)
        found = first.cte("found", recursive=True)
        following = select(func.min(actor)).where(actor > found.c.name).scalar_subquery()
        found = found.union_all(
            select(following, found.c.n + 1).where(
                found.c.n < clamp_limit(limit), found.c.name.like(pattern, escape="\\")
            )
        )
        query = select(found.c.name).where(found.c.name.like(pattern, escape="\\"))
        return [str(name) for name in (await self.session.execute(query)).scalars()]

    async def list(
        self, filters: AuditFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[AuditEntry]:
        query = (filters or AuditFilter()).apply(select(AuditEntry), self.dialect)
        query = (
            query.order_by(col(AuditEntry.id).desc())
            .limit(clamp_limit(limit))
            .offset(max(offset, 0))
        )
        return list((await self.session.execute(query)).scalars())

    async def page_and_count(
        self, filters: AuditFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> tuple[builtins.list[AuditEntry], int]:
        """A page, newest first, and how many rows match in all. A text
        search alone on SQLite's full-text index is matched once for both:
        the page is found among the matches and they are counted in the same
        statement; any other filters take a statement each."""
        filters = filters or AuditFilter()
        if filters.search and filters.uses_fts(self.dialect) and filters.only_search():
            matches = _fts_matches(filters.search).cte("matches")
            total = select(func.count()).select_from(matches).scalar_subquery()
            query = (
                select(AuditEntry, total)
                .where(col(AuditEntry.id).in_(select(matches.c.rowid)))
                .order_by(col(AuditEntry.id).desc())
                .limit(clamp_limit(limit))
                .offset(max(offset, 0))
            )
            rows = (await self.session.execute(query)).all()
            if rows:
                return [row[0] for row in rows], int(rows[0][1])
            # Past the last match: no row to carry the count.
            return [], await self.count(filters)
        return await self.list(filters, limit=limit, offset=offset), await self.count(filters)

    async def count(self, filters: AuditFilter | None = None) -> int:
        filters = filters or AuditFilter()
        if filters.search and filters.uses_fts(self.dialect) and filters.only_search():
            # Every audit row has its index entry (triggers keep them in
            # step): counting the index's matches alone skips looking up
            # each matching row, several times faster for a common word.
            query = select(func.count()).select_from(_fts_matches(filters.search).subquery())
            return int((await self.session.execute(query)).scalar_one())
        query = filters.apply(select(func.count()).select_from(AuditEntry), self.dialect)
        return int((await self.session.execute(query)).scalar_one())
