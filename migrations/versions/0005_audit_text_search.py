"""audit text search: an FTS5 trigram table on SQLite, trigram GIN indexes on PostgreSQL; project list indexes end with id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Searching the audit log for a piece of text (a substring of the description,
event type or actor, any case) scanned every row: about half a second at a
million rows. On SQLite an external-content FTS5 table with the trigram
tokenizer answers the same substring question from an index, and triggers
keep it in step with audit_log; on PostgreSQL, pg_trgm GIN indexes serve the
ILIKE the services already use.

The two indexes behind the projects list gain ``id``, the list's tie-break,
so a page is read in index order without a sort, however deep.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("description", "event_type", "actor")


_PROJECT_INDEXES = {
    "ix_projects_owner_status_updated": ["owner_id", "status", "updated_at"],
    "ix_projects_status_updated": ["status", "updated_at"],
}


def _project_indexes(with_id: bool) -> None:
    for name, columns in _PROJECT_INDEXES.items():
        op.drop_index(name, table_name="projects")
        op.create_index(name, "projects", [*columns, "id"] if with_id else columns)


def upgrade() -> None:
    _project_indexes(with_id=True)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE audit_log_fts USING fts5(description, event_type, actor, "
            "content='audit_log', content_rowid='id', tokenize='trigram')"
        )
        op.execute("INSERT INTO audit_log_fts(audit_log_fts) VALUES ('rebuild')")
        op.execute(
            "CREATE TRIGGER audit_log_fts_insert AFTER INSERT ON audit_log BEGIN "
            "INSERT INTO audit_log_fts(rowid, description, event_type, actor) "
            "VALUES (new.id, new.description, new.event_type, new.actor); END"
        )
        op.execute(
            "CREATE TRIGGER audit_log_fts_delete AFTER DELETE ON audit_log BEGIN "
            "INSERT INTO audit_log_fts(audit_log_fts, rowid, description, event_type, actor) "
            "VALUES ('delete', old.id, old.description, old.event_type, old.actor); END"
        )
        op.execute(
            "CREATE TRIGGER audit_log_fts_update "
            "AFTER UPDATE OF id, description, event_type, actor ON audit_log BEGIN "
            "INSERT INTO audit_log_fts(audit_log_fts, rowid, description, event_type, actor) "
            "VALUES ('delete', old.id, old.description, old.event_type, old.actor); "
            "INSERT INTO audit_log_fts(rowid, description, event_type, actor) "
            "VALUES (new.id, new.description, new.event_type, new.actor); END"
        )
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.create_index(
            f"gin_audit_log_{column}_trgm",
            "audit_log",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    _project_indexes(with_id=False)
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS audit_log_fts")
        return
    for column in COLUMNS:
        op.drop_index(f"gin_audit_log_{column}_trgm", table_name="audit_log")
