"""modification workflow: failure reason, contents kept for revert, revert link

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New columns are nullable, so existing modifications keep their rows as they are.
    with op.batch_alter_table("modifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("previous_contents", JSON, nullable=True))
        batch_op.add_column(sa.Column("reverts_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_modifications_reverts_id_modifications"),
            "modifications",
            ["reverts_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_modifications_reverts_id", ["reverts_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("modifications", schema=None) as batch_op:
        batch_op.drop_index("ix_modifications_reverts_id")
        batch_op.drop_constraint(
            op.f("fk_modifications_reverts_id_modifications"), type_="foreignkey"
        )
        batch_op.drop_column("reverts_id")
        batch_op.drop_column("previous_contents")
        batch_op.drop_column("failure_reason")
