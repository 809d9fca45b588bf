"""Paging the projects list by keyset gives the same rows, in the same
order, as paging by offset, including rows that share an update time."""

from __future__ import annotations

from sqlalchemy import text

from store.engine import Database
from store.repositories.projects import ProjectFilter
from store.services import projects
from store.services.browse import list_project_rows


async def test_keyset_pages_match_offset_pages(database: Database) -> None:
    for number in range(7):
        await projects.create_project_with_settings(
            database, projects.ProjectCreate(name=f"p{number}", type="api", owner_id="alice")
        )
    async with database.engine.begin() as connection:
        # Three projects with the same update time: the id breaks the tie.
        await connection.execute(
            text(
                "UPDATE projects SET updated_at = "
                "(SELECT updated_at FROM projects WHERE name = 'p3') WHERE name IN ('p2', 'p4')"
            )
        )
    filters = ProjectFilter(owner_id="alice")
    by_offset = [
        row.id
        for offset in range(0, 7, 3)
        for row in (await list_project_rows(database, filters, limit=3, offset=offset)).items
    ]
    by_keyset: list[object] = []
    after = None
    while True:
        page = await list_project_rows(database, filters, limit=3, after=after)
        if not page.items:
            break
        by_keyset += [row.id for row in page.items]
        after = (page.items[-1].updated_at, page.items[-1].id)
    assert len(by_offset) == 7
    assert by_keyset == by_offset
