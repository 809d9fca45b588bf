"""Project and settings services on both backends: each action, its audit
row, its validation and its conflicts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text

from store.engine import Database
from store.errors import Conflict, InvalidTransition, NotFound, ValidationError
from store.models import Modification, ProjectSecret, ProjectSettings, ProjectStatus
from store.repositories.projects import ProjectFilter, ProjectSort
from store.services import projects as service
from tests.store_support import audit_rows


def new_project(name: str = "Billing API", **extra: Any) -> service.ProjectCreate:
    return service.ProjectCreate(name=name, type="api", owner_id="alice", **extra)


async def test_create_project_with_settings_writes_project_settings_and_audit(
    database: Database,
) -> None:
    created = await service.create_project_with_settings(
        database,
        new_project(
            github_owner="acme",
            github_repo="billing",
            codebase={"src/./app.py": "print('hi')\n"},
            settings={"planning_statement": "Keep it small", "branch_name": "develop"},
        ),
        actor="alice",
    )
    config = await service.get_project_full_config(database, "Billing API")
    assert config.project.id == created.project.id
    assert config.project.status == ProjectStatus.ACTIVE
    assert config.project.version == 1
    assert config.project.codebase == {"src/app.py": "print('hi')\n"}
    assert config.project.created_at.tzinfo is not None
    assert config.settings.planning_statement == "Keep it small"
    assert config.settings.branch_name == "develop"
    assert config.secrets == []
    [row] = await audit_rows(database, created.project.id)
    assert row.event_type == "project.created"
    assert row.actor == "alice"
    assert row.entity_id == str(created.project.id)
    assert row.details["github"] == "acme/billing"


async def test_settings_default_to_branch_main(database: Database) -> None:
    created = await service.create_project_with_settings(database, new_project())
    assert created.settings.branch_name == "main"
    assert created.settings.setup_commands == []


async def test_project_is_found_by_id_prefix_and_name(database: Database) -> None:
    created = await service.create_project_with_settings(database, new_project())
    project_id = str(created.project.id)
    assert (await service.get_project(database, project_id)).id == created.project.id
    assert (await service.get_project(database, project_id[:6])).id == created.project.id
    assert (await service.get_project(database, project_id[:8].upper())).id == created.project.id
    assert (await service.get_project(database, "Billing API")).id == created.project.id
    with pytest.raises(NotFound, match="no project matches 'abc'"):
        await service.get_project(database, "abc")
    with pytest.raises(NotFound):
        await service.get_project(database, str(uuid.uuid4()))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "a" * 256}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"type": "spaceship"}, "type"),
        ({"owner_id": "   "}, "owner_id"),
        ({"github_owner": "-bad-", "github_repo": "x"}, "github_owner"),
        ({"github_owner": "acme", "github_repo": "a b"}, "github_repo"),
        ({"github_owner": "acme"}, "github"),
        ({"webhook_url": "ftp://example.com/hook"}, "webhook_url"),
        ({"webhook_url": "https://"}, "webhook_url"),
        ({"webhook_url": "http://[::1"}, "webhook_url"),
        ({"webhook_url": "http://host:99999/x"}, "webhook_url"),
        ({"test_coverage": 101}, "test_coverage"),
        ({"security_score": -1}, "security_score"),
        ({"performance_score": float("nan")}, "performance_score"),
        ({"codebase": {"../etc/passwd": "x"}}, "codebase"),
        ({"codebase": {"/etc/passwd": "x"}}, "codebase"),
        ({"codebase": {"a\x00b": "x"}}, "codebase"),
        ({"codebase": {"ok.txt": "bin\x00ary"}}, "codebase[ok.txt]"),
        ({"codebase": {"big.txt": "x" * (1024 * 1024 + 1)}}, "codebase[big.txt]"),
        ({"environment_vars": {"1BAD": "x"}}, "environment_vars"),
        ({"deployment_config": {"a": "nul\x00"}}, "deployment_config"),
        ({"state": []}, "state"),
        ({"dependencies": "fastapi"}, "dependencies"),
        ({"auto_merge_enabled": "yes"}, "auto_merge_enabled"),
    ],
)
async def test_invalid_input_is_refused_naming_the_field_and_nothing_is_stored(
    database: Database, changes: dict[str, Any], field: str
) -> None:
    base: dict[str, Any] = {"name": "Valid", "type": "api", "owner_id": "alice"}
    with pytest.raises(ValidationError) as raised:
        await service.create_project_with_settings(
            database, service.ProjectCreate(**{**base, **changes})
        )
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")
    page = await service.list_projects(database, ProjectFilter())
    assert page.total == 0
    assert await audit_rows(database) == []


async def test_sql_looking_and_unicode_input_is_stored_verbatim(database: Database) -> None:
    name = "Robert'); DROP TABLE projects;-- 🚀 Ünïcødé"
    await service.create_project_with_settings(database, new_project(name=name))
    project = await service.get_project(database, name)
    assert project.name == name


async def test_duplicate_name_and_repository_are_conflicts(database: Database) -> None:
    await service.create_project_with_settings(
        database, new_project(github_owner="acme", github_repo="billing")
    )
    with pytest.raises(Conflict, match="a project named 'Billing API' already exists"):
        await service.create_project_with_settings(database, new_project())
    with pytest.raises(Conflict, match="GitHub repository acme/billing is already used"):
        await service.create_project_with_settings(
            database, new_project(name="Other", github_owner="acme", github_repo="billing")
        )
    assert (await service.list_projects(database)).total == 1


async def test_update_records_changes_and_moves_the_version(database: Database) -> None:
    created = await service.create_project_with_settings(database, new_project())
    updated = await service.update_project(
        database,
        "Billing API",
        {"security_score": 88, "dependencies": ["fastapi"], "codebase": {"a.py": "1"}},
        expected_version=1,
        actor="bob",
    )
    assert updated.version == 2
    assert updated.security_score == 88
    assert updated.updated_at >= created.project.updated_at
    # What update returns is what the database now holds (it is not read again).
    assert updated.model_dump() == (await service.get_project(database, "Billing API")).model_dump()
    rows = await audit_rows(database, created.project.id)
    assert [row.event_type for row in rows] == ["project.updated", "project.created"]
    change = rows[0].details["changes"]
    assert change["security_score"] == {"from": None, "to": 88.0}
    assert change["codebase"] == {"added": ["a.py"], "removed": [], "changed": []}
    assert rows[0].actor == "bob"


async def test_stale_version_is_a_conflict_and_changes_nothing(database: Database) -> None:
    await service.create_project_with_settings(database, new_project())
    await service.update_project(database, "Billing API", {"owner_id": "bob"}, expected_version=1)
    with pytest.raises(Conflict, match="changed by someone else"):
        await service.update_project(
            database, "Billing API", {"owner_id": "carol"}, expected_version=1
        )
    project = await service.get_project(database, "Billing API")
    assert project.owner_id == "bob"
    assert project.version == 2


async def test_update_to_a_taken_repository_is_a_conflict(database: Database) -> None:
    await service.create_project_with_settings(
        database, new_project(github_owner="acme", github_repo="billing")
    )
    await service.create_project_with_settings(database, new_project(name="Web"))
    with pytest.raises(Conflict, match="already used"):
        await service.update_project(
            database,
            "Web",
            {"github_owner": "ACME", "github_repo": "Billing"},
            expected_version=1,
        )


async def test_unknown_field_is_refused(database: Database) -> None:
    await service.create_project_with_settings(database, new_project())
    with pytest.raises(ValidationError, match="version: is not a project field"):
        await service.update_project(database, "Billing API", {"version": 9}, expected_version=1)


async def test_archive_unarchive_delete_restore_transitions(database: Database) -> None:
    await service.create_project_with_settings(database, new_project())
    assert (await service.archive_project(database, "Billing API")).status == ProjectStatus.ARCHIVED
    with pytest.raises(InvalidTransition, match="cannot archive a project that is archived"):
        await service.archive_project(database, "Billing API")
    assert (await service.unarchive_project(database, "Billing API")).status == ProjectStatus.ACTIVE
    deleted = await service.delete_project(database, "Billing API")
    assert deleted.status == ProjectStatus.DELETED
    with pytest.raises(InvalidTransition):
        await service.update_project(
            database, "Billing API", {"owner_id": "x"}, expected_version=deleted.version
        )
    with pytest.raises(InvalidTransition):
        await service.update_settings(database, "Billing API", {"branch_name": "x"})
    restored = await service.restore_project(database, "Billing API")
    assert restored.status == ProjectStatus.ACTIVE
    assert restored.version == 5
    assert (
        restored.model_dump() == (await service.get_project(database, "Billing API")).model_dump()
    )
    events = [row.event_type for row in await audit_rows(database)]
    assert events == [
        "project.restored",
        "project.deleted",
        "project.unarchived",
        "project.archived",
        "project.created",
    ]


async def test_purge_cascades_to_settings_secrets_and_modifications_but_keeps_audit(
    database: Database,
) -> None:
    created = await service.create_project_with_settings(database, new_project())
    project_id = created.project.id
    async with database.transaction() as session:
        session.add(
            ProjectSecret(
                project_id=project_id, key_name="TOKEN", nonce=b"n", ciphertext=b"c", key_id="k"
            )
        )
        session.add(Modification(project_id=project_id, request="add tests", requested_by="agent"))
    await service.purge_project(database, "Billing API", actor="alice")
    async with database.reading() as session:
        for model in (ProjectSettings, ProjectSecret, Modification):
            count = await session.scalar(select(func.count()).select_from(model))
            assert count == 0, model
    rows = await audit_rows(database, project_id)
    assert [row.event_type for row in rows] == ["project.purged", "project.created"]
    assert rows[0].details == {"name": "Billing API", "encrypted_values": 1, "modifications": 1}
    with pytest.raises(NotFound):
        await service.get_project(database, str(project_id))


async def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(Conflict, match="refers to something that does not exist"):
        async with database.transaction() as session:
            session.add(ProjectSettings(project_id=uuid.uuid4()))


async def test_update_settings_records_changes(database: Database) -> None:
    created = await service.create_project_with_settings(database, new_project())
    settings = await service.update_settings(
        database,
        "Billing API",
        {"setup_commands": ["pip install -e .", "pytest"], "branch_name": "release/1.0"},
        actor="carol",
    )
    assert settings.setup_commands == ["pip install -e .", "pytest"]
    config = await service.get_project_full_config(database, "Billing API")
    assert config.settings.branch_name == "release/1.0"
    [row, _created] = await audit_rows(database, created.project.id)
    assert row.event_type == "settings.updated"
    assert row.details["changes"]["branch_name"] == {"from": "main", "to": "release/1.0"}


@pytest.mark.parametrize("branch", ["a b", "..x", "x..y", "-x", "x.lock", "x/", "a~1", "a:b"])
async def test_bad_branch_names_are_refused(database: Database, branch: str) -> None:
    await service.create_project_with_settings(database, new_project())
    with pytest.raises(ValidationError, match="branch_name"):
        await service.update_settings(database, "Billing API", {"branch_name": branch})


async def test_list_filters_sorts_pages_and_counts(database: Database) -> None:
    for index in range(7):
        await service.create_project_with_settings(
            database,
            service.ProjectCreate(
                name=f"proj-{index}",
                type="api" if index % 2 else "cli",
                owner_id="alice" if index < 4 else "bob",
            ),
        )
    await service.archive_project(database, "proj-1")
    await service.update_project(database, "proj-0", {"owner_id": "alice"}, expected_version=1)

    page = await service.list_projects(database, ProjectFilter(owner_id="alice"), limit=2)
    assert page.total == 4
    assert len(page.items) == 2
    assert page.has_more
    assert page.items[0].name == "proj-1"  # archived last, so most recently updated

    active = ProjectFilter(owner_id="alice", status=ProjectStatus.ACTIVE)
    assert (await service.list_projects(database, active)).total == 3

    by_name = await service.list_projects(database, sort=ProjectSort.NAME, limit=3, offset=3)
    assert [item.name for item in by_name.items] == ["proj-3", "proj-4", "proj-5"]

    search = await service.list_projects(database, ProjectFilter(search="J-6"))
    assert [item.name for item in search.items] == ["proj-6"]

    literal = await service.list_projects(database, ProjectFilter(search="%"))
    assert literal.total == 0


async def test_search_finds_the_github_owner_and_the_owner_slash_repo_form(
    database: Database,
) -> None:
    await service.create_project_with_settings(
        database, new_project("Billing API", github_owner="acme", github_repo="billing-api")
    )
    await service.create_project_with_settings(
        database, new_project("Ledger", github_owner="globex", github_repo="ledger")
    )
    await service.create_project_with_settings(database, new_project("No Repo"))

    async def names(search: str) -> list[str]:
        page = await service.list_projects(
            database, ProjectFilter(search=search), sort=ProjectSort.NAME
        )
        return [item.name for item in page.items]

    assert await names("acme") == ["Billing API"]
    assert await names("GLOBEX") == ["Ledger"]
    assert await names("acme/billing") == ["Billing API"]
    assert await names("billing-api") == ["Billing API"]
    assert await names("ledger") == ["Ledger"]
    assert await names("alice") == ["Billing API", "Ledger", "No Repo"]
    assert await names("acme/ledger") == []
    assert await names("_") == []


async def test_list_counts_pending_modifications_per_project(database: Database) -> None:
    created = await service.create_project_with_settings(database, new_project())
    async with database.transaction() as session:
        for _ in range(3):
            session.add(
                Modification(project_id=created.project.id, request="r", requested_by="agent")
            )
    [summary] = (await service.list_projects(database)).items
    assert summary.pending_modifications == 3


async def test_a_failed_transaction_leaves_the_database_as_it_was(database: Database) -> None:
    await service.create_project_with_settings(database, new_project())
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await session.execute(text("UPDATE projects SET owner_id = 'mallory'"))
            raise RuntimeError("boom")
    assert (await service.get_project(database, "Billing API")).owner_id == "alice"


async def test_keyset_paging_walks_every_project_once(database: Database) -> None:
    from store.repositories.projects import ProjectRepository

    for index in range(9):
        await service.create_project_with_settings(
            database, service.ProjectCreate(name=f"p{index}", type="cli", owner_id="o")
        )
    seen: list[str] = []
    after = None
    async with database.reading() as session:
        repository = ProjectRepository(session)
        while True:
            page = await repository.list(limit=4, after=after)
            if not page:
                break
            seen.extend(project.name for project in page)
            after = (page[-1].updated_at, page[-1].id)
    assert sorted(seen) == [f"p{index}" for index in range(9)]
    assert len(seen) == 9
