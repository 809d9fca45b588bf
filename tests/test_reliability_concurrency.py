"""Four writer processes and a reader at once, on SQLite and PostgreSQL:
no lock or serialization error reaches a user, no update is lost, every
committed write is there and the audit chain holds."""

from __future__ import annotations

import asyncio
import os
import random
import time

import pytest
from sqlalchemy.engine import URL

from store.engine import Database, open_database
from store.errors import Conflict, InvalidTransition
from store.models import ModificationStatus
from store.services import modifications, projects, review, secrets
from store.services.audit import verify_chain
from tests.crash_support import Report, run_together

pytestmark = pytest.mark.slow
SECONDS = float(os.environ.get("PROJDECK_CONCURRENCY_SECONDS", "30"))
PROJECTS = [f"busy-{index}" for index in range(6)]


async def _open(url: str) -> Database:
    from store.config import normalize_url

    return await open_database(normalize_url(url))


def _until() -> float:
    return time.monotonic() + SECONDS


async def _proposer(url: str, report: Report) -> None:
    db = await _open(url)
    rng = random.Random(1)
    end = _until()
    step = 0
    while time.monotonic() < end:
        step += 1
        name = rng.choice(PROJECTS)
        proposed = await modifications.propose_modification(
            db,
            name,
            modifications.ModificationProposal(
                request=f"change {step}",
                modified_files={f"file-{step % 5}.txt": f"{os.getpid()}-{step}\n"},
            ),
            actor="agent-7",
        )
        report({"op": "proposed", "id": str(proposed.id)})
    await db.dispose()


async def _reviewer(url: str, report: Report) -> None:
    db = await _open(url)
    end = _until()
    while time.monotonic() < end:
        inbox = await review.waiting_modifications(db, limit=20)
        rows = [item for group in inbox.groups for item in group.items]
        if not rows:
            await asyncio.sleep(0.01)
            continue
        for row in rows:
            try:
                if row.status == ModificationStatus.PENDING:
                    await modifications.approve_modification(db, str(row.id))
                    report({"op": "approved", "id": str(row.id)})
                else:
                    applied = await modifications.apply_modification(db, str(row.id))
                    report({"op": applied.status, "id": str(row.id)})
            except InvalidTransition:
                report({"op": "raced", "id": str(row.id)})
    await db.dispose()


async def _editor(url: str, report: Report, tag: str) -> None:
    """Appends a unique token to a project's dependencies with an optimistic
    version check, re-reading on conflict: no token may ever be lost."""
    db = await _open(url)
    rng = random.Random(tag)
    end = _until()
    step = 0
    while time.monotonic() < end:
        step += 1
        name = rng.choice(PROJECTS)
        token = f"{tag}-{step}"
        while True:
            current = await projects.get_project(db, name)
            try:
                await projects.update_project(
                    db,
                    name,
                    {"dependencies": [*current.dependencies[-40:], token]},
                    expected_version=current.version,
                )
                break
            except Conflict:
                report({"op": "conflict"})
        report({"op": "edited", "name": name, "token": token})
        if step % 4 == 0:
            await secrets.set_secret(db, name, f"KEY_{tag.upper()}", f"value-{step}")
            report(
                {
                    "op": "secret",
                    "name": name,
                    "key": f"KEY_{tag.upper()}",
                    "value": f"value-{step}",
                }
            )
    await db.dispose()


async def _reader(url: str, report: Report) -> None:
    db = await _open(url)
    end = _until()
    reads = 0
    while time.monotonic() < end:
        page = await projects.list_projects(db, limit=50)
        assert page.total == len(PROJECTS)
        for item in page.items[:2]:
            await projects.get_project_full_config(db, str(item.id))
        await review.waiting_modifications(db, limit=50)
        reads += 1
    report({"op": "reads", "count": reads})
    await db.dispose()


def test_four_writers_and_a_reader_lose_nothing(
    database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROJDECK_SECRET_KEY", "w7IbUa4wb3Ju1mMzgCpZq1OZ6QnX3Vvv5S4pSKsxZ0E=")
    url = database_url.render_as_string(hide_password=False)

    async def setup() -> None:
        db = await _open(url)
        for name in PROJECTS:
            await projects.create_project_with_settings(
                db,
                projects.ProjectCreate(
                    name=name, type="api", owner_id="o", codebase={"README.md": "x\n"}
                ),
            )
        await db.dispose()

    asyncio.run(setup())
    reports = run_together(
        [
            lambda report: _proposer(url, report),
            lambda report: _reviewer(url, report),
            lambda report: _editor(url, report, "a"),
            lambda report: _editor(url, report, "b"),
            lambda report: _reader(url, report),
        ],
        timeout=SECONDS + 120,
    )
    everything = [item for child in reports for item in child]
    crashes = [item for item in everything if item["op"] == "crash"]
    assert crashes == []
    edits = [item for item in everything if item["op"] == "edited"]
    assert len(edits) > 10
    assert sum(item["count"] for item in everything if item["op"] == "reads") > 10

    async def check() -> None:
        db = await _open(url)
        try:
            for name in PROJECTS:
                project = await projects.get_project(db, name)
                last_tokens = {item["token"] for item in edits if item["name"] == name}
                # Only the 41 newest tokens are kept: each must be a reported one;
                # an editor's tokens still there are its newest ones, none
                # skipped; if none of them is there, the other editor's newer
                # edits pushed them all out (the editors stop at slightly
                # different times, so one may go on editing alone for a while).
                kept_in_all = project.dependencies
                assert set(kept_in_all) <= last_tokens
                for tag in ("a", "b"):
                    mine = [
                        item["token"]
                        for item in edits
                        if item["name"] == name and item["token"].startswith(tag)
                    ]
                    kept = [token for token in kept_in_all if token.startswith(tag)]
                    assert kept == mine[len(mine) - len(kept) :], (name, tag, kept[-3:])
                    if mine and not kept:
                        assert len(kept_in_all) == 41, (name, mine[-1], len(kept_in_all))
            for item in everything:
                if item["op"] == "proposed":
                    await review.get_modification(db, item["id"])
                elif item["op"] == "applied":
                    detail = await review.get_modification(db, item["id"])
                    assert detail.modification.status == ModificationStatus.APPLIED
            newest: dict[tuple[str, str], str] = {}
            for item in everything:
                if item["op"] == "secret":
                    newest[(item["name"], item["key"])] = item["value"]
            for (name, key), value in newest.items():
                assert (await secrets.reveal_secret(db, name, key)).reveal() == value
            chain = await verify_chain(db)
            assert chain.ok, chain.problem
        finally:
            await db.dispose()

    asyncio.run(check())
