"""The audit log's hash chain: untouched chains verify, every kind of
tampering is caught at the first bad row, concurrent writers never fork it;
metadata is redacted; listing and export filter and stream."""

from __future__ import annotations

import csv
import errno
import io
import json
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from store import audit
from store.engine import Database
from store.models import AuditCategory, Severity
from store.redaction import REDACTED
from store.services import audit as audit_service
from store.services import projects
from store.services.audit import AuditQuery, verify_chain
from tests.store_support import execute


async def _append(database: Database, count: int, **fields: Any) -> None:
    for index in range(count):
        async with database.transaction() as session:
            await audit.record(
                session,
                actor=fields.get("actor", "tester"),
                event_type=fields.get("event_type", "test.event"),
                description=f"{fields.get('description', 'event')} {index}",
                category=fields.get("category", AuditCategory.GENERAL),
                severity=fields.get("severity", Severity.INFO),
                details=fields.get("details", {"index": index}),
            )


async def _row(database: Database, row_id: int) -> dict[str, Any]:
    async with database.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT * FROM audit_log WHERE id = :id"), {"id": row_id}
        )
        return dict(result.mappings().one())


async def test_rows_link_to_the_previous_row_and_an_untouched_chain_verifies(
    database: Database,
) -> None:
    await projects.create_project_with_settings(
        database, projects.ProjectCreate(name="Billing", type="api", owner_id="alice")
    )
    await _append(database, 4)
    first, second = await _row(database, 1), await _row(database, 2)
    assert first["prev_hash"] == audit.GENESIS_HASH
    assert second["prev_hash"] == first["hash"]
    assert len(second["hash"]) == 64
    report = await verify_chain(database)
    assert report.ok and report.verified == 5 and report.bad_row_id is None
    assert report.head_hash == (await _row(database, 5))["hash"]


async def test_empty_log_verifies(database: Database) -> None:
    report = await verify_chain(database)
    assert report.ok and report.verified == 0 and report.head_hash is None


async def test_metadata_round_trips_into_the_same_hash_on_both_backends(
    database: Database,
) -> None:
    details = {
        "ratio": 0.1,
        "big": 1e16,
        "whole": 2.0,
        "tiny": 1e-7,
        "negative_zero": -0.0,
        "text": 'héllo ✓ "quoted" \\ line\nbreak',
        "nested": [1.5, {"b": None, "a": True}],
        "when": datetime(2026, 1, 2, tzinfo=UTC),
    }
    await _append(database, 2, details=details, description="ünïcode ✓")
    assert (await verify_chain(database)).ok


async def test_edited_row_is_named(database: Database) -> None:
    await _append(database, 5)
    await execute(database, "UPDATE audit_log SET description = 'nothing happened' WHERE id = 3")
    report = await verify_chain(database)
    assert not report.ok and report.bad_row_id == 3 and report.verified == 2
    assert report.problem is not None and "edited" in report.problem


async def test_edited_metadata_actor_or_time_is_named(database: Database) -> None:
    await _append(database, 4)
    edits = [
        (2, "UPDATE audit_log SET actor = 'mallory' WHERE id = 2"),
        (3, "UPDATE audit_log SET severity = 'debug' WHERE id = 3"),
        (4, "UPDATE audit_log SET project_id = NULL, entity_id = 'x' WHERE id = 4"),
    ]
    for row_id, statement in reversed(edits):
        await execute(database, statement)
        assert (await verify_chain(database)).bad_row_id == row_id
    row = await _row(database, 1)
    await execute(
        database,
        "UPDATE audit_log SET at = :at WHERE id = 1",
        at=row["at"] - timedelta(seconds=1) if isinstance(row["at"], datetime) else row["at"],
    )
    if isinstance(row["at"], datetime):
        assert (await verify_chain(database)).bad_row_id == 1


async def test_edited_json_metadata_is_named(database: Database) -> None:
    await _append(database, 3, details={"amount": 10})
    statement = (
        "UPDATE audit_log SET metadata = CAST(:m AS JSONB) WHERE id = 2"
        if database.backend == "postgresql"
        else "UPDATE audit_log SET metadata = :m WHERE id = 2"
    )
    await execute(database, statement, m=json.dumps({"amount": 1000}))
    assert (await verify_chain(database)).bad_row_id == 2


async def test_deleted_row_is_named_at_the_row_after_it(database: Database) -> None:
    await _append(database, 5)
    await execute(database, "DELETE FROM audit_log WHERE id = 3")
    report = await verify_chain(database)
    assert not report.ok and report.bad_row_id == 4
    assert report.problem is not None and "does not link to row 2" in report.problem


async def test_rows_cut_from_the_end_are_caught_with_a_kept_head_hash(
    database: Database,
) -> None:
    await _append(database, 5)
    kept = (await verify_chain(database)).head_hash
    assert kept is not None
    await _append(database, 2)
    assert (await verify_chain(database, anchor=kept)).ok
    await execute(database, "DELETE FROM audit_log WHERE id >= 5")
    assert (await verify_chain(database)).ok
    report = await verify_chain(database, anchor=kept)
    assert not report.ok and report.verified == 4
    assert report.problem is not None and "removed from its end" in report.problem


async def test_deleted_first_row_is_named(database: Database) -> None:
    await _append(database, 3)
    await execute(database, "DELETE FROM audit_log WHERE id = 1")
    report = await verify_chain(database)
    assert report.bad_row_id == 2
    assert report.problem is not None and "not the start of the chain" in report.problem


async def test_inserted_rows_are_named(database: Database) -> None:
    await _append(database, 4)
    columns = (
        "id, at, actor, event_type, category, severity, description, metadata, prev_hash, hash"
    )
    copy = f"INSERT INTO audit_log ({columns}) SELECT :new_id, at, actor, event_type, category, severity, description, metadata, prev_hash, hash FROM audit_log WHERE id = :old_id"
    # A replayed copy of row 2 appended at the end.
    await execute(database, copy, new_id=10, old_id=2)
    report = await verify_chain(database)
    assert report.bad_row_id == 10 and report.verified == 4
    await execute(database, "DELETE FROM audit_log WHERE id = 10")
    # A forged row before the first one.
    await execute(database, copy, new_id=0, old_id=3)
    assert (await verify_chain(database)).bad_row_id == 0


async def test_swapped_rows_are_named(database: Database) -> None:
    await _append(database, 5)
    two, three = await _row(database, 2), await _row(database, 3)
    fields = ["at", "actor", "event_type", "description", "prev_hash", "hash"]
    for target, source in ((2, three), (3, two)):
        await execute(
            database,
            f"UPDATE audit_log SET {', '.join(f'{f} = :{f}' for f in fields)} WHERE id = :id",
            id=target,
            **{f: source[f] for f in fields},
        )
    report = await verify_chain(database)
    assert not report.ok and report.bad_row_id == 2


async def test_swapped_contents_keeping_the_hashes_are_named(database: Database) -> None:
    await _append(database, 4)
    two, three = await _row(database, 2), await _row(database, 3)
    for target, source in ((2, three), (3, two)):
        await execute(
            database,
            "UPDATE audit_log SET description = :d WHERE id = :id",
            d=source["description"],
            id=target,
        )
    assert (await verify_chain(database)).bad_row_id == 2


async def test_erased_hash_is_named(database: Database) -> None:
    await _append(database, 3)
    await execute(database, "UPDATE audit_log SET hash = NULL WHERE id = 3")
    report = await verify_chain(database)
    assert report.bad_row_id == 3 and report.problem is not None and "no hash" in report.problem


async def test_secret_looking_metadata_is_redacted_before_it_is_stored(
    database: Database,
) -> None:
    details = {
        "password": "canary-redact-1",
        "Authorization": "Bearer canary-redact-2",
        "nested": {"api_key": "canary-redact-3", "private_key": "canary-redact-4", "ok": "kept"},
        "items": [{"access_token": "canary-redact-5"}],
        "DB_SECRET": "canary-redact-6",
        "name": "kept too",
    }
    await _append(database, 1, details=details)
    row = await _row(database, 1)
    stored = row["metadata"] if isinstance(row["metadata"], dict) else json.loads(row["metadata"])
    assert "canary" not in json.dumps(stored)
    assert stored["password"] == stored["Authorization"] == REDACTED
    assert stored["nested"] == {"api_key": "[redacted]", "private_key": "[redacted]", "ok": "kept"}
    assert stored["items"] == [{"access_token": "[redacted]"}]
    assert stored["name"] == "kept too"
    assert (await verify_chain(database)).ok


_APPENDER = """
import asyncio, sys
from store import audit
from store.config import normalize_url
from store.engine import open_database

async def main(url: str, worker: str, rows: int) -> None:
    database = await open_database(normalize_url(url))
    try:
        for index in range(rows):
            async with database.transaction() as session:
                await audit.record(
                    session, actor=worker, event_type="test.concurrent",
                    description=f"{worker} row {index}", details={"index": index},
                )
    finally:
        await database.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def test_concurrent_processes_leave_one_unbroken_chain(
    database: Database, database_url: URL
) -> None:
    workers, rows = 4, 25
    url = database_url.render_as_string(hide_password=False)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _APPENDER, url, f"worker-{n}", str(rows)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    report = await verify_chain(database)
    assert report.ok, report.problem
    assert report.verified == workers * rows
    async with database.reading() as session:
        per_worker = dict(
            (
                await session.execute(text("SELECT actor, COUNT(*) FROM audit_log GROUP BY actor"))
            ).all()
        )
    assert per_worker == {f"worker-{n}": rows for n in range(workers)}


async def test_list_filters_and_search(database: Database) -> None:
    await projects.create_project_with_settings(
        database, projects.ProjectCreate(name="Billing", type="api", owner_id="alice")
    )
    await _append(database, 3, actor="bob", description="routine")
    await _append(
        database,
        2,
        actor="carol",
        description="alarm",
        category=AuditCategory.SECURITY,
        severity=Severity.WARNING,
    )
    page = await audit_service.list_audit(database)
    assert page.total == 6 and [row.id for row in page.items] == [6, 5, 4, 3, 2, 1]
    assert (await audit_service.list_audit(database, AuditQuery(actor="bob"))).total == 3
    security = await audit_service.list_audit(database, AuditQuery(category="security"))
    assert {row.actor for row in security.items} == {"carol"}
    assert (await audit_service.list_audit(database, AuditQuery(severity="warning"))).total == 2
    assert (await audit_service.list_audit(database, AuditQuery(search="ALARM"))).total == 2
    by_project = await audit_service.list_audit(database, AuditQuery(project="Billing"))
    assert [row.event_type for row in by_project.items] == ["project.created"]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert (await audit_service.list_audit(database, AuditQuery(since=future))).total == 0
    assert (await audit_service.list_audit(database, AuditQuery(until=future))).total == 6
    assert (await audit_service.list_audit(database, limit=2, offset=1)).items[0].id == 5


def test_times_accept_dates_datetimes_and_ages() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert audit_service.parse_time("since", "7d", now=now) == now - timedelta(days=7)
    assert audit_service.parse_time("since", "2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert audit_service.parse_time("since", "2026-03-01T10:00:00+02:00") == datetime(
        2026, 3, 1, 8, tzinfo=UTC
    )
    with pytest.raises(Exception, match="since: 'yesterday' is not a date"):
        audit_service.parse_time("since", "yesterday")


async def test_export_jsonl_and_csv_hold_every_row_and_are_audited(database: Database) -> None:
    async with database.transaction() as session:
        for index in range(150):
            await audit.record(
                session,
                actor="bulk",
                event_type="test.bulk",
                description=f"bulk {index}",
                details={"index": index},
            )
    out = io.StringIO()
    assert await audit_service.export_audit(database, out, fmt="jsonl") == 150
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == list(range(1, 151))
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    out = io.StringIO()
    query = AuditQuery(search="bulk 14")
    assert await audit_service.export_audit(database, out, fmt="csv", query=query) == 11
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 11 and list(rows[0]) == audit_service.CSV_COLUMNS
    assert json.loads(rows[0]["metadata"]) == {"index": 14}
    exports = await audit_service.list_audit(database, AuditQuery(event_type="audit.exported"))
    assert exports.total == 2
    assert exports.items[0].details["rows"] == 11
    assert (await verify_chain(database)).ok


async def test_export_and_verify_memory_stays_flat_as_the_log_grows(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small batches, so a small log already spans several of them.
    monkeypatch.setattr(audit_service, "_STREAM_BATCH", 25)

    class Discard(io.StringIO):
        def write(self, text: str) -> int:
            return len(text)

    async def peak_kib() -> tuple[int, int]:
        tracemalloc.start()
        try:
            await audit_service.export_audit(database, Discard(), fmt="jsonl")
            export_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            assert (await verify_chain(database)).ok
            return export_peak // 1024, tracemalloc.get_traced_memory()[1] // 1024
        finally:
            tracemalloc.stop()

    async def grow(rows: int) -> None:
        async with database.transaction() as session:
            for index in range(rows):
                await audit.record(
                    session,
                    actor="bulk",
                    event_type="test.bulk",
                    description="x" * 200,
                    details={"index": index, "padding": "y" * 300},
                )

    await grow(100)
    small = await peak_kib()
    await grow(400)
    large = await peak_kib()
    # Five times the rows: the batch buffer bounds the peak, not the row count.
    assert large[0] < small[0] * 1.5 + 64
    assert large[1] < small[1] * 1.5 + 64


async def test_a_failing_export_destination_is_reported_as_such(database: Database) -> None:
    await _append(database, 3)

    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(audit_service.ExportOutputError) as caught:
        await audit_service.export_audit(database, Full(), fmt="csv")
    assert str(caught.value) == "cannot write the export after 0 rows: No space left on device"
    assert not caught.value.closed
    exports = await audit_service.list_audit(database, AuditQuery(event_type="audit.exported"))
    assert exports.total == 0


async def test_a_row_dated_by_its_writer_is_stored_with_that_time_and_verifies(
    database: Database,
) -> None:
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    async with database.transaction() as session:
        written = await audit.record(
            session, actor="demo", event_type="test.dated", description="dated", at=moment
        )
    page = await audit_service.list_audit(database, AuditQuery(event_type="test.dated"))
    assert [(row.id, row.at, row.hash) for row in page.items] == [
        (written.id, moment, written.hash)
    ]
    assert (await verify_chain(database)).ok
