"""What the services' results look like as JSON: every ``--json`` output,
the audit export's rows, a run's detail. One place for them all, so that a
shape is written once and read in one file."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from store.ids import iso
from store.money import from_micros
from store.services.project_reads import shown_webhook

if TYPE_CHECKING:
    from store.models import (
        AgentRun,
        AuditEntry,
        Message,
        Modification,
        Project,
        ProjectSettings,
        WebhookDelivery,
    )
    from store.repositories.agents import ConversationRow, RunRow
    from store.repositories.modifications import ModificationRow
    from store.services.agent_stats import CostReport
    from store.services.agents import ConversationDetail, RunDetail
    from store.services.browse import ProjectRow
    from store.services.git import RepositoryStatus
    from store.services.review import ModificationDetail
    from store.services.templates import TemplateDetail, TemplateOrigin, TemplateSummary


# -- projects ----------------------------------------------------------------------------------


def project_as_dict(project: Project, *, include_codebase: bool = False) -> dict[str, Any]:
    """A project as plain JSON-ready data (for ``--json`` outputs)."""
    data: dict[str, Any] = {
        "id": str(project.id),
        "name": project.name,
        "type": str(project.type),
        "status": str(project.status),
        "owner_id": project.owner_id,
        "github_owner": project.github_owner,
        "github_repo": project.github_repo,
        "webhook_url": shown_webhook(project.webhook_url),
        "auto_merge_enabled": project.auto_merge_enabled,
        "auto_confirm_plans": project.auto_confirm_plans,
        "dependencies": project.dependencies,
        "environment_vars": project.environment_vars,
        "deployment_config": project.deployment_config,
        "state": project.state,
        "test_coverage": project.test_coverage,
        "security_score": project.security_score,
        "performance_score": project.performance_score,
        "version": project.version,
        "created_at": project.created_at.isoformat(),
        "updated_at": project.updated_at.isoformat(),
        "last_deployed_at": project.last_deployed_at.isoformat()
        if project.last_deployed_at
        else None,
        "last_active_at": project.last_active_at.isoformat() if project.last_active_at else None,
        "files": sorted(project.codebase),
        "snapshot_commit": project.snapshot_commit,
    }
    if include_codebase:
        data["codebase"] = project.codebase
    return data


def repository_as_dict(status: RepositoryStatus) -> dict[str, Any]:
    """A linked repository as it is now (``project show --json``)."""
    return {
        "path": status.path,
        "branch": status.branch,
        "snapshot_commit": status.snapshot_commit,
        "tip": status.tip,
        "commits_since_snapshot": status.ahead,
        "problem": status.problem,
    }


def settings_as_dict(settings: ProjectSettings) -> dict[str, Any]:
    return {
        "planning_statement": settings.planning_statement,
        "repository_rules": settings.repository_rules,
        "setup_commands": settings.setup_commands,
        "test_commands": settings.test_commands,
        "branch_name": settings.branch_name,
        "updated_at": settings.updated_at.isoformat(),
    }


def project_summary_as_dict(row: ProjectRow) -> dict[str, Any]:
    """A row of ``project list --json`` (without the app's scores)."""
    return {
        "id": str(row.id),
        "name": row.name,
        "type": str(row.type),
        "status": str(row.status),
        "owner_id": row.owner_id,
        "github": row.github,
        "version": row.version,
        "updated_at": row.updated_at.isoformat(),
        "pending_modifications": row.pending_modifications,
    }


# -- templates ---------------------------------------------------------------------------------


def template_summary_as_dict(summary: TemplateSummary) -> dict[str, Any]:
    data = asdict(summary)
    data["id"] = str(summary.id)
    data["category"] = str(summary.category)
    data["updated_at"] = summary.updated_at.isoformat()
    return data


def template_detail_as_dict(
    detail: TemplateDetail, *, include_files: bool = False
) -> dict[str, Any]:
    data = detail.spec.metadata()
    data.update(
        {
            "id": str(detail.id),
            "version": detail.version,
            "digest": detail.digest,
            "created_at": detail.created_at.isoformat(),
            "updated_at": detail.updated_at.isoformat(),
            "file_paths": sorted(detail.spec.files),
        }
    )
    for variable in data["variables"]:
        variable["required"] = "default" not in variable
    if include_files:
        data["files"] = detail.spec.files
    return data


def template_origin_as_dict(origin: TemplateOrigin) -> dict[str, Any]:
    return asdict(origin)


# -- modifications -----------------------------------------------------------------------------


def _modification_fields(modification: Modification | ModificationRow) -> dict[str, Any]:
    """What a modification's JSON holds wherever it is shown (a list's row,
    a modification)."""
    return {
        "id": str(modification.id),
        "project_id": str(modification.project_id),
        "request": modification.request,
        "requested_by": modification.requested_by,
        "requested_at": modification.requested_at.isoformat(),
        "status": str(modification.status),
        "affected_files": modification.affected_files,
        "reviewed_by": modification.reviewed_by,
        "reviewed_at": iso(modification.reviewed_at),
        "applied_at": iso(modification.applied_at),
        "reverts_id": str(modification.reverts_id) if modification.reverts_id else None,
        "revision": modification.revision,
    }


def modification_row_as_dict(row: ModificationRow) -> dict[str, Any]:
    return _modification_fields(row) | {"project": row.project_name}


def modification_as_dict(modification: Modification) -> dict[str, Any]:
    """A modification as plain JSON-ready data (for ``--json`` outputs)."""
    return _modification_fields(modification) | {
        "impact_analysis": modification.impact_analysis,
        "modified_files": modification.modified_files,
        "base": modification.base,
        "base_commit": modification.base_commit,
        "applied_commit": modification.applied_commit,
        "file_modes": modification.file_modes,
        # As the agent reported them, and (mod test) as run here.
        "test_results": modification.test_results,
        "local_test_results": modification.local_test_results,
        "review_comment": modification.review_comment,
        "approved_digest": modification.approved_digest,
        "failure_reason": modification.failure_reason,
        "run_id": str(modification.run_id) if modification.run_id else None,
        "revises_id": str(modification.revises_id) if modification.revises_id else None,
        # Approved in part: the files as the agent proposed them.
        "proposed_files": modification.proposed_files,
    }


def modification_detail_as_dict(detail: ModificationDetail, *, with_diff: bool) -> dict[str, Any]:
    data = modification_as_dict(detail.modification)
    data["project"] = detail.project_name
    data["compared_with"] = detail.against
    data["files"] = [
        {
            "path": change.path,
            "kind": str(change.kind),
            "added": change.added,
            "removed": change.removed,
            **({"diff": change.diff} if with_diff else {}),
        }
        for change in detail.files
    ]
    # Named as affected, not changed: as the codebase holds them now.
    data["unchanged_files"] = [
        {"path": file.path, "in_codebase": file.content is not None} for file in detail.unchanged
    ]
    return data


# -- agents' activity --------------------------------------------------------------------------


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def conversation_as_dict(detail: ConversationDetail) -> dict[str, Any]:
    conversation = detail.conversation
    return {
        "id": str(conversation.id),
        "project_id": str(conversation.project_id) if conversation.project_id else None,
        "project": detail.project_name,
        "title": conversation.title,
        "intent": conversation.intent,
        "status": str(conversation.status),
        "started_by": conversation.started_by,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "messages": detail.messages,
        "prompt_tokens": detail.prompt_tokens,
        "completion_tokens": detail.completion_tokens,
        "cost": str(detail.cost),
    }


def conversation_row_as_dict(row: ConversationRow) -> dict[str, Any]:
    """A conversation as ``agent conversation list`` gives it (no totals:
    ``agent conversation show`` adds them)."""
    return {
        "id": str(row.id),
        "project_id": str(row.project_id) if row.project_id else None,
        "project": row.project_name,
        "title": row.title,
        "intent": row.intent,
        "status": str(row.status),
        "started_by": row.started_by,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def message_as_dict(message: Message) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "conversation_id": str(message.conversation_id),
        "role": str(message.role),
        "content": message.content,
        "intent": message.intent,
        "model": message.model_used,
        "prompt_tokens": message.prompt_tokens,
        "completion_tokens": message.completion_tokens,
        "cost": str(from_micros(message.cost_micros)),
        "metadata": message.details,
        "created_at": message.created_at.isoformat(),
    }


def _run_fields(run: AgentRun | RunRow) -> dict[str, Any]:
    """What a run's JSON holds wherever it is shown (a list's row, a run)."""
    duration = run.finished_at - run.started_at if run.finished_at and run.started_at else None
    return {
        "id": str(run.id),
        "project_id": str(run.project_id),
        "conversation_id": str(run.conversation_id) if run.conversation_id else None,
        "agent": run.agent,
        "task": run.task,
        "status": str(run.status),
        "created_at": run.created_at.isoformat(),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "duration_seconds": _seconds(duration),
        "cost": str(from_micros(run.cost_micros)),
    }


def run_row_as_dict(row: RunRow) -> dict[str, Any]:
    return _run_fields(row) | {"project": row.project_name}


def run_as_dict(run: AgentRun) -> dict[str, Any]:
    return _run_fields(run) | {"error": run.error, "test_results": run.test_results}


def run_detail_as_dict(detail: RunDetail) -> dict[str, Any]:
    data = run_as_dict(detail.run)
    data["project"] = detail.project_name
    data["conversation"] = detail.conversation_title
    data["modifications"] = [modification_row_as_dict(row) for row in detail.modifications]
    return data


def delivery_as_dict(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(delivery.id),
        "project_id": str(delivery.project_id),
        "event": delivery.event,
        "url": delivery.url,
        "status_code": delivery.status_code,
        "attempt": delivery.attempt,
        "delivered_at": iso(delivery.delivered_at),
        "response_excerpt": delivery.response_excerpt,
        "created_at": delivery.created_at.isoformat(),
    }


def cost_report_as_dict(report: CostReport) -> dict[str, Any]:
    return {
        "by": str(report.by),
        "since": iso(report.since),
        "until": iso(report.until),
        "rows": [
            {
                "key": None if row.key is None else str(row.key),
                "label": row.label,
                "messages": row.messages,
                "runs": row.runs,
                "prompt_tokens": row.prompt_tokens,
                "completion_tokens": row.completion_tokens,
                "cost": str(row.cost),
            }
            for row in report.rows
        ],
        "messages": report.messages,
        "runs": report.runs,
        "prompt_tokens": report.prompt_tokens,
        "completion_tokens": report.completion_tokens,
        "total": str(report.total),
    }


# -- the audit log -----------------------------------------------------------------------------


def audit_entry_as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "event_type": entry.event_type,
        "category": str(entry.category),
        "severity": str(entry.severity),
        "project_id": str(entry.project_id) if entry.project_id else None,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "description": entry.description,
        "metadata": entry.details,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
