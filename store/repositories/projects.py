"""Queries on ``projects``."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import ModuleType
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import QueryableAttribute, set_committed_value
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import col

from store import project_search
from store.models import Project, ProjectStatus, ProjectType
from store.repositories.base import (
    LikeAnyCase,
    PerBackend,
    Repository,
    clamp_limit,
    escape_like,
)
from store.types import UTCDateTime

# The codebase column as the ORM's loader options take it.
_CODEBASE: QueryableAttribute[Any] = Project.codebase  # type: ignore[assignment]


class ProjectSort(StrEnum):
    UPDATED = "updated"
    CREATED = "created"
    NAME = "name"
    TYPE = "type"
    STATUS = "status"
    OWNER = "owner"


# The index of the project list's searches (revision 0006): status, update
# time, id and the searched columns.
SEARCH_INDEX = "ix_projects_status_updated_search"


# What a project contains (store.project_search): on PostgreSQL the GIN
# indexes on its dependencies' names and on its state, on SQLite the table
# of names and stack words the triggers of revision 0012 keep.
_TERMS = table(
    project_search.PROJECT_SEARCH_TERMS_TABLE,
    column("kind", String()),
    column("term", Text()),
    column("status", String()),
    column("project_id"),
)


@functools.cache
def _postgresql() -> ModuleType:
    """SQLAlchemy's PostgreSQL dialect, imported when a PostgreSQL filter or
    write is first built: a command on SQLite starts without it (25 ms)."""
    from sqlalchemy.dialects import postgresql

    return postgresql


# SQLite finds a project's terms one of two ways. Few matches (sparse): the
# ids of the matching rows, read once, then the projects by id. Many: the
# list's index walked in order, each project looked up in the terms table,
# which stops at the page's end (a term of 30,000 projects: 0.2 ms, where
# reading all its ids first takes 10 to 20 ms; one of 100: 25 to 55 ms, the
# whole index walked, where reading its ids takes 0.2 ms). The services
# count the matches first (``count_terms_bound``) and choose.
SPARSE_TERMS = 2_000


def _with_terms(*terms: tuple[str, ColumnElement[Any]], sparse: bool) -> ColumnElement[bool]:
    """SQLite: the project has one of ``terms`` (kind, bound term)."""
    has = or_(*(and_(_TERMS.c.kind == kind, _TERMS.c.term == term) for kind, term in terms))
    if sparse:
        return col(Project.id).in_(select(_TERMS.c.project_id).where(has))
    return exists(
        select(literal_column("1")).where(
            has,
            _TERMS.c.status == col(Project.status),
            _TERMS.c.project_id == col(Project.id),
        )
    )


def _names(name: ColumnElement[Any]) -> ColumnElement[bool]:
    """PostgreSQL: a dependency ``name`` among the indexed names."""
    pg = _postgresql()
    names: ColumnElement[Any] = getattr(func, project_search.DEPENDENCY_NAMES_FUNCTION)(
        col(Project.dependencies), type_=pg.ARRAY(Text)
    )
    found: ColumnElement[bool] = names.contains(cast(pg.array([name]), pg.ARRAY(Text)))
    return found


def _depends_on(name: ColumnElement[Any], *, sparse: bool) -> ColumnElement[bool]:
    """A dependency named ``name`` (lower case, as dependency_name gives it)."""
    return PerBackend(
        postgresql=_names(name),
        sqlite=_with_terms((project_search.DEPENDENCY, name), sparse=sparse),
    )


def _built_with(
    word: ColumnElement[Any], name: ColumnElement[Any], *, sparse: bool
) -> ColumnElement[bool]:
    """``word`` in the stack the project records, or a dependency ``name``."""
    recorded = col(Project.state).op("@>")(
        func.jsonb_build_object("tech_stack", func.jsonb_build_array(word))
    )
    return PerBackend(
        postgresql=or_(recorded, _names(name)),
        sqlite=_with_terms(
            (project_search.STACK, word), (project_search.DEPENDENCY, name), sparse=sparse
        ),
    )


def _has_path(pattern: ColumnElement[str]) -> ColumnElement[bool]:
    """A codebase path LIKE ``pattern`` in any case (``\\`` escaping)."""
    # A row that is not an object (never written so) has no paths, rather
    # than failing the whole list.
    codebase = case(
        (func.jsonb_typeof(col(Project.codebase)) == "object", col(Project.codebase)),
        else_=literal_column("'{}'::jsonb"),
    )
    pg_paths = func.jsonb_object_keys(codebase).table_valued("path")
    pg_paths = pg_paths.render_derived(name="codebase_paths")
    sqlite_paths = func.json_each(col(Project.codebase)).table_valued("key").alias("codebase_paths")
    return PerBackend(
        postgresql=exists(
            select(literal_column("1"))
            .select_from(pg_paths)
            .where(LikeAnyCase(pg_paths.c.path, pattern))
        ),
        sqlite=exists(
            select(literal_column("1"))
            .select_from(sqlite_paths)
            .where(LikeAnyCase(sqlite_paths.c.key, pattern))
        ),
    )


@dataclass
class ProjectFilter:
    """Which projects a list shows. ``dependency``, ``stack`` and ``file``
    find projects by what they contain (store.project_search has the
    rules; the services check the values first)."""

    status: ProjectStatus | None = None
    statuses: Sequence[ProjectStatus] | None = None
    owner_id: str | None = None
    type: ProjectType | None = None
    search: str | None = None
    dependency: str | None = None
    stack: str | None = None
    file: str | None = None

    def apply(self, query: Select[Any], *, sparse: bool = False) -> Select[Any]:
        """``query`` narrowed by the filters, their values given as they are."""
        return self.apply_bound(query, sparse=sparse).params(self.params())

    def shape(self) -> tuple[bool, ...]:
        """Which filters are set: queries of one shape differ only in the
        values bound to them (``params``), so one statement serves them all."""
        return (
            self.status is not None,
            bool(self.statuses),
            self.owner_id is not None,
            self.type is not None,
            bool(self.search),
            bool(self.dependency),
            bool(self.stack),
            bool(self.file),
        )

    def apply_bound(self, query: Select[Any], *, sparse: bool = False) -> Select[Any]:
        """``query`` narrowed by the filters that are set, each value a named
        bound parameter (``params`` gives them). ``sparse``: on SQLite, the
        dependency or stack word is known to be in few projects
        (``SPARSE_TERMS``), which are then read by id."""
        if self.status is not None:
            query = query.where(col(Project.status) == bindparam("filter_status"))
        if self.statuses:
            query = query.where(
                col(Project.status).in_(bindparam("filter_statuses", expanding=True))
            )
        if self.owner_id is not None:
            query = query.where(col(Project.owner_id) == bindparam("filter_owner"))
        if self.type is not None:
            query = query.where(col(Project.type) == bindparam("filter_type"))
        if self.search:
            # The repository as the app shows it, "owner/repo": either half
            # matches, and so does a search typed or pasted in that form.
            pattern = bindparam("filter_pattern", type_=String())
            github = col(Project.github_owner) + "/" + col(Project.github_repo)
            query = query.where(
                or_(
                    LikeAnyCase(col(Project.name), pattern),
                    LikeAnyCase(col(Project.owner_id), pattern),
                    LikeAnyCase(github, pattern),
                )
            )
        if self.dependency:
            query = query.where(
                _depends_on(bindparam("filter_dependency", type_=Text()), sparse=sparse)
            )
        if self.stack:
            query = query.where(
                _built_with(
                    bindparam("filter_stack", type_=Text()),
                    bindparam("filter_stack_dependency", type_=Text()),
                    sparse=sparse,
                )
            )
        if self.file:
            query = query.where(_has_path(bindparam("filter_path", type_=String())))
        if self.owner_id is None and (
            self.search or ((self.dependency or self.stack) and not sparse)
        ):
            # SQLite would walk the update-time index and read every row it
            # points to (0.15 s through 100,000 projects when a search
            # matches nothing), or read a common dependency's 30,000
            # projects one by one and sort them (0.13 s); the status index
            # holding the searched columns and the id answers from itself,
            # in the same order, and stops at the page's end.
            query = query.with_hint(
                Project.__table__,  # type: ignore[attr-defined]
                f"INDEXED BY {SEARCH_INDEX}",
                dialect_name="sqlite",
            )
        return query

    def counted_by_terms(self) -> bool:
        """Whether ``count_terms_bound`` is the number of matches on SQLite:
        the filters are statuses and one of ``dependency`` and ``stack``."""
        return bool(self.dependency) != bool(self.stack) and not (
            self.owner_id is not None or self.type is not None or self.search or self.file
        )

    def count_terms_bound(self) -> Select[Any]:
        """SQLite, given a ``dependency`` or a ``stack``: how many projects
        of the statuses asked for have the dependency (or the stack word),
        read from the terms table alone (it holds each project's status),
        with the values ``params`` gives. As many as match when
        ``counted_by_terms``; at least as many otherwise. 3 ms for 30,000
        projects at 100,000, where looking each up in ``projects`` takes
        75 ms."""
        conditions: list[ColumnElement[bool]] = []
        if self.status is not None:
            conditions.append(_TERMS.c.status == bindparam("filter_status"))
        if self.statuses:
            conditions.append(_TERMS.c.status.in_(bindparam("filter_statuses", expanding=True)))
        if self.dependency:
            term = bindparam("filter_dependency", type_=Text())
            conditions.append(
                and_(_TERMS.c.kind == project_search.DEPENDENCY, _TERMS.c.term == term)
            )
            return select(func.count()).select_from(_TERMS).where(*conditions)
        word = bindparam("filter_stack", type_=Text())
        name = bindparam("filter_stack_dependency", type_=Text())
        conditions.append(
            or_(
                and_(_TERMS.c.kind == project_search.STACK, _TERMS.c.term == word),
                and_(_TERMS.c.kind == project_search.DEPENDENCY, _TERMS.c.term == name),
            )
        )
        return select(func.count(_TERMS.c.project_id.distinct())).where(*conditions)

    def params(self) -> dict[str, Any]:
        """The values ``apply_bound`` leaves to bind."""
        values: dict[str, Any] = {}
        if self.status is not None:
            values["filter_status"] = self.status
        if self.statuses:
            values["filter_statuses"] = list(self.statuses)
        if self.owner_id is not None:
            values["filter_owner"] = self.owner_id
        if self.type is not None:
            values["filter_type"] = self.type
        if self.search:
            values["filter_pattern"] = f"%{escape_like(self.search)}%"
        if self.dependency:
            values["filter_dependency"] = project_search.ascii_lower(self.dependency.strip())
        if self.stack:
            word = self.stack.strip().lower()
            values["filter_stack"] = word
            values["filter_stack_dependency"] = project_search.ascii_lower(word)
        if self.file:
            values["filter_path"] = project_search.glob_as_like(self.file)
        return values


# Each order ends with the id, so pages never overlap or skip a row.
PROJECT_ORDER: dict[ProjectSort, tuple[UnaryExpression[Any], ...]] = {
    ProjectSort.UPDATED: (col(Project.updated_at).desc(), col(Project.id).desc()),
    ProjectSort.CREATED: (col(Project.created_at).desc(), col(Project.id).desc()),
    ProjectSort.NAME: (col(Project.name).asc(), col(Project.id).asc()),
    ProjectSort.TYPE: (col(Project.type).asc(), col(Project.name).asc(), col(Project.id).asc()),
    ProjectSort.STATUS: (
        col(Project.status).asc(),
        col(Project.name).asc(),
        col(Project.id).asc(),
    ),
    ProjectSort.OWNER: (
        col(Project.owner_id).asc(),
        col(Project.name).asc(),
        col(Project.id).asc(),
    ),
}


_BY_ID = select(Project).where(col(Project.id) == bindparam("project_id"))


class ProjectRepository(Repository):
    async def get(self, project_id: uuid.UUID) -> Project | None:
        # One statement built once: its cache key is computed once too
        # (``session.get`` builds and keys a new one on every call).
        result = await self.session.execute(_BY_ID, {"project_id": project_id})
        return result.scalar_one_or_none()

    async def get_for_update(
        self, project_id: uuid.UUID, *, with_codebase: bool = True
    ) -> Project | None:
        """The project, its row locked until the transaction ends. Without
        its codebase (which may be tens of megabytes) if ``with_codebase`` is
        False: reading ``codebase`` then raises until ``load_codebase``."""
        query = select(Project).where(col(Project.id) == project_id).with_for_update()
        if not with_codebase:
            query = query.options(defer(_CODEBASE, raiseload=True))
        return (await self.session.execute(query)).scalar_one_or_none()

    async def load_codebase(self, project: Project) -> dict[str, str]:
        """``project``'s codebase, read now (for a project read without it)."""
        await self.session.refresh(project, ["codebase"])
        return project.codebase

    async def get_by_name(self, name: str) -> Project | None:
        query = select(Project).where(col(Project.name) == name)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_by_repository(self, owner: str, repo: str) -> Project | None:
        query = select(Project).where(
            func.lower(col(Project.github_owner)) == owner.lower(),
            func.lower(col(Project.github_repo)) == repo.lower(),
        )
        return (await self.session.execute(query)).scalars().first()

    async def find_by_repository(self, owner: str, repo: str, limit: int = 5) -> list[Project]:
        """The projects linked to GitHub ``owner/repo`` in any case (at most
        ``limit``, by name): one, unless rows were written around the check
        that keeps it so."""
        query = (
            select(Project)
            .where(
                func.lower(col(Project.github_owner)) == owner.lower(),
                func.lower(col(Project.github_repo)) == repo.lower(),
            )
            .order_by(col(Project.name))
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def find_by_id_prefix(self, prefix: str, limit: int = 2) -> list[Project]:
        """Projects whose id (hex, without dashes) starts with ``prefix``."""
        hex_id = func.replace(cast(col(Project.id), String), "-", "")
        query = select(Project).where(hex_id.like(f"{prefix}%")).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def names_matching(self, text: str, *, limit: int = 20) -> list[tuple[uuid.UUID, str]]:
        """Ids and names of projects whose name holds ``text`` (any case):
        those starting with it first, then the others, each by name; at most
        ``limit`` (both queries walk the name index in order and stop there)."""
        limit = clamp_limit(limit)
        name = col(Project.name)
        term = escape_like(text)
        # SQLite's LIKE ignores ASCII case by itself, and its lower() knows
        # no other case: lower() there would only slow the scan down.
        sqlite = self.dialect == "sqlite"
        like = name.like if sqlite else name.ilike
        not_like = name.not_like if sqlite else name.not_ilike
        starting = (
            select(col(Project.id), name)
            .where(like(f"{term}%", escape="\\"))
            .order_by(name)
            .limit(limit)
        )
        found = [(row[0], row[1]) for row in await self.session.execute(starting)]
        if len(found) < limit and text:
            inside = (
                select(col(Project.id), name)
                .where(like(f"%{term}%", escape="\\"), not_like(f"{term}%", escape="\\"))
                .order_by(name)
                .limit(limit - len(found))
            )
            found += [(row[0], row[1]) for row in await self.session.execute(inside)]
        return found

    async def names_of(self, project_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The names of the given projects (purged ones are absent)."""
        if not project_ids:
            return {}
        query = select(col(Project.id), col(Project.name)).where(
            col(Project.id).in_(set(project_ids))
        )
        return {row[0]: row[1] for row in await self.session.execute(query)}

    async def terms_matching(self, filters: ProjectFilter) -> int | None:
        """SQLite, given a dependency or a stack word: ``count_terms_bound``
        (which decides how the list is read); None otherwise."""
        if self.dialect != "sqlite" or not (filters.dependency or filters.stack):
            return None
        query = filters.count_terms_bound().params(filters.params())
        return int((await self.session.execute(query)).scalar_one())

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
        filters = filters or ProjectFilter()
        matching = await self.terms_matching(filters)
        sparse = matching is not None and matching <= SPARSE_TERMS
        query = filters.apply(select(Project), sparse=sparse)
        if after is not None and sort is ProjectSort.UPDATED:
            at, last_id = after
            query = query.where(
                (col(Project.updated_at) < at)
                | ((col(Project.updated_at) == at) & (col(Project.id) < last_id))
            )
        query = (
            query.order_by(*PROJECT_ORDER[sort]).limit(clamp_limit(limit)).offset(max(offset, 0))
        )
        return list((await self.session.execute(query)).scalars())

    async def count(self, filters: ProjectFilter | None = None) -> int:
        filters = filters or ProjectFilter()
        matching = await self.terms_matching(filters)
        if matching is not None and filters.counted_by_terms():
            return matching
        sparse = matching is not None and matching <= SPARSE_TERMS
        query = filters.apply(select(func.count()).select_from(Project), sparse=sparse)
        return int((await self.session.execute(query)).scalar_one())

    def add(self, project: Project) -> None:
        self.session.add(project)

    async def update_versioned(
        self, project: Project, expected_version: int, values: dict[str, Any]
    ) -> bool:
        """Write ``values`` only if the row is still at ``expected_version``;
        the version moves by one. False when someone else wrote first.

        On success ``project`` holds what was written, as if read again (no
        second read of the row: the values are the ones just stored)."""
        return await self._update_versioned(project, expected_version, values, {})

    async def update_codebase_files(
        self,
        project: Project,
        expected_version: int,
        files: Mapping[str, str | None],
        values: dict[str, Any],
    ) -> bool:
        """As ``update_versioned``, with ``files`` written into the stored
        codebase (None: the file removed) by the database itself: the rest of
        the codebase is neither read nor sent (SQLite's ``json_patch``,
        PostgreSQL's ``jsonb`` operators). ``project.codebase`` is then
        expired: read it again with ``load_codebase``."""
        written = {path: content for path, content in files.items() if content is not None}
        removed = sorted(path for path, content in files.items() if content is None)
        stored = col(Project.codebase)
        codebase: Any
        if self.session.get_bind().dialect.name == "postgresql":
            pg = _postgresql()
            codebase = stored.op("-")(bindparam("removed", removed, type_=pg.ARRAY(Text))).op("||")(
                bindparam("written", written, type_=pg.JSONB)
            )
        else:
            # A merge patch (RFC 7396): a string replaces, null removes; keys
            # are taken as they are, never as a path.
            codebase = func.json_patch(stored, json.dumps(dict(files)))
        if not await self._update_versioned(
            project, expected_version, values, {"codebase": codebase}
        ):
            return False
        self.session.expire(project, ["codebase"])
        return True

    async def _update_versioned(
        self,
        project: Project,
        expected_version: int,
        values: dict[str, Any],
        computed: dict[str, Any],
    ) -> bool:
        """The versioned UPDATE: ``values`` are set on ``project`` once
        written, ``computed`` (SQL expressions) are not."""
        version = expected_version + 1
        statement = (
            update(Project)
            .where(col(Project.id) == project.id, col(Project.version) == expected_version)
            .values(**values, **computed, version=version)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        assert isinstance(result, CursorResult)
        if result.rowcount != 1:
            return False
        for key, value in {**values, "version": version}.items():
            set_committed_value(project, key, value)
        return True

    async def move_forward(self, project_id: uuid.UUID, **times: datetime) -> None:
        """Set each of ``times`` (``last_active_at``, ``last_deployed_at``)
        unless the row holds a later time already, in one statement (two
        writers never move one back). Not an edit: neither the version nor
        ``updated_at`` moves, so an edit made meanwhile does not conflict."""
        values: dict[str, Any] = {}
        for name in times:
            if name not in ("last_active_at", "last_deployed_at"):
                raise ValueError(f"{name} is not a time that moves forward")
            stored = getattr(Project, name)
            at = literal(times[name], UTCDateTime())
            values[name] = case((or_(stored.is_(None), stored < at), at), else_=stored)
        statement = (
            update(Project)
            .where(col(Project.id) == project_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)

    async def codebase_of(self, project_id: uuid.UUID) -> dict[str, str] | None:
        """The codebase as stored now (not the session's copy of the row)."""
        result = await self.session.execute(
            select(col(Project.codebase)).where(col(Project.id) == project_id)
        )
        return result.scalar_one_or_none()

    async def delete(self, project_id: uuid.UUID) -> bool:
        statement = delete(Project).where(col(Project.id) == project_id)
        result = await self.session.execute(statement)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1
