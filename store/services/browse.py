"""Read-only lists the app's screens need and the other services do not
give: projects with their scores, and the names its filters offer (a few
at a time, matching what was typed: never the whole list).

Each call is one short read; none writes or audits. They select the columns
a list shows, so a page of projects never loads codebases.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlmodel import col

from store.engine import Database
from store.models import (
    Project,
    ProjectStatus,
    ProjectType,
)
from store.repositories import AuditRepository, ModificationRepository, ProjectRepository
from store.repositories.base import Page, clamp_limit
from store.repositories.projects import PROJECT_ORDER, ProjectFilter, ProjectSort

# The columns of a projects-table row, in ProjectRow's order.
_ROW_COLUMNS: tuple[Any, ...] = (
    col(Project.id),
    col(Project.name),
    col(Project.type),
    col(Project.status),
    col(Project.owner_id),
    col(Project.github_owner),
    col(Project.github_repo),
    col(Project.test_coverage),
    col(Project.security_score),
    col(Project.performance_score),
    col(Project.updated_at),
)


@functools.lru_cache(maxsize=128)
def _page_statements(
    sort: ProjectSort, keyset: bool, shape: tuple[bool, ...]
) -> tuple[Select[Any], Select[Any]]:
    """A page's statement and its count's, built once for each sort and
    shape of filters (which are set): every call binds its own values, so
    paging and typing a filter do not rebuild and re-key the statements."""
    filters = ProjectFilter(
        status=ProjectStatus.ACTIVE if shape[0] else None,
        statuses=[ProjectStatus.ACTIVE] if shape[1] else None,
        owner_id="" if shape[2] else None,
        type=ProjectType.API if shape[3] else None,
        search="?" if shape[4] else None,
    )
    assert filters.shape() == shape
    query = filters.apply_bound(select(*_ROW_COLUMNS))
    if keyset:
        updated_type = Project.__table__.c.updated_at.type  # type: ignore[attr-defined]
        id_type = Project.__table__.c.id.type  # type: ignore[attr-defined]
        query = query.where(
            tuple_(col(Project.updated_at), col(Project.id))
            < tuple_(
                bindparam("after_updated", type_=updated_type),
                bindparam("after_id", type_=id_type),
            )
        )
    query = (
        query.order_by(*PROJECT_ORDER[sort])
        .limit(bindparam("page_limit", type_=Integer()))
        .offset(bindparam("page_offset", type_=Integer()))
    )
    count = filters.apply_bound(select(func.count()).select_from(Project))
    return query, count


@dataclass(frozen=True)
class ProjectRow:
    """A row of the app's projects table."""

    id: uuid.UUID
    name: str
    type: ProjectType
    status: ProjectStatus
    owner_id: str
    github: str | None
    test_coverage: float | None
    security_score: float | None
    performance_score: float | None
    updated_at: datetime
    pending_modifications: int


async def list_project_rows(
    db: Database,
    filters: ProjectFilter | None = None,
    *,
    sort: ProjectSort = ProjectSort.UPDATED,
    limit: int = 50,
    offset: int = 0,
    after: tuple[datetime, uuid.UUID] | None = None,
    total: int | None = None,
) -> Page[ProjectRow]:
    """A page of projects with scores and pending-modification counts.
    ``after`` (the last row's updated_at and id) pages by keyset when sorting
    by update time: the page is found in the index, however deep.

    The page says how many projects match the filters in all. Counting them
    reads every match, so a caller fetching a further page of the same
    filters passes the ``total`` it was given with the first, and the count
    is not made again."""
    filters = filters or ProjectFilter()
    keyset = after is not None and sort is ProjectSort.UPDATED
    query, count = _page_statements(sort, keyset, filters.shape())
    params: dict[str, Any] = {
        **filters.params(),
        "page_limit": clamp_limit(limit),
        "page_offset": max(offset, 0),
    }
    if keyset:
        assert after is not None
        params["after_updated"], params["after_id"] = after

    async def read(session: AsyncSession) -> tuple[list[Any], int, dict[uuid.UUID, int]]:
        connection = await session.connection()
        rows = list(await connection.execute(query, params))
        counted = total
        if counted is None and not keyset and offset <= 0 and len(rows) < params["page_limit"]:
            # A first page that is not full holds every match: no second
            # read of them all to count them (a search matching nothing
            # reads the table once, not twice).
            counted = len(rows)
        if counted is None:
            counted = int((await connection.execute(count, params)).scalar_one())
        pending = await ModificationRepository(session).count_pending_by_project(
            [row[0] for row in rows]
        )
        return rows, counted, pending

    rows, counted, pending = await db.read(read)
    items = [
        ProjectRow(
            id=row[0],
            name=row[1],
            type=row[2],
            status=row[3],
            owner_id=row[4],
            github=f"{row[5]}/{row[6]}" if row[5] and row[6] else None,
            test_coverage=row[7],
            security_score=row[8],
            performance_score=row[9],
            updated_at=row[10],
            pending_modifications=pending.get(row[0], 0),
        )
        for row in rows
    ]
    return Page(items=items, total=counted, offset=offset, limit=limit)


# How many names a picker offers at once.
PICK_LIMIT = 20


async def find_project_names(
    db: Database, text: str = "", *, limit: int = PICK_LIMIT
) -> list[tuple[uuid.UUID, str]]:
    """Ids and names of the projects whose name holds ``text`` (any case),
    those starting with it first; at most ``limit``, for pickers."""
    return await db.read(
        lambda session: ProjectRepository(session).names_matching(text.strip(), limit=limit)
    )


async def find_audit_actors(
    db: Database, prefix: str = "", *, limit: int = PICK_LIMIT
) -> list[str]:
    """The actors named in the audit log that start with ``prefix`` (as
    typed), in order; at most ``limit``, for the actor picker."""
    return await db.read(
        lambda session: AuditRepository(session).actors(prefix.strip(), limit=limit)
    )


async def project_names_of(db: Database, project_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of these projects (a page's worth), for showing ids as names."""
    return await db.read(lambda session: ProjectRepository(session).names_of(project_ids))


async def pending_modification_counts(
    db: Database, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many modifications wait for review in each of these projects (a
    page's worth); projects with none are absent."""
    if not project_ids:
        return {}
    return await db.read(
        lambda session: ModificationRepository(session).count_pending_by_project(project_ids)
    )
