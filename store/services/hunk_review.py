"""Review hunk by hunk: a modification's diff split into numbered hunks,
a reviewer's decision on each (with a reason for a rejection), comments on
lines, approval in part (only the accepted hunks are applied) and the
feedback an agent reads.

Hunks are numbered from 1 across the modification's files in path order,
as the review shows them (``store.hunks``: the code path that draws the
diff). A decision carries the fingerprint of the hunk it was made on: when
the diff changes under it (the codebase moved, the modification was
reopened), the hunk shows as undecided again and the decision as outdated.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, hunks, validation
from store.config import current_actor, machine_id
from store.engine import Database
from store.errors import InvalidTransition, StoreError, ValidationError
from store.ids import iso, short_id
from store.models import (
    AgentRun,
    CommentSide,
    Conversation,
    ConversationStatus,
    HunkDecision,
    HunkVerdict,
    Message,
    MessageRole,
    Modification,
    ModificationStatus,
    Project,
    ReviewComment,
)
from store.repositories import LinkRepository, ReviewRepository
from store.services.modifications import (
    applied_if_automatic,
    content_hash,
    record_verdict,
    review_comment,
)
from store.services.review import project_of, resolve_modification, review_base
from store.types import utcnow

MAX_COMMENT = 20_000
# A feedback message in a conversation (a message holds at most a million characters).
MAX_MESSAGE = 200_000


@dataclass(frozen=True)
class NumberedHunk:
    """One hunk of a modification with its number (from 1, across files),
    its place in its file (from 0) and the decision on it, if any holds."""

    number: int
    path: str
    index: int
    hunk: hunks.Hunk
    fingerprint: str
    decision: HunkDecision | None = None
    # A decision was made on an earlier form of this hunk.
    outdated: bool = False

    @property
    def verdict(self) -> HunkVerdict | None:
        return self.decision.verdict if self.decision is not None else None


class FileState:
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTLY = "partly accepted"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class HunkReview:
    """A modification's hunks as the reviewer sees them now, with the
    comments on its lines."""

    modification: Modification
    project_name: str
    against: str
    files: list[hunks.FileHunks]
    hunks: list[NumberedHunk]
    comments: list[ReviewComment] = field(default_factory=list)

    def of_file(self, path: str) -> list[NumberedHunk]:
        return [item for item in self.hunks if item.path == path]

    def file_state(self, path: str) -> str:
        verdicts = {item.verdict for item in self.of_file(path)}
        if verdicts == {HunkVerdict.ACCEPTED}:
            return FileState.ACCEPTED
        if verdicts == {HunkVerdict.REJECTED}:
            return FileState.REJECTED
        if HunkVerdict.ACCEPTED in verdicts:
            return FileState.PARTLY
        return FileState.UNDECIDED

    @property
    def in_part(self) -> bool:
        """Approved in part: what is applied is the accepted hunks only."""
        return self.modification.proposed_files is not None


def _split(modification: Modification, before: Mapping[str, str | None]) -> list[hunks.FileHunks]:
    """The agent's files (as proposed, also after an approval in part)
    against ``before``, as hunks."""
    files = modification.proposed_files or modification.modified_files
    return [hunks.split(path, before.get(path), files[path]) for path in sorted(files)]


def _numbered(
    files: list[hunks.FileHunks], decisions: Sequence[HunkDecision]
) -> list[NumberedHunk]:
    by_number = {decision.hunk: decision for decision in decisions}
    numbered: list[NumberedHunk] = []
    for file in files:
        for index, hunk in enumerate(file.hunks):
            number = len(numbered) + 1
            fingerprint = hunk.fingerprint(file.path)
            decision = by_number.get(number)
            holds = decision is not None and decision.fingerprint == fingerprint
            numbered.append(
                NumberedHunk(
                    number=number,
                    path=file.path,
                    index=index,
                    hunk=hunk,
                    fingerprint=fingerprint,
                    decision=decision if holds else None,
                    outdated=decision is not None and not holds,
                )
            )
    return numbered


async def _before(
    session: AsyncSession, modification: Modification, project: Project
) -> tuple[Mapping[str, str | None], str]:
    link = await LinkRepository(session).get(project.id, machine_id())
    before, label = await review_base(modification, project.codebase, link)
    if modification.status == ModificationStatus.APPLIED and modification.previous_contents:
        # Once applied, the codebase holds the change: its files before it.
        return {**before, **modification.previous_contents}, "before apply"
    return before, label


async def _review_in(session: AsyncSession, modification: Modification) -> HunkReview:
    project = await project_of(session, modification, lock=False)
    before, label = await _before(session, modification, project)
    files = await asyncio.to_thread(_split, modification, before)
    reviews = ReviewRepository(session)
    decisions = await reviews.decisions(modification.id)
    return HunkReview(
        modification=modification,
        project_name=project.name,
        against=label,
        files=files,
        hunks=_numbered(files, decisions),
        comments=await reviews.comments(modification.id),
    )


async def modification_hunks(db: Database, ref: str) -> HunkReview:
    """``ref``'s hunks, numbered, with the decisions that hold and the comments."""
    async with db.reading() as session:
        modification = await resolve_modification(session, ref)
        return await _review_in(session, modification)


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


def _require_pending(modification: Modification, wanted: str) -> None:
    if modification.status != ModificationStatus.PENDING:
        raise InvalidTransition("modification", str(modification.status), wanted)


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
    async with db.transaction() as session:
        modification = await resolve_modification(session, ref, for_update=True)
        _require_pending(modification, "decide on the hunks of")
        review = await _review_in(session, modification)
        chosen = _chosen(review, numbers, paths)
        reviews = ReviewRepository(session)
        await reviews.forget(modification.id, [item.number for item in chosen])
        await session.flush()
        if verdict is not None:
            for item in chosen:
                reviews.add_decision(_decision(modification, item, verdict, reason, actor))
        project = await project_of(session, modification, lock=False)
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
        await session.flush()
        return await _review_in(session, modification)


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
    async with db.transaction() as session:
        modification = await resolve_modification(session, ref, for_update=True)
        review = await _review_in(session, modification)
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
) -> Modification:
    """Approve only some hunks of a pending modification: those numbered in
    ``numbers``, else those accepted in the review. What they make becomes
    the files that are applied (the agent's stay readable as proposed); the
    other hunks are recorded as rejected (with the reasons given, where a
    rejection gave one). Accepted hunks that do not apply to the base the
    review compared with: a ValidationError, nothing stored."""
    actor = actor or current_actor()
    comment = review_comment(comment)
    async with db.transaction() as session:
        modification = await resolve_modification(session, ref, for_update=True)
        _require_pending(modification, "approve")
        project = await project_of(session, modification, lock=False)
        review = await _review_in(session, modification)
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
        before, _label = await _before(session, modification, project)
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
        if not whole:
            modification.proposed_files = dict(modification.modified_files)
            modification.modified_files = files
            if modification.file_modes:
                modification.file_modes = {
                    path: mode for path, mode in modification.file_modes.items() if path in files
                }
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


@dataclass(frozen=True)
class Feedback:
    """What a reviewer said of a modification, for the agent that made it."""

    modification: Modification
    project_name: str
    hunks: list[NumberedHunk]
    comments: list[ReviewComment]

    @property
    def verdict(self) -> str:
        status = self.modification.status
        if status == ModificationStatus.PENDING:
            return "pending"
        if status == ModificationStatus.REJECTED:
            return "rejected"
        if self.modification.proposed_files is not None:
            return "approved in part"
        return "approved"

    def as_dict(self) -> dict[str, object]:
        modification = self.modification
        return {
            "modification": str(modification.id),
            "project": self.project_name,
            "status": str(modification.status),
            "verdict": self.verdict,
            "reviewed_by": modification.reviewed_by,
            "reviewed_at": iso(modification.reviewed_at),
            "comment": modification.review_comment,
            "hunks": [
                {
                    "number": item.number,
                    "file": item.path,
                    "header": item.hunk.header,
                    "decision": str(item.verdict) if item.verdict else "undecided",
                    "reason": item.decision.reason if item.decision else None,
                    "outdated": item.outdated,
                }
                for item in self.hunks
            ],
            "comments": [
                {
                    "file": comment.path,
                    "line": comment.line,
                    "side": str(comment.side),
                    "line_text": comment.line_text,
                    "text": comment.body,
                    "author": comment.author,
                    "at": iso(comment.created_at),
                }
                for comment in self.comments
            ],
        }


def feedback_text(given: Feedback) -> str:
    """The feedback as a person or an agent reads it: the verdict, each
    hunk's decision (and reason) with its file and header, each comment
    with its file, line and the line's text."""
    modification = given.modification
    lines = [
        f"Review of modification {modification.id} ({modification.request.splitlines()[0]}): "
        f"{given.verdict}"
        + (f" by {modification.reviewed_by}" if modification.reviewed_by else "")
        + "."
    ]
    if modification.review_comment:
        lines.append(f"Comment: {modification.review_comment}")
    lines.append("Hunks:")
    for item in given.hunks:
        decision = str(item.verdict) if item.verdict else "undecided"
        if item.decision is not None and item.decision.reason:
            decision += f": {item.decision.reason}"
        lines.append(f"- #{item.number} {item.path} {item.hunk.header}: {decision}")
    if given.comments:
        lines.append("Comments:")
        for note in given.comments:
            removed = ", a removed line" if note.side == CommentSide.OLD else ""
            lines.append(
                f"- {note.path} line {note.line}{removed} ({note.line_text.strip()!r}), "
                f"{note.author}: {note.body}"
            )
    return "\n".join(lines)


async def tell_the_agent(session: AsyncSession, modification: Modification) -> uuid.UUID | None:
    """After a verdict: the feedback added, as a message from the reviewer,
    to the conversation of the agent run that proposed the modification (if
    it has one and it is still open). The conversation's id, or None."""
    if modification.run_id is None:
        return None
    run = await session.get(AgentRun, modification.run_id)
    if run is None or run.conversation_id is None:
        return None
    conversation = await session.get(Conversation, run.conversation_id)
    if conversation is None or conversation.status != ConversationStatus.ACTIVE:
        return None
    review = await _review_in(session, modification)
    given = Feedback(modification, review.project_name, review.hunks, review.comments)
    text = feedback_text(given)
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 40] + "\n… (cut: mod feedback gives it all)"
    now = utcnow()
    session.add(
        Message(
            conversation_id=conversation.id,
            role=MessageRole.USER,
            content=text,
            intent="review",
            details={"modification": str(modification.id), "verdict": given.verdict},
            created_at=now,
        )
    )
    conversation.updated_at = now
    return conversation.id


async def feedback(db: Database, ref: str) -> Feedback:
    """The verdict, every hunk's decision and every comment of ``ref``."""
    review = await modification_hunks(db, ref)
    return Feedback(
        modification=review.modification,
        project_name=review.project_name,
        hunks=review.hunks,
        comments=review.comments,
    )
