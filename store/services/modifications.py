"""Modification services: a change an agent proposes to a project's stored
codebase, from proposal through review to apply or revert, each step one
transaction with its audit row. What the review screens read (the waiting
inbox, one modification with the diff of each file) is in review.py.

States: pending -> approved | rejected; approved -> applied | failed;
failed -> pending (reopen). Rejected and applied are final.

Approval records a digest of the files as reviewed (``files_digest``); apply
writes them only if they still hash to it, so content changed in the
database after the review never reaches the codebase.

Its writes keep that one promise together: a proposal records each
affected file's hash (``_base``), approval the digest of the files, and
apply writes only while both still hold, reads the codebase back
(``_check_written``) and otherwise refuses with a security row
(``_refuse``); reopen and revert compute the base the same way. What a
proposal is, its checks and the hashes are in ``store.services.proposals``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, validation
from store.config import current_actor, machine_id, self_approval_allowed
from store.engine import Database
from store.errors import Conflict, InvalidTransition, NotPermitted, StoreError, ValidationError
from store.ids import short_id
from store.models import (
    AgentRun,
    AuditCategory,
    Modification,
    ModificationStatus,
    Project,
    RepositoryLink,
    Severity,
)
from store.repositories import LinkRepository, ModificationRepository, ProjectRepository
from store.services.project_reads import require_writable, resolve_project

# A proposal is built and read here too, with the services that take it.
from store.services.proposals import ModificationProposal as ModificationProposal
from store.services.proposals import (
    _audit_files,
    _check_codebase_limits,
    _result_of,
    _validate_proposal,
    content_hash,
    files_digest,
)
from store.services.proposals import proposal_from_payload as proposal_from_payload
from store.services.review import WAITING, project_of, resolve_modification
from store.types import utcnow


def _base(codebase: Mapping[str, str], paths: Sequence[str]) -> dict[str, str]:
    return {path: content_hash(codebase.get(path)) for path in paths}


def _require(
    modification: Modification, allowed: Sequence[ModificationStatus], wanted: str
) -> None:
    if modification.status not in allowed:
        raise InvalidTransition("modification", str(modification.status), wanted)


@asynccontextmanager
async def reviewing(
    db: Database,
    ref: str,
    wanted: str,
    *,
    status: ModificationStatus | None = ModificationStatus.PENDING,
    doing: str | None = None,
) -> AsyncIterator[tuple[AsyncSession, Modification]]:
    """A reviewer's write to modification ``ref`` (to ``wanted`` it:
    approve, revert...), in one transaction: on a team database its member
    must hold the review permission (``doing`` names the act, by default
    "``wanted`` modifications"); the modification comes locked for the
    update and, unless ``status`` is None, in that status."""
    if db.team is not None:
        db.team.require("review", doing or f"{wanted} modifications")
    async with db.transaction() as session:
        modification = await resolve_modification(session, ref, for_update=True)
        if status is not None:
            _require(modification, [status], wanted)
        yield session, modification


async def _propose(
    session: AsyncSession,
    project: Project,
    values: dict[str, Any],
    *,
    actor: str,
    reverts: Modification | None = None,
    run: AgentRun | None = None,
    source: Mapping[str, str] | None = None,
    revises: Modification | None = None,
) -> Modification:
    require_writable(project)
    files: dict[str, str | None] = values["modified_files"]
    missing = sorted(
        path for path, content in files.items() if content is None and path not in project.codebase
    )
    # Made against a commit, the change is checked against it by git when
    # applied: the stored snapshot may be at another commit.
    if missing and values.get("base_commit") is None:
        raise ValidationError(
            "modified_files",
            f"cannot delete {', '.join(missing)}: not a file of project {project.name!r}",
        )
    _check_codebase_limits(_result_of(project.codebase, files))
    modification = Modification(
        project_id=project.id,
        **values,
        requested_at=utcnow(),
        base=_base(project.codebase, values["affected_files"]),
        reverts_id=reverts.id if reverts is not None else None,
        run_id=run.id if run is not None else None,
        revises_id=revises.id if revises is not None else None,
        revision=revises.revision + 1 if revises is not None else 1,
    )
    ModificationRepository(session).add(modification)
    await session.flush()
    await audit.record_step(
        session,
        modification,
        project,
        actor=actor,
        event_type="modification.proposed",
        description="proposed" if reverts is None else f"proposed revert {short_id(reverts.id)} as",
        details={
            "requested_by": modification.requested_by,
            "files": _audit_files(files, project.codebase),
            "reverts": str(reverts.id) if reverts is not None else None,
            **({"run": str(run.id)} if run is not None else {}),
            **(
                {"revises": str(revises.id), "revision": modification.revision}
                if revises is not None
                else {}
            ),
            **({"base_commit": modification.base_commit} if modification.base_commit else {}),
            **({"source": dict(source)} if source else {}),
        },
    )
    return modification


async def propose_modification(
    db: Database,
    project_ref: str,
    proposal: ModificationProposal,
    *,
    run_ref: str | None = None,
    source: Mapping[str, str] | None = None,
    revises: str | None = None,
    actor: str | None = None,
) -> Modification:
    """Record a proposed change to an active project's codebase, with the
    base (a hash of each affected file now) that apply checks against;
    ``run_ref`` names the agent run of the same project that proposes it,
    ``source`` where it came from (a git revision, a working tree, a patch)
    for the audit row; ``revises`` a rejected or partly approved modification
    of the project that this one is the next revision of."""
    from store.services.agents import resolve_run

    actor = actor or current_actor()
    values = _validate_proposal(proposal, actor)
    if db.team is not None:
        db.team.require("propose", "propose modifications")
        if values["requested_by"] != db.team.login:
            raise NotPermitted(
                f"{db.team.describe()} may not propose a modification requested by "
                f"{values['requested_by']!r}: on a team database the requester is the "
                "connected role"
            )
    async with db.transaction() as session:
        project = await resolve_project(session, project_ref)
        run = await resolve_run(session, run_ref) if run_ref is not None else None
        if run is not None and run.project_id != project.id:
            raise ValidationError(
                "run", f"run {str(run.id)[:8]} belongs to another project, not {project.name!r}"
            )
        earlier = await _revised(session, project, revises) if revises is not None else None
        return await _propose(
            session, project, values, actor=actor, run=run, source=source, revises=earlier
        )


async def _revised(session: AsyncSession, project: Project, ref: str) -> Modification:
    """The modification ``ref`` names, if a new revision of it may be
    proposed: of the same project, rejected or approved in part, and not
    revised already."""
    earlier = await resolve_modification(session, ref, for_update=True, field="revises")
    short = short_id(earlier.id)
    if earlier.project_id != project.id:
        raise ValidationError("revises", f"{short} is a modification of another project")
    if earlier.status != ModificationStatus.REJECTED and earlier.proposed_files is None:
        raise ValidationError(
            "revises",
            f"{short} is {earlier.status}; only a rejected or partly approved modification "
            "is revised",
        )
    later = await ModificationRepository(session).revised_by(earlier.id)
    if later is not None:
        raise ValidationError(
            "revises",
            f"{short} is already revised by {short_id(later.id)} (revision {later.revision}); "
            "revise that one",
        )
    return earlier


def review_comment(value: str | None) -> str | None:
    if value is None:
        return None
    return validation.text("comment", value).strip() or None


def check_not_self_approval(
    db: Database, modification: Modification, actor: str, *, allow: bool | None
) -> None:
    """Refuse ``actor`` approving a modification they requested, unless
    allowed (``allow``, else the ``allow_self_approval`` setting): someone
    else reviews what a person or an agent proposes. On a team database it
    is never allowed (the database refuses it too)."""
    if actor != modification.requested_by:
        return
    short = short_id(modification.id)
    member = db.team
    if member is not None:
        raise NotPermitted(
            f"{member.describe()} may not approve modification {short}, which it requested: "
            "another member of the team approves it"
        )
    if allow if allow is not None else self_approval_allowed():
        return
    raise NotPermitted(
        f"{actor!r} may not approve modification {short}, which they requested: someone else "
        "approves it (working alone: --allow-self-approval, or allow_self_approval = true in "
        "the config file)"
    )


async def _review(
    db: Database,
    ref: str,
    *,
    target: ModificationStatus,
    wanted: str,
    comment: str | None,
    actor: str,
    allow_self_approval: bool | None = None,
) -> tuple[Modification, Project]:
    async with reviewing(db, ref, wanted) as (session, modification):
        if target == ModificationStatus.APPROVED:
            check_not_self_approval(db, modification, actor, allow=allow_self_approval)
        project = await project_of(session, modification, lock=False)
        require_writable(project)
        await record_verdict(session, modification, project, target, comment=comment, actor=actor)
    return modification, project


async def record_verdict(
    session: AsyncSession,
    modification: Modification,
    project: Project,
    target: ModificationStatus,
    *,
    comment: str | None,
    actor: str,
    details: Mapping[str, Any] | None = None,
) -> None:
    """A pending modification approved or rejected, with its audit row (an
    approval records the digest of the files it approves)."""
    modification.status = target
    modification.reviewed_by = actor
    modification.reviewed_at = utcnow()
    modification.review_comment = comment
    approved = target == ModificationStatus.APPROVED
    modification.approved_digest = files_digest(modification.modified_files) if approved else None
    # The agent that proposed it hears the verdict in its conversation.
    from store.services.hunk_state import tell_the_agent

    told = await tell_the_agent(session, modification)
    await audit.record_step(
        session,
        modification,
        project,
        actor=actor,
        event_type=f"modification.{target.value}",
        description=target.value,
        details={
            "from": "pending",
            "comment": comment,
            **({"digest": modification.approved_digest} if approved else {}),
            **({"feedback_to_conversation": str(told)} if told else {}),
            **(details or {}),
        },
    )


async def approve_modification(
    db: Database,
    ref: str,
    *,
    comment: str | None = None,
    actor: str | None = None,
    allow_self_approval: bool | None = None,
) -> Modification:
    """Approve a pending modification, which someone other than its
    requester approves (``check_not_self_approval``). On a project with
    auto-merge on it is applied at once, by the same rules and with the
    same audit rows as ``apply_modification`` (the result's status says how
    that went)."""
    actor = actor or current_actor()
    approved, project = await _review(
        db,
        ref,
        target=ModificationStatus.APPROVED,
        wanted="approve",
        comment=review_comment(comment),
        actor=actor,
        allow_self_approval=allow_self_approval,
    )
    return await applied_if_automatic(db, approved, project, actor=actor)


async def applied_if_automatic(
    db: Database, approved: Modification, project: Project, *, actor: str
) -> Modification:
    """An approved modification, applied at once on a project that merges
    automatically."""
    if not project.auto_merge_enabled:
        return approved
    try:
        return await apply_modification(db, str(approved.id), actor=actor)
    except StoreError as error:
        raise Conflict(
            f"approved {short_id(approved.id)}, but applying it at once (the project merges "
            f"automatically) did not: {error.message}; apply it when that is resolved"
        ) from None


async def reject_modification(
    db: Database, ref: str, *, comment: str, actor: str | None = None
) -> Modification:
    """Reject a pending modification; the comment saying why is required."""
    reason = review_comment(comment)
    if reason is None:
        raise ValidationError("comment", "a rejection needs a comment saying why")
    rejected, _project = await _review(
        db,
        ref,
        target=ModificationStatus.REJECTED,
        wanted="reject",
        comment=reason,
        actor=actor or current_actor(),
    )
    return rejected


async def apply_modification(db: Database, ref: str, *, actor: str | None = None) -> Modification:
    """Write an approved modification into its project's codebase, in one
    transaction. If an affected file changed since the proposal, nothing is
    written and the modification becomes failed with the conflicting files
    as its reason; the returned modification's status says which happened.

    Files that no longer hash to the digest recorded at approval, or a
    codebase that holds anything but the modification's result once written
    (the database's own code, a trigger or a rule, changed it), fail it too,
    nothing written, with a security audit row."""
    actor = actor or current_actor()
    if db.team is not None:
        db.team.require("review", "apply modifications")
    try:
        return await _apply(db, ref, actor)
    except _WrittenOtherwise as altered:
        async with db.transaction() as session:
            modification = await resolve_modification(session, ref, for_update=True)
            project = await project_of(session, modification, lock=True)
            await _refuse(
                session,
                modification,
                project,
                actor=actor,
                event_type="modification.apply_altered",
                reason=(
                    "the database changed the codebase beyond this modification's result "
                    f"({', '.join(altered.paths)}); nothing was applied: run projdeck doctor"
                ),
                details={"paths": altered.paths},
            )
        return modification


class _WrittenOtherwise(Exception):
    """The codebase read back after an apply is not what apply wrote."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(", ".join(paths))
        self.paths = paths


async def _apply(db: Database, ref: str, actor: str) -> Modification:
    async with db.transaction() as session:
        modification = await resolve_modification(session, ref, for_update=True)
        _require(modification, [ModificationStatus.APPROVED], "apply")
        # A linked project's apply reads its codebase only to move the
        # snapshot along, and then writes just the changed files.
        project = await project_of(session, modification, lock=True, with_codebase=False)
        require_writable(project)
        files = modification.modified_files
        digest = files_digest(files)
        link = await _repository_here(session, project)
        if digest != modification.approved_digest:
            await _refuse(
                session,
                modification,
                project,
                actor=actor,
                event_type="modification.unreviewed_content",
                reason=(
                    "the files differ from those approved (changed in the database after "
                    "the review); reopen it to review them again"
                ),
                details={
                    "approved_digest": modification.approved_digest,
                    "digest": digest,
                    "files": sorted(files),
                },
            )
            return modification
        if link is not None:
            # git's library loads only for a project linked to a repository.
            from store.services import linked

            return await linked.apply_as_commit(session, modification, project, link, actor=actor)
        projects = ProjectRepository(session)
        codebase = await projects.load_codebase(project)
        # Files the agent proposed that an approval in part left out are not
        # written, so they cannot conflict.
        left_out = (modification.proposed_files or {}).keys() - files.keys()
        conflicts = [
            path
            for path in modification.affected_files
            if path not in left_out
            and content_hash(codebase.get(path)) != modification.base.get(path)
        ]
        if conflicts:
            modification.status = ModificationStatus.FAILED
            modification.failure_reason = (
                f"conflict: changed since the proposal: {', '.join(conflicts)}"
            )
            await audit.record_failed_apply(
                session, modification, project, actor=actor, details={"conflicts": conflicts}
            )
            return modification
        result = _result_of(codebase, files)
        _check_codebase_limits(result)
        now = utcnow()
        if not await projects.update_versioned(
            project,
            project.version,
            {"codebase": result, "updated_at": now, "last_active_at": now},
        ):
            raise Conflict(f"project {project.name!r} was changed at the same time; try again")
        modification.status = ModificationStatus.APPLIED
        modification.applied_at = now
        modification.previous_contents = {path: codebase.get(path) for path in files}
        modification.failure_reason = None
        await audit.record_applied(
            session,
            modification,
            project,
            actor=actor,
            how="",
            details={"files": _audit_files(files, codebase), "version": project.version + 1},
        )
        await _check_written(session, project, result)
    return modification


async def _repository_here(session: AsyncSession, project: Project) -> RepositoryLink | None:
    """The project's repository on this machine; a project linked only on
    other machines is not applied here (its commit would be missing)."""
    links = LinkRepository(session)
    link = await links.get(project.id, machine_id())
    if link is None and await links.elsewhere(project.id):
        raise ValidationError(
            "project",
            f"{project.name!r} is linked to a git repository on another machine; link it "
            "here (projdeck project link) to apply its modifications as commits",
        )
    return link


async def _check_written(session: AsyncSession, project: Project, result: dict[str, str]) -> None:
    """Raise _WrittenOtherwise unless the project's codebase, read back with
    every trigger of this transaction fired, is exactly ``result``."""
    await session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Deferred constraint triggers would fire at commit, after this check.
        await session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    written = await ProjectRepository(session).codebase_of(project.id) or {}
    if written != result:
        raise _WrittenOtherwise(
            sorted(
                path
                for path in written.keys() | result.keys()
                if written.get(path) != result.get(path)
            )
        )


async def _refuse(
    session: AsyncSession,
    modification: Modification,
    project: Project,
    *,
    actor: str,
    event_type: str,
    reason: str,
    details: Mapping[str, Any],
) -> None:
    """Fail an apply that would not write exactly what was reviewed, with a
    security audit row naming the modification."""
    modification.status = ModificationStatus.FAILED
    modification.failure_reason = f"refused: {reason}"
    await audit.record(
        session,
        actor=actor,
        event_type=event_type,
        description=(
            f"refused to apply modification {short_id(modification.id)} of project "
            f"{project.name!r}: {reason}"
        ),
        project_id=project.id,
        entity_type="modification",
        entity_id=modification.id,
        category=AuditCategory.SECURITY,
        severity=Severity.ERROR,
        details={"status": str(modification.status), **details},
    )


async def reopen_modification(db: Database, ref: str, *, actor: str | None = None) -> Modification:
    """Put a failed modification back to pending: the review is cleared and
    the base recomputed from the codebase as it is now."""
    actor = actor or current_actor()
    failed = ModificationStatus.FAILED
    async with reviewing(db, ref, "reopen", status=failed) as (session, modification):
        project = await project_of(session, modification, lock=False)
        require_writable(project)
        previous_reason = modification.failure_reason
        modification.status = ModificationStatus.PENDING
        modification.reviewed_by = None
        modification.reviewed_at = None
        modification.review_comment = None
        modification.failure_reason = None
        modification.approved_digest = None
        modification.base = _base(project.codebase, modification.affected_files)
        await audit.record_step(
            session,
            modification,
            project,
            actor=actor,
            event_type="modification.reopened",
            description="reopened",
            details={"from": "failed", "failure_reason": previous_reason},
        )
    return modification


async def revert_modification(db: Database, ref: str, *, actor: str | None = None) -> Modification:
    """Propose a new modification that restores what an applied
    modification's files held before it, linked to it by ``reverts_id``.

    Refused when those files changed since the apply (a revert would undo
    later work too) or when a revert of it is already waiting."""
    actor = actor or current_actor()
    applied = ModificationStatus.APPLIED
    async with reviewing(db, ref, "revert", status=applied) as (session, original):
        if original.previous_contents is None:
            raise ValidationError(
                "id", "this modification was applied without its previous contents kept"
            )
        modifications = ModificationRepository(session)
        waiting = await modifications.find_reverts(original.id, WAITING)
        if waiting:
            raise Conflict(
                f"modification {short_id(original.id)} already has a revert waiting: "
                f"{short_id(waiting[0])}"
            )
        project = await project_of(session, original, lock=False)
        require_writable(project)
        if original.applied_commit is not None:
            # Applied as a commit: the revert is made against that commit,
            # and applying it merges onto the branch as it is then (later
            # work on the same lines conflicts there).
            return await _propose(
                session,
                project,
                _revert_values(original, dict(original.previous_contents), actor)
                | {"base_commit": original.applied_commit, "file_modes": None},
                actor=actor,
                reverts=original,
            )
        codebase = project.codebase
        changed = sorted(
            path
            for path, content in original.modified_files.items()
            if codebase.get(path) != content
        )
        if changed:
            raise Conflict(
                f"cannot revert {short_id(original.id)}: changed since it was applied: "
                f"{', '.join(changed)}; propose a new modification instead"
            )
        restore = {
            path: content
            for path, content in original.previous_contents.items()
            if codebase.get(path) != content
        }
        if not restore:
            raise Conflict(f"reverting {short_id(original.id)} would change nothing")
        values = _revert_values(original, restore, actor)
        return await _propose(session, project, values, actor=actor, reverts=original)


def _revert_values(
    original: Modification, restore: dict[str, str | None], actor: str
) -> dict[str, Any]:
    summary = original.request.splitlines()[0][:200]
    return {
        "request": f"Revert {short_id(original.id)}: {summary}",
        "requested_by": validation.name("requested_by", actor),
        "modified_files": restore,
        "affected_files": sorted(restore),
        "impact_analysis": {"reverts": str(original.id)},
        "test_results": {},
    }


async def attach_test_results(
    db: Database, ref: str, test_results: Mapping[str, Any], *, actor: str | None = None
) -> Modification:
    """Replace the test results of a modification that is not final."""
    actor = actor or current_actor()
    results = validation.json_object("test_results", test_results)
    async with db.transaction() as session:
        modification = await resolve_modification(session, ref, for_update=True)
        _require(
            modification,
            [ModificationStatus.PENDING, ModificationStatus.APPROVED, ModificationStatus.FAILED],
            "attach test results to",
        )
        project = await project_of(session, modification, lock=False)
        require_writable(project)
        modification.test_results = results
        await audit.record_step(
            session,
            modification,
            project,
            actor=actor,
            event_type="modification.tests_attached",
            description="attached test results to",
            details={"keys": sorted(results)},
        )
    return modification
