"""Review hunk by hunk, the writes: a reviewer's decision on each hunk
(with a reason for a rejection), comments on lines, approval in part (only
the accepted hunks are applied). What they make is read through
``hunk_state``, whose names this module gives too (and which says how hunks
are numbered and how long a decision holds)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, hunks, validation
from store.config import current_actor
from store.engine import Database
from store.errors import StoreError, ValidationError
from store.ids import short_id
from store.models import (
    CommentSide,
    HunkDecision,
    HunkVerdict,
    Modification,
    ModificationStatus,
    ReviewComment,
)
from store.repositories import ReviewRepository
from store.services.hunk_state import (
    CarriedComment,
    Feedback,
    FileState,
    HunkReview,
    NumberedHunk,
    SinceReview,
    compared_with,
    feedback,
    feedback_text,
    hunks_in,
    modification_hunks,
    proposed_files,
    since_last_review,
)
from store.services.modifications import (
    applied_if_automatic,
    check_not_self_approval,
    record_verdict,
    review_comment,
    reviewing,
)
from store.services.project_reads import require_writable
from store.services.proposals import content_hash
from store.services.review import project_of

__all__ = [
    "CarriedComment",
    "Feedback",
    "FileState",
    "HunkReview",
    "NumberedHunk",
    "SinceReview",
    "add_comment",
    "approve_in_part",
    "decide_hunks",
    "decide_seen_hunks",
    "feedback",
    "feedback_text",
    "modification_hunks",
    "since_last_review",
]
from store.types import utcnow

MAX_COMMENT = 20_000


def _chosen(
    review: HunkReview, numbers: Collection[int], paths: Collection[str]
) -> list[NumberedHunk]:
    """The hunks named by number or by file; a number or path the
    modification does not have is a ValidationError naming it."""
    total = len(review.hunks)
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= total:
            raise ValidationError(
                "hunks",
                f"{number!r} is not a hunk of modification {short_id(review.modification.id)}, "
                f"which has hunks 1 to {total}",
            )
    known = {file.path for file in review.files}
    for path in paths:
        if path not in known:
            raise ValidationError(
                "file",
                f"{path!r} is not a file of modification {short_id(review.modification.id)}",
            )
    return [item for item in review.hunks if item.number in numbers or item.path in paths]


def _reason(verdict: HunkVerdict | None, reason: str | None) -> str | None:
    if reason is None:
        return None
    if verdict != HunkVerdict.REJECTED:
        raise ValidationError("reason", "only a rejection carries a reason")
    return validation.text("reason", reason, limit=MAX_COMMENT).strip() or None


def _deciding(
    db: Database, ref: str
) -> AbstractAsyncContextManager[tuple[AsyncSession, Modification]]:
    """The transaction of decisions on a pending modification's hunks."""
    return reviewing(db, ref, "decide on the hunks of", doing="decide on hunks")


async def decide_hunks(
    db: Database,
    ref: str,
    *,
    verdict: HunkVerdict | None,
    numbers: Collection[int] = (),
    paths: Collection[str] = (),
    reason: str | None = None,
    actor: str | None = None,
) -> HunkReview:
    """Accept or reject (``verdict``; None: undecide) the hunks numbered in
    ``numbers`` and every hunk of the files in ``paths``, of a pending
    modification; a rejection may say why. Returns the hunks as they stand."""
    actor = actor or current_actor()
    reason = _reason(verdict, reason)
    if not numbers and not paths:
        raise ValidationError("hunks", "name at least one hunk or file")
    async with _deciding(db, ref) as (session, modification):
        review = await hunks_in(session, modification)
        chosen = _chosen(review, numbers, paths)
        await _record_decisions(session, modification, chosen, verdict, reason, actor)
        await session.flush()
        return await hunks_in(session, modification)


async def decide_seen_hunks(
    db: Database,
    ref: str,
    seen: Sequence[NumberedHunk],
    *,
    verdict: HunkVerdict | None,
    reason: str | None = None,
    actor: str | None = None,
) -> int:
    """As ``decide_hunks``, for hunks the caller has in front of it (from
    ``modification_hunks``): recorded as seen, with the fingerprints they
    had, without cutting the diff again (a review screen decides a hunk per
    key). A hunk that changed meanwhile shows as undecided, its decision
    outdated, as any decision on an earlier form of a hunk does. Returns
    how many hunks were decided."""
    actor = actor or current_actor()
    reason = _reason(verdict, reason)
    if not seen:
        raise ValidationError("hunks", "name at least one hunk")
    async with _deciding(db, ref) as (session, modification):
        await _record_decisions(session, modification, seen, verdict, reason, actor)
    return len(seen)


async def _record_decisions(
    session: AsyncSession,
    modification: Modification,
    chosen: Sequence[NumberedHunk],
    verdict: HunkVerdict | None,
    reason: str | None,
    actor: str,
) -> None:
    """``chosen``'s decisions replaced by ``verdict`` (None: none), audited."""
    reviews = ReviewRepository(session)
    await reviews.forget(modification.id, [item.number for item in chosen])
    await session.flush()
    if verdict is not None:
        for item in chosen:
            reviews.add_decision(_decision(modification, item, verdict, reason, actor))
    project = await project_of(session, modification, lock=False)
    require_writable(project)
    word = verdict.value if verdict is not None else "undecided"
    await audit.record_step(
        session,
        modification,
        project,
        actor=actor,
        event_type="modification.hunks_decided",
        description=f"{word} {_count(chosen)} of",
        details={
            "verdict": verdict.value if verdict is not None else None,
            "hunks": [item.number for item in chosen],
            "files": sorted({item.path for item in chosen}),
            **({"reason": reason} if reason else {}),
        },
    )


def _decision(
    modification: Modification,
    item: NumberedHunk,
    verdict: HunkVerdict,
    reason: str | None,
    actor: str,
) -> HunkDecision:
    return HunkDecision(
        modification_id=modification.id,
        path=item.path,
        hunk=item.number,
        fingerprint=item.fingerprint,
        verdict=verdict,
        reason=reason,
        decided_by=actor,
        decided_at=utcnow(),
    )


def _count(chosen: Sequence[NumberedHunk]) -> str:
    return f"{len(chosen)} hunk{'s' if len(chosen) != 1 else ''}"


async def add_comment(
    db: Database,
    ref: str,
    *,
    path: str,
    line: int,
    text: str,
    side: CommentSide = CommentSide.NEW,
    actor: str | None = None,
) -> ReviewComment:
    """A comment on line ``line`` (from 1) of ``path``: of the proposed
    version, or with ``side`` OLD of the version before (a removed line)."""
    actor = actor or current_actor()
    body = validation.text("text", text, limit=MAX_COMMENT).strip()
    if not body:
        raise ValidationError("text", "a comment must say something")
    async with reviewing(db, ref, "comment on", status=None) as (session, modification):
        review = await hunks_in(session, modification)
        file = next((item for item in review.files if item.path == path), None)
        if file is None:
            raise ValidationError(
                "file", f"{path!r} is not a file of modification {short_id(modification.id)}"
            )
        lines = file.new_lines if side == CommentSide.NEW else file.old_lines
        if isinstance(line, bool) or not isinstance(line, int) or not 1 <= line <= len(lines):
            version = "proposed version" if side == CommentSide.NEW else "version before"
            raise ValidationError(
                "line",
                f"{line!r} is not a line of {path!r} (its {version} has {len(lines)} lines)",
            )
        comment = ReviewComment(
            modification_id=modification.id,
            path=path,
            line=line,
            side=side,
            line_text=lines[line - 1].rstrip("\n"),
            body=body,
            author=actor,
            created_at=utcnow(),
        )
        ReviewRepository(session).add_comment(comment)
        project = await project_of(session, modification, lock=False)
        require_writable(project)
        await audit.record_step(
            session,
            modification,
            project,
            actor=actor,
            event_type="modification.commented",
            description=f"commented on {path} line {line} of",
            details={"file": path, "line": line, "side": side.value},
        )
        await session.flush()
    return comment


async def approve_in_part(
    db: Database,
    ref: str,
    *,
    numbers: Collection[int] | None = None,
    comment: str | None = None,
    actor: str | None = None,
    allow_self_approval: bool | None = None,
) -> Modification:
    """Approve only some hunks of a pending modification: those numbered in
    ``numbers``, else those accepted in the review. What they make becomes
    the files that are applied (the agent's stay readable as proposed); the
    other hunks are recorded as rejected (with the reasons given, where a
    rejection gave one). Accepted hunks that do not apply to the base the
    review compared with: a ValidationError, nothing stored. Its requester
    does not approve it (``check_not_self_approval``)."""
    actor = actor or current_actor()
    comment = review_comment(comment)
    async with reviewing(db, ref, "approve") as (session, modification):
        check_not_self_approval(db, modification, actor, allow=allow_self_approval)
        project = await project_of(session, modification, lock=False)
        require_writable(project)
        review = await hunks_in(session, modification)
        if numbers is None:
            accepted = {
                item.number for item in review.hunks if item.verdict == HunkVerdict.ACCEPTED
            }
        else:
            accepted = {item.number for item in _chosen(review, numbers, ())}
        if not accepted:
            raise ValidationError(
                "hunks", "no hunk is accepted: accept some, or reject the whole modification"
            )
        before, _label = await compared_with(session, modification, project)
        _check_base(modification, review, before)
        files = await asyncio.to_thread(_accepted_files, review, accepted)
        reviews = ReviewRepository(session)
        rest = [item for item in review.hunks if item.number not in accepted]
        kept_rejections = {item.number for item in rest if item.verdict == HunkVerdict.REJECTED}
        renewed = [item for item in review.hunks if item.number not in kept_rejections]
        await reviews.forget(modification.id, [item.number for item in renewed])
        await session.flush()
        for item in renewed:
            verdict = HunkVerdict.ACCEPTED if item.number in accepted else HunkVerdict.REJECTED
            reviews.add_decision(_decision(modification, item, verdict, None, actor))
        whole = len(accepted) == len(review.hunks)
        # The agent's files: as proposed, also when a modification approved
        # in part before was reopened (its files then are the part taken).
        proposed = dict(proposed_files(modification))
        if whole:
            modification.modified_files = proposed
            modification.proposed_files = None
        else:
            modification.proposed_files = proposed
            # The agent's file modes stay: those of the files left out are
            # not written (linked.as_change), and hold again if the whole
            # change is approved after a reopen.
            modification.modified_files = files
        await record_verdict(
            session,
            modification,
            project,
            ModificationStatus.APPROVED,
            comment=comment,
            actor=actor,
            details={
                "in_part": not whole,
                "accepted": sorted(accepted),
                "rejected": [item.number for item in rest],
            },
        )
    return await applied_if_automatic(db, modification, project, actor=actor)


def _check_base(
    modification: Modification, review: HunkReview, before: Mapping[str, str | None]
) -> None:
    """The files the hunks were cut from are still those the proposal was
    made on (on an unlinked project the codebase may have moved since)."""
    if review.against != "codebase":
        return  # the base commit's files, which do not move
    moved = [
        file.path
        for file in review.files
        if file.path in modification.base
        and content_hash(before.get(file.path)) != modification.base[file.path]
    ]
    if moved:
        raise ValidationError(
            "hunks",
            f"{', '.join(moved)} changed in the codebase since the proposal: its hunks no "
            "longer apply to what was proposed against; reject the modification or have it "
            "proposed again",
        )


def _accepted_files(review: HunkReview, accepted: Collection[int]) -> dict[str, str | None]:
    """The files the accepted hunks make, each checked by applying the
    accepted hunks as a patch to the base with libgit2 (a kept diff library,
    not the code that cut them)."""
    from store import vcs

    files: dict[str, str | None] = {}
    for file in review.files:
        mine = {item.index for item in review.of_file(file.path) if item.number in accepted}
        if not mine:
            continue
        result = file.rebuilt(mine)
        partial = len(mine) < len(file.hunks)
        if partial and file.before is not None and file.after is not None:
            try:
                applied = vcs.change_from_patch(
                    hunks.partial_patch(file, mine), before={file.path: file.before}
                ).files.get(file.path, file.before)
            except StoreError as error:
                raise ValidationError(
                    "hunks", f"the accepted hunks of {file.path!r} do not apply: {error.message}"
                ) from None
            if applied != result:
                raise ValidationError(
                    "hunks",
                    f"the accepted hunks of {file.path!r} do not apply to its base as reviewed",
                )
        files[file.path] = result
    return files
