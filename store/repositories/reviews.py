"""Queries on ``hunk_decisions`` and ``review_comments``: a reviewer's
decisions on a modification's hunks and comments on its lines."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import delete, select
from sqlmodel import col

from store.models import HunkDecision, ReviewComment
from store.repositories.base import Repository


class ReviewRepository(Repository):
    async def decisions(self, modification_id: uuid.UUID) -> list[HunkDecision]:
        """The modification's decisions, by hunk number."""
        result = await self.session.execute(
            select(HunkDecision)
            .where(col(HunkDecision.modification_id) == modification_id)
            .order_by(col(HunkDecision.hunk))
        )
        return list(result.scalars())

    async def forget(self, modification_id: uuid.UUID, hunks: Collection[int]) -> None:
        """Drop the decisions on ``hunks`` (before new ones take their place)."""
        await self.session.execute(
            delete(HunkDecision).where(
                col(HunkDecision.modification_id) == modification_id,
                col(HunkDecision.hunk).in_(list(hunks)),
            )
        )

    def add_decision(self, decision: HunkDecision) -> None:
        self.session.add(decision)

    async def comments(self, modification_id: uuid.UUID) -> list[ReviewComment]:
        """The modification's comments, by file, line and time."""
        result = await self.session.execute(
            select(ReviewComment)
            .where(col(ReviewComment.modification_id) == modification_id)
            .order_by(
                col(ReviewComment.path), col(ReviewComment.line), col(ReviewComment.created_at)
            )
        )
        return list(result.scalars())

    def add_comment(self, comment: ReviewComment) -> None:
        self.session.add(comment)
