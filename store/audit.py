"""Writing audit rows. Every service calls ``record`` inside its own
transaction, so the row exists exactly when the change does."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AuditCategory, AuditEntry, Severity
from store.repositories import AuditRepository

REDACTED = "[redacted]"
_SENSITIVE_KEY = re.compile(
    r"secret|password|passwd|token|api[_-]?key|ciphertext|nonce|credential", re.I
)


def redact(value: Any) -> Any:
    """Audit metadata with anything that looks like a credential blanked out."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _SENSITIVE_KEY.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


async def record(
    session: AsyncSession,
    *,
    actor: str,
    event_type: str,
    description: str,
    project_id: uuid.UUID | None = None,
    entity_type: str | None = None,
    entity_id: str | uuid.UUID | None = None,
    category: AuditCategory = AuditCategory.GENERAL,
    severity: Severity = Severity.INFO,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor,
        event_type=event_type,
        category=category,
        severity=severity,
        project_id=project_id,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else None,
        description=description,
        details=redact(dict(details or {})),
    )
    AuditRepository(session).add(entry)
    await session.flush()
    return entry
