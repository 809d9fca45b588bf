"""test runs: a project's test commands, and the result of running them on
a modification here

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

``projdeck mod test`` runs a project's setup and test commands on a
proposed change (in a scratch git worktree or a copy of the codebase) and
keeps what came of it beside what the agent reported:
``project_settings.test_commands`` (a JSON list, empty by default) and
``modifications.local_test_results`` (JSON: who ran it, when, on which base,
each command's exit code and time, the counts, the last lines of output;
null until a run). Dropping them on downgrade loses those.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "project_settings",
        sa.Column("test_commands", JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column("modifications", sa.Column("local_test_results", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("modifications") as batch:
        batch.drop_column("local_test_results")
    with op.batch_alter_table("project_settings") as batch:
        batch.drop_column("test_commands")
