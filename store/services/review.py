"""What the review screens and lists read: a modification found by its id
or id prefix, the inbox of waiting modifications, the modifications of a
project a page at a time, and one modification with the diff of each of its
files (against the codebase, the commit it was made against, or, once
applied, what its files held before). No writes: proposing, reviewing,
applying and reverting are in modifications.py, which finds modifications
through this module."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from store import hunks, validation
from store.config import machine_id
from store.engine import Database
from store.errors import NotFound, StoreError
from store.ids import checked_id_prefix, full_id, only_match
from store.models import Modification, ModificationStatus, Project, ProjectStatus, RepositoryLink
from store.repositories import LinkRepository, ModificationRepository, ProjectRepository
from store.repositories.base import Page, clamp_limit
from store.repositories.modifications import ModificationFilter, ModificationRow
from store.services.project_reads import resolve_project

WAITING = (ModificationStatus.PENDING, ModificationStatus.APPROVED)
FINAL = (ModificationStatus.APPLIED, ModificationStatus.REJECTED)


class ChangeKind(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"


@dataclass
class FileChange:
    """One file of a modification: its change kind, line counts and diff."""

    path: str
    kind: ChangeKind
    added: int
    removed: int
    before: str | None
    after: str | None
    diff: str


@dataclass
class UnchangedFile:
    """A file the modification names as affected but does not change, with
    its content in the codebase now (None: the codebase has no such file)."""

    path: str
    content: str | None


@dataclass
class ModificationDetail:
    """A modification with its project's name and the change of each file.

    Files are compared with the current codebase, except for an applied
    modification, whose files are compared with what they held before it
    (``against`` says which). ``unchanged`` are the affected files it does
    not modify, as the codebase holds them now."""

    modification: Modification
    project_name: str
    against: str
    files: list[FileChange]
    unchanged: list[UnchangedFile] = field(default_factory=list)
    # Not active (archived, deleted): the modification is read-only with it.
    project_status: ProjectStatus = ProjectStatus.ACTIVE


@dataclass
class InboxGroup:
    project_id: uuid.UUID
    project_name: str
    pending: int
    approved: int
    items: list[ModificationRow]


@dataclass
class Inbox:
    """Every pending and approved modification, oldest first, grouped by
    project (groups in the order of their oldest modification)."""

    groups: list[InboxGroup]
    pending: int
    approved: int

    @property
    def waiting(self) -> int:
        return self.pending + self.approved


async def resolve_modification(
    session: AsyncSession, ref: str, *, for_update: bool = False, field: str = "id"
) -> Modification:
    """A modification by full id or unique id prefix (6+ characters),
    locked for the transaction when ``for_update``; a ref that is no id is
    a ValidationError of ``field``."""
    modifications = ModificationRepository(session)
    ref = ref.strip()
    modification_id = full_id(ref)
    if modification_id is None:
        prefix = checked_id_prefix(ref, "modification", field)
        matches = await modifications.find_by_id_prefix(prefix)
        modification_id = only_match(matches, ref, "modification", field).id
    if for_update:
        found = await modifications.get_for_update(modification_id)
    else:
        found = await modifications.get(modification_id)
    if found is None:
        raise NotFound(f"no modification with id {ref}")
    return found


async def project_of(
    session: AsyncSession, modification: Modification, *, lock: bool, with_codebase: bool = True
) -> Project:
    """The modification's project; its row locked with ``lock``, read
    without its codebase unless ``with_codebase`` (see
    ``ProjectRepository.get_for_update``; only a locked read leaves it out)."""
    projects = ProjectRepository(session)
    if lock:
        project = await projects.get_for_update(
            modification.project_id, with_codebase=with_codebase
        )
    else:
        project = await projects.get(modification.project_id)
    # The foreign key cascades deletes, so a modification always has its project.
    assert project is not None
    return project


async def list_modifications(
    db: Database,
    *,
    project_ref: str | None = None,
    statuses: Sequence[ModificationStatus] = (),
    requested_by: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
    oldest_first: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> Page[ModificationRow]:
    """A page of modifications in request order, of one project, in some
    statuses, asked for by one name, requested from ``since`` up to
    ``until`` (exclusive), with ``search`` in the request or the
    requester's name (any case): each filter given narrows the list."""
    if search is not None:
        search = validation.name("search", search) if search.strip() else None
    if requested_by is not None:
        requested_by = validation.name("requested_by", requested_by)
    limit = clamp_limit(limit)
    offset = max(offset, 0)
    async with db.reading() as session:
        project_id = None
        if project_ref is not None:
            project_id = (await resolve_project(session, project_ref)).id
        where = ModificationFilter(
            project_id=project_id,
            statuses=statuses,
            requested_by=requested_by,
            since=since,
            until=until,
            search=search,
        )
        modifications = ModificationRepository(session)
        rows = await modifications.list_rows(
            where, oldest_first=oldest_first, limit=limit, offset=offset
        )
        total = await modifications.count(where)
    return Page(items=rows, total=total, offset=offset, limit=limit)


async def find_modification_ids(
    db: Database, prefix: str = "", *, limit: int = 50
) -> list[tuple[uuid.UUID, ModificationStatus, str]]:
    """Id, status and request of the modifications whose id starts with
    ``prefix`` (any case, dashes or not), newest first, at most ``limit``:
    for shell completion. A prefix that cannot start an id finds none."""
    wanted = prefix.strip().lower().replace("-", "")
    if wanted and not all(char in "0123456789abcdef" for char in wanted):
        return []
    return await db.read(
        lambda session: ModificationRepository(session).ids_starting(wanted, limit=limit)
    )


async def waiting_modifications(db: Database, *, limit: int = 500) -> Inbox:
    """The inbox: pending and approved modifications across projects."""
    async with db.reading() as session:
        modifications = ModificationRepository(session)
        rows = await modifications.list_rows(
            ModificationFilter(statuses=WAITING), oldest_first=True, limit=limit
        )
        # Counted for the projects listed only: grouping every project of a
        # large workspace (100k) took the app's loop most of a second.
        counts = await modifications.count_by_project_and_status(
            WAITING, project_ids=list({row.project_id for row in rows})
        )
        totals = await modifications.count_by_status(WAITING)
    groups: dict[uuid.UUID, InboxGroup] = {}
    for row in rows:
        group = groups.get(row.project_id)
        if group is None:
            group = groups[row.project_id] = InboxGroup(
                project_id=row.project_id,
                project_name=row.project_name,
                pending=counts.get((row.project_id, ModificationStatus.PENDING), 0),
                approved=counts.get((row.project_id, ModificationStatus.APPROVED), 0),
                items=[],
            )
        group.items.append(row)
    return Inbox(
        groups=list(groups.values()),
        pending=totals.get(ModificationStatus.PENDING, 0),
        approved=totals.get(ModificationStatus.APPROVED, 0),
    )


async def modification_statuses(
    db: Database, modification_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ModificationStatus]:
    """Where the given modifications stand now (for saying what became of
    those that left the inbox); ids that no longer exist are left out."""
    async with db.reading() as session:
        return await ModificationRepository(session).statuses_of(modification_ids)


def change_kind(before: str | None, after: str | None) -> ChangeKind:
    if after is None:
        return ChangeKind.DELETED
    if before is None:
        return ChangeKind.ADDED
    return ChangeKind.MODIFIED


def unified_diff(path: str, before: str | None, after: str | None) -> tuple[str, int, int]:
    """The unified diff of one file (``/dev/null`` for an absent side), and
    how many lines it adds and removes: its hunks (``store.hunks``), drawn."""
    return hunks.unified(hunks.split(path, before, after))


def file_changes(
    modification: Modification,
    codebase: Mapping[str, str | None],
    *,
    against: str = "codebase",
) -> tuple[str, list[FileChange]]:
    """Each modified file compared with the codebase, or the files
    ``against`` names (the base commit's), or, once applied, with what it
    held before."""
    applied = (
        modification.status == ModificationStatus.APPLIED
        and modification.previous_contents is not None
    )
    before_of: Mapping[str, str | None] = (
        modification.previous_contents or {} if applied else codebase
    )
    changes = []
    for path in sorted(modification.modified_files):
        before = before_of.get(path)
        after = modification.modified_files[path]
        diff, added, removed = unified_diff(path, before, after)
        changes.append(
            FileChange(
                path=path,
                kind=change_kind(before, after),
                added=added,
                removed=removed,
                before=before,
                after=after,
                diff=diff,
            )
        )
    return ("before apply" if applied else against), changes


def _files_at(path: str, commit: str, files: list[str]) -> dict[str, str | None] | None:
    """The files as ``commit`` holds them (None: the repository cannot say)."""
    from store import vcs

    try:
        return vcs.files_at(path, commit=commit).texts(files)
    except StoreError:
        return None


async def review_base(
    modification: Modification, codebase: Mapping[str, str], link: RepositoryLink | None
) -> tuple[Mapping[str, str | None], str]:
    """What a modification's files are compared with, and its name: the
    codebase, or on a linked project the commit the change was made against
    (what you review is what gets applied: the change as made against its
    commit, which the stored snapshot need not be at)."""
    if link is not None and modification.base_commit is not None:
        paths = sorted({*modification.modified_files, *modification.affected_files})
        base = await asyncio.to_thread(_files_at, link.path, modification.base_commit, paths)
        if base is not None:
            return base, "base commit"
    return codebase, "codebase"


async def get_modification(db: Database, ref: str) -> ModificationDetail:
    """One modification with the change of each of its files."""
    async with db.reading() as session:
        modification = await resolve_modification(session, ref)
        project = await project_of(session, modification, lock=False)
        codebase, name, status = project.codebase, project.name, project.status
        link = await LinkRepository(session).get(project.id, machine_id())
    before, label = await review_base(modification, codebase, link)
    # Diffing a long file takes a while (0.1 s for 5,000 lines): not on the
    # event loop, where the app draws.
    against, changes = await asyncio.to_thread(file_changes, modification, before, against=label)
    unchanged = [
        UnchangedFile(path=path, content=before.get(path))
        for path in sorted(modification.affected_files)
        if path not in modification.modified_files
    ]
    return ModificationDetail(
        modification=modification,
        project_name=name,
        against=against,
        files=changes,
        unchanged=unchanged,
        project_status=ProjectStatus(status),
    )
