"""hunk review: decisions on a modification's hunks, comments on its lines,
the files an agent proposed when a reviewer approves only part of them, and
revisions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

A reviewer may accept or reject each hunk of a modification's diff and
comment on any of its lines; approving in part keeps the agent's files in
``modifications.proposed_files`` while ``modified_files`` holds what the
accepted hunks make, which is what gets applied. A modification may revise a rejected or partly
approved one (``revises_id``), with its revision number.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import store.types

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC_TIME = store.types.UTCDateTime(timezone=True)

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hunk_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("modification_id", sa.Uuid(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("hunk", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["modification_id"],
            ["modifications.id"],
            name=op.f("fk_hunk_decisions_modification_id_modifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hunk_decisions")),
        sa.UniqueConstraint(
            "modification_id", "hunk", name=op.f("uq_hunk_decisions_modification_id_hunk")
        ),
    )
    op.create_table(
        "review_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("modification_id", sa.Uuid(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("line_text", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["modification_id"],
            ["modifications.id"],
            name=op.f("fk_review_comments_modification_id_modifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comments")),
    )
    op.create_index("ix_review_comments_modification_id", "review_comments", ["modification_id"])
    with op.batch_alter_table("modifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposed_files", JSON, nullable=True))
        batch_op.add_column(sa.Column("revises_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch_op.create_foreign_key(
            op.f("fk_modifications_revises_id_modifications"),
            "modifications",
            ["revises_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_modifications_revises_id", ["revises_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("modifications", schema=None) as batch_op:
        batch_op.drop_index("ix_modifications_revises_id")
        batch_op.drop_constraint(
            op.f("fk_modifications_revises_id_modifications"), type_="foreignkey"
        )
        batch_op.drop_column("revision")
        batch_op.drop_column("revises_id")
        batch_op.drop_column("proposed_files")
    op.drop_index("ix_review_comments_modification_id", table_name="review_comments")
    op.drop_table("review_comments")
    op.drop_table("hunk_decisions")
