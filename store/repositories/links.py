"""Queries on ``repository_links``: which folder holds a project's git
repository on a machine."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult
from sqlmodel import col

from store.models import RepositoryLink
from store.repositories.base import Repository


class LinkRepository(Repository):
    async def get(self, project_id: uuid.UUID, machine: str) -> RepositoryLink | None:
        result = await self.session.execute(
            select(RepositoryLink).where(
                col(RepositoryLink.project_id) == project_id,
                col(RepositoryLink.machine) == machine,
            )
        )
        return result.scalar_one_or_none()

    async def by_path(self, machine: str, path: str) -> RepositoryLink | None:
        result = await self.session.execute(
            select(RepositoryLink).where(
                col(RepositoryLink.machine) == machine, col(RepositoryLink.path) == path
            )
        )
        return result.scalar_one_or_none()

    async def elsewhere(self, project_id: uuid.UUID) -> bool:
        """Whether some machine has the project linked (any machine)."""
        result = await self.session.execute(
            select(col(RepositoryLink.id))
            .where(col(RepositoryLink.project_id) == project_id)
            .limit(1)
        )
        return result.first() is not None

    async def for_machine(self, machine: str) -> list[RepositoryLink]:
        """Every link of one machine."""
        result = await self.session.execute(
            select(RepositoryLink).where(col(RepositoryLink.machine) == machine)
        )
        return list(result.scalars())

    def add(self, link: RepositoryLink) -> None:
        self.session.add(link)

    async def delete(self, link_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(RepositoryLink).where(col(RepositoryLink.id) == link_id)
        )
        assert isinstance(result, CursorResult)
        return result.rowcount == 1
