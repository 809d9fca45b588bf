"""audit log: an index on actor, for the app's actor picker

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

The Audit screen's actor filter offered every distinct actor, a scan of the
whole log (about 0.8 s at a million rows) each time the screen opened. The
picker that replaces it asks for the actors starting with what was typed, a
few at a time; with this index each name is one seek (a loose index scan).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
