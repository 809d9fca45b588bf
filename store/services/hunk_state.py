"""What a reviewer decided and said of a modification's hunks, read: its
diff as numbered hunks with the decisions that hold and the comments, and
the feedback an agent reads (also told, at the verdict, to the conversation
of the agent run that proposed it). The writes are ``hunk_review``'s; this
module is also what the verdict's own code (``modifications``) uses.

Hunks are numbered from 1 across the modification's files in path order,
as the review shows them (``store.hunks``: the code path that draws the
diff). A decision carries the fingerprint of the hunk it was made on: when
the diff changes under it (the codebase moved, the modification was
reopened), the hunk shows as undecided again and the decision as outdated.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from store import hunks
from store.config import machine_id
from store.engine import Database
from store.ids import iso
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
from store.repositories import LinkRepository, ModificationRepository, ReviewRepository
from store.services.review import (
    FileChange,
    change_kind,
    project_of,
    resolve_modification,
    review_base,
)
from store.types import utcnow

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
    files = proposed_files(modification)
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


async def compared_with(
    session: AsyncSession, modification: Modification, project: Project
) -> tuple[Mapping[str, str | None], str]:
    link = await LinkRepository(session).get(project.id, machine_id())
    before, label = await review_base(modification, project.codebase, link)
    if modification.status == ModificationStatus.APPLIED and modification.previous_contents:
        # Once applied, the codebase holds the change: its files before it.
        return {**before, **modification.previous_contents}, "before apply"
    return before, label


async def hunks_in(session: AsyncSession, modification: Modification) -> HunkReview:
    project = await project_of(session, modification, lock=False)
    before, label = await compared_with(session, modification, project)
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
        return await hunks_in(session, modification)


@dataclass(frozen=True)
class CarriedComment:
    """A comment on the revision before, and the line of this revision it
    now stands on (None: the line is gone, so the comment is outdated)."""

    comment: ReviewComment
    line: int | None


@dataclass(frozen=True)
class SinceReview:
    """What changed between the revision reviewed last and this one: each
    file that differs (as the earlier revision proposed it, or as it was if
    that one left it alone, against this revision's), and the earlier
    revision's comments carried to the lines they still apply to."""

    modification: Modification
    earlier: Modification
    files: list[FileChange]
    comments: list[CarriedComment]


def proposed_files(modification: Modification) -> dict[str, str | None]:
    """The agent's files: as proposed, also once approved in part (its
    ``modified_files`` are then the part taken)."""
    return modification.proposed_files or modification.modified_files


def _carried(comment: ReviewComment, where: Mapping[str, list[int]]) -> int | None:
    """The line of the file now (``where``: each line's text, without its
    end, to the numbers of the lines that read so) that reads as the
    commented line did: the same number if it still does, else the nearest
    that does; None if none."""
    if comment.side == CommentSide.OLD:
        return comment.line  # a line of the version before, which both revise
    line = comment.line
    same = where.get(comment.line_text, [])
    return min(same, key=lambda number: abs(number - line)) if same else None


def _since(
    modification: Modification,
    earlier: Modification,
    base: Mapping[str, str | None],
    comments: Sequence[ReviewComment],
) -> SinceReview:
    before_files, after_files = proposed_files(earlier), proposed_files(modification)
    files = []
    for path in sorted({*before_files, *after_files}):
        before = before_files[path] if path in before_files else base.get(path)
        after = after_files[path] if path in after_files else base.get(path)
        if before == after:
            continue
        diff, added, removed = hunks.unified(hunks.split(path, before, after, quick=True))
        files.append(
            FileChange(path, change_kind(before, after), added, removed, before, after, diff)
        )
    where_in: dict[str, dict[str, list[int]]] = {}
    for note in comments:
        if note.path not in where_in:
            now = after_files[note.path] if note.path in after_files else base.get(note.path)
            where: dict[str, list[int]] = {}
            for number, line in enumerate(hunks.text_lines(now or ""), start=1):
                where.setdefault(line.rstrip("\n"), []).append(number)
            where_in[note.path] = where
    carried = [CarriedComment(note, _carried(note, where_in[note.path])) for note in comments]
    return SinceReview(modification, earlier, files, carried)


async def since_last_review(db: Database, ref: str) -> SinceReview | None:
    """What changed since the revision ``ref`` revises (None if it revises
    none, or that one is gone)."""
    async with db.reading() as session:
        modification = await resolve_modification(session, ref)
        if modification.revises_id is None:
            return None
        earlier = await ModificationRepository(session).get(modification.revises_id)
        if earlier is None:
            return None
        project = await project_of(session, modification, lock=False)
        base, _label = await compared_with(session, modification, project)
        comments = await ReviewRepository(session).comments(earlier.id)
    return await asyncio.to_thread(_since, modification, earlier, base, comments)


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
    review = await hunks_in(session, modification)
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
