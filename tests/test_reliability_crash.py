"""Crash safety: a process writing through the services is killed
(SIGKILL) at random points; every write it reported is there, nothing half
written is, and the database and the audit chain stay sound."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from store.config import normalize_url
from store.engine import open_database
from store.services import modifications, projects, secrets
from store.services.audit import verify_chain
from tests.crash_support import Report, random_delays, run_and_kill
from tests.store_support import opened

KEY = "w7IbUa4wb3Ju1mMzgCpZq1OZ6QnX3Vvv5S4pSKsxZ0E="
pytestmark = pytest.mark.slow


async def _write_forever(url: str, report: Report) -> None:
    db = await open_database(normalize_url(url))
    tag = uuid.uuid4().hex[:8]
    step = 0
    while True:
        step += 1
        name = f"crash-{tag}-{step}"
        created = await projects.create_project_with_settings(
            db,
            projects.ProjectCreate(
                name=name, type="api", owner_id="writer", codebase={"app.py": "v = 0\n"}
            ),
        )
        report({"op": "create", "name": name})
        updated = await projects.update_project(
            db, name, {"owner_id": f"owner-{step}"}, expected_version=created.project.version
        )
        report({"op": "update", "name": name, "version": updated.version})
        await secrets.set_secret(db, name, "TOKEN", f"value-{step}")
        report({"op": "secret", "name": name})
        proposed = await modifications.propose_modification(
            db,
            name,
            modifications.ModificationProposal(
                request="bump", modified_files={"app.py": f"v = {step}\n", "new.py": "x = 1\n"}
            ),
            actor="agent-7",
        )
        await modifications.approve_modification(db, str(proposed.id))
        await modifications.apply_modification(db, str(proposed.id))
        report({"op": "apply", "name": name, "content": f"v = {step}\n"})


def _check(path: Path, reports: list[dict[str, Any]]) -> None:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Audit rows counted once per (event, project) and (event, entity),
        # ids without dashes (the columns hold them in either spelling).
        by_project: dict[tuple[str, str], int] = {}
        by_entity: dict[tuple[str, str], int] = {}
        for event, project_id, entity_id in connection.execute(
            "SELECT event_type, replace(project_id, '-', ''), replace(entity_id, '-', '') "
            "FROM audit_log"
        ):
            by_project[event, project_id] = by_project.get((event, project_id), 0) + 1
            by_entity[event, entity_id] = by_entity.get((event, entity_id), 0) + 1
        rows = connection.execute(
            "SELECT p.name, p.version, s.project_id IS NOT NULL, replace(p.id, '-', ''), "
            "p.owner_id, (SELECT count(*) FROM project_secrets x WHERE x.project_id = p.id) "
            "FROM projects p LEFT JOIN project_settings s ON s.project_id = p.id"
        ).fetchall()
        for name, _version, has_settings, project_id, owner, stored in rows:
            # No half transaction: every project has its settings and its audit row.
            assert has_settings, name
            assert by_entity.get(("project.created", project_id)) == 1, name
            # Every other write is all or nothing with its audit row too.
            logged = by_project.get(("project.updated", project_id), 0)
            assert logged == (0 if owner == "writer" else 1), (name, owner, logged)
            logged = by_project.get(("secret.created", project_id), 0)
            assert stored == logged, (name, stored, logged)
        for name, status, has_new_file, modification_id in connection.execute(
            "SELECT p.name, lower(m.status), p.codebase LIKE '%\"new.py\"%', "
            "replace(m.id, '-', '') FROM modifications m JOIN projects p ON p.id = m.project_id"
        ):
            logged = by_entity.get(("modification.applied", modification_id), 0)
            applied = status == "applied"
            assert applied == bool(has_new_file) == (logged == 1), (name, status, logged)
        versions = {row[0]: row[1] for row in rows}
        names_with_secret = {
            row[0]
            for row in connection.execute(
                "SELECT p.name FROM project_secrets s JOIN projects p ON p.id = s.project_id"
            )
        }
        codebases = dict(connection.execute("SELECT name, codebase FROM projects").fetchall())
        applied_names = {
            row[0]
            for row in connection.execute(
                "SELECT p.name FROM modifications m JOIN projects p ON p.id = m.project_id "
                "WHERE lower(m.status) = 'applied'"
            )
        }
    finally:
        connection.close()
    for item in reports:
        name = item["name"]
        assert name in versions, item
        if item["op"] == "update":
            assert versions[name] >= item["version"], item
        elif item["op"] == "secret":
            assert name in names_with_secret, item
        elif item["op"] == "apply":
            assert item["content"].strip() in codebases[name], item
            assert name in applied_names, item


def test_killed_writer_loses_nothing_it_reported_and_leaves_no_half_writes(
    tmp_path: Path, migrated_sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    monkeypatch.setenv("PROJDECK_SECRET_KEY", KEY)
    path = tmp_path / "crash.db"
    shutil.copyfile(migrated_sqlite_template, path)
    url = f"sqlite:///{path}"
    all_reports: list[dict[str, Any]] = []
    # Up to a second: on a loaded machine a writer's first round (create to
    # apply, its imports and first statements) takes most of one, and the
    # kills must reach every kind of write.
    for delay in random_delays(50, seed=2026, high=1.0):
        reports = run_and_kill(lambda report: _write_forever(url, report), kill_after=delay)
        all_reports.extend(reports)
        _check(path, all_reports)

    async def verify() -> None:
        async with opened(normalize_url(url)) as db:
            report = await verify_chain(db)
            assert report.ok, report.problem
            for item in all_reports:
                if item["op"] == "secret":
                    value = await secrets.reveal_secret(db, item["name"], "TOKEN")
                    assert value.reveal().startswith("value-")

    asyncio.run(verify())
    assert {item["op"] for item in all_reports} >= {"create", "update", "secret", "apply"}


async def _rotate_forever(url: str, report: Report) -> None:
    db = await open_database(normalize_url(url))
    while True:
        rotation = await secrets.rotate_key(db)
        report({"op": "rotated", "key_id": rotation.key_id})


def test_key_rotation_killed_at_random_points_keeps_every_secret_readable(
    tmp_path: Path, migrated_sqlite_template: Path
) -> None:
    import shutil

    path = tmp_path / "rotate.db"
    shutil.copyfile(migrated_sqlite_template, path)
    url = f"sqlite:///{path}"
    values = {f"SECRET_{index}": f"rotation-value-{index}" for index in range(40)}

    async def fill() -> None:
        async with opened(normalize_url(url)) as db:
            for name in ("alpha", "beta"):
                await projects.create_project_with_settings(
                    db, projects.ProjectCreate(name=name, type="cli", owner_id="o")
                )
            for index, (key, value) in enumerate(values.items()):
                await secrets.set_secret(db, "alpha" if index % 2 else "beta", key, value)

    async def all_readable() -> None:
        async with opened(normalize_url(url)) as db:
            for index, (key, value) in enumerate(values.items()):
                shown = await secrets.reveal_secret(db, "alpha" if index % 2 else "beta", key)
                assert shown.reveal() == value

    asyncio.run(fill())
    for delay in random_delays(12, seed=7, low=0.02, high=0.4):
        run_and_kill(lambda report: _rotate_forever(url, report), kill_after=delay)
        asyncio.run(all_readable())

    async def finish() -> None:
        async with opened(normalize_url(url)) as db:
            rotation = await secrets.rotate_key(db)
            assert rotation.kept == ()
            names = [
                name for ref in ("alpha", "beta") for name in await secrets.list_secrets(db, ref)
            ]
            assert {name.key_id for name in names} == {rotation.key_id}

    asyncio.run(finish())
    asyncio.run(all_readable())
