"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import store.types

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# PostgreSQL only: GIN indexes on the JSONB columns that are searched by
# containment (tags, dependencies, metadata). Listed in store.models too.
GIN_INDEXES = {
    "gin_projects_dependencies": ("projects", "dependencies"),
    "gin_projects_state": ("projects", "state"),
    "gin_templates_tags": ("templates", "tags"),
    "gin_templates_tech_stack": ("templates", "tech_stack"),
    "gin_modifications_affected_files": ("modifications", "affected_files"),
    "gin_audit_log_metadata": ("audit_log", "metadata"),
}

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "security",
                "compliance",
                "access",
                "system",
                "general",
                name="audit_category",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum(
                "debug",
                "info",
                "warning",
                "error",
                "critical",
                name="audit_severity",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("entity_type", sa.String(length=50), nullable=True),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)
        batch_op.create_index(
            "ix_audit_log_category_severity", ["category", "severity"], unique=False
        )
        batch_op.create_index("ix_audit_log_project_at", ["project_id", "at"], unique=False)

    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "api",
                "web_app",
                "cli",
                "library",
                "data",
                "mobile",
                "microservice",
                "other",
                name="project_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "archived",
                "deleted",
                name="project_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.String(length=255), nullable=False),
        sa.Column("github_owner", sa.String(length=39), nullable=True),
        sa.Column("github_repo", sa.String(length=100), nullable=True),
        sa.Column("webhook_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "auto_merge_enabled", sa.Boolean(), server_default=sa.text("(false)"), nullable=False
        ),
        sa.Column(
            "auto_confirm_plans", sa.Boolean(), server_default=sa.text("(false)"), nullable=False
        ),
        sa.Column("codebase", JSON, nullable=False),
        sa.Column("dependencies", JSON, nullable=False),
        sa.Column("environment_vars", JSON, nullable=False),
        sa.Column("deployment_config", JSON, nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("test_coverage", sa.Float(), nullable=True),
        sa.Column("security_score", sa.Float(), nullable=True),
        sa.Column("performance_score", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_deployed_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_active_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(github_owner IS NULL) = (github_repo IS NULL)",
            name=op.f("ck_projects_github_owner_and_repo_together"),
        ),
        sa.CheckConstraint(
            "performance_score IS NULL OR performance_score BETWEEN 0 AND 100",
            name=op.f("ck_projects_performance_score_range"),
        ),
        sa.CheckConstraint(
            "security_score IS NULL OR security_score BETWEEN 0 AND 100",
            name=op.f("ck_projects_security_score_range"),
        ),
        sa.CheckConstraint(
            "test_coverage IS NULL OR test_coverage BETWEEN 0 AND 100",
            name=op.f("ck_projects_test_coverage_range"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_projects_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint(
            "github_owner", "github_repo", name=op.f("uq_projects_github_owner_github_repo")
        ),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_projects_owner_status_updated", ["owner_id", "status", "updated_at"], unique=False
        )
        batch_op.create_index("ix_projects_status_updated", ["status", "updated_at"], unique=False)
        batch_op.create_index("ix_projects_type", ["type"], unique=False)
        batch_op.create_index("ix_projects_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "api",
                "web",
                "mobile",
                "data",
                "microservice",
                name="template_category",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("files", JSON, nullable=False),
        sa.Column("required_vars", JSON, nullable=False),
        sa.Column("optional_vars", JSON, nullable=False),
        sa.Column("tech_stack", JSON, nullable=False),
        sa.Column("estimated_setup_time", sa.Integer(), nullable=True),
        sa.Column(
            "complexity",
            sa.Enum(
                "simple",
                "medium",
                "complex",
                name="template_complexity",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "estimated_setup_time IS NULL OR estimated_setup_time >= 0",
            name=op.f("ck_templates_setup_time_positive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_templates_name")),
    )
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.create_index("ix_templates_category", ["category"], unique=False)

    op.create_table(
        "modifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("requested_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("impact_analysis", JSON, nullable=False),
        sa.Column("affected_files", JSON, nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "applied",
                "failed",
                "rejected",
                name="modification_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reviewed_by", sa.String(length=255), nullable=True),
        sa.Column("reviewed_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("applied_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("modified_files", JSON, nullable=False),
        sa.Column("base", JSON, nullable=False),
        sa.Column("test_results", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_modifications_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modifications")),
    )
    with op.batch_alter_table("modifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_modifications_project_status", ["project_id", "status"], unique=False
        )
        batch_op.create_index("ix_modifications_requested_at", ["requested_at"], unique=False)

    op.create_table(
        "project_secrets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("key_name", sa.String(length=100), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_secrets_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_secrets")),
        sa.UniqueConstraint(
            "project_id", "key_name", name=op.f("uq_project_secrets_project_id_key_name")
        ),
    )
    op.create_table(
        "project_settings",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("planning_statement", sa.Text(), nullable=False),
        sa.Column("repository_rules", sa.Text(), nullable=False),
        sa.Column("setup_commands", JSON, nullable=False),
        sa.Column("branch_name", sa.String(length=255), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_settings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_settings")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, column) in GIN_INDEXES.items():
            op.create_index(name, table, [column], postgresql_using="gin")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _column) in GIN_INDEXES.items():
            op.drop_index(name, table_name=table)
    op.drop_table("project_settings")
    op.drop_table("project_secrets")
    with op.batch_alter_table("modifications", schema=None) as batch_op:
        batch_op.drop_index("ix_modifications_requested_at")
        batch_op.drop_index("ix_modifications_project_status")

    op.drop_table("modifications")
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.drop_index("ix_templates_category")

    op.drop_table("templates")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index("ix_projects_updated_at")
        batch_op.drop_index("ix_projects_type")
        batch_op.drop_index("ix_projects_status_updated")
        batch_op.drop_index("ix_projects_owner_status_updated")

    op.drop_table("projects")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_project_at")
        batch_op.drop_index("ix_audit_log_category_severity")
        batch_op.drop_index("ix_audit_log_at")

    op.drop_table("audit_log")
