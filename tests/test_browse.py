"""The app's read-only lists (store/services/browse.py) on both backends."""

from __future__ import annotations

from store.engine import Database
from store.models import ProjectStatus
from store.repositories.projects import ProjectFilter, ProjectSort
from store.services import projects as project_service
from store.services.browse import audit_actors, list_project_rows, project_names
from store.services.modifications import ModificationProposal, propose_modification


async def _project(db: Database, name: str, **fields: object) -> None:
    await project_service.create_project_with_settings(
        db,
        project_service.ProjectCreate(name=name, type="api", owner_id="alice", **fields),  # type: ignore[arg-type]
        actor="alice",
    )


async def test_project_rows_carry_scores_and_pending_counts_page_by_page(
    database: Database,
) -> None:
    for number in range(5):
        await _project(database, f"svc-{number}", test_coverage=10 * number)
    await _project(database, "gateway", github_owner="acme", github_repo="gw")
    await propose_modification(
        database,
        "gateway",
        ModificationProposal(request="Add a header", modified_files={"README.md": "hi\n"}),
        actor="agent",
    )
    await project_service.archive_project(database, "svc-0")

    first = await list_project_rows(
        database, ProjectFilter(statuses=[ProjectStatus.ACTIVE]), sort=ProjectSort.NAME, limit=3
    )
    assert first.total == 5 and [row.name for row in first.items] == ["gateway", "svc-1", "svc-2"]
    gateway = first.items[0]
    assert gateway.github == "acme/gw" and gateway.pending_modifications == 1
    assert first.items[1].test_coverage == 10 and first.items[1].pending_modifications == 0
    rest = await list_project_rows(
        database,
        ProjectFilter(statuses=[ProjectStatus.ACTIVE]),
        sort=ProjectSort.NAME,
        limit=3,
        offset=3,
    )
    assert [row.name for row in rest.items] == ["svc-3", "svc-4"] and not rest.has_more
    found = await list_project_rows(database, ProjectFilter(search="GW"))
    assert [row.name for row in found.items] == ["gateway"]


async def test_names_for_the_filters(database: Database) -> None:
    await _project(database, "beta")
    await _project(database, "alpha")
    assert [name for _, name in await project_names(database)] == ["alpha", "beta"]
    assert await audit_actors(database) == ["alice"]
