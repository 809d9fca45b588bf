"""Backup, restore, export, import and transfer: nothing lost, nothing
half-written, on and between both backends."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from store import portability
from store.engine import Database
from store.errors import Conflict, ValidationError
from store.models import Modification, Template, TemplateCategory
from store.services import projects, secrets
from store.services import workspace as service
from store.services.audit import verify_chain
from tests.store_support import Transfer

MakeDatabase = Callable[[str], Awaitable[Database]]
KEY = "w7IbUa4wb3Ju1mMzgCpZq1OZ6QnX3Vvv5S4pSKsxZ0E="


@pytest.fixture(autouse=True)
def master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJDECK_SECRET_KEY", KEY)


async def fill(db: Database) -> None:
    """A small workspace touching every table."""
    for index, kind in enumerate(["api", "web_app", "cli"]):
        await projects.create_project_with_settings(
            db,
            projects.ProjectCreate(
                name=f"project-{index}",
                type=kind,
                owner_id="alice",
                codebase={"README.md": f"# {index} ünïcode ✓\n", "src/main.py": "print(1)\n"},
                dependencies=["fastapi>=0.110"],
                deployment_config={"replicas": 2, "ratio": 0.5, "nested": {"a": [1, None, True]}},
                test_coverage=81.25,
                settings={"setup_commands": ["make"], "branch_name": "develop"},
            ),
        )
    await projects.archive_project(db, "project-2")
    await secrets.set_secret(db, "project-0", "API_TOKEN", "canary-value-123")
    project = await projects.get_project(db, "project-0")
    async with db.transaction() as session:
        session.add(
            Modification(
                project_id=project.id,
                request="add a health check",
                requested_by="agent-7",
                modified_files={"src/health.py": "ok = True\n", "README.md": None},
                affected_files=["src/health.py", "README.md"],
                impact_analysis={"risk": "low"},
            )
        )
        session.add(
            Template(
                name="fastapi-service",
                category=TemplateCategory.API,
                files={"app.py": "x"},
                tags=["python"],
            )
        )


async def all_rows(db: Database) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    async with db.reading() as session:
        connection = await session.connection()
        for table in portability.workspace_tables():
            rows[table.name] = [
                portability._comparable(row)
                async for row in portability.read_rows(connection, table)
            ]
    return rows


@pytest.mark.parametrize(
    "direction", ["sqlite->sqlite", "sqlite->postgresql", "postgresql->sqlite"]
)
async def test_export_then_import_gives_identical_rows(transfer: Transfer, tmp_path: Path) -> None:
    source, target = transfer
    await fill(source)
    before = await all_rows(source)
    exported = await service.export_workspace(source, tmp_path / "workspace.jsonl")
    assert exported.counts["projects"] == 3
    assert exported.counts["project_secrets"] == 1
    assert b"canary-value-123" not in (tmp_path / "workspace.jsonl").read_bytes()

    result = await service.import_workspace(target, tmp_path / "workspace.jsonl")
    assert result.stats.inserted["projects"] == 3
    after = await all_rows(target)
    for table, rows in before.items():
        if table == "audit_log":
            # The target adds one row of its own: the import itself.
            assert after[table][: len(rows)] == rows
            assert len(after[table]) == len(rows) + 1
        else:
            assert after[table] == rows, table
    assert (await verify_chain(target)).ok
    # The secret still decrypts on the target with the same key.
    assert (
        await secrets.reveal_secret(target, "project-0", "API_TOKEN")
    ).reveal() == "canary-value-123"


@pytest.fixture
async def exported(sqlite_database: Database, tmp_path: Path) -> Path:
    """The workspace ``fill`` makes, exported from a SQLite database."""
    await fill(sqlite_database)
    path = tmp_path / "w.jsonl"
    await service.export_workspace(sqlite_database, path)
    return path


async def test_import_twice_changes_nothing(exported: Path, make_database: MakeDatabase) -> None:
    target = await make_database("sqlite")
    await service.import_workspace(target, exported)
    first = await all_rows(target)
    again = await service.import_workspace(target, exported)
    assert again.stats.total_inserted == 0
    assert sum(again.stats.unchanged.values()) > 0
    assert await all_rows(target) == first


def _rewrite(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(change(lines)), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda lines: lines[:-1], "ends without its closing line"),
        (lambda lines: [*lines[:5], "{not json\n", *lines[5:]], "line 6: is not valid JSON"),
        (
            lambda lines: [*lines[:5], json.dumps({"table": "nope", "row": {}}) + "\n", *lines[5:]],
            "line 6: unknown table 'nope'",
        ),
        (
            lambda lines: [
                *lines[:-1],
                json.dumps({"table": "projects", "row": {"id": "not-a-uuid"}}) + "\n",
                lines[-1],
            ],
            "projects.",
        ),
    ],
)
async def test_a_bad_line_aborts_the_import_with_its_number_and_writes_nothing(
    exported: Path,
    make_database: MakeDatabase,
    damage: Callable[[list[str]], list[str]],
    message: str,
) -> None:
    _rewrite(exported, damage)
    target = await make_database("sqlite")
    with pytest.raises(ValidationError, match=message):
        await service.import_workspace(target, exported)
    assert all(rows == [] for rows in (await all_rows(target)).values())


async def test_a_conflicting_row_aborts_the_import(
    exported: Path, make_database: MakeDatabase
) -> None:
    target = await make_database("sqlite")
    await projects.create_project_with_settings(
        target, projects.ProjectCreate(name="project-1", type="api", owner_id="bob")
    )
    before = await all_rows(target)
    with pytest.raises(Conflict, match="line"):
        await service.import_workspace(target, exported)
    assert await all_rows(target) == before


async def test_export_of_a_file_that_is_not_one_is_refused(
    sqlite_database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(ValidationError, match="is not a projdeck export"):
        await service.import_workspace(sqlite_database, path)


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from store.config import normalize_url
    from store.engine import open_database
    from store.services import projects

    async def main():
        db = await open_database(normalize_url(sys.argv[1]))
        index = 0
        print("ready", flush=True)
        while True:
            await projects.create_project_with_settings(
                db, projects.ProjectCreate(name=f"w-{index}", type="cli", owner_id="writer",
                codebase={"big.txt": "x" * 20000})
            )
            index += 1

    asyncio.run(main())
    """
)


async def test_sqlite_backup_taken_while_another_process_writes_is_consistent(
    sqlite_database: Database, tmp_path: Path
) -> None:
    url = sqlite_database.url.render_as_string(hide_password=False)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        result = await service.backup_database(sqlite_database, tmp_path / "backup.db")
        time.sleep(0.2)
    finally:
        writer.kill()
        writer.wait()
    assert result.kind == "sqlite"
    copy = sqlite3.connect(tmp_path / "backup.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        projects_count = copy.execute("SELECT count(*) FROM projects").fetchone()[0]
        settings_count = copy.execute("SELECT count(*) FROM project_settings").fetchone()[0]
        created = copy.execute(
            "SELECT count(*) FROM audit_log WHERE event_type = 'project.created'"
        ).fetchone()[0]
        revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        copy.close()
    assert projects_count > 0
    # Every project came with its settings and its audit row: no half transaction.
    assert projects_count == settings_count == created
    assert revision == result.revision
    assert not list(tmp_path.glob(".backup.db.partial-*"))


async def test_restore_brings_back_a_backup_and_keeps_a_safety_copy(
    sqlite_database: Database, tmp_path: Path
) -> None:
    await fill(sqlite_database)
    await service.backup_database(sqlite_database, tmp_path / "backup.db")
    await projects.purge_project(sqlite_database, "project-1")
    result = await service.restore_database(sqlite_database, tmp_path / "backup.db")
    assert (await projects.get_project(sqlite_database, "project-1")).name == "project-1"
    assert result.safety_backup.exists()
    safety = sqlite3.connect(result.safety_backup)
    try:
        names = {row[0] for row in safety.execute("SELECT name FROM projects")}
    finally:
        safety.close()
    assert "project-1" not in names
    assert (await verify_chain(sqlite_database)).ok


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just some text\n", "not a projdeck export"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "SQLite database"),
    ],
)
async def test_restore_refuses_a_foreign_or_corrupt_file_and_changes_nothing(
    sqlite_database: Database, tmp_path: Path, content: bytes, message: str
) -> None:
    await fill(sqlite_database)
    before = await all_rows(sqlite_database)
    path = tmp_path / "suspicious.db"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=message):
        await service.restore_database(sqlite_database, path)
    assert await all_rows(sqlite_database) == before
    assert not list(tmp_path.glob("*before-restore*"))


async def test_restore_refuses_a_sqlite_file_that_is_not_projdeck(
    sqlite_database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()
    with pytest.raises(ValidationError, match="not a projdeck one"):
        await service.restore_database(sqlite_database, path)


@pytest.mark.parametrize(
    "direction", ["sqlite->sqlite", "sqlite->postgresql", "postgresql->sqlite"]
)
async def test_transfer_copies_everything_and_verifies(transfer: Transfer) -> None:
    source, target = transfer
    await fill(source)
    before = await all_rows(source)
    result = await service.transfer_workspace(source, target)
    assert result.source_counts["projects"] == 3
    assert result.target_counts["audit_log"] == result.source_counts["audit_log"] + 1
    assert result.chain_rows == result.target_counts["audit_log"]
    after = await all_rows(target)
    for table, rows in before.items():
        assert after[table][: len(rows)] == rows, table
    with pytest.raises(Conflict, match="not empty"):
        await service.transfer_workspace(source, target)


async def test_interrupted_transfer_leaves_the_target_empty(
    sqlite_database: Database, make_database: MakeDatabase
) -> None:
    await fill(sqlite_database)
    target = await make_database("sqlite")

    def interrupt(_done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await service.transfer_workspace(sqlite_database, target, progress=interrupt)
    assert all(rows == [] for rows in (await all_rows(target)).values())
    # And a second run completes it.
    result = await service.transfer_workspace(sqlite_database, target)
    assert result.target_counts["projects"] == 3


@pytest.mark.parametrize("direction", ["sqlite->postgresql", "sqlite->sqlite"])
async def test_transfer_of_the_demo_workspace_verifies_counts_and_chain(transfer: Transfer) -> None:
    from store.demo import fill_demo

    source, target = transfer
    await fill_demo(source)
    result = await service.transfer_workspace(source, target)
    for table, count in result.source_counts.items():
        extra = 1 if table == "audit_log" else 0
        assert result.target_counts[table] == count + extra, table
    assert result.source_counts["projects"] >= 10
    assert result.chain_rows == result.target_counts["audit_log"]
    assert (await verify_chain(target)).ok


async def audit_hashes(db: Database) -> list[tuple[int, str | None]]:
    from sqlalchemy import select

    from store.models import AuditEntry

    async with db.reading() as session:
        rows = await session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id))
        return [(int(row[0]), row[1]) for row in rows]


@pytest.mark.parametrize("direction", ["sqlite->sqlite", "sqlite->postgresql"])
async def test_merge_appends_the_source_audit_rows_after_the_target_chain(
    transfer: Transfer,
) -> None:
    source, target = transfer
    await fill(source)
    await projects.create_project_with_settings(
        target, projects.ProjectCreate(name="target-only", type="cli", owner_id="bob")
    )
    async with target.transaction() as session:
        # The target has its own template of the same name: it keeps it.
        session.add(Template(name="fastapi-service", category=TemplateCategory.API, files={}))
    target_chain = await audit_hashes(target)
    source_audit = len(await audit_hashes(source))

    result = await service.transfer_workspace(source, target, merge=True)
    assert result.target_counts["projects"] == 4
    assert result.target_counts["templates"] == 1
    assert result.inserted["audit_log"] == source_audit
    chain = await audit_hashes(target)
    assert chain[: len(target_chain)] == target_chain
    assert len(chain) == len(target_chain) + source_audit + 1
    assert (await verify_chain(target)).ok
    names = {p.name for p in (await projects.list_projects(target)).items}
    assert names == {"target-only", "project-0", "project-1", "project-2"}

    # Merging again adds nothing but its own audit row.
    again = await service.transfer_workspace(source, target, merge=True)
    assert sum(again.inserted.values()) == 0
    assert len(await audit_hashes(target)) == len(chain) + 1
    assert (await verify_chain(target)).ok

    # A project changed on one side is refused by name; nothing is written.
    changed = await projects.get_project(source, "project-1")
    await projects.update_project(
        source, "project-1", {"owner_id": "carol"}, expected_version=changed.version
    )
    before = await audit_hashes(target)
    with pytest.raises(Conflict) as refused:
        await service.transfer_workspace(source, target, merge=True)
    message = refused.value.message
    assert message.startswith(f"project 'project-1' ({changed.id}) is in both databases")
    assert "line" not in message and "import" not in message
    assert await audit_hashes(target) == before


@pytest.mark.parametrize("direction", ["sqlite->sqlite", "sqlite->postgresql"])
async def test_merge_refuses_a_project_whose_name_the_target_has(transfer: Transfer) -> None:
    """The clash is named in words (the project, the field), the same on
    both backends, not in the driver's; nothing is written."""
    source, target = transfer
    await fill(source)
    clashing = await projects.get_project(source, "project-0")
    await projects.create_project_with_settings(
        target, projects.ProjectCreate(name="project-0", type="cli", owner_id="bob")
    )
    before = await all_rows(target)
    with pytest.raises(Conflict) as refused:
        await service.transfer_workspace(source, target, merge=True)
    assert refused.value.message == (
        f"project 'project-0' ({clashing.id}) cannot be added to the target: another project "
        "there has the same name 'project-0' (name must be unique; rename one of them first)"
    )
    assert await all_rows(target) == before


@pytest.mark.parametrize("direction", ["sqlite->sqlite", "sqlite->postgresql"])
async def test_merge_refuses_a_project_whose_repository_the_target_has(transfer: Transfer) -> None:
    source, target = transfer
    created = await projects.create_project_with_settings(
        source,
        projects.ProjectCreate(
            name="billing",
            type="api",
            owner_id="alice",
            github_owner="acme",
            github_repo="billing",
        ),
    )
    await projects.create_project_with_settings(
        target,
        projects.ProjectCreate(
            name="other", type="api", owner_id="bob", github_owner="acme", github_repo="billing"
        ),
    )
    with pytest.raises(Conflict) as refused:
        await service.transfer_workspace(source, target, merge=True)
    assert refused.value.message == (
        f"project 'billing' ({created.project.id}) cannot be added to the target: another "
        "project there has the same github_owner and github_repo 'acme/billing' "
        "(they must be unique together; rename one of them first)"
    )


async def test_sqlite_backup_and_restore_report_progress_and_the_restored_revision(
    sqlite_database: Database, make_database: MakeDatabase, tmp_path: Path
) -> None:
    from store import migrate

    await fill(sqlite_database)
    pages: list[int] = []
    result = await service.backup_database(
        sqlite_database, tmp_path / "backup.db", progress=pages.append
    )
    copy = sqlite3.connect(tmp_path / "backup.db")
    try:
        page_count = copy.execute("PRAGMA page_count").fetchone()[0]
    finally:
        copy.close()
    assert pages and sum(pages) == page_count
    assert result.revision == migrate.HEAD_REVISION

    # A backup from an older projdeck: restored, upgraded, and said so.
    old = await make_database("sqlite")
    await migrate.downgrade(old, "0004")
    assert old.url.database is not None
    old_file = Path(old.url.database)
    await old.dispose()
    restored_pages: list[int] = []
    restored = await service.restore_database(
        sqlite_database, old_file, progress=restored_pages.append
    )
    assert (restored.source_revision, restored.revision) == ("0004", migrate.HEAD_REVISION)
    assert sum(restored_pages) > 0
    assert await migrate.current_revision(sqlite_database) == migrate.HEAD_REVISION
