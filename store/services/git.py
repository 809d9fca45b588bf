"""A project's git repository: linking it (per machine), syncing the stored
codebase from the tip of its branch, and how far the branch has moved since.

Git is read and written by ``store.vcs`` in a worker thread, never inside a
database transaction that waits on it longer than it must.

One module, over 600 lines, because every service here starts from the
project's repository as linked on this machine (``linked_repository``: its
path here and its branch): linking, syncing and status, and the
modifications made from it (a revision, a working tree, a patch) or shown
as its patches.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, validation, vcs
from store.config import current_actor, machine_id
from store.engine import Database
from store.errors import Conflict, NotFound, StoreError, ValidationError
from store.models import Modification, ModificationStatus, Project, ProjectSettings, RepositoryLink
from store.progress import OnStep, Step, ignore
from store.repositories import LinkRepository, ProjectRepository, SettingsRepository
from store.services.linked import as_change
from store.services.modifications import propose_modification
from store.services.project_reads import ProjectConfig, resolve_project, resolve_writable_project
from store.services.projects import ProjectCreate, checked_create, insert_project
from store.services.proposals import ModificationProposal
from store.services.review import get_modification
from store.types import utcnow

DEFAULT_MAX_FILE_BYTES = validation.MAX_FILE_BYTES


@dataclass(frozen=True)
class Link:
    """Where a project's repository is on this machine, and its branch."""

    project_id: str
    project: str
    path: str
    branch: str


@dataclass(frozen=True)
class RepositoryStatus:
    """A linked project's repository as it is now: the commit the codebase
    snapshot is at, the branch's tip, and how far it has moved since
    (``problem`` says why a figure is missing: the folder is gone, say)."""

    path: str
    branch: str
    snapshot_commit: str | None
    tip: str | None
    ahead: int | None
    problem: str | None = None


@dataclass(frozen=True)
class Synced:
    """What a sync stored: the commit, the files, and those left out (why)."""

    project: str
    commit: str
    files: int
    added: int
    changed: int
    removed: int
    skipped: dict[str, int]
    skipped_paths: tuple[tuple[str, str], ...]


def _folder(path: str | os.PathLike[str]) -> str:
    """The absolute path a link stores (links resolved: the same repository
    reached through a link is the same repository)."""
    text = validation.name("path", os.fspath(path), limit=validation.MAX_PATH)
    return validation.repository_path("path", str(Path(text).expanduser().resolve()))


async def _settings(session: AsyncSession, project: Project) -> ProjectSettings:
    settings = await SettingsRepository(session).get(project.id)
    if settings is None:
        settings = ProjectSettings(project_id=project.id)
        SettingsRepository(session).add(settings)
    return settings


async def link_project(
    db: Database,
    ref: str,
    path: str | os.PathLike[str],
    *,
    branch: str | None = None,
    actor: str | None = None,
) -> Link:
    """Link ``ref`` to the git repository at ``path`` (a working tree or a
    bare repository) on this machine. ``branch`` (default: the project's
    branch when the repository has it, else the one its HEAD names) becomes
    the project's branch. Linking again moves the link."""
    actor = actor or current_actor()
    folder = _folder(path)
    wanted = validation.name("branch", branch) if branch is not None else None
    async with db.transaction() as session:
        project = await resolve_writable_project(session, ref)
        settings = await _settings(session, project)
        found = await asyncio.to_thread(
            _inspect, folder, wanted, settings.branch_name if wanted is None else None
        )
        return await _link(session, project, settings, found, actor=actor)


async def create_linked_project(
    db: Database,
    data: ProjectCreate,
    path: str | os.PathLike[str],
    *,
    branch: str | None = None,
    actor: str | None = None,
) -> tuple[ProjectConfig, Link]:
    """Create a project linked to the git repository at ``path``, in one
    transaction (both audit rows, or nothing). ``branch`` as for linking;
    by default the settings' branch when the repository has it."""
    actor = actor or current_actor()
    checked = checked_create(data)
    folder = _folder(path)
    wanted = validation.name("branch", branch) if branch is not None else None
    preferred = checked.settings.get("branch_name") if wanted is None else None
    found = await asyncio.to_thread(_inspect, folder, wanted, preferred)
    async with db.transaction() as session:
        config = await insert_project(
            session,
            checked.values,
            {**checked.settings, "branch_name": found.branch},
            actor=actor,
            details=checked.details,
        )
        link = await _link(session, config.project, config.settings, found, actor=actor)
        return config, link


async def _link(
    session: AsyncSession,
    project: Project,
    settings: ProjectSettings,
    found: vcs.RepositoryLink,
    *,
    actor: str,
) -> Link:
    """In the caller's transaction: ``project`` linked on this machine to
    the repository ``found`` describes, its branch the project's."""
    machine = machine_id()
    links = LinkRepository(session)
    other = await links.by_path(machine, found.path)
    if other is not None and other.project_id != project.id:
        owner = await ProjectRepository(session).get(other.project_id)
        name = owner.name if owner is not None else str(other.project_id)
        raise Conflict(f"path: {found.path} is already linked to project {name!r}")
    link = await links.get(project.id, machine)
    before = None if link is None else link.path
    if link is None:
        link = RepositoryLink(
            project_id=project.id, machine=machine, path=found.path, linked_by=actor
        )
        links.add(link)
    link.path, link.linked_by, link.linked_at = found.path, actor, utcnow()
    branch_before = settings.branch_name
    settings.branch_name = found.branch
    settings.updated_at = utcnow()
    await session.flush()
    await audit.record_project(
        session,
        project,
        actor=actor,
        event_type="project.linked",
        description=f"linked project {project.name!r} to {found.path} (branch {found.branch})",
        details={
            "path": found.path,
            "branch": found.branch,
            "tip": found.tip,
            "bare": found.bare,
            "machine": machine,
            "path_before": before,
            "branch_before": branch_before,
        },
    )
    return Link(str(project.id), project.name, found.path, found.branch)


def _inspect(folder: str, branch: str | None, preferred: str | None) -> vcs.RepositoryLink:
    """The repository at ``folder`` on ``branch``; with no branch asked
    for, the project's own (``preferred``) when the repository has it, else
    the one HEAD names."""
    if branch is None and preferred is not None:
        try:
            return vcs.inspect_repository(folder, branch=preferred)
        except ValidationError as error:
            if error.field != "branch":
                raise
    return vcs.inspect_repository(folder, branch=branch)


async def unlink_project(db: Database, ref: str, *, actor: str | None = None) -> Link:
    """Remove the link of ``ref`` on this machine (the repository is not
    touched; the snapshot and the commits recorded stay)."""
    actor = actor or current_actor()
    machine = machine_id()
    async with db.transaction() as session:
        project = await resolve_project(session, ref)
        links = LinkRepository(session)
        link = await links.get(project.id, machine)
        if link is None:
            raise NotFound(f"project {project.name!r} is not linked to a repository here")
        settings = await _settings(session, project)
        await links.delete(link.id)
        await audit.record_project(
            session,
            project,
            actor=actor,
            event_type="project.unlinked",
            description=f"unlinked project {project.name!r} from {link.path}",
            details={"path": link.path, "machine": machine},
        )
        return Link(str(project.id), project.name, link.path, settings.branch_name)


async def linked_repository(db: Database, ref: str) -> Link | None:
    """Where ``ref``'s repository is on this machine (None: not linked here)."""
    machine = machine_id()
    async with db.reading() as session:
        project = await resolve_project(session, ref)
        link = await LinkRepository(session).get(project.id, machine)
        if link is None:
            return None
        settings = await _settings(session, project)
        return Link(str(project.id), project.name, link.path, settings.branch_name)


async def repository_status(db: Database, ref: str) -> RepositoryStatus | None:
    """``ref``'s linked repository now (None: not linked on this machine):
    read in a worker thread; a repository that cannot be read is said in
    ``problem``, not raised."""
    link = await linked_repository(db, ref)
    if link is None:
        return None
    async with db.reading() as session:
        project = await resolve_project(session, ref)
        snapshot = project.snapshot_commit
    return await asyncio.to_thread(_status, link, snapshot)


def _status(link: Link, snapshot: str | None) -> RepositoryStatus:
    try:
        tip = vcs.branch_tip(link.path, branch=link.branch)
    except (ValidationError, NotFound) as error:
        return RepositoryStatus(link.path, link.branch, snapshot, None, None, error.message)
    ahead = None
    problem = None
    if snapshot is not None:
        try:
            ahead = vcs.distance(link.path, since=snapshot, branch=link.branch).ahead
        except (ValidationError, NotFound) as error:
            problem = error.message
    return RepositoryStatus(link.path, link.branch, snapshot, tip, ahead, problem)


async def sync_project(
    db: Database,
    ref: str,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    on_step: OnStep = ignore,
    actor: str | None = None,
) -> Synced:
    """Replace ``ref``'s stored codebase with what git tracks at the tip of
    its linked branch, and record that commit. Binary files, files over
    ``max_file_bytes``, links, submodules and paths projdeck would refuse
    are left out and counted by reason; so are files past the codebase's
    limits (``validation.MAX_CODEBASE_FILES`` / ``MAX_CODEBASE_BYTES``)."""
    actor = actor or current_actor()
    if not 1 <= max_file_bytes <= validation.MAX_FILE_BYTES:
        raise ValidationError(
            "max-file-size",
            f"must be between 1 byte and {validation.MAX_FILE_BYTES // 1024 // 1024} MiB "
            "(the largest file a codebase holds)",
        )
    link = await linked_repository(db, ref)
    if link is None:
        raise ValidationError(
            "project", f"{ref!r} is not linked to a repository here; link it first"
        )
    on_step(Step(f"Reading {link.branch} in {link.path}…"))
    tip = await asyncio.to_thread(vcs.branch_tip, link.path, branch=link.branch)
    snapshot = await asyncio.to_thread(
        vcs.read_snapshot, link.path, commit=tip, max_file_bytes=max_file_bytes, on_step=on_step
    )
    files, skipped = _within_limits(snapshot)
    on_step(Step("Storing the codebase…"))
    async with db.transaction() as session:
        project = await resolve_writable_project(session, link.project_id)
        await session.refresh(project, with_for_update=True)
        before = project.codebase or {}
        added = sum(1 for path in files if path not in before)
        changed = sum(1 for path in files if path in before and before[path] != files[path])
        removed = sum(1 for path in before if path not in files)
        now = utcnow()
        updated = await ProjectRepository(session).update_versioned(
            project,
            project.version,
            {
                "codebase": files,
                "snapshot_commit": tip,
                "updated_at": now,
                "last_active_at": now,
            },
        )
        if not updated:
            raise Conflict(f"project {project.name!r} changed while syncing; sync again")
        reasons = Counter(reason for _, reason in skipped)
        await audit.record_project(
            session,
            project,
            actor=actor,
            event_type="project.synced",
            description=(
                f"synced project {project.name!r} from {link.branch} at {tip[:12]} "
                f"({len(files)} files, {len(skipped)} left out)"
            ),
            details={
                "commit": tip,
                "branch": link.branch,
                "path": link.path,
                "files": len(files),
                "added": added,
                "changed": changed,
                "removed": removed,
                "skipped": dict(sorted(reasons.items())),
            },
        )
    return Synced(
        project=project.name,
        commit=tip,
        files=len(files),
        added=added,
        changed=changed,
        removed=removed,
        skipped=dict(sorted(reasons.items())),
        skipped_paths=tuple(skipped),
    )


def _within_limits(snapshot: vcs.Snapshot) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The snapshot's files a codebase may hold, and those it may not (with
    the reason), in path order: what ``read_snapshot`` left out, then what is
    past the codebase's limits. ``read_snapshot`` already refused every path
    ``validation.codebase_path`` refuses, and binary, non-UTF-8 and oversized
    files (``sync_project`` keeps its limit within ``validation.MAX_FILE_BYTES``),
    so each file is checked here only against the codebase's totals."""
    skipped = [(item.path, str(item.reason)) for item in snapshot.skipped]
    files: dict[str, str] = {}
    total = 0
    for path in sorted(snapshot.files):
        content = snapshot.files[path]
        size = len(content.encode("utf-8"))
        if len(files) >= validation.MAX_CODEBASE_FILES:
            skipped.append((path, f"over the codebase's {validation.MAX_CODEBASE_FILES} files"))
            continue
        if total + size > validation.MAX_CODEBASE_BYTES:
            limit = validation.MAX_CODEBASE_BYTES // 1024 // 1024
            skipped.append((path, f"over the codebase's {limit} MiB"))
            continue
        files[path] = content
        total += size
    skipped.sort()
    return files, skipped


@dataclass(frozen=True)
class GitSource:
    """Where a proposed change comes from: a patch (text), a revision or
    ``A..B`` range of the linked repository, or a working tree's
    uncommitted work. Exactly one is given."""

    patch: str | bytes | None = None
    rev: str | None = None
    worktree: str | None = None


async def propose_from_git(
    db: Database,
    ref: str,
    source: GitSource,
    *,
    request: str | None = None,
    requested_by: str | None = None,
    impact_analysis: Mapping[str, Any] | None = None,
    test_results: Mapping[str, Any] | None = None,
    run_ref: str | None = None,
    revises: str | None = None,
    actor: str | None = None,
) -> Modification:
    """Propose the change ``source`` holds as a modification of ``ref``,
    recording the commit it was made against. The request defaults to the
    commit's (or the patch email's) subject and body, ``requested_by`` to
    its author (on a team database to the connected role, the author kept in
    the modification's source). A patch applies to the tip of the linked branch, or to the
    stored codebase of a project linked nowhere here."""
    given = [value for value in (source.patch, source.rev, source.worktree) if value is not None]
    if len(given) != 1:
        raise ValidationError("source", "give exactly one of a patch, a revision or a worktree")
    link = await linked_repository(db, ref)
    if link is None and source.patch is None:
        raise ValidationError(
            "project", f"{ref!r} is not linked to a repository here; link it first"
        )
    if source.patch is not None:
        change = await _change_from_patch(db, ref, link, source.patch)
    elif source.rev is not None:
        assert link is not None
        change = await asyncio.to_thread(
            vcs.change_from_git, link.path, rev=source.rev, branch=link.branch
        )
    else:
        assert link is not None and source.worktree is not None
        change = await asyncio.to_thread(_worktree_change, link, source.worktree)
    author = _author_of(change)
    # On a team database the requester is the connected role (the database
    # refuses any other name); the commit's author stays in the source.
    team = db.team is not None and db.team.role is not None
    proposal = ModificationProposal(
        request=request if request is not None else _request_of(change),
        modified_files=change.files,
        requested_by=requested_by if requested_by is not None or team else author,
        impact_analysis=impact_analysis or {},
        test_results=test_results or {},
        base_commit=change.base,
        file_modes=change.modes or None,
    )
    if source.rev is not None:
        origin = {"rev": source.rev}
    elif source.worktree is not None:
        origin = {"worktree": source.worktree}
    else:
        origin = {"patch": "given"}
    if team and author:
        origin["author"] = author
    return await propose_modification(
        db, ref, proposal, run_ref=run_ref, source=origin, revises=revises, actor=actor
    )


def _author_of(change: vcs.Change) -> str | None:
    """Who wrote the change, as git names them ("Name <address>")."""
    if change.author_name and change.author_email:
        return f"{change.author_name} <{change.author_email}>"
    return change.author_name


def _request_of(change: vcs.Change) -> str:
    if change.subject is None:
        raise ValidationError("request", "the change carries no message: give --request")
    return change.subject if change.body is None else f"{change.subject}\n\n{change.body}"


async def _change_from_patch(
    db: Database, ref: str, link: Link | None, patch: str | bytes
) -> vcs.Change:
    if link is not None:
        tip = await asyncio.to_thread(vcs.branch_tip, link.path, branch=link.branch)
        reader = vcs.files_at(link.path, commit=tip)
        return await asyncio.to_thread(
            vcs.change_from_patch, patch, before=reader.text, before_modes=reader.mode, base=tip
        )
    async with db.reading() as session:
        project = await resolve_project(session, ref)
        codebase = dict(project.codebase)
    return await asyncio.to_thread(vcs.change_from_patch, patch, before=codebase)


def _worktree_change(link: Link, worktree: str) -> vcs.Change:
    """The uncommitted work of ``worktree``, which must be a working tree of
    the linked repository (so its base commit is one the branch can reach)."""
    change = vcs.change_from_worktree(worktree)
    if change.base is None or not vcs.has_commit(link.path, commit=change.base):
        raise ValidationError(
            "worktree",
            f"{worktree} is not a working tree of the linked repository {link.path} "
            "(its HEAD commit is not there)",
        )
    return change


@dataclass(frozen=True)
class ChangeState:
    """A modification against its project's repository, for the review
    screen: the commit it was made against (or applied as), how many
    commits the branch has gained since, and whether it would commit
    cleanly now (None: not asked, as for one no longer waiting, or not
    known, as for a project linked nowhere here; ``problem`` says why)."""

    branch: str | None
    base_commit: str | None
    applied_commit: str | None
    moved_by: int | None = None
    applies: bool | None = None
    conflicts: tuple[str, ...] = ()
    dirty: tuple[str, ...] = ()
    problem: str | None = None


async def change_state(db: Database, modification_ref: str) -> ChangeState | None:
    """Where a modification stands against its project's linked repository
    (None: a project without a repository here, and a modification made
    against no commit). Git is read in a worker thread."""
    detail = await get_modification(db, modification_ref)
    modification = detail.modification
    link = await linked_repository(db, str(modification.project_id))
    if link is None:
        if modification.base_commit is None and modification.applied_commit is None:
            return None
        return ChangeState(
            None,
            modification.base_commit,
            modification.applied_commit,
            problem="the project's repository is not linked on this machine",
        )
    async with db.reading() as session:
        project = await resolve_project(session, link.project_id)
        snapshot = project.snapshot_commit
    base = modification.base_commit or snapshot
    state = ChangeState(link.branch, base, modification.applied_commit)
    if modification.status not in (ModificationStatus.PENDING, ModificationStatus.APPROVED):
        return state
    if base is None:
        return replace(state, problem="made against no commit: it applies onto the branch's tip")
    change = as_change(modification)
    try:
        found = await asyncio.to_thread(
            vcs.check_applies, link.path, branch=link.branch, base=base, change=change
        )
    except StoreError as error:
        return replace(state, problem=error.message)
    return replace(
        state,
        moved_by=found.moved_by,
        applies=found.clean,
        conflicts=tuple(item.describe() for item in found.conflicts),
        dirty=found.dirty,
        problem="the branch already holds this change" if found.already_applied else None,
    )


async def modification_patch(db: Database, ref: str, *, mbox: bool = False) -> str:
    """A modification as a patch ``git apply`` accepts, made against what
    it is reviewed against (its base commit's files, the codebase, or what
    the files held before it was applied); with ``mbox``, as an email ``git
    am`` accepts: author and date of the request, subject and body from it,
    and the trailers its commit carries."""
    detail = await get_modification(db, ref)
    modification = detail.modification
    before = {change.path: change.before for change in detail.files}
    modes = await _modes_before(db, modification)
    change = as_change(modification)
    if not mbox:
        return await asyncio.to_thread(vcs.format_patch, change, before=before, before_modes=modes)
    message = vcs.commit_message(
        modification.request,
        modification_id=str(modification.id),
        reviewer=modification.reviewed_by or "(not reviewed yet)",
    )
    if modification.reviewed_by is None:
        message = message.rsplit("\nReviewed-by: ", 1)[0] + "\n"
    subject, _, body = message.partition("\n\n")
    # A line "---" would end the mail's message: kept as the commit keeps it.
    body = "\n".join(" ---" if line == "---" else line for line in body.splitlines())
    author = replace(vcs.named(modification.requested_by), time=modification.requested_at)
    return await asyncio.to_thread(
        vcs.format_mbox,
        change,
        before=before,
        before_modes=modes,
        subject=subject,
        body=body,
        author=author,
    )


async def _modes_before(db: Database, modification: Modification) -> dict[str, int] | None:
    """The git modes of the files as the base commit holds them (None: a
    project with no repository here, whose files are all plain)."""
    link = await linked_repository(db, str(modification.project_id))
    if link is None or modification.base_commit is None:
        return None
    paths = sorted(modification.modified_files)
    commit = modification.base_commit

    def read() -> dict[str, int]:
        files = vcs.files_at(link.path, commit=commit)
        return {path: mode for path in paths if (mode := files.mode(path)) is not None}

    try:
        return await asyncio.to_thread(read)
    except StoreError:
        return None
