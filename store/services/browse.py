"""Read-only lists the app's screens need and the other services do not
give: projects with their scores, and the names its filters offer (a few
at a time, matching what was typed: never the whole list); and how the
Projects filter's text reads (``dep:``, ``stack:``, ``file:`` words), with
the checks every project list makes of what it asks of projects' contents.

Each call is one short read; none writes or audits. They select the columns
a list shows, so a page of projects never loads codebases.
"""

from __future__ import annotations

import dataclasses
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

from store import project_search
from store.engine import Database
from store.errors import ValidationError
from store.models import (
    Project,
    ProjectStatus,
    ProjectType,
)
from store.repositories import AuditRepository, ModificationRepository, ProjectRepository
from store.repositories.base import Page, clamp_limit
from store.repositories.projects import (
    PROJECT_ORDER,
    SPARSE_TERMS,
    ProjectFilter,
    ProjectSort,
)

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
    col(Project.version),
    col(Project.updated_at),
)


@functools.lru_cache(maxsize=128)
def _page_statements(
    sort: ProjectSort, keyset: bool, shape: tuple[bool, ...], sparse: bool = False
) -> tuple[Select[Any], Select[Any]]:
    """A page's statement and its count's, built once for each sort and
    shape of filters (which are set): every call binds its own values, so
    paging and typing a filter do not rebuild and re-key the statements.
    ``sparse``: see ``ProjectFilter.apply_bound``."""
    filters = _shaped(shape)
    query = filters.apply_bound(select(*_ROW_COLUMNS), sparse=sparse)
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
    count = filters.apply_bound(select(func.count()).select_from(Project), sparse=sparse)
    return query, count


@functools.lru_cache(maxsize=32)
def _terms_statement(shape: tuple[bool, ...]) -> Select[Any]:
    """SQLite: how many projects have the dependency or stack word asked
    for (``ProjectFilter.count_terms_bound``), built once for each shape."""
    return _shaped(shape).count_terms_bound()


def _shaped(shape: tuple[bool, ...]) -> ProjectFilter:
    """Filters of ``shape`` (which are set), with stand-in values."""
    filters = ProjectFilter(
        status=ProjectStatus.ACTIVE if shape[0] else None,
        statuses=[ProjectStatus.ACTIVE] if shape[1] else None,
        owner_id="" if shape[2] else None,
        type=ProjectType.API if shape[3] else None,
        search="?" if shape[4] else None,
        dependency="?" if shape[5] else None,
        stack="?" if shape[6] else None,
        file="?" if shape[7] else None,
    )
    assert filters.shape() == shape
    return filters


def checked_filter(filters: ProjectFilter) -> ProjectFilter:
    """``filters`` with what it asks of a project's contents checked (a
    ValidationError naming the filter otherwise) and put as the search
    matches it: a dependency's name and a stack word in lower case, a glob's
    runs of ``*`` made one."""
    return dataclasses.replace(
        filters,
        dependency=None
        if filters.dependency is None
        else project_search.check_dependency(filters.dependency),
        stack=None if filters.stack is None else project_search.check_stack(filters.stack),
        file=None if filters.file is None else project_search.check_path_pattern(filters.file),
    )


# The Projects screen's filter: a word starting with one of these finds
# projects by what they contain; the other words are the text search.
FILTER_PREFIXES = {"dep:": "dependency", "stack:": "stack", "file:": "file"}


def project_filter_from_text(
    text: str, statuses: Sequence[ProjectStatus] | None = None
) -> ProjectFilter:
    """The Projects screen's filter as typed: ``dep:NAME``, ``stack:NAME``
    and ``file:PATTERN`` words (each at most once; one still empty, as
    while typing it, is left out) and the text of the other words, checked
    (``checked_filter``). A pattern has no spaces: ``?`` stands for one."""
    contents: dict[str, str | None] = {"dependency": None, "stack": None, "file": None}
    words = text.split()
    plain: list[str] = []
    for word in words:
        prefix = next((p for p in FILTER_PREFIXES if word.lower().startswith(p)), None)
        if prefix is None:
            plain.append(word)
            continue
        key, value = FILTER_PREFIXES[prefix], word[len(prefix) :]
        if not value:
            continue
        if contents[key] is not None:
            raise ValidationError(prefix, "give it once (filters of one kind do not combine)")
        contents[key] = value
    search = text.strip() if len(plain) == len(words) else " ".join(plain)
    return checked_filter(
        ProjectFilter(
            statuses=statuses,
            search=search or None,
            dependency=contents["dependency"],
            stack=contents["stack"],
            file=contents["file"],
        )
    )


@dataclass(frozen=True)
class ProjectRow:
    """A row of the projects list (the app's table, ``project list``): no
    codebase, no JSON blobs."""

    id: uuid.UUID
    name: str
    type: ProjectType
    status: ProjectStatus
    owner_id: str
    github: str | None
    test_coverage: float | None
    security_score: float | None
    performance_score: float | None
    version: int
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
    """A page of projects with scores and pending-modification counts. The
    filters' dependency, stack and file are checked first (a ValidationError
    naming the filter; store.project_search has the rules). ``after`` (the last row's updated_at and id) pages by keyset when sorting
    by update time: the page is found in the index, however deep.

    The page says how many projects match the filters in all. Counting them
    reads every match, so a caller fetching a further page of the same
    filters passes the ``total`` it was given with the first, and the count
    is not made again."""
    filters = checked_filter(filters or ProjectFilter())
    keyset = after is not None and sort is ProjectSort.UPDATED
    shape = filters.shape()
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
        counted = total
        matching: int | None = None
        if connection.dialect.name == "sqlite" and (filters.dependency or filters.stack):
            # How many have the dependency (or stack word) decides how the
            # page is read, and is the count itself when nothing else
            # narrows the list.
            if total is not None and filters.counted_by_terms():
                matching = total
            else:
                statement = _terms_statement(shape)
                matching = int((await connection.execute(statement, params)).scalar_one())
            if filters.counted_by_terms():
                counted = matching
        sparse = matching is not None and matching <= SPARSE_TERMS
        query, count = _page_statements(sort, keyset, shape, sparse)
        rows = list(await connection.execute(query, params))
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
            version=row[10],
            updated_at=row[11],
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
