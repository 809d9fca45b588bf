"""Queries on ``modifications``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Select, String, bindparam, cast, func, select
from sqlmodel import col

from store.models import Modification, ModificationStatus, Project
from store.repositories.base import Repository, clamp_limit, contains_any

Columns = TypeVarTuple("Columns")


@dataclass(frozen=True)
class ModificationRow:
    """A modification as a list shows it: no file contents, no JSON blobs."""

    id: uuid.UUID
    project_id: uuid.UUID
    project_name: str
    request: str
    requested_by: str
    requested_at: datetime
    status: ModificationStatus
    affected_files: list[str]
    reviewed_by: str | None
    reviewed_at: datetime | None
    applied_at: datetime | None
    reverts_id: uuid.UUID | None
    revision: int


_ROW_COLUMNS = (
    col(Modification.id),
    col(Modification.project_id),
    col(Project.name),
    col(Modification.request),
    col(Modification.requested_by),
    col(Modification.requested_at),
    col(Modification.status),
    col(Modification.affected_files),
    col(Modification.reviewed_by),
    col(Modification.reviewed_at),
    col(Modification.applied_at),
    col(Modification.reverts_id),
    col(Modification.revision),
)


# Built once: building an IN of a page's ids costs more than running it.
_PENDING_BY_PROJECT = (
    select(col(Modification.project_id), func.count())
    .where(
        col(Modification.project_id).in_(bindparam("project_ids", expanding=True)),
        col(Modification.status) == ModificationStatus.PENDING,
    )
    .group_by(col(Modification.project_id))
)


# Built once: their cache keys are computed once too.
_BY_ID = select(Modification).where(col(Modification.id) == bindparam("modification_id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update().execution_options(populate_existing=True)


@dataclass(frozen=True)
class ModificationFilter:
    """Which modifications a list or a count takes: each field given
    narrows it. ``search``: text in the request or the requester's name,
    any case; ``since`` and ``until`` bound the request time (``until``
    exclusive). Its fields are ``_narrowed``'s keywords."""

    project_id: uuid.UUID | None = None
    statuses: Sequence[ModificationStatus] = ()
    run_id: uuid.UUID | None = None
    requested_by: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None


EVERY_MODIFICATION = ModificationFilter()


def _narrowed(
    query: Select[*Columns],
    *,
    project_id: uuid.UUID | None = None,
    statuses: Sequence[ModificationStatus] = (),
    run_id: uuid.UUID | None = None,
    requested_by: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
) -> Select[*Columns]:
    """``query`` kept to the modifications the filters a list takes allow;
    ``search``: text in the request or the requester's name, any case."""
    if project_id is not None:
        query = query.where(col(Modification.project_id) == project_id)
    if statuses:
        query = query.where(col(Modification.status).in_(list(statuses)))
    if run_id is not None:
        query = query.where(col(Modification.run_id) == run_id)
    if requested_by is not None:
        query = query.where(col(Modification.requested_by) == requested_by)
    if since is not None:
        query = query.where(col(Modification.requested_at) >= since)
    if until is not None:
        query = query.where(col(Modification.requested_at) < until)
    if search:
        query = query.where(
            contains_any(search, col(Modification.request), col(Modification.requested_by))
        )
    return query


class ModificationRepository(Repository):
    async def get(self, modification_id: uuid.UUID) -> Modification | None:
        result = await self.session.execute(_BY_ID, {"modification_id": modification_id})
        return result.scalar_one_or_none()

    async def get_for_update(self, modification_id: uuid.UUID) -> Modification | None:
        result = await self.session.execute(_BY_ID_FOR_UPDATE, {"modification_id": modification_id})
        return result.scalar_one_or_none()

    async def find_by_id_prefix(self, prefix: str, limit: int = 2) -> list[Modification]:
        """Modifications whose id (hex, without dashes) starts with ``prefix``."""
        hex_id = func.replace(cast(col(Modification.id), String), "-", "")
        query = select(Modification).where(hex_id.like(f"{prefix}%")).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def list_rows(
        self,
        where: ModificationFilter = EVERY_MODIFICATION,
        *,
        oldest_first: bool = True,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ModificationRow]:
        """A page of list rows with their project's name, in request order."""
        query = select(*_ROW_COLUMNS).join(Project, col(Project.id) == col(Modification.project_id))
        query = _narrowed(query, **vars(where))
        at, key = col(Modification.requested_at), col(Modification.id)
        order = (at.asc(), key.asc()) if oldest_first else (at.desc(), key.desc())
        query = query.order_by(*order).limit(clamp_limit(limit)).offset(max(offset, 0))
        return [ModificationRow(*tuple(row)) for row in await self.session.execute(query)]

    async def count(self, where: ModificationFilter = EVERY_MODIFICATION) -> int:
        """How many modifications ``list_rows`` finds with the same filter."""
        query = _narrowed(select(func.count()).select_from(Modification), **vars(where))
        return int((await self.session.execute(query)).scalar_one())

    async def ids_starting(
        self, prefix: str, *, limit: int = 50
    ) -> list[tuple[uuid.UUID, ModificationStatus, str]]:
        """Id, status and request of the modifications whose id (hex,
        without dashes) starts with ``prefix``, newest first: what a shell
        completes an id with."""
        hex_id = func.replace(cast(col(Modification.id), String), "-", "")
        query = (
            select(col(Modification.id), col(Modification.status), col(Modification.request))
            .where(hex_id.like(f"{prefix}%"))
            .order_by(col(Modification.requested_at).desc(), col(Modification.id).desc())
            .limit(clamp_limit(limit))
        )
        return [
            (row[0], ModificationStatus(row[1]), row[2])
            for row in await self.session.execute(query)
        ]

    async def count_by_status(
        self, statuses: Sequence[ModificationStatus]
    ) -> dict[ModificationStatus, int]:
        """How many modifications are in each of ``statuses``, all projects together."""
        query = (
            select(col(Modification.status), func.count())
            .where(col(Modification.status).in_(list(statuses)))
            .group_by(col(Modification.status))
        )
        return {
            ModificationStatus(status): int(count)
            for status, count in await self.session.execute(query)
        }

    async def count_by_project_and_status(
        self,
        statuses: Sequence[ModificationStatus],
        project_ids: Sequence[uuid.UUID] | None = None,
    ) -> dict[tuple[uuid.UUID, ModificationStatus], int]:
        """How many modifications each project (each of ``project_ids``, if
        given) has in each of ``statuses``."""
        query = (
            select(col(Modification.project_id), col(Modification.status), func.count())
            .where(col(Modification.status).in_(list(statuses)))
            .group_by(col(Modification.project_id), col(Modification.status))
        )
        if project_ids is not None:
            query = query.where(col(Modification.project_id).in_(set(project_ids)))
        return {
            (project_id, ModificationStatus(status)): int(count)
            for project_id, status, count in await self.session.execute(query)
        }

    async def count_pending_by_project(
        self, project_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """Pending modifications for each project of a page, in one query."""
        if not project_ids:
            return {}
        connection = await self.session.connection()
        rows = await connection.execute(_PENDING_BY_PROJECT, {"project_ids": list(project_ids)})
        return {project_id: int(count) for project_id, count in rows}

    async def statuses_of(
        self, modification_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, ModificationStatus]:
        """The status of each of the given modifications (absent ones are left out)."""
        if not modification_ids:
            return {}
        query = select(col(Modification.id), col(Modification.status)).where(
            col(Modification.id).in_(set(modification_ids))
        )
        return {
            modification_id: ModificationStatus(status)
            for modification_id, status in await self.session.execute(query)
        }

    async def ids_with_status(
        self, project_id: uuid.UUID, status: ModificationStatus
    ) -> list[uuid.UUID]:
        """Ids of the project's modifications in ``status``."""
        query = select(col(Modification.id)).where(
            col(Modification.project_id) == project_id, col(Modification.status) == status
        )
        return list((await self.session.execute(query)).scalars())

    async def find_reverts(
        self, modification_id: uuid.UUID, statuses: Sequence[ModificationStatus]
    ) -> list[uuid.UUID]:
        """Ids of modifications in ``statuses`` that revert ``modification_id``."""
        query = select(col(Modification.id)).where(
            col(Modification.reverts_id) == modification_id,
            col(Modification.status).in_(list(statuses)),
        )
        return list((await self.session.execute(query)).scalars())

    async def revised_by(self, modification_id: uuid.UUID) -> Modification | None:
        """The modification that revises ``modification_id``, if one does."""
        query = select(Modification).where(col(Modification.revises_id) == modification_id)
        return (await self.session.execute(query)).scalars().first()

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

    def add(self, modification: Modification) -> None:
        self.session.add(modification)
