"""Queries on ``audit_log``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlmodel import col

from store.models import AuditCategory, AuditEntry, Severity
from store.repositories.base import clamp_limit, contains_any


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

    def apply(self, query: Select[Any]) -> Select[Any]:
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
        if self.search:
            query = query.where(
                contains_any(
                    self.search,
                    col(AuditEntry.description),
                    col(AuditEntry.event_type),
                    col(AuditEntry.actor),
                )
            )
        return query


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    async def list(
        self, filters: AuditFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[AuditEntry]:
        query = (filters or AuditFilter()).apply(select(AuditEntry))
        query = (
            query.order_by(col(AuditEntry.id).desc())
            .limit(clamp_limit(limit))
            .offset(max(offset, 0))
        )
        return list((await self.session.execute(query)).scalars())

    async def count(self, filters: AuditFilter | None = None) -> int:
        query = (filters or AuditFilter()).apply(select(func.count()).select_from(AuditEntry))
        return int((await self.session.execute(query)).scalar_one())
