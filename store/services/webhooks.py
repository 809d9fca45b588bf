"""Webhook deliveries: each attempt to deliver a project's webhook, recorded
with its status and an excerpt of the response, one transaction with its
audit row; and a project's deliveries, newest first. URLs are stored with
any credentials they hold masked and responses with theirs redacted
(``store.redaction``), and the audit row records the response's length,
never its text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store import audit, validation
from store.config import current_actor
from store.engine import Database
from store.errors import ValidationError
from store.models import AuditCategory, Severity, WebhookDelivery
from store.redaction import mask_url, redact_text
from store.repositories.agents import AgentActivityRepository
from store.repositories.base import Page
from store.services.project_reads import resolve_project, resolve_writable_project
from store.types import utcnow

RESPONSE_EXCERPT = 2_000


@dataclass
class WebhookInput:
    event: str
    url: str
    status_code: int | None = None
    attempt: int = 1
    response: str | None = None


def _webhook_values(item: WebhookInput) -> dict[str, Any]:
    event = validation.name("event", item.event, limit=100)
    if not isinstance(item.url, str) or not item.url.strip():
        raise ValidationError("url", "must not be empty")
    raw = validation.text("url", item.url.strip(), limit=validation.MAX_URL)
    try:
        url = validation.webhook_url(raw)
    except ValidationError as error:
        # Say what was wrong without echoing a URL that may hold a credential.
        raise ValidationError("url", error.problem.replace(repr(raw), "it")) from None
    except ValueError:
        # urlsplit refuses some malformed hosts, such as an unclosed "[".
        raise ValidationError("url", "is not a valid URL") from None
    assert url is not None
    status_code = item.status_code
    if status_code is not None and (
        isinstance(status_code, bool)
        or not isinstance(status_code, int)
        or not 100 <= status_code <= 599
    ):
        raise ValidationError("status_code", f"{status_code!r} is not an HTTP status (100-599)")
    attempt = item.attempt
    if isinstance(attempt, bool) or not isinstance(attempt, int) or not 1 <= attempt <= 1000:
        raise ValidationError("attempt", f"{attempt!r} is not an attempt number (1-1000)")
    response = None
    if item.response is not None:
        # Redacted whole before it is cut, so no credential is cut in two.
        text = redact_text(
            validation.text("response", item.response, limit=validation.MAX_FILE_BYTES)
        )
        response = text if len(text) <= RESPONSE_EXCERPT else text[: RESPONSE_EXCERPT - 1] + "…"
    stored_url = redact_text(mask_url(url))
    if len(stored_url) > validation.MAX_URL:
        # Masking can lengthen a URL ("?key=a" becomes "?key=***").
        stored_url = stored_url[: validation.MAX_URL - 1] + "…"
    return {
        "event": event,
        "url": stored_url,
        "status_code": status_code,
        "attempt": attempt,
        "response_excerpt": response,
    }


async def record_webhook_delivery(
    db: Database, project_ref: str, item: WebhookInput, *, actor: str | None = None
) -> WebhookDelivery:
    """Record one attempt to deliver a project's webhook. A 2xx status marks
    it delivered; the response is kept as an excerpt of 2,000 characters."""
    actor = actor or current_actor()
    values = _webhook_values(item)
    async with db.transaction() as session:
        project = await resolve_writable_project(session, project_ref)
        now = utcnow()
        code = values["status_code"]
        delivery = WebhookDelivery(
            project_id=project.id,
            **values,
            delivered_at=now if code is not None and 200 <= code < 300 else None,
            created_at=now,
        )
        AgentActivityRepository(session).add(delivery)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            event_type="webhook.delivery_recorded",
            description=f"recorded {values['event']!r} webhook attempt {values['attempt']} "
            f"for project {project.name!r}",
            project_id=project.id,
            entity_type="webhook_delivery",
            entity_id=delivery.id,
            category=AuditCategory.SYSTEM,
            severity=Severity.INFO if delivery.delivered_at else Severity.WARNING,
            details={
                "event": values["event"],
                "url": values["url"],
                "status_code": code,
                "attempt": values["attempt"],
                "response_length": len(values["response_excerpt"] or ""),
            },
        )
    return delivery


async def list_webhook_deliveries(
    db: Database, project_ref: str, *, limit: int = 50, offset: int = 0
) -> Page[WebhookDelivery]:
    """A project's webhook deliveries, newest first."""
    async with db.reading() as session:
        project = await resolve_project(session, project_ref)
        activity = AgentActivityRepository(session)
        items = await activity.list_deliveries(project.id, limit=limit, offset=offset)
        total = await activity.count_deliveries(project.id)
    return Page(items=items, total=total, offset=offset, limit=limit)
