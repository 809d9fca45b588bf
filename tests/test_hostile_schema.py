"""Hostile databases: content changed in the database behind the services'
back is never applied unreviewed (the approval's digest), a restored backup
may not bring schema objects of its own (triggers, views, ...), doctor flags
them, and an import checks every row as the CLI checks its input."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import URL
from sqlmodel import col

from store import migrate, portability
from store.engine import Database, open_database
from store.errors import ValidationError
from store.models import AuditCategory, Modification, ModificationStatus, Project, Severity
from store.repositories.audit import AuditFilter, AuditRepository
from store.services import modifications as service
from store.services import projects, review, row_checks, secrets, templates, workspace
from store.validation import MAX_FILE_BYTES
from tests.cli import Projdeck
from tests.store_support import insert_old_project, raw_id

CODEBASE = {"app.py": "print('hello')\n", "README.md": "# Demo\n"}


async def make_project(db: Database, name: str = "Demo") -> uuid.UUID:
    created = await projects.create_project_with_settings(
        db, projects.ProjectCreate(name=name, type="api", owner_id="alice", codebase=CODEBASE)
    )
    return created.project.id


async def approved_modification(
    db: Database, files: dict[str, str | None], project_name: str = "Demo"
) -> Modification:
    project = await make_project(db, project_name)
    mod = await service.propose_modification(
        db,
        str(project),
        service.ModificationProposal(request="Say bye", modified_files=files),
        actor="agent-7",
    )
    return await service.approve_modification(db, str(mod.id), actor="bob")


async def write_behind_the_services_back(db: Database, mod_id: uuid.UUID, **values: object) -> None:
    """What a database client, or a trigger brought in with a backup, does."""
    async with db.transaction() as session:
        await session.execute(
            update(Modification).where(col(Modification.id) == mod_id).values(**values)
        )


async def test_approval_records_the_digest_of_the_files_as_reviewed(database: Database) -> None:
    files = {"app.py": "print('bye')\n", "README.md": None}
    approved = await approved_modification(database, files)
    assert approved.approved_digest == service.files_digest(files)
    assert service.files_digest(files) != service.files_digest({"app.py": "print('bye')\n"})
    async with database.reading() as session:
        [row] = await AuditRepository(session).list(
            AuditFilter(event_type="modification.approved"), limit=5
        )
    assert row.details["digest"] == approved.approved_digest


async def test_apply_refuses_files_changed_in_the_database_after_approval(
    database: Database,
) -> None:
    approved = await approved_modification(database, {"app.py": "print('bye')\n"})
    project_id = approved.project_id
    await write_behind_the_services_back(
        database, approved.id, modified_files={"app.py": "import os; os.system('curl evil')\n"}
    )
    result = await service.apply_modification(database, str(approved.id), actor="bob")
    assert result.status == ModificationStatus.FAILED
    assert "differ from those approved" in (result.failure_reason or "")
    assert (await projects.get_project(database, str(project_id))).codebase == CODEBASE
    async with database.reading() as session:
        rows = await AuditRepository(session).list(
            AuditFilter(event_type="modification.unreviewed_content"), limit=5
        )
    [row] = rows
    assert row.category == AuditCategory.SECURITY
    assert row.severity == Severity.ERROR
    assert row.entity_id == str(approved.id)
    assert str(approved.id)[:8] in row.description
    assert row.details["files"] == ["app.py"]


async def test_apply_refuses_an_approved_modification_without_a_digest(
    database: Database,
) -> None:
    approved = await approved_modification(database, {"app.py": "print('bye')\n"})
    await write_behind_the_services_back(database, approved.id, approved_digest=None)
    result = await service.apply_modification(database, str(approved.id))
    assert result.status == ModificationStatus.FAILED
    assert (await projects.get_project(database, str(approved.project_id))).codebase == CODEBASE


async def test_a_refused_modification_reopened_and_approved_again_applies(
    database: Database,
) -> None:
    approved = await approved_modification(database, {"app.py": "print('bye')\n"})
    await write_behind_the_services_back(
        database, approved.id, modified_files={"app.py": "changed\n"}
    )
    await service.apply_modification(database, str(approved.id))
    reopened = await service.reopen_modification(database, str(approved.id))
    assert reopened.approved_digest is None
    await service.approve_modification(database, str(approved.id), actor="carol")
    applied = await service.apply_modification(database, str(approved.id))
    assert applied.status == ModificationStatus.APPLIED
    codebase = (await projects.get_project(database, str(approved.project_id))).codebase
    assert codebase["app.py"] == "changed\n"


async def test_migration_0008_gives_modifications_approved_before_it_their_digest(
    empty_database_url: URL,
) -> None:
    database = await open_database(empty_database_url)
    project_id, approved_id, pending_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    try:
        await migrate.upgrade(database, "0007")
        async with database.transaction() as session:
            await insert_old_project(session, database, project_id)
            for mod_id, status in ((approved_id, "approved"), (pending_id, "pending")):
                await session.execute(
                    text(
                        "INSERT INTO modifications (id, project_id, request, requested_by,"
                        " requested_at, impact_analysis, affected_files, status, modified_files,"
                        " base, test_results) VALUES (:id, :project, 'old change', 'agent',"
                        " CURRENT_TIMESTAMP, '{}', '[\"a.py\"]', :status,"
                        ' \'{"a.py": "x"}\', \'{"a.py": "absent"}\', \'{}\')'
                    ),
                    {
                        "id": raw_id(database, mod_id),
                        "project": raw_id(database, project_id),
                        "status": status,
                    },
                )
        assert await migrate.upgrade(database) == migrate.HEAD_REVISION
        async with database.reading() as session:
            rows = await session.execute(
                select(col(Modification.id), col(Modification.approved_digest))
            )
            digests = {row[0]: row[1] for row in rows}
        assert digests == {approved_id: service.files_digest({"a.py": "x"}), pending_id: None}
        applied = await service.apply_modification(database, str(approved_id))
        assert applied.status == ModificationStatus.APPLIED
    finally:
        await database.dispose()


# -- restore: a backup may not bring code of its own ----------------------------------------

# Whenever a modification is applied, put a file of the attacker's into the codebase.
EVIL_TRIGGER = """
CREATE TRIGGER modification_applied_extra AFTER UPDATE OF status ON modifications
WHEN new.status = 'applied' BEGIN
  UPDATE projects SET codebase = json_set(codebase, '$."evil.py"', 'import os')
  WHERE id = new.project_id;
END
"""


def edit_file(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    try:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def schema_of(path: Path) -> set[tuple[str, str]]:
    connection = sqlite3.connect(path)
    try:
        return {tuple(row) for row in connection.execute("SELECT type, name FROM sqlite_master")}
    finally:
        connection.close()


async def backup_with(db: Database, tmp_path: Path, *statements: str) -> Path:
    await make_project(db)
    path = tmp_path / "backup.db"
    await workspace.backup_database(db, path)
    edit_file(path, *statements)
    return path


async def test_restore_refuses_a_backup_with_a_trigger_of_its_own(
    sqlite_database: Database, tmp_path: Path
) -> None:
    path = await backup_with(sqlite_database, tmp_path, EVIL_TRIGGER)
    assert sqlite_database.url.database is not None
    live = Path(sqlite_database.url.database)
    before = schema_of(live)
    with pytest.raises(
        ValidationError,
        match="trigger 'modification_applied_extra' on 'modifications' is not created by "
        "projdeck's migrations",
    ):
        await workspace.restore_database(sqlite_database, path)
    assert schema_of(live) == before
    assert not list(tmp_path.glob("*before-restore*"))
    # The live workspace still applies exactly what was reviewed.
    approved = await approved_modification(sqlite_database, {"app.py": "bye\n"}, "Other")
    await service.apply_modification(sqlite_database, str(approved.id))
    codebase = (await projects.get_project(sqlite_database, str(approved.project_id))).codebase
    assert "evil.py" not in codebase


async def test_restore_names_every_object_added_or_altered(
    sqlite_database: Database, tmp_path: Path
) -> None:
    path = await backup_with(
        sqlite_database,
        tmp_path,
        "CREATE VIEW secrets_plain AS SELECT * FROM project_secrets",
        "CREATE INDEX ix_extra ON projects (owner_id)",
        "CREATE TABLE stash (body TEXT)",
        "DROP INDEX ix_audit_log_actor",
        "CREATE INDEX ix_audit_log_actor ON audit_log (actor, at)",
    )
    with pytest.raises(ValidationError) as refused:
        await workspace.restore_database(sqlite_database, path)
    message = str(refused.value)
    for named in (
        "view 'secrets_plain' is not created",
        "index 'ix_extra' on 'projects' is not created",
        "table 'stash' is not created",
        "index 'ix_audit_log_actor' on 'audit_log' differs from what the migrations create",
    ):
        assert named in message


async def test_restore_takes_a_backup_as_the_migrations_made_it(
    sqlite_database: Database, tmp_path: Path
) -> None:
    path = await backup_with(sqlite_database, tmp_path, "ANALYZE")
    result = await workspace.restore_database(sqlite_database, path)
    assert result.revision == migrate.HEAD_REVISION


# -- doctor: objects of its own in the live database ----------------------------------------

PG_TRIGGER_FUNCTION = """
CREATE FUNCTION modification_applied_extra() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE projects SET codebase = codebase || '{"evil.py": "import os"}'::jsonb
  WHERE id = NEW.project_id;
  RETURN NEW;
END $$
"""
PG_TRIGGER = """
CREATE TRIGGER modification_applied_extra AFTER UPDATE OF status ON modifications
FOR EACH ROW WHEN (NEW.status = 'applied') EXECUTE FUNCTION modification_applied_extra()
"""
VIEW = "CREATE VIEW secrets_plain AS SELECT * FROM project_secrets"
# (statements that add objects, statements that remove them again)
HOSTILE_OBJECTS = {
    "sqlite": (
        [EVIL_TRIGGER, VIEW],
        ["DROP TRIGGER modification_applied_extra", "DROP VIEW secrets_plain"],
    ),
    "postgresql": (
        [PG_TRIGGER_FUNCTION, PG_TRIGGER, VIEW],
        [
            "DROP VIEW IF EXISTS secrets_plain",
            "DROP TRIGGER IF EXISTS modification_applied_extra ON modifications",
            "DROP FUNCTION IF EXISTS modification_applied_extra()",
        ],
    ),
}


async def execute(db: Database, statements: list[str]) -> None:
    async with db.transaction() as session:
        for statement in statements:
            await session.execute(text(statement))


async def test_apply_refuses_when_the_database_changes_more_than_the_files(
    database: Database,
) -> None:
    approved = await approved_modification(database, {"app.py": "print('bye')\n"})
    added, removed = HOSTILE_OBJECTS[database.backend]
    await execute(database, added)
    try:
        result = await service.apply_modification(database, str(approved.id), actor="bob")
        codebase = (await projects.get_project(database, str(approved.project_id))).codebase
    finally:
        await execute(database, removed)
    assert result.status == ModificationStatus.FAILED
    assert "changed the codebase beyond this modification's result (evil.py)" in (
        result.failure_reason or ""
    )
    assert codebase == CODEBASE
    async with database.reading() as session:
        [row] = await AuditRepository(session).list(
            AuditFilter(event_type="modification.apply_altered"), limit=5
        )
    assert row.category == AuditCategory.SECURITY
    assert row.entity_id == str(approved.id)
    assert row.details["paths"] == ["evil.py"]


async def test_doctor_flags_triggers_and_views_the_migrations_do_not_create(
    database: Database, database_url: URL
) -> None:
    cli = Projdeck(database_url)
    assert "ok   schema objects: as the migrations create them" in cli.ok("doctor")
    added, removed = HOSTILE_OBJECTS[database.backend]
    await execute(database, added)
    try:
        doctor = cli.run("doctor")
    finally:
        await execute(database, removed)
    assert doctor.returncode == 1, doctor.stderr
    [line] = [line for line in doctor.stdout.splitlines() if "schema objects" in line]
    assert line.startswith("FAIL schema objects: ")
    assert (
        "trigger 'modification_applied_extra' on 'modifications' is not created by "
        "projdeck's migrations" in line
    )
    assert "view 'secrets_plain' is not created" in line
    if database.backend == "postgresql":
        assert "function 'modification_applied_extra' is not created" in line


async def test_db_check_names_objects_the_migrations_do_not_create(
    database: Database, database_url: URL
) -> None:
    cli = Projdeck(database_url)
    added, removed = HOSTILE_OBJECTS[database.backend]
    await execute(database, added)
    try:
        check = cli.run("db", "check")
    finally:
        await execute(database, removed)
    assert check.returncode == 1, check.stderr
    assert (
        "trigger 'modification_applied_extra' on 'modifications' is not created by "
        "projdeck's migrations" in check.stdout.splitlines()
    )
    assert cli.ok("db", "check").strip() == "schema matches the models"


# -- import: every row checked as the CLI checks its input ----------------------------------


async def exported_workspace(db: Database, path: Path) -> list[dict[str, Any]]:
    """A small workspace with a row in each table the cases below edit,
    exported; its documents, one a line."""
    approved = await approved_modification(db, {"app.py": "print('bye')\n"})
    await secrets.set_secret(db, str(approved.project_id), "API_TOKEN", "canary")
    await templates.seed_builtin_templates(db)
    await workspace.export_workspace(db, path)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def rewrite(path: Path, documents: list[dict[str, Any]], table: str, **values: Any) -> int:
    """Change the first row of ``table``; its line number."""
    number = next(i for i, doc in enumerate(documents, 1) if doc.get("table") == table)
    documents[number - 1]["row"].update(values)
    path.write_text("".join(json.dumps(doc) + "\n" for doc in documents), encoding="utf-8")
    return number


@pytest.mark.parametrize(
    ("table", "values", "problem"),
    [
        ("projects", {"codebase": {"../evil.py": "x"}}, "projects.codebase: path '../evil.py'"),
        ("projects", {"name": "Demo\x1b]0;owned\x07"}, "projects.name: must not contain control"),
        ("projects", {"name": " Demo"}, "projects.name: is not as projdeck stores it"),
        (
            "projects",
            {"codebase": {"big.py": "x" * (MAX_FILE_BYTES + 1)}},
            "projects.codebase: codebase[big.py]: is 1048577 bytes",
        ),
        (
            "projects",
            {"codebase": {"a//b.py": "x"}},
            "projects.codebase: is not as projdeck stores it",
        ),
        ("projects", {"webhook_url": "file:///etc/passwd"}, "projects.webhook_url: "),
        (
            "modifications",
            {"modified_files": {"app.py": "x\x00"}},
            "modifications.modified_files: modified_files[app.py]: contains a NUL byte",
        ),
        (
            "modifications",
            {"affected_files": ["/etc/passwd"]},
            "modifications.affected_files: path '/etc/passwd' is absolute",
        ),
        (
            "project_secrets",
            {"key_name": "api token"},
            "project_secrets.key_name: key name: 'api token' is not an environment-variable name",
        ),
        ("project_settings", {"branch_name": "main\n"}, "project_settings.branch_name: "),
        (
            "templates",
            {"files": {"main.py.jinja": "{% include '/etc/passwd' %}"}},
            "uses {% include %}; templates cannot read other files",
        ),
        ("audit_log", {"actor": "bob\x1b[2J"}, "audit_log.actor: must not contain control"),
    ],
)
async def test_import_checks_every_row_as_the_cli_checks_its_input(
    sqlite_database: Database,
    make_database: Callable[[str], Awaitable[Database]],
    tmp_path: Path,
    table: str,
    values: dict[str, Any],
    problem: str,
) -> None:
    path = tmp_path / "workspace.jsonl"
    documents = await exported_workspace(sqlite_database, path)
    line = rewrite(path, documents, table, **values)
    target = await make_database("sqlite")
    with pytest.raises(ValidationError) as refused:
        await workspace.import_workspace(target, path)
    assert str(refused.value).startswith(f"line {line}: ")
    assert problem in str(refused.value)
    assert sum((await workspace.count_workspace(target)).values()) == 0


async def test_restore_from_an_export_checks_every_row_and_keeps_the_workspace(
    sqlite_database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "workspace.jsonl"
    documents = await exported_workspace(sqlite_database, path)
    rewrite(path, documents, "projects", codebase={"../../evil.py": "x"})
    before = await workspace.count_workspace(sqlite_database)
    with pytest.raises(ValidationError, match=r"projects\.codebase: path '\.\./\.\./evil\.py'"):
        await workspace.restore_database(sqlite_database, path)
    assert await workspace.count_workspace(sqlite_database) == {
        **before,
        # The safety backup made before the import says so in the log.
        "audit_log": before["audit_log"] + 1,
    }


async def test_transfer_checks_every_row_of_the_source(
    sqlite_database: Database, make_database: Callable[[str], Awaitable[Database]]
) -> None:
    approved = await approved_modification(sqlite_database, {"app.py": "print('bye')\n"})
    async with sqlite_database.transaction() as session:
        await session.execute(
            update(Project)
            .where(col(Project.id) == approved.project_id)
            .values(codebase={"../outside.py": "x"})
        )
    target = await make_database("sqlite")
    with pytest.raises(ValidationError) as refused:
        await workspace.transfer_workspace(sqlite_database, target)
    assert str(refused.value).startswith(f"project 'Demo' ({approved.project_id}): ")
    assert "projects.codebase: path '../outside.py' contains '..'" in str(refused.value)
    assert sum((await workspace.count_workspace(target)).values()) == 0


async def test_an_export_from_before_digests_keeps_its_approved_modifications_applicable(
    sqlite_database: Database, make_database: Callable[[str], Awaitable[Database]], tmp_path: Path
) -> None:
    path = tmp_path / "workspace.jsonl"
    documents = await exported_workspace(sqlite_database, path)
    documents[0]["schema_revision"] = "0007"
    for document in documents:
        if document.get("table") == "modifications":
            del document["row"]["approved_digest"]
    path.write_text("".join(json.dumps(doc) + "\n" for doc in documents), encoding="utf-8")
    target = await make_database("sqlite")
    await workspace.import_workspace(target, path)
    [mod] = (await review.list_modifications(target)).items
    applied = await service.apply_modification(target, str(mod.id))
    assert applied.status == ModificationStatus.APPLIED


def test_every_table_of_the_workspace_has_its_columns_checked() -> None:
    tables = {table.name: table for table in portability.workspace_tables()}
    assert set(row_checks.COLUMN_CHECKS) == set(tables)
    for name, checks in row_checks.COLUMN_CHECKS.items():
        assert set(checks) <= set(tables[name].columns.keys()), name


def test_cli_restore_of_a_backup_with_a_trigger_says_which_and_exits_1(tmp_path: Path) -> None:
    cli = Projdeck(f"sqlite:///{tmp_path / 'live.db'}")
    cli.ok("project", "create", "--name", "Billing", "--type", "api", "--owner", "alice")
    cli.ok("backup", str(tmp_path / "backup.db"))
    edit_file(tmp_path / "backup.db", EVIL_TRIGGER)
    error = cli.fails("restore", str(tmp_path / "backup.db"), "--yes")
    assert error.startswith("error: file: backup.db holds schema objects projdeck does not create")
    assert "trigger 'modification_applied_extra' on 'modifications'" in error
    assert "FAIL" not in cli.ok("doctor")
