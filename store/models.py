"""The schema: SQLModel table classes and the enumerations shared by the
tables, the validation and the app.

Every column is declared explicitly so that SQLite and PostgreSQL get the same
schema from the models and from the Alembic revisions.

One module, over 600 lines, because it is one schema: the tables refer to
each other by foreign key and share the enumerations and column helpers
above them, and the revisions (``alembic check``) are compared against this
metadata as a whole.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlmodel import Field, SQLModel

from store.types import JSONType, StoredBytes, UTCDateTime, utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ProjectType(StrEnum):
    API = "api"
    WEB_APP = "web_app"
    CLI = "cli"
    LIBRARY = "library"
    DATA = "data"
    MOBILE = "mobile"
    MICROSERVICE = "microservice"
    OTHER = "other"


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    DELETED = "deleted"


class TemplateCategory(StrEnum):
    API = "api"
    WEB = "web"
    MOBILE = "mobile"
    DATA = "data"
    MICROSERVICE = "microservice"


class Complexity(StrEnum):
    SIMPLE = "simple"
    MEDIUM = "medium"
    COMPLEX = "complex"


class ModificationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    APPLIED = "applied"
    FAILED = "failed"
    REJECTED = "rejected"


class AuditCategory(StrEnum):
    SECURITY = "security"
    COMPLIANCE = "compliance"
    ACCESS = "access"
    SYSTEM = "system"
    GENERAL = "general"


class Severity(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


def _enum(enum_class: type[StrEnum], name: str) -> Enum:
    """A portable enumerated column: VARCHAR plus a CHECK constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# GIN indexes exist on PostgreSQL only; they are created by the migrations and
# by ``create_all`` there, and ignored by ``alembic check`` on both backends.
POSTGRES_GIN_INDEXES: dict[str, tuple[str, str]] = {
    "gin_projects_dependencies": ("projects", "dependencies"),
    "gin_projects_state": ("projects", "state"),
    "gin_templates_tags": ("templates", "tags"),
    "gin_templates_tech_stack": ("templates", "tech_stack"),
    "gin_modifications_affected_files": ("modifications", "affected_files"),
    "gin_audit_log_metadata": ("audit_log", "metadata"),
    # Audit text search (revision 0005): trigram indexes for ILIKE.
    "gin_audit_log_description_trgm": ("audit_log", "description"),
    "gin_audit_log_event_type_trgm": ("audit_log", "event_type"),
    "gin_audit_log_actor_trgm": ("audit_log", "actor"),
    # Dependency names (revision 0012): an index on
    # projdeck_dependency_names(dependencies), the function below.
    "gin_projects_dependency_names": ("projects", "dependencies"),
}
# Functions the PostgreSQL revisions create: the names of a dependencies
# list, which the index above holds (revision 0012).
DEPENDENCY_NAMES_FUNCTION = "projdeck_dependency_names"
POSTGRES_FUNCTIONS = frozenset({DEPENDENCY_NAMES_FUNCTION})

# Audit text search on SQLite (revision 0005): an FTS5 table over the
# description, event type and actor (trigram tokenizer, so it finds
# substrings), kept in step with audit_log by triggers. Not a model.
AUDIT_FTS_TABLE = "audit_log_fts"
# Projects' dependency names and stack words on SQLite (revision 0012), kept
# in step with projects by triggers (store.project_search). Not a model.
PROJECT_SEARCH_TERMS_TABLE = "project_search_terms"


def managed_by_hand(name: str | None, type_: str) -> bool:
    """Schema objects the revisions manage by hand, which ``alembic check`` skips."""
    if name is not None and name.startswith(
        (PROJECT_SEARCH_TERMS_TABLE, f"ix_{PROJECT_SEARCH_TERMS_TABLE}")
    ):
        return type_ in ("table", "index")
    if type_ == "index":
        return name in POSTGRES_GIN_INDEXES
    return type_ == "table" and name is not None and name.startswith(AUDIT_FTS_TABLE)


class Project(SQLModel, table=True):
    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("name"),
        UniqueConstraint("github_owner", "github_repo"),
        CheckConstraint(
            "test_coverage IS NULL OR test_coverage BETWEEN 0 AND 100", name="test_coverage_range"
        ),
        CheckConstraint(
            "security_score IS NULL OR security_score BETWEEN 0 AND 100",
            name="security_score_range",
        ),
        CheckConstraint(
            "performance_score IS NULL OR performance_score BETWEEN 0 AND 100",
            name="performance_score_range",
        ),
        CheckConstraint(
            "(github_owner IS NULL) = (github_repo IS NULL)", name="github_owner_and_repo_together"
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        # The lists' order (updated_at, id) in full, so a page, even deep or by
        # keyset, is read from the index without sorting (revision 0005).
        Index("ix_projects_owner_status_updated", "owner_id", "status", "updated_at", "id"),
        # Also the columns the list's search reads: filtering and counting
        # as you type need not visit the table's rows (revision 0007).
        Index(
            "ix_projects_status_updated_search",
            "status",
            "updated_at",
            "id",
            "name",
            "owner_id",
            "github_owner",
            "github_repo",
        ),
        Index("ix_projects_type", "type"),
        Index("ix_projects_updated_at", "updated_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    type: ProjectType = Field(sa_column=Column(_enum(ProjectType, "project_type"), nullable=False))
    status: ProjectStatus = Field(
        default=ProjectStatus.ACTIVE,
        sa_column=Column(_enum(ProjectStatus, "project_status"), nullable=False),
    )
    owner_id: str = Field(sa_column=Column(String(255), nullable=False))
    github_owner: str | None = Field(default=None, sa_column=Column(String(39)))
    github_repo: str | None = Field(default=None, sa_column=Column(String(100)))
    webhook_url: str | None = Field(default=None, sa_column=Column(String(2048)))
    auto_merge_enabled: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    auto_confirm_plans: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    codebase: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    dependencies: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    environment_vars: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    deployment_config: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    test_coverage: float | None = Field(default=None)
    security_score: float | None = Field(default=None)
    performance_score: float | None = Field(default=None)
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = _created()
    updated_at: datetime = _created()
    last_deployed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_active_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The commit of the linked repository the codebase was last synced from
    # (shared: every machine's clone knows it by the same id).
    snapshot_commit: str | None = Field(default=None, sa_column=Column(String(64)))


class ProjectSettings(SQLModel, table=True):
    __tablename__ = "project_settings"

    project_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    )
    planning_statement: str = Field(default="", sa_column=Column(Text, nullable=False))
    repository_rules: str = Field(default="", sa_column=Column(Text, nullable=False))
    setup_commands: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    branch_name: str = Field(default="main", sa_column=Column(String(255), nullable=False))
    updated_at: datetime = _created()
    # What runs the project's tests (projdeck mod test runs the setup
    # commands, then these).
    test_commands: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSONType, nullable=False, server_default=text("'[]'")),
    )


class RepositoryLink(SQLModel, table=True):
    """A project's git repository on one machine. The link is per machine:
    on a shared PostgreSQL database each person links their own clone; the
    branch is the project's (settings' branch name)."""

    __tablename__ = "repository_links"
    __table_args__ = (
        UniqueConstraint("project_id", "machine"),
        UniqueConstraint("machine", "path"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    project_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    )
    machine: str = Field(sa_column=Column(String(64), nullable=False))
    path: str = Field(sa_column=Column(Text, nullable=False))
    linked_by: str = Field(sa_column=Column(String(255), nullable=False))
    linked_at: datetime = _created()


class ProjectSecret(SQLModel, table=True):
    __tablename__ = "project_secrets"
    __table_args__ = (UniqueConstraint("project_id", "key_name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    project_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    )
    key_name: str = Field(sa_column=Column(String(100), nullable=False))
    nonce: bytes = Field(sa_column=Column(StoredBytes, nullable=False))
    ciphertext: bytes = Field(sa_column=Column(StoredBytes, nullable=False))
    key_id: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = _created()
    updated_at: datetime = _created()

    def __repr__(self) -> str:
        # Never show what decryption needs, even encrypted.
        return f"ProjectSecret(project_id={self.project_id}, key_name={self.key_name!r}, key_id={self.key_id!r})"


class Template(SQLModel, table=True):
    __tablename__ = "templates"
    __table_args__ = (
        UniqueConstraint("name"),
        CheckConstraint(
            "estimated_setup_time IS NULL OR estimated_setup_time >= 0", name="setup_time_positive"
        ),
        Index("ix_templates_category", "category"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    category: TemplateCategory = Field(
        sa_column=Column(_enum(TemplateCategory, "template_category"), nullable=False)
    )
    files: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    required_vars: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    optional_vars: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    tech_stack: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    estimated_setup_time: int | None = Field(default=None)
    complexity: Complexity = Field(
        default=Complexity.SIMPLE,
        sa_column=Column(_enum(Complexity, "template_complexity"), nullable=False),
    )
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    # Every variable in full (type, help, default, pattern, choices);
    # required_vars and optional_vars above are its summary.
    variables: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSONType, nullable=False, server_default=text("'[]'")),
    )
    # What a project made from the template starts with: its type,
    # dependencies and setup commands.
    project_setup: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSONType, nullable=False, server_default=text("'{}'")),
    )
    # Goes up by one each time an import or seed changes the template.
    version: int = Field(
        default=1, sa_column=Column(Integer, nullable=False, server_default=text("1"))
    )
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Modification(SQLModel, table=True):
    __tablename__ = "modifications"
    __table_args__ = (
        Index("ix_modifications_project_status", "project_id", "status"),
        Index("ix_modifications_requested_at", "requested_at"),
        Index("ix_modifications_reverts_id", "reverts_id"),
        Index("ix_modifications_run_id", "run_id"),
        Index("ix_modifications_revises_id", "revises_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    project_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    )
    request: str = Field(sa_column=Column(Text, nullable=False))
    requested_by: str = Field(sa_column=Column(String(255), nullable=False))
    requested_at: datetime = _created()
    impact_analysis: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    affected_files: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    status: ModificationStatus = Field(
        default=ModificationStatus.PENDING,
        sa_column=Column(_enum(ModificationStatus, "modification_status"), nullable=False),
    )
    reviewed_by: str | None = Field(default=None, sa_column=Column(String(255)))
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_comment: str | None = Field(default=None, sa_column=Column(Text))
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    modified_files: dict[str, str | None] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    base: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    test_results: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    failure_reason: str | None = Field(default=None, sa_column=Column(Text))
    # SHA-256 of the modified files as approved (modifications.files_digest);
    # apply writes them only while they still hash to it.
    approved_digest: str | None = Field(default=None, sa_column=Column(String(64)))
    # What the modified files held just before the apply (null: absent), kept for revert.
    previous_contents: dict[str, str | None] | None = Field(
        default=None, sa_column=Column(JSONType)
    )
    reverts_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("modifications.id", ondelete="SET NULL")),
    )
    # The agent run that proposed it, if an agent said so.
    run_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("agent_runs.id", ondelete="SET NULL")),
    )
    # On a linked project: the commit the change was made against, the
    # commit applying it wrote, and the git modes of files it adds or whose
    # mode it changes (path -> 0o100755 or 0o100644; absent: as before).
    base_commit: str | None = Field(default=None, sa_column=Column(String(64)))
    applied_commit: str | None = Field(default=None, sa_column=Column(String(64)))
    file_modes: dict[str, int] | None = Field(default=None, sa_column=Column(JSONType))
    # Approved in part: the files as the agent proposed them (modified_files
    # then holds what the accepted hunks make, which is what gets applied).
    proposed_files: dict[str, str | None] | None = Field(default=None, sa_column=Column(JSONType))
    # A new revision of a rejected or partly approved modification: the one
    # it revises, and its number (1 for a first proposal).
    revises_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("modifications.id", ondelete="SET NULL")),
    )
    revision: int = Field(
        default=1, sa_column=Column(Integer, nullable=False, server_default=text("1"))
    )
    # The last run of the project's tests on this change here (projdeck mod
    # test): its source, who, when, on which base, each command, the counts
    # and the last lines of output; the agent's own stay in test_results.
    local_test_results: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))


class HunkVerdict(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CommentSide(StrEnum):
    NEW = "new"  # a line of the proposed version (added or kept)
    OLD = "old"  # a line the change removes


class HunkDecision(SQLModel, table=True):
    """A reviewer's decision on one hunk of a modification's diff (numbered
    from 1 across its files, in path order). It holds for the hunk whose
    fingerprint it carries: a hunk that changed since is undecided again."""

    __tablename__ = "hunk_decisions"
    __table_args__ = (UniqueConstraint("modification_id", "hunk"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    modification_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("modifications.id", ondelete="CASCADE"), nullable=False)
    )
    path: str = Field(sa_column=Column(Text, nullable=False))
    hunk: int = Field(sa_column=Column(Integer, nullable=False))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    verdict: HunkVerdict = Field(sa_column=Column(String(16), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    decided_by: str = Field(sa_column=Column(String(255), nullable=False))
    decided_at: datetime = _created()


class ReviewComment(SQLModel, table=True):
    """A comment on one line of a modification's file (its line number in
    the proposed version, or in the version before for a removed line)."""

    __tablename__ = "review_comments"
    __table_args__ = (Index("ix_review_comments_modification_id", "modification_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    modification_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("modifications.id", ondelete="CASCADE"), nullable=False)
    )
    path: str = Field(sa_column=Column(Text, nullable=False))
    line: int = Field(sa_column=Column(Integer, nullable=False))
    side: CommentSide = Field(sa_column=Column(String(8), nullable=False))
    # The line commented on, as it read then.
    line_text: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = _created()


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_project_at", "project_id", "at"),
        Index("ix_audit_log_category_severity", "category", "severity"),
        # The actor picker's loose scan: one seek per distinct name (revision 0006).
        Index("ix_audit_log_actor", "actor"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    at: datetime = _created()
    actor: str = Field(sa_column=Column(String(255), nullable=False))
    event_type: str = Field(sa_column=Column(String(100), nullable=False))
    category: AuditCategory = Field(
        default=AuditCategory.GENERAL,
        sa_column=Column(_enum(AuditCategory, "audit_category"), nullable=False),
    )
    severity: Severity = Field(
        default=Severity.INFO, sa_column=Column(_enum(Severity, "audit_severity"), nullable=False)
    )
    project_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    entity_type: str | None = Field(default=None, sa_column=Column(String(50)))
    entity_id: str | None = Field(default=None, sa_column=Column(String(64)))
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    # ``metadata`` is taken by SQLAlchemy's declarative base, hence the attribute name.
    details: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSONType, nullable=False)
    )
    prev_hash: str | None = Field(default=None, sa_column=Column(String(64)))
    hash: str | None = Field(default=None, sa_column=Column(String(64)))


# Agent activity: conversations with their messages, agent runs and webhook
# deliveries. Money is an integer of micro-units (millionths of a dollar) so
# that SQL sums are exact on every backend.


class ConversationStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_project_updated", "project_id", "updated_at"),
        Index("ix_conversations_updated_at", "updated_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    project_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("projects.id", ondelete="CASCADE")),
    )
    title: str = Field(sa_column=Column(String(255), nullable=False))
    intent: str | None = Field(default=None, sa_column=Column(String(100)))
    status: ConversationStatus = Field(
        default=ConversationStatus.ACTIVE,
        sa_column=Column(_enum(ConversationStatus, "conversation_status"), nullable=False),
    )
    started_by: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("prompt_tokens >= 0", name="prompt_tokens_not_negative"),
        CheckConstraint("completion_tokens >= 0", name="completion_tokens_not_negative"),
        CheckConstraint("cost_micros >= 0", name="cost_not_negative"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        Index("ix_messages_role", "role"),
        Index("ix_messages_created_at", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    conversation_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False)
    )
    role: MessageRole = Field(sa_column=Column(_enum(MessageRole, "message_role"), nullable=False))
    content: str = Field(sa_column=Column(Text, nullable=False))
    intent: str | None = Field(default=None, sa_column=Column(String(100)))
    model_used: str | None = Field(default=None, sa_column=Column(String(100)))
    prompt_tokens: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    completion_tokens: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    cost_micros: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    details: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSONType, nullable=False)
    )
    created_at: datetime = _created()


class AgentRun(SQLModel, table=True):
    __tablename__ = "agent_runs"
    __table_args__ = (
        CheckConstraint("cost_micros >= 0", name="cost_not_negative"),
        Index("ix_agent_runs_created_at", "created_at"),
        Index("ix_agent_runs_project_created", "project_id", "created_at"),
        Index("ix_agent_runs_status_created", "status", "created_at"),
        Index("ix_agent_runs_agent_created", "agent", "created_at"),
        Index("ix_agent_runs_conversation_id", "conversation_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    project_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    )
    conversation_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("conversations.id", ondelete="SET NULL")),
    )
    agent: str = Field(sa_column=Column(String(100), nullable=False))
    task: str = Field(sa_column=Column(Text, nullable=False))
    status: RunStatus = Field(
        default=RunStatus.RUNNING,
        sa_column=Column(_enum(RunStatus, "run_status"), nullable=False),
    )
    created_at: datetime = _created()
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_column=Column(Text))
    # {"passed": n, "failed": n, "skipped": n, "failing": [test names]}; {} when none.
    test_results: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    cost_micros: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("attempt >= 1", name="attempt_positive"),
        CheckConstraint(
            "status_code IS NULL OR status_code BETWEEN 100 AND 599", name="status_code_range"
        ),
        Index("ix_webhook_deliveries_project_created", "project_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid, primary_key=True))
    project_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    )
    event: str = Field(sa_column=Column(String(100), nullable=False))
    # Stored with any credentials it held masked.
    url: str = Field(sa_column=Column(String(2048), nullable=False))
    status_code: int | None = Field(default=None, sa_column=Column(Integer))
    attempt: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    response_excerpt: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = _created()
