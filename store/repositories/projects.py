"""Queries on ``projects``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String, cast, delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import col

from store.models import Project, ProjectStatus, ProjectType
from store.repositories.base import clamp_limit, contains_any


class ProjectSort(StrEnum):
    UPDATED = "updated"
    CREATED = "created"
    NAME = "name"


@dataclass
class ProjectFilter:
    status: ProjectStatus | None = None
    statuses: Sequence[ProjectStatus] | None = None
    owner_id: str | None = None
    type: ProjectType | None = None
    search: str | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.status is not None:
            query = query.where(col(Project.status) == self.status)
        if self.statuses:
            query = query.where(col(Project.status).in_(list(self.statuses)))
        if self.owner_id is not None:
            query = query.where(col(Project.owner_id) == self.owner_id)
        if self.type is not None:
            query = query.where(col(Project.type) == self.type)
        if self.search:
            query = query.where(
                contains_any(
                    self.search,
                    col(Project.name),
                    col(Project.owner_id),
                    col(Project.github_repo),
                )
            )
        return query


_SORTS: dict[ProjectSort, tuple[UnaryExpression[Any], UnaryExpression[Any]]] = {
    ProjectSort.UPDATED: (col(Project.updated_at).desc(), col(Project.id).desc()),
    ProjectSort.CREATED: (col(Project.created_at).desc(), col(Project.id).desc()),
    ProjectSort.NAME: (col(Project.name).asc(), col(Project.id).asc()),
}


class ProjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, project_id: uuid.UUID) -> Project | None:
        return await self.session.get(Project, project_id)

    async def get_for_update(self, project_id: uuid.UUID) -> Project | None:
        query = select(Project).where(col(Project.id) == project_id).with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_by_name(self, name: str) -> Project | None:
        query = select(Project).where(col(Project.name) == name)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_by_repository(self, owner: str, repo: str) -> Project | None:
        query = select(Project).where(
            func.lower(col(Project.github_owner)) == owner.lower(),
            func.lower(col(Project.github_repo)) == repo.lower(),
        )
        return (await self.session.execute(query)).scalars().first()

    async def find_by_id_prefix(self, prefix: str, limit: int = 2) -> list[Project]:
        """Projects whose id (hex, without dashes) starts with ``prefix``."""
        hex_id = func.replace(cast(col(Project.id), String), "-", "")
        query = select(Project).where(hex_id.like(f"{prefix}%")).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def list(
        self,
        filters: ProjectFilter | None = None,
        *,
        sort: ProjectSort = ProjectSort.UPDATED,
        limit: int = 50,
        offset: int = 0,
        after: tuple[datetime, uuid.UUID] | None = None,
    ) -> list[Project]:
        """A page of projects. ``after`` (updated_at, id) pages by keyset
        when sorting by update time, which stays fast deep in the list."""
        query = (filters or ProjectFilter()).apply(select(Project))
        if after is not None and sort is ProjectSort.UPDATED:
            at, last_id = after
            query = query.where(
                (col(Project.updated_at) < at)
                | ((col(Project.updated_at) == at) & (col(Project.id) < last_id))
            )
        query = query.order_by(*_SORTS[sort]).limit(clamp_limit(limit)).offset(max(offset, 0))
        return list((await self.session.execute(query)).scalars())

    async def count(self, filters: ProjectFilter | None = None) -> int:
        query = (filters or ProjectFilter()).apply(select(func.count()).select_from(Project))
        return int((await self.session.execute(query)).scalar_one())

    def add(self, project: Project) -> None:
        self.session.add(project)

    async def update_versioned(
        self, project_id: uuid.UUID, expected_version: int, values: dict[str, Any]
    ) -> bool:
        """Write ``values`` only if the row is still at ``expected_version``;
        the version moves by one. False when someone else wrote first."""
        statement = (
            update(Project)
            .where(col(Project.id) == project_id, col(Project.version) == expected_version)
            .values(**values, version=expected_version + 1)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def refresh(self, project: Project) -> None:
        await self.session.refresh(project)

    async def delete(self, project_id: uuid.UUID) -> bool:
        statement = delete(Project).where(col(Project.id) == project_id)
        result = await self.session.execute(statement)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1
