"""Audit text search through its index (FTS5 trigram table on SQLite,
trigram GIN indexes on PostgreSQL) finds what a substring match finds, and
the SQLite index follows rows that are added, edited or deleted."""

from __future__ import annotations

from sqlalchemy import text

from store import audit
from store.engine import Database
from store.services import audit as audit_service
from store.services.audit import AuditQuery


async def _note(database: Database, description: str, *, actor: str = "tester") -> None:
    async with database.transaction() as session:
        await audit.record(session, actor=actor, event_type="test.note", description=description)


async def _found(database: Database, term: str) -> list[str]:
    page = await audit_service.list_audit(database, AuditQuery(search=term), limit=100)
    assert page.total == len(page.items)
    return sorted(row.description for row in page.items)


async def test_search_matches_substrings_in_any_case_and_column(database: Database) -> None:
    await _note(database, "Deployed the Billing-API to eu-west")
    await _note(database, "rotated keys", actor="Mallory")
    await _note(database, "nothing to see")
    assert await _found(database, "billing-api") == ["Deployed the Billing-API to eu-west"]
    assert await _found(database, "LLING") == ["Deployed the Billing-API to eu-west"]
    assert await _found(database, "mallo") == ["rotated keys"]
    assert await _found(database, "test.no") == [
        "Deployed the Billing-API to eu-west",
        "nothing to see",
        "rotated keys",
    ]
    # Shorter than the index's three characters: still a substring match.
    assert await _found(database, "eu") == ["Deployed the Billing-API to eu-west"]
    assert await _found(database, "absent words") == []


async def test_search_takes_quotes_percent_and_underscore_literally(database: Database) -> None:
    await _note(database, 'set "mode" to 100% on_call')
    await _note(database, "set mode to 1000 oncall")
    assert await _found(database, '"mode"') == ['set "mode" to 100% on_call']
    assert await _found(database, "100%") == ['set "mode" to 100% on_call']
    assert await _found(database, "on_call") == ['set "mode" to 100% on_call']
    assert await _found(database, "mode AND oncall") == []


async def test_the_index_follows_edited_and_deleted_rows(database: Database) -> None:
    await _note(database, "first alpha")
    await _note(database, "second beta")
    async with database.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE audit_log SET description = 'first gamma' WHERE description = 'first alpha'"
            )
        )
        await connection.execute(text("DELETE FROM audit_log WHERE description = 'second beta'"))
    assert await _found(database, "alpha") == []
    assert await _found(database, "gamma") == ["first gamma"]
    assert await _found(database, "beta") == []


async def test_search_with_another_filter_counts_only_rows_matching_both(
    database: Database,
) -> None:
    for actor in ("alice", "bob", "alice"):
        await _note(database, "deployed billing", actor=actor)
    await _note(database, "deployed search", actor="alice")
    page = await audit_service.list_audit(
        database, AuditQuery(search="billing", actor="alice"), limit=100
    )
    assert (page.total, len(page.items)) == (2, 2)
    alone = await audit_service.list_audit(database, AuditQuery(search="billing"), limit=1)
    assert (alone.total, len(alone.items)) == (3, 1)
