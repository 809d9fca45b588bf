"""Modifications of a project linked to a git repository: applied as one
commit on the project's branch (merged three ways when the branch moved
since the change's base), and commits carrying a modification's trailer
that the database does not know as applied, reconciled.

The commit is written before the database says "applied", in the same
transaction that holds the modification: a process killed between the two
leaves a commit that the next apply of it, ``doctor`` or the app's start
finds and records (``reconcile``), never a second commit.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, vcs
from store.config import current_actor, machine_id
from store.engine import Database
from store.errors import StoreError
from store.ids import short_id
from store.models import (
    Modification,
    ModificationStatus,
    Project,
    RepositoryLink,
    Severity,
)
from store.repositories import (
    LinkRepository,
    ModificationRepository,
    ProjectRepository,
    SettingsRepository,
)
from store.types import utcnow


async def branch_of(session: AsyncSession, project: Project) -> str:
    settings = await SettingsRepository(session).get(project.id)
    return settings.branch_name if settings is not None else "main"


@dataclass(frozen=True)
class _Commit:
    commit: str
    parent: str
    merged: bool


def as_change(modification: Modification) -> vcs.Change:
    """The files a modification writes, with the git modes the agent gave
    those it writes (an approval in part may leave some of them out; their
    modes stay recorded for when the whole change is approved again)."""
    files = dict(modification.modified_files)
    modes = {
        path: mode
        for path, mode in (modification.file_modes or {}).items()
        if files.get(path) is not None
    }
    return vcs.Change(files=files, modes=modes)


async def apply_as_commit(
    session: AsyncSession,
    modification: Modification,
    project: Project,
    link: RepositoryLink,
    *,
    actor: str,
) -> Modification:
    """Commit an approved modification on the project's branch in the
    linked repository, then record it applied (in ``session``'s
    transaction). Conflicts with commits made since its base fail it, the
    branch untouched; edits in a working tree that has the branch checked
    out, or another writer moving the branch meanwhile, raise (nothing
    written, the modification stays approved)."""
    branch = await branch_of(session, project)
    base = modification.base_commit or project.snapshot_commit
    if base is None:
        base = await asyncio.to_thread(vcs.branch_tip, link.path, branch=branch)
    known = await asyncio.to_thread(_commit_of, link.path, branch, base, modification.id)
    if known is not None:
        return await _record_applied(
            session, modification, project, link, known, actor=actor, reconciled=True
        )
    message = vcs.commit_message(
        modification.request,
        modification_id=str(modification.id),
        reviewer=modification.reviewed_by or actor,
    )
    change = as_change(modification)
    committer_email = await asyncio.to_thread(vcs.configured_email, link.path)
    try:
        applied = await asyncio.to_thread(
            vcs.commit_change,
            link.path,
            branch=branch,
            base=base,
            change=change,
            message=message,
            author=vcs.named(modification.requested_by),
            committer=vcs.named(actor, email=committer_email),
        )
        made = _Commit(applied.commit, applied.parent, applied.merged)
    except (vcs.MergeConflict, vcs.NothingToCommit) as refused:
        return await _fail(
            session, modification, project, refused, branch=branch, base=base, actor=actor
        )
    except vcs.WorktreeNotUpdated as behind:
        # The commit is on the branch: the database says so too.
        parent = await asyncio.to_thread(vcs.parent_of, link.path, commit=behind.commit)
        made = _Commit(behind.commit, parent, base != parent)
        return await _record_applied(
            session, modification, project, link, made, actor=actor, warning=behind.message
        )
    return await _record_applied(session, modification, project, link, made, actor=actor)


def _commit_of(path: str, branch: str, base: str, modification_id: uuid.UUID) -> _Commit | None:
    """The commit on ``branch`` since ``base`` that applied the
    modification already (its process killed before the database knew)."""
    for found in vcs.applied_commits(path, branch=branch, since=base):
        if found.modification_id == str(modification_id):
            parent = vcs.parent_of(path, commit=found.commit)
            return _Commit(found.commit, parent, parent != base)
    return None


async def _fail(
    session: AsyncSession,
    modification: Modification,
    project: Project,
    refused: vcs.MergeConflict | vcs.NothingToCommit,
    *,
    branch: str,
    base: str,
    actor: str,
) -> Modification:
    modification.status = ModificationStatus.FAILED
    modification.failure_reason = f"conflict: {refused.message}"
    conflicts = (
        [item.describe() for item in refused.files]
        if isinstance(refused, vcs.MergeConflict)
        else []
    )
    await audit.record_failed_apply(
        session,
        modification,
        project,
        actor=actor,
        details={"branch": branch, "base_commit": base, "conflicts": conflicts},
    )
    return modification


async def _record_applied(
    session: AsyncSession,
    modification: Modification,
    project: Project,
    link: RepositoryLink,
    made: _Commit,
    *,
    actor: str,
    reconciled: bool = False,
    warning: str | None = None,
) -> Modification:
    """The database says what the repository holds: the modification
    applied by ``made``, what its files held before (for revert), and the
    codebase snapshot moved along when it was at the commit's parent."""
    paths = sorted(modification.modified_files)
    before, after = await asyncio.to_thread(_contents, link.path, made, paths)
    branch = await branch_of(session, project)
    followed: list[str] = []
    if reconciled:
        # The process that committed may have been killed before its
        # working trees followed: they do now, where nothing was edited since.
        try:
            followed = await asyncio.to_thread(
                vcs.catch_up, link.path, branch=branch, commit=made.commit
            )
        except StoreError as error:
            warning = f"the working tree could not follow: {error.message}"
    now = utcnow()
    modification.status = ModificationStatus.APPLIED
    modification.applied_at = now
    modification.applied_commit = made.commit
    modification.previous_contents = before
    modification.failure_reason = None
    if project.snapshot_commit == made.parent:
        # Only the changed files are written (the project row is locked).
        await ProjectRepository(session).update_codebase_files(
            project,
            project.version,
            after,
            {"snapshot_commit": made.commit, "updated_at": now, "last_active_at": now},
        )
    details = {
        "commit": made.commit,
        "parent": made.parent,
        "merged": made.merged,
        "branch": branch,
        "files": paths,
        **({"warning": warning} if warning else {}),
        **({"working_tree_followed": followed} if followed else {}),
    }
    if reconciled:
        await audit.record_step(
            session,
            modification,
            project,
            actor=actor,
            event_type="modification.reconciled",
            description=f"found commit {made.commit[:12]} on {branch} applying",
            severity=Severity.WARNING,
            details={
                **details,
                "reason": "committed by a process that stopped before the database recorded it",
            },
        )
    else:
        await audit.record_applied(
            session,
            modification,
            project,
            actor=actor,
            how=f" as commit {made.commit[:12]} on {branch}",
            details=details,
        )
    return modification


def _contents(
    path: str, made: _Commit, paths: list[str]
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """The files as the commit's parent and the commit hold them."""
    before = vcs.files_at(path, commit=made.parent).texts(paths)
    after = vcs.files_at(path, commit=made.commit).texts(paths)
    return before, after


@dataclass(frozen=True)
class Examined:
    """The repositories linked on this machine: how many, the modifications
    found committed but not known as applied (now recorded: "id as commit"),
    and what is wrong with a link (its folder gone, its branch missing)."""

    links: int
    reconciled: list[str]
    problems: list[str]


async def examine(db: Database, *, actor: str | None = None) -> Examined:
    """Check every link of this machine and reconcile its branch (doctor)."""
    actor = actor or current_actor()
    async with db.reading() as session:
        links = await LinkRepository(session).for_machine(machine_id())
        names = await ProjectRepository(session).names_of([link.project_id for link in links])
    reconciled: list[str] = []
    problems: list[str] = []
    for link in links:
        name = names.get(link.project_id, str(link.project_id))
        async with db.reading() as session:
            project = await ProjectRepository(session).get(link.project_id)
            branch = "main" if project is None else await branch_of(session, project)
        try:
            await asyncio.to_thread(vcs.branch_tip, link.path, branch=branch)
        except StoreError as error:
            problems.append(f"project {name!r}: {error.message}")
            continue
        for modification in await _reconcile_project(db, link, actor=actor):
            reconciled.append(
                f"{short_id(modification.id)} as {(modification.applied_commit or '')[:12]}"
            )
    return Examined(len(links), reconciled, problems)


async def reconcile(db: Database, *, actor: str | None = None) -> list[Modification]:
    """Record as applied every approved modification whose commit is on its
    linked branch (on this machine) though the database does not know it:
    what a process killed between the commit and the database left."""
    actor = actor or current_actor()
    machine = machine_id()
    async with db.reading() as session:
        links = await LinkRepository(session).for_machine(machine)
    fixed: list[Modification] = []
    for link in links:
        fixed += await _reconcile_project(db, link, actor=actor)
    return fixed


async def _reconcile_project(
    db: Database, link: RepositoryLink, *, actor: str
) -> list[Modification]:
    async with db.reading() as session:
        project = await ProjectRepository(session).get(link.project_id)
        if project is None:
            return []
        branch = await branch_of(session, project)
        waiting = await ModificationRepository(session).ids_with_status(
            project.id, ModificationStatus.APPROVED
        )
    if not waiting:
        return []
    try:
        found = await asyncio.to_thread(vcs.applied_commits, link.path, branch=branch)
    except StoreError:
        # A repository gone or unreadable: nothing to reconcile (doctor says so).
        return []
    fixed = []
    for commit in found:
        if commit.modification_id not in {str(item) for item in waiting}:
            continue
        async with db.transaction() as session:
            modification = await ModificationRepository(session).get_for_update(
                uuid.UUID(commit.modification_id)
            )
            project = await ProjectRepository(session).get_for_update(link.project_id)
            if (
                modification is None
                or project is None
                or modification.status != ModificationStatus.APPROVED
            ):
                continue
            parent = await asyncio.to_thread(vcs.parent_of, link.path, commit=commit.commit)
            made = _Commit(commit.commit, parent, parent != modification.base_commit)
            fixed.append(
                await _record_applied(
                    session, modification, project, link, made, actor=actor, reconciled=True
                )
            )
    return fixed
