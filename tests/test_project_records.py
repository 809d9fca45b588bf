"""What agents, CI and scripts record about a project, on both backends:
secrets imported and exported in bulk, a project found by its GitHub
repository, deployments, the project's last activity moved by agents, and a
script's own events in the audit chain."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from store import dotenv
from store.crypto import DecryptionFailed, SecretValue
from store.engine import Database
from store.errors import InvalidTransition, NotFound, ValidationError
from store.models import AuditCategory, Severity
from store.services import agents, projects, secrets
from store.services import audit as audit_service
from store.types import utcnow
from tests.store_support import audit_rows, execute


async def _project(database: Database, name: str = "Billing", **extra: str) -> uuid.UUID:
    config = await projects.create_project_with_settings(
        database, projects.ProjectCreate(name=name, type="api", owner_id="alice", **extra)
    )
    return config.project.id


# -- secrets in bulk ---------------------------------------------------------------------------


async def test_import_stores_every_value_in_one_step_with_one_audit_row(
    database: Database,
) -> None:
    await _project(database)
    await secrets.set_secret(database, "Billing", "OLD", "before")
    entries = secrets.secrets_from_dotenv('NEW="a\\nb"\nOLD=after\n')
    imported = await secrets.import_secrets(database, "Billing", entries, actor="ci")
    assert (imported.created, imported.replaced) == (("NEW",), ("OLD",))
    assert (await secrets.reveal_secret(database, "Billing", "NEW")).reveal() == "a\nb"
    assert (await secrets.reveal_secret(database, "Billing", "OLD")).reveal() == "after"
    [row] = [row for row in await audit_rows(database) if row.event_type == "secret.imported"]
    assert row.actor == "ci" and row.category == AuditCategory.SECURITY
    assert row.details == {"created": ["NEW"], "replaced": ["OLD"], "key_id": imported.key_id}
    assert "after" not in row.description and "after" not in str(row.details)


async def test_import_stores_nothing_when_one_entry_is_refused(database: Database) -> None:
    await _project(database)
    good = secrets.secrets_from_dotenv("FIRST=1\nSECOND=2\n")
    bad = [*good, dotenv.Entry("third", SecretValue("3"), "line 3")]
    with pytest.raises(ValidationError, match="line 3: key name: 'third'"):
        await secrets.import_secrets(database, "Billing", bad)
    await projects.delete_project(database, "Billing")
    with pytest.raises(InvalidTransition, match="is deleted; restore it first"):
        await secrets.import_secrets(database, "Billing", good)
    assert await secrets.list_secrets(database, "Billing") == []
    assert not [row for row in await audit_rows(database) if row.event_type.startswith("secret.")]


async def test_export_reveals_every_value_and_audits_the_names(database: Database) -> None:
    await _project(database)
    await _project(database, "Other")
    await secrets.set_secret(database, "Billing", "B_TOKEN", "bee")
    await secrets.set_secret(database, "Billing", "A_TOKEN", "ay")
    await secrets.set_secret(database, "Other", "NOT_MINE", "x")
    values = await secrets.export_secrets(database, "Billing", actor="ci")
    assert [(name, value.reveal()) for name, value in values] == [
        ("A_TOKEN", "ay"),
        ("B_TOKEN", "bee"),
    ]
    [row] = [row for row in await audit_rows(database) if row.event_type == "secret.exported"]
    assert row.category == AuditCategory.SECURITY
    assert row.details == {"names": ["A_TOKEN", "B_TOKEN"], "format": "dotenv"}


async def test_export_reveals_nothing_when_a_value_does_not_decrypt(database: Database) -> None:
    await _project(database)
    await secrets.set_secret(database, "Billing", "GOOD", "fine")
    await secrets.set_secret(database, "Billing", "TAMPERED", "value")
    await execute(
        database,
        "UPDATE project_secrets SET ciphertext = :c WHERE key_name = 'TAMPERED'",
        c=b"x" * 40,
    )
    with pytest.raises(DecryptionFailed):
        await secrets.export_secrets(database, "Billing")
    events = [row.event_type for row in await audit_rows(database)]
    assert "secret.decrypt_failed" in events and "secret.exported" not in events


# -- a project by its GitHub repository ----------------------------------------------------------


async def test_a_project_is_found_by_its_github_owner_and_repo_in_any_case(
    database: Database,
) -> None:
    project_id = await _project(database, github_owner="acme", github_repo="billing-api")
    assert (await projects.get_project(database, "acme/billing-api")).id == project_id
    assert (await projects.get_project(database, "ACME/Billing-API")).id == project_id
    with pytest.raises(NotFound, match="its exact name, or its GitHub owner/repo"):
        await projects.get_project(database, "acme/other")


async def test_an_exact_name_comes_before_another_projects_repository(database: Database) -> None:
    linked = await _project(database, "Linked", github_owner="acme", github_repo="api")
    named = await _project(database, "acme/api")
    assert (await projects.get_project(database, "acme/api")).id == named
    assert (await projects.get_project(database, "Acme/API")).id == linked


async def test_a_repository_linked_to_two_projects_is_an_error_naming_both(
    database: Database,
) -> None:
    await _project(database, "One", github_owner="acme", github_repo="api")
    await _project(database, "Two", github_owner="other", github_repo="api")
    # Rows the service's check keeps apart (an import from before it, say).
    await execute(database, "UPDATE projects SET github_owner = 'ACME' WHERE name = 'Two'")
    with pytest.raises(ValidationError) as refused:
        await projects.get_project(database, "acme/api")
    assert refused.value.message == (
        "project: GitHub repository 'acme/api' is linked to several projects "
        "('One', 'Two'); give the name or id of one"
    )


# -- deployments -----------------------------------------------------------------------------------


async def test_a_deployment_moves_the_last_deployed_time_forward_only(database: Database) -> None:
    await _project(database)
    before = await projects.get_project(database, "Billing")
    recent = utcnow() - timedelta(hours=1)
    deployed = await projects.record_deployment(
        database, "Billing", at=recent, environment=" production ", actor="ci"
    )
    assert deployed.last_deployed_at == recent
    assert deployed.version == before.version and deployed.updated_at == before.updated_at
    older = await projects.record_deployment(database, "Billing", at=recent - timedelta(days=2))
    assert older.last_deployed_at == recent
    reread = await projects.get_project(database, "Billing")
    assert reread.last_deployed_at == recent
    assert reread.last_active_at is not None and reread.last_active_at >= before.created_at
    rows = [row for row in await audit_rows(database) if row.event_type == "deployment.succeeded"]
    late, first = rows  # newest first
    assert first.actor == "ci" and first.category == AuditCategory.SYSTEM
    assert late.details["environment"] is None
    assert first.details == {
        "environment": "production",
        "deployed_at": recent.astimezone(UTC).isoformat(),
    }


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (datetime(2999, 1, 1, tzinfo=UTC), "at: 2999-01-01T00:00:00+00:00 is in the future"),
        (datetime(2020, 1, 1), "at: must be a date-time with a time zone"),
    ],
)
async def test_a_deployment_at_a_time_to_come_or_without_a_zone_is_refused(
    database: Database, at: datetime, message: str
) -> None:
    await _project(database)
    with pytest.raises(ValidationError) as refused:
        await projects.record_deployment(database, "Billing", at=at)
    assert refused.value.message.startswith(message)
    assert (await projects.get_project(database, "Billing")).last_deployed_at is None


async def test_a_deployment_of_an_archived_project_is_refused(database: Database) -> None:
    await _project(database)
    await projects.archive_project(database, "Billing")
    with pytest.raises(InvalidTransition, match="is archived; unarchive it first"):
        await projects.record_deployment(database, "Billing")


# -- agents' activity ------------------------------------------------------------------------------


async def test_agent_runs_and_messages_move_the_projects_last_activity(
    database: Database,
) -> None:
    await _project(database)
    created = await projects.get_project(database, "Billing")
    assert created.last_active_at is not None

    async def last_active() -> datetime:
        project = await projects.get_project(database, "Billing")
        assert project.version == created.version, "activity is not an edit"
        assert project.last_active_at is not None
        return project.last_active_at

    conversation = await agents.start_conversation(database, "Billing", title="t")
    after_start = await last_active()
    assert after_start >= created.last_active_at
    await agents.add_message(
        database,
        str(conversation.id),
        agents.MessageInput(role="user", content="old", created_at=utcnow() - timedelta(days=9)),
    )
    assert await last_active() == after_start, "a message recorded late does not move it back"
    message = await agents.add_message(
        database, str(conversation.id), agents.MessageInput(role="user", content="now")
    )
    assert await last_active() == message.created_at
    run = await agents.start_run(database, "Billing", agent="codex", task="x", queued=True)
    assert await last_active() == run.created_at
    begun = await agents.begin_run(database, str(run.id))
    assert await last_active() == begun.started_at
    finished = await agents.finish_run(database, str(run.id), status="succeeded")
    assert await last_active() == finished.finished_at


# -- a script's own events -------------------------------------------------------------------------


async def test_a_scripts_event_joins_the_chain_about_its_project(database: Database) -> None:
    project_id = await _project(database, github_owner="acme", github_repo="api")
    entry = await audit_service.record_event(
        database,
        audit_service.EventInput(
            event_type="deployment.failed",
            category="system",
            severity="error",
            project="acme/api",
            description="  deploy 1.4 failed: health check  ",
            metadata={"version": "1.4", "api_token": "t0ken"},
        ),
        actor="ci",
    )
    assert entry.project_id == project_id and entry.entity_id == str(project_id)
    assert (entry.category, entry.severity) == (AuditCategory.SYSTEM, Severity.ERROR)
    assert entry.description == "deploy 1.4 failed: health check"
    assert entry.details["version"] == "1.4" and "t0ken" not in str(entry.details)
    report = await audit_service.verify_chain(database)
    assert report.ok and report.head_hash == entry.hash


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"event_type": "Deploy"}, "event: 'Deploy' is not an event name"),
        ({"event_type": "deploy"}, "event: 'deploy' is not an event name"),
        ({"event_type": "secret.revealed"}, "event: secret.* events are projdeck's own"),
        ({"event_type": "deployment.succeeded"}, "event: record a deployment with"),
        ({"event_type": "ci." + "x" * 100}, "event: is 103 characters long"),
        ({"category": "billing"}, "category: 'billing' is not one of: security, compliance"),
        ({"severity": "fatal"}, "severity: 'fatal' is not one of: debug, info"),
        ({"description": " "}, "description: must not be empty"),
        ({"description": "two\nlines"}, "description: must not contain control characters"),
        ({"metadata": {"blob": "x" * 70_000}}, "metadata: is 70,012 bytes as JSON; at most 65,536"),
        ({"project": "nope"}, "no project matches 'nope'"),
    ],
)
async def test_a_scripts_event_is_refused_naming_the_field(
    database: Database, changes: dict[str, object], message: str
) -> None:
    await _project(database)
    fields: dict[str, object] = {
        "event_type": "ci.tests_passed",
        "category": "general",
        "severity": "info",
        "project": "Billing",
        "description": "all green",
        **changes,
    }
    before = len(await audit_rows(database))
    with pytest.raises((ValidationError, NotFound)) as refused:
        await audit_service.record_event(database, audit_service.EventInput(**fields))  # type: ignore[arg-type]
    assert str(refused.value).startswith(message)
    assert len(await audit_rows(database)) == before
