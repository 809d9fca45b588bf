"""modifications.approved_digest: the hash of the files as approved, checked at apply

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Apply wrote whatever a modification's files held at that moment, so content
changed in the database after the review (by a database client, or a trigger
brought in with a restored backup) was written into the codebase unseen.
Approval now records a SHA-256 of the files (paths and contents, deletions
included) and apply refuses files that no longer hash to it.

Modifications already approved when this runs get the digest of their files
as they are now, so they can still be applied; apply refuses an approved
modification without one.
"""

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _digest(files: dict[str, Any]) -> str:
    # The encoding of store.services.modifications.files_digest, kept here
    # as it was when this revision was written.
    pairs = [[path, files[path]] for path in sorted(files)]
    encoded = json.dumps(pairs, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("modifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_digest", sa.String(length=64), nullable=True))
    modifications = sa.table(
        "modifications",
        sa.column("id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("modified_files", sa.JSON()),
        sa.column("approved_digest", sa.String()),
    )
    connection = op.get_bind()
    approved = connection.execute(
        sa.select(modifications.c.id, modifications.c.modified_files).where(
            modifications.c.status == "approved"
        )
    ).all()
    for modification_id, files in approved:
        connection.execute(
            modifications.update()
            .where(modifications.c.id == modification_id)
            .values(approved_digest=_digest(files or {}))
        )


def downgrade() -> None:
    with op.batch_alter_table("modifications", schema=None) as batch_op:
        batch_op.drop_column("approved_digest")
