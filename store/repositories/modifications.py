"""Queries on ``modifications``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from store.models import Modification, ModificationStatus
from store.repositories.base import clamp_limit


class ModificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, modification_id: uuid.UUID) -> Modification | None:
        return await self.session.get(Modification, modification_id)

    async def list(
        self,
        *,
        project_id: uuid.UUID | None = None,
        status: ModificationStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Modification]:
        query = select(Modification)
        if project_id is not None:
            query = query.where(col(Modification.project_id) == project_id)
        if status is not None:
            query = query.where(col(Modification.status) == status)
        query = (
            query.order_by(col(Modification.requested_at).desc(), col(Modification.id).desc())
            .limit(clamp_limit(limit))
            .offset(max(offset, 0))
        )
        return list((await self.session.execute(query)).scalars())

    async def count(
        self, *, project_id: uuid.UUID | None = None, status: ModificationStatus | None = None
    ) -> int:
        query = select(func.count()).select_from(Modification)
        if project_id is not None:
            query = query.where(col(Modification.project_id) == project_id)
        if status is not None:
            query = query.where(col(Modification.status) == status)
        return int((await self.session.execute(query)).scalar_one())

    async def count_pending_by_project(
        self, project_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """Pending modifications for each project of a page, in one query."""
        if not project_ids:
            return {}
        query = (
            select(col(Modification.project_id), func.count())
            .where(
                col(Modification.project_id).in_(list(project_ids)),
                col(Modification.status) == ModificationStatus.PENDING,
            )
            .group_by(col(Modification.project_id))
        )
        return {project_id: int(count) for project_id, count in await self.session.execute(query)}

    def add(self, modification: Modification) -> None:
        self.session.add(modification)
