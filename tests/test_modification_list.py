"""The modification list on both backends: each filter (project, status,
who asked, the request time from ``since`` up to ``until``) narrows the
page and its total alike, newest or oldest first, a page at a time; and the
ids a shell completes an id prefix with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from store.engine import Database
from store.errors import ValidationError
from store.models import Modification, ModificationStatus
from store.services import modifications as service
from store.services import projects, review

START = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


async def propose(db: Database, project: str, request: str, by: str) -> uuid.UUID:
    created = await service.propose_modification(
        db,
        project,
        service.ModificationProposal(
            request=request, requested_by=by, modified_files={"app.py": f"# {request}\n"}
        ),
    )
    return created.id


async def requested_at(db: Database, modification_id: uuid.UUID, when: datetime) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Modification)
            .where(col(Modification.id) == modification_id)
            .values(requested_at=when)
        )


@pytest.fixture
async def five(database: Database) -> list[uuid.UUID]:
    """Five modifications a day apart from START, the first four of Billing
    (asked for by codex and alice in turn), the last of Ledger."""
    for name in ("Billing", "Ledger"):
        await projects.create_project_with_settings(
            database,
            projects.ProjectCreate(
                name=name, type="api", owner_id="acme", codebase={"app.py": "# app\n"}
            ),
        )
    ids = []
    for day, (project, by) in enumerate(
        [
            ("Billing", "codex"),
            ("Billing", "alice"),
            ("Billing", "codex"),
            ("Billing", "alice"),
            ("Ledger", "codex"),
        ]
    ):
        modification_id = await propose(database, project, f"change {day}", by)
        await requested_at(database, modification_id, START + timedelta(days=day))
        ids.append(modification_id)
    await service.reject_modification(database, str(ids[2]), comment="no")
    return ids


async def listed(database: Database, **filters: object) -> tuple[list[uuid.UUID], int]:
    page = await review.list_modifications(database, **filters)
    return [row.id for row in page.items], page.total


async def test_each_filter_narrows_the_page_and_the_total(
    database: Database, five: list[uuid.UUID]
) -> None:
    assert await listed(database) == (five, 5)
    assert await listed(database, requested_by="codex") == ([five[0], five[2], five[4]], 3)
    assert await listed(database, since=START + timedelta(days=3)) == (five[3:], 2)
    assert await listed(database, until=START + timedelta(days=1)) == (five[:1], 1)
    # since inclusive, until exclusive: one day is one modification.
    one_day = {"since": START + timedelta(days=2), "until": START + timedelta(days=3)}
    assert await listed(database, **one_day) == ([five[2]], 1)
    together = {
        "project_ref": "Billing",
        "requested_by": "codex",
        "statuses": [ModificationStatus.PENDING],
        "since": START,
    }
    assert await listed(database, **together) == ([five[0]], 1)
    assert await listed(database, requested_by="nobody") == ([], 0)


async def test_newest_first_pages_from_the_newest(
    database: Database, five: list[uuid.UUID]
) -> None:
    assert await listed(database, oldest_first=False, limit=2) == ([five[4], five[3]], 5)
    assert await listed(database, oldest_first=False, limit=2, offset=2) == ([five[2], five[1]], 5)
    page = await review.list_modifications(database, requested_by="alice", limit=1, offset=1)
    assert ([row.id for row in page.items], page.total, page.limit, page.offset) == (
        [five[3]],
        2,
        1,
        1,
    )


async def test_who_asked_is_matched_as_it_is_stored_and_checked(
    database: Database, five: list[uuid.UUID]
) -> None:
    assert await listed(database, requested_by="  alice ") == ([five[1], five[3]], 2)
    with pytest.raises(ValidationError, match="requested_by"):
        await review.list_modifications(database, requested_by="ali\x1bce")
    with pytest.raises(ValidationError, match="requested_by"):
        await review.list_modifications(database, requested_by=" ")


async def test_ids_are_found_by_their_first_characters_newest_first(
    database: Database, five: list[uuid.UUID]
) -> None:
    everything = await review.find_modification_ids(database)
    assert [found[0] for found in everything] == list(reversed(five))
    assert everything[0][1:] == (ModificationStatus.PENDING, "change 4")
    rejected = await review.find_modification_ids(database, str(five[2])[:13].upper())
    assert [found[0] for found in rejected] == [five[2]]
    assert rejected[0][1] == ModificationStatus.REJECTED
    assert await review.find_modification_ids(database, five[2].hex[:12]) == rejected
    assert await review.find_modification_ids(database, "xyz%") == []
    assert len(await review.find_modification_ids(database, limit=2)) == 2


async def test_search_finds_text_in_the_request_or_the_requester(
    database: Database, five: list[uuid.UUID]
) -> None:
    odd = await propose(database, "Ledger", "Raise the limit to 100% (50_000)", "dana")

    by_request = await review.list_modifications(database, search="LIMIT TO 100%")
    by_requester = await review.list_modifications(database, search="ALIC")
    literal = await review.list_modifications(database, search="0_0")
    wildcard = await review.list_modifications(database, search="%")

    assert [row.id for row in by_request.items] == [odd] and by_request.total == 1
    assert {row.requested_by for row in by_requester.items} == {"alice"}
    assert [row.id for row in literal.items] == [odd]
    assert [row.id for row in wildcard.items] == [odd]  # % is a character, not "anything"
    with pytest.raises(ValidationError, match="search"):
        await review.list_modifications(database, search="a\x1b[2Jb")
