"""The app's read-only lists (store/services/browse.py) on both backends."""

from __future__ import annotations

from store.engine import Database
from store.models import ProjectStatus
from store.repositories.projects import PROJECT_ORDER, ProjectFilter, ProjectSort
from store.services import projects as project_service
from store.services.audit import AuditQuery, list_audit
from store.services.browse import (
    find_audit_actors,
    find_project_names,
    list_project_rows,
    project_names_of,
)
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
    assert rest.total == 5
    found = await list_project_rows(database, ProjectFilter(search="GW"))
    assert [row.name for row in found.items] == ["gateway"] and found.total == 1
    for limit in (4, 5, 6):
        listed = await project_service.list_projects(
            database, ProjectFilter(search="svc"), limit=limit
        )
        assert listed.total == 5 and len(listed.items) == min(limit, 5)
    further = await project_service.list_projects(
        database, ProjectFilter(search="svc"), limit=2, offset=4
    )
    assert further.total == 5 and len(further.items) == 1
    assert (await project_service.list_projects(database, ProjectFilter(search="zz"))).total == 0


async def test_project_rows_sort_by_type_status_and_owner_with_name_breaking_ties(
    database: Database,
) -> None:
    for name, kind, owner in [
        ("zeta", "web_app", "bob"),
        ("alpha", "web_app", "carol"),
        ("mid", "api", "bob"),
        ("beta", "cli", "alice"),
    ]:
        await project_service.create_project_with_settings(
            database, project_service.ProjectCreate(name=name, type=kind, owner_id=owner)
        )
    await project_service.archive_project(database, "alpha")

    async def names(sort: ProjectSort) -> list[str]:
        page = await list_project_rows(database, ProjectFilter(statuses=[]), sort=sort)
        return [row.name for row in page.items]

    assert await names(ProjectSort.TYPE) == ["mid", "beta", "alpha", "zeta"]
    assert await names(ProjectSort.OWNER) == ["beta", "mid", "zeta", "alpha"]
    assert await names(ProjectSort.STATUS) == ["beta", "mid", "zeta", "alpha"]


async def test_project_picker_finds_names_holding_the_text_starting_ones_first(
    database: Database,
) -> None:
    for name in ("Billing API", "Auth Gateway", "Old billing jobs", "Docs_Site", "Docs Site"):
        await _project(database, name)
    found = await find_project_names(database, "BILL")
    assert [name for _, name in found] == ["Billing API", "Old billing jobs"]
    assert [name for _, name in await find_project_names(database, "")] == [
        "Auth Gateway",
        "Billing API",
        "Docs Site",
        "Docs_Site",
        "Old billing jobs",
    ]
    # Typed text is literal: "_" is not a wildcard.
    assert [name for _, name in await find_project_names(database, "s_s")] == ["Docs_Site"]
    assert [name for _, name in await find_project_names(database, "a", limit=2)] == [
        "Auth Gateway",
        "Billing API",
    ]
    assert await find_project_names(database, "nothing like it") == []
    ids = {project_id: name for project_id, name in found}
    assert await project_names_of(database, list(ids)) == ids
    assert await project_names_of(database, []) == {}


async def test_actor_picker_lists_distinct_actors_from_the_typed_start(database: Database) -> None:
    for number, actor in enumerate(["alice", "bob", "agent:claude", "alice", "agent:codex"]):
        await project_service.create_project_with_settings(
            database,
            project_service.ProjectCreate(name=f"svc-{number}", type="api", owner_id="o"),  # type: ignore[arg-type]
            actor=actor,
        )
    assert await find_audit_actors(database) == ["agent:claude", "agent:codex", "alice", "bob"]
    assert await find_audit_actors(database, "a") == ["agent:claude", "agent:codex", "alice"]
    assert await find_audit_actors(database, "agent:") == ["agent:claude", "agent:codex"]
    assert await find_audit_actors(database, "a", limit=2) == ["agent:claude", "agent:codex"]
    assert await find_audit_actors(database, "b") == ["bob"]
    assert await find_audit_actors(database, "zed") == []
    # What the picker offers is what the audit filter matches.
    page = await list_audit(database, AuditQuery(actor="agent:codex"))
    assert page.total >= 1 and {entry.actor for entry in page.items} == {"agent:codex"}


async def test_a_project_search_on_sqlite_reads_the_search_index_not_every_row(
    sqlite_database: Database,
) -> None:
    """Left alone, SQLite walks the update-time index and reads every row
    for a search that matches little; the search names the index that
    holds the searched columns, in the order the list is shown."""
    from sqlalchemy import select, text

    from store.models import Project

    await _project(sqlite_database, "gateway")
    # The planner's statistics of a workspace of 100,000 projects (as
    # ANALYZE wrote them for the benchmarks' one), read in again.
    stats = {
        "ix_projects_status_updated_search": "100000 33334 2 1 1 1 1 1",
        "ix_projects_owner_status_updated": "100000 202 68 2 1",
        "ix_projects_updated_at": "100000 2",
        "ix_projects_type": "100000 12500",
    }
    async with sqlite_database.transaction() as session:
        await session.execute(text("ANALYZE"))
        await session.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'projects'"))
        for index, stat in stats.items():
            await session.execute(
                text("INSERT INTO sqlite_stat1 VALUES ('projects', :index, :stat)"),
                {"index": index, "stat": stat},
            )
        await session.execute(text("ANALYZE sqlite_schema"))
    query = ProjectFilter(
        statuses=[ProjectStatus.ACTIVE, ProjectStatus.ARCHIVED], search="zz"
    ).apply(select(Project).order_by(*PROJECT_ORDER[ProjectSort.UPDATED]).limit(50))
    async with sqlite_database.reading() as session:
        compiled = query.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        plan = await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        details = " ".join(str(row[3]) for row in plan)
    assert (
        "ix_projects_status_updated_search" in details and "ix_projects_updated_at" not in details
    )
    found = await list_project_rows(sqlite_database, ProjectFilter(search="GATE"))
    assert [row.name for row in found.items] == ["gateway"]
