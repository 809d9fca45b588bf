"""repository links: projects linked to git repositories; the commits of snapshots and modifications

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

A project may be linked to a local git repository (per machine: on a shared
PostgreSQL database each person links their own clone). Its codebase
snapshot records the commit it was synced from; a modification records the
commit it was made against, the commit that applied it, and the git modes
of the files it adds or changes the mode of.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import store.types

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC_TIME = store.types.UTCDateTime(timezone=True)

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "repository_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("machine", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("linked_by", sa.String(length=255), nullable=False),
        sa.Column("linked_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_repository_links_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repository_links")),
        sa.UniqueConstraint("machine", "path", name=op.f("uq_repository_links_machine_path")),
        sa.UniqueConstraint(
            "project_id", "machine", name=op.f("uq_repository_links_project_id_machine")
        ),
    )
    with op.batch_alter_table("modifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_commit", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("applied_commit", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("file_modes", JSON, nullable=True))
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snapshot_commit", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("snapshot_commit")
    with op.batch_alter_table("modifications", schema=None) as batch_op:
        batch_op.drop_column("file_modes")
        batch_op.drop_column("applied_commit")
        batch_op.drop_column("base_commit")
    op.drop_table("repository_links")
