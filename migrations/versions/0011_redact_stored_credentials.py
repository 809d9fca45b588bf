"""redact the credentials already stored in messages' metadata, runs' errors
and test results, and webhook deliveries

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

One redaction rule (``store.redaction.redact``) now applies before anything
is stored: a value under a key that names a credential, and a credential
recognised by its shape inside text (bearer tokens, providers' keys, PEM
private keys, URLs with credentials), becomes ``[redacted]``, while token
counts and other look-alikes stay as written. Until now an agent's message
metadata kept ``"api_key": "sk-..."`` in clear. This revision applies the
rule to what is already stored: messages' ``metadata``, agent runs'
``error`` and ``test_results``, webhook deliveries' ``url`` and
``response_excerpt``. Rows the rule leaves unchanged are not written, and
one audit row (``schema.redacted``, category security) says how many rows of
each table were rewritten; a database with nothing to redact gets none.

Audit rows are not rewritten: the hash chain covers their metadata, so rows
written earlier keep what the rule of their time left.

One-way for the data: what was redacted is gone, and downgrading leaves it
redacted (the schema does not change, so there is nothing else to undo).
Offline (``alembic upgrade --sql``) there are no rows to read, so the
script this revision adds is empty; run the upgrade against the database to
redact.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

import store.types
from store import audit, validation
from store.config import current_actor
from store.models import AuditCategory, AuditEntry, Severity
from store.redaction import redact

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500
# The columns redacted, as the tables are at this revision.
_REDACTED = {
    "messages": ("metadata",),
    "agent_runs": ("error", "test_results"),
    "webhook_deliveries": ("url", "response_excerpt"),
}
_JSON_COLUMNS = {"metadata", "test_results"}

# audit_log as it is at this revision (a later revision's columns are not
# there yet when this one runs).
_AUDIT_LOG = sa.table(
    "audit_log",
    sa.column("id", sa.BigInteger()),
    sa.column("at", store.types.UTCDateTime()),
    sa.column("actor", sa.String()),
    sa.column("event_type", sa.String()),
    sa.column("category", sa.String()),
    sa.column("severity", sa.String()),
    sa.column("project_id", sa.Uuid()),
    sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.String()),
    sa.column("description", sa.Text()),
    sa.column("metadata", store.types.JSONType()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _redact_table(connection: sa.Connection, name: str, columns: tuple[str, ...]) -> int:
    """Rewrite the rows of ``name`` whose ``columns`` the rule changes, a
    batch at a time in id order; how many were rewritten."""
    table = sa.table(
        name,
        sa.column("id", sa.Uuid()),
        *(
            sa.column(column, store.types.JSONType() if column in _JSON_COLUMNS else sa.Text())
            for column in columns
        ),
    )
    rewritten = 0
    after = None
    while True:
        query = sa.select(table).order_by(table.c.id).limit(_BATCH)
        if after is not None:
            query = query.where(table.c.id > after)
        rows = connection.execute(query).mappings().all()
        if not rows:
            return rewritten
        for row in rows:
            changes = {}
            for column in columns:
                redacted = redact(row[column])
                if redacted != row[column]:
                    changes[column] = redacted
            if changes:
                connection.execute(table.update().where(table.c.id == row["id"]).values(**changes))
                rewritten += 1
        after = rows[-1]["id"]


def _record(connection: sa.Connection, counts: dict[str, int]) -> None:
    """One audit row saying what was rewritten, linked into the hash chain
    as ``store.audit.record`` links every row (under the chain's lock on
    PostgreSQL), in this revision's transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": audit.CHAIN_LOCK_KEY}
        )
        prev_hash, entry_id = connection.execute(
            sa.text(
                "SELECT (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), "
                "nextval(pg_get_serial_sequence('audit_log', 'id'))"
            )
        ).one()
    else:
        last = connection.execute(
            sa.text("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
        ).first()
        prev_hash, entry_id = (last[1], int(last[0]) + 1) if last is not None else (None, 1)
    prev_hash = prev_hash or audit.GENESIS_HASH
    parts = ", ".join(f"{count} {table}" for table, count in counts.items() if count)
    actor = validation.name("actor", context.config.attributes.get("actor") or current_actor())
    entry = AuditEntry(
        id=int(entry_id),
        actor=actor,
        event_type="schema.redacted",
        category=AuditCategory.SECURITY,
        severity=Severity.WARNING,
        entity_type="schema",
        entity_id=revision,
        description=f"redacted the credentials stored before revision {revision}; "
        f"rows rewritten: {parts}",
        details={"revision": revision, "rewritten": counts},
        prev_hash=prev_hash,
    )
    entry.hash = audit.chain_hash(prev_hash, entry)
    connection.execute(
        _AUDIT_LOG.insert().values(
            id=entry.id,
            at=entry.at,
            actor=entry.actor,
            event_type=entry.event_type,
            category=str(entry.category),
            severity=str(entry.severity),
            project_id=None,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            description=entry.description,
            metadata=entry.details,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )
    )


def upgrade() -> None:
    if context.is_offline_mode():
        return
    connection = op.get_bind()
    counts = {name: _redact_table(connection, name, columns) for name, columns in _REDACTED.items()}
    if any(counts.values()):
        _record(connection, counts)


def downgrade() -> None:
    """One-way for the data (see above): a credential redacted is gone."""
