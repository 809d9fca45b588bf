"""Projects found by what they contain (store/project_search.py): a
dependency by its name, a stack word, a glob over codebase paths; through
the services, on both backends, combined with the list's other filters and
its paging."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text

from store import project_search
from store.engine import Database
from store.errors import ValidationError
from store.models import ProjectStatus
from store.services import ProjectFilter, ProjectSort
from store.services import projects as project_service
from store.services.browse import list_project_rows, project_filter_from_text
from tests.store_support import project_from_template, raw_id


@pytest.fixture(params=["few", "many"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """SQLite reads a dependency's projects by id when they are few and
    walks the list otherwise (store.repositories.projects.SPARSE_TERMS):
    tests taking this fixture run both ways."""
    from store.repositories import projects as repository
    from store.services import browse

    limit = 10**9 if request.param == "few" else -1
    monkeypatch.setattr(repository, "SPARSE_TERMS", limit)
    monkeypatch.setattr(browse, "SPARSE_TERMS", limit)
    return str(request.param)


async def _project(db: Database, name: str, **fields: Any) -> None:
    fields.setdefault("owner_id", "alice")
    fields.setdefault("type", "api")
    await project_service.create_project_with_settings(
        db, project_service.ProjectCreate(name=name, **fields), actor="alice"
    )


async def _names(db: Database, **filters: Any) -> list[str]:
    """The names the service lists for ``filters``, by name; the app's rows agree."""
    listed = await project_service.list_projects(
        db, ProjectFilter(**filters), sort=ProjectSort.NAME, limit=500
    )
    rows = await list_project_rows(db, ProjectFilter(**filters), sort=ProjectSort.NAME, limit=500)
    names = [item.name for item in listed.items]
    assert [row.name for row in rows.items] == names
    assert listed.total == rows.total == len(names)
    return names


async def test_a_dependency_is_found_by_its_name_in_any_case_whatever_its_version(
    database: Database,
    reading: str,
) -> None:
    await _project(database, "py", dependencies=["FastAPI>=0.110", "uvicorn[standard]>=0.29"])
    await _project(database, "js", dependencies=["react@^18.3", "@vitejs/plugin-react@^4.3"])
    await _project(database, "go", dependencies=["go-chi/chi", "github.com/jackc/pgx v5.5.0"])
    await _project(database, "plain", dependencies=["fastapi", "Django ~= 4.2"])
    await _project(database, "lookalikes", dependencies=["fastapi-users", "my_pkg", "reactive"])
    await _project(database, "none")

    assert await _names(database, dependency="fastapi") == ["plain", "py"]
    assert await _names(database, dependency="FASTAPI") == ["plain", "py"]
    assert await _names(database, dependency="uvicorn") == ["py"]
    assert await _names(database, dependency="react") == ["js"]
    assert await _names(database, dependency="@vitejs/plugin-react") == ["js"]
    assert await _names(database, dependency="go-chi/chi") == ["go"]
    assert await _names(database, dependency="github.com/jackc/pgx") == ["go"]
    assert await _names(database, dependency="django") == ["plain"]
    # Exact names: no prefix, no substring, and _ is not a wildcard.
    assert await _names(database, dependency="fast") == []
    assert await _names(database, dependency="fastapi-users") == ["lookalikes"]
    assert await _names(database, dependency="myxpkg") == []
    assert await _names(database, dependency="my_pkg") == ["lookalikes"]
    assert await _names(database, dependency="%") == []


# Entries and the name each is found by: the rule of store.project_search,
# of the PostgreSQL function and of SQLite's triggers (revision 0012).
NAMES = {
    "fastapi>=0.110": "fastapi",
    "  FastAPI  ": "fastapi",
    "uvicorn[standard]>=0.29": "uvicorn",
    "react@^18.3": "react",
    "@vitejs/plugin-react@^4.3": "@vitejs/plugin-react",
    "@": "@",
    "a@b": "a",
    "Django ~= 4.2": "django",
    "requests(>=2)": "requests",
    "numpy;python_version<'3.12'": "numpy",
    "tab\tseparated": "tab",
    "line\nbreak": "line",
    "caret^1": "caret",
    "bang!=1": "bang",
    "tilde~1": "tilde",
    "x,y": "x",
    "ÜBER-Lib": "Über-lib",  # ASCII letters only change case
    "100%_done": "100%_done",
    "back\\slash": "back\\slash",
    ">=1.0": "",
    "": "",
    "   ": "",
}


async def test_the_database_finds_a_dependency_by_the_name_the_rule_gives(
    database: Database,
) -> None:
    for number, entry in enumerate(NAMES):
        assert project_search.dependency_name(entry) == NAMES[entry], entry
        await _project(database, f"p{number}", dependencies=[entry])
    async with database.reading() as session:
        if database.backend == "postgresql":
            stored = {
                row[0]: list(row[1])
                for row in await session.execute(
                    text("SELECT name, projdeck_dependency_names(dependencies) FROM projects")
                )
            }
        else:
            stored = {
                name: [] for (name,) in await session.execute(text("SELECT name FROM projects"))
            }
            for name, term in await session.execute(
                text(
                    "SELECT p.name, t.term FROM project_search_terms t "
                    "JOIN projects p ON p.id = t.project_id WHERE t.kind = 'dependency'"
                )
            ):
                stored[name].append(term)
    for number, entry in enumerate(NAMES):
        expected = [NAMES[entry]] if NAMES[entry] else []
        assert stored[f"p{number}"] == expected, entry
        if expected:
            found = await _names(database, dependency=expected[0])
            same = [f"p{n}" for n, other in enumerate(NAMES) if NAMES[other] == expected[0]]
            assert found == sorted(same), entry


async def test_a_stack_word_is_found_in_the_template_stack_or_among_the_dependencies(
    database: Database,
    reading: str,
) -> None:
    await project_from_template(database, "react-spa", "Shop", "alice", project_name="shop")
    await project_from_template(database, "fastapi-service", "Orders", "bob", project_name="orders")
    await _project(database, "Hand made", dependencies=["React>=18", "vitest"])
    await _project(database, "Other", dependencies=["svelte"], state={"phase": "build"})

    assert await _names(database, stack="react") == ["Hand made", "Shop"]
    assert await _names(database, stack="JavaScript") == ["Shop"]
    assert await _names(database, stack="python") == ["Orders"]
    # fastapi-service's dependencies are "fastapi>=0.110" and "uvicorn[standard]>=0.29".
    assert await _names(database, dependency="fastapi") == ["Orders"]
    assert await _names(database, stack="uvicorn") == ["Orders"]
    assert await _names(database, stack="vitest") == ["Hand made", "Shop"]
    assert await _names(database, stack="svelte") == ["Other"]
    assert await _names(database, stack="phase") == []
    assert await _names(database, stack="build") == []


async def test_what_a_project_contains_is_found_again_after_each_change(
    database: Database,
    reading: str,
) -> None:
    await _project(database, "svc", dependencies=["flask"], codebase={"app.py": "x = 1\n"})
    await _project(database, "other", dependencies=["flask"])
    await project_service.update_project(database, "svc", {"dependencies": ["FastAPI"]})
    assert await _names(database, dependency="flask") == ["other"]
    assert await _names(database, dependency="fastapi") == ["svc"]
    await project_service.update_project(database, "svc", {"state": {"tech_stack": ["go"]}})
    assert await _names(database, stack="go") == ["svc"]
    await project_service.update_project(
        database, "svc", {"test_coverage": 50}, files={"main.go": "package main\n"}
    )
    assert await _names(database, dependency="fastapi") == ["svc"]
    assert await _names(database, stack="go") == ["svc"]
    assert await _names(database, file="*.go") == ["svc"]
    await project_service.update_project(database, "svc", {}, removed_files=["main.go"])
    assert await _names(database, file="*.go") == []
    assert await _names(database, file="app.py") == ["svc"]

    await project_service.archive_project(database, "svc")
    active, archived = [ProjectStatus.ACTIVE], [ProjectStatus.ARCHIVED]
    assert await _names(database, dependency="fastapi", statuses=active) == []
    assert await _names(database, dependency="fastapi", statuses=archived) == ["svc"]
    await project_service.purge_project(database, "svc")
    assert await _names(database, dependency="fastapi", statuses=archived) == []
    if database.backend == "sqlite":
        async with database.reading() as session:
            left = await session.execute(
                text("SELECT count(*) FROM project_search_terms WHERE kind = 'stack'")
            )
            assert left.scalar_one() == 0


async def test_a_path_glob_matches_whole_paths_in_any_case(database: Database) -> None:
    await _project(
        database,
        "web",
        codebase={"src/App.tsx": "", "src/ui/Cart.tsx": "", "README.md": "", "package.json": ""},
    )
    await _project(database, "go", codebase={"main.go": "", "stock/stock.go": "", "Dockerfile": ""})
    await _project(database, "reports", codebase={"reports/README.md": "", "a/b.sql": ""})
    await _project(database, "empty")

    assert await _names(database, file="src/*.tsx") == ["web"]
    assert await _names(database, file="*.GO") == ["go"]
    assert await _names(database, file="readme.md") == ["web"]
    assert await _names(database, file="*README.md") == ["reports", "web"]
    assert await _names(database, file="*/readme.md") == ["reports"]
    assert await _names(database, file="?/*") == ["reports"]
    assert await _names(database, file="main.g?") == ["go"]
    assert await _names(database, file="main.g") == []
    assert await _names(database, file="*") == ["go", "reports", "web"]
    assert await _names(database, file="Docker") == []


async def test_like_metacharacters_in_a_pattern_match_only_themselves(
    database: Database,
    reading: str,
) -> None:
    await _project(
        database, "odd", codebase={"100%_done.txt": "", "a_b.txt": "", "[x].md": "", "a'b": ""}
    )
    await _project(database, "plain", codebase={"100x-done.txt": "", "axb.txt": "", "x.md": ""})

    assert await _names(database, file="100%_done.txt") == ["odd"]
    assert await _names(database, file="100%*") == ["odd"]
    assert await _names(database, file="a_b.txt") == ["odd"]
    assert await _names(database, file="a?b.txt") == ["odd", "plain"]
    assert await _names(database, file="%") == []
    assert await _names(database, file="_") == []
    assert await _names(database, file="%.txt") == []
    assert await _names(database, file="[x].md") == ["odd"]
    assert await _names(database, file="a'b") == ["odd"]
    assert await _names(database, file="a\\b") == []
    assert await _names(database, file="100\\%*") == []
    # The text search and the contents filters escape alike.
    assert await _names(database, search="%", file="*") == []
    assert await _names(database, search="_", dependency="a_b") == []


@pytest.mark.parametrize(
    ("filters", "field", "problem"),
    [
        ({"dependency": "fastapi>=0.110"}, "dependency", "give the name alone ('fastapi')"),
        ({"dependency": "uvicorn[standard]"}, "dependency", "not a package name"),
        ({"dependency": ">=1"}, "dependency", "not a package name"),
        ({"dependency": ""}, "dependency", "must not be empty"),
        ({"dependency": "x" * 501}, "dependency", "at most 500"),
        ({"dependency": "fast\x1b[31mapi"}, "dependency", "control characters"),
        ({"stack": "two words"}, "stack", "more than one word"),
        ({"stack": "\x00"}, "stack", "control characters"),
        ({"file": ""}, "file", "give a path or a pattern"),
        ({"file": "a" * 1025}, "file", "at most 1024"),
        ({"file": "src/\n*.py"}, "file", "control characters"),
        ({"file": "src/\x00"}, "file", "control characters"),
        ({"file": "/src/*.py"}, "file", "relative to the project"),
        ({"file": "*a" * 17}, "file", "more than 16 '*'"),
    ],
)
async def test_what_cannot_be_searched_is_refused_naming_the_filter(
    database: Database, filters: dict[str, str], field: str, problem: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        await project_service.list_projects(database, ProjectFilter(**filters))
    assert refused.value.field == field and problem in refused.value.problem
    with pytest.raises(ValidationError):
        await list_project_rows(database, ProjectFilter(**filters))


async def test_long_and_wildcard_heavy_patterns_are_answered(database: Database) -> None:
    path = "a" * 1000 + ".txt"
    await _project(database, "long", codebase={path: "", "b" * 1020 + ".md": ""})
    assert await _names(database, file=path) == ["long"]
    assert await _names(database, file="b" * 1020 + ".md") == ["long"]
    assert await _names(database, file="A" * 1000 + ".TXT") == ["long"]
    # Sixteen stars against a path that almost fits: no runaway matching.
    started = time.monotonic()
    assert await _names(database, file="*a" * 16 + "b") == []
    assert await _names(database, file="***a" * 15 + "*") == ["long"]
    assert await _names(database, file="\u202e*") == []
    assert time.monotonic() - started < 10


async def test_contents_filters_combine_with_the_others_and_page(
    database: Database, reading: str
) -> None:
    for number in range(12):
        await _project(
            database,
            f"svc-{number:02d}",
            owner_id="alice" if number % 2 else "bob",
            type="api" if number % 3 else "cli",
            dependencies=["fastapi"] if number % 4 else ["flask"],
            codebase={f"src/m{number}.py": "", "README.md": ""},
        )
    await _project(database, "gateway", dependencies=["fastapi"], codebase={"gw.go": ""})
    await project_service.archive_project(database, "svc-05")

    active = [ProjectStatus.ACTIVE]
    fastapi = await _names(database, dependency="fastapi", statuses=active)
    assert fastapi == ["gateway"] + [f"svc-{n:02d}" for n in range(12) if n % 4 and n != 5]
    assert await _names(database, dependency="fastapi", file="src/*.py", owner_id="alice") == [
        f"svc-{n:02d}" for n in range(12) if n % 4 and n % 2
    ]
    assert await _names(database, dependency="fastapi", type="cli", search="SVC") == [
        "svc-03",
        "svc-06",
        "svc-09",
    ]
    assert await _names(database, stack="fastapi", file="*.go") == ["gateway"]

    # Pages of three, by offset and (by update time) by keyset: every match once.
    filters = ProjectFilter(statuses=active, dependency="FastAPI", file="*.py")
    seen: list[str] = []
    for offset in range(0, 9, 3):
        page = await project_service.list_projects(
            database, filters, sort=ProjectSort.NAME, limit=3, offset=offset
        )
        assert page.total == 8
        seen += [item.name for item in page.items]
    assert seen == [name for name in fastapi if name != "gateway"]
    first = await list_project_rows(database, filters, limit=3)
    rows = list(first.items)
    while len(rows) < first.total:
        last = rows[-1]
        page = await list_project_rows(
            database, filters, limit=3, after=(last.updated_at, last.id), total=first.total
        )
        assert page.items
        rows += page.items
    assert first.total == 8 and sorted(row.name for row in rows) == seen


def test_the_screen_filter_reads_contents_words_beside_the_text() -> None:
    parsed = project_filter_from_text(
        "  billing dep:FastAPI  api stack:React file:src/*.py ", [ProjectStatus.ACTIVE]
    )
    assert parsed.search == "billing api"
    assert (parsed.dependency, parsed.stack, parsed.file) == ("fastapi", "react", "src/*.py")
    assert parsed.statuses == [ProjectStatus.ACTIVE]
    # Without those words the text is searched as typed, spaces and all.
    assert project_filter_from_text(" acme  billing ").search == "acme  billing"
    # A word still being typed is left out.
    assert project_filter_from_text("dep: gate").dependency is None
    assert project_filter_from_text("DEP:x").dependency == "x"
    assert project_filter_from_text("").search is None
    with pytest.raises(ValidationError, match="dep:: give it once"):
        project_filter_from_text("dep:a dep:b")
    with pytest.raises(ValidationError, match="dependency: 'a>=1' is not a package name"):
        project_filter_from_text("dep:a>=1")
    with pytest.raises(ValidationError, match=r"file: .*relative"):
        project_filter_from_text("file:/etc/*")


async def test_a_project_written_without_the_services_is_found_too(database: Database) -> None:
    """What SQLite finds comes from revision 0012's triggers: a project
    written by a plain INSERT (an import, say) is found as well."""
    from store.models import Project

    project = Project(name="raw", type="api", owner_id="o", dependencies=["Rich>=13"])
    async with database.transaction() as session:
        session.add(project)
    assert await _names(database, dependency="rich") == ["raw"]
    if database.backend == "sqlite":
        async with database.reading() as session:
            terms = await session.execute(
                text("SELECT term FROM project_search_terms WHERE project_id = :id"),
                {"id": raw_id(database, project.id)},
            )
            assert [row[0] for row in terms] == ["rich"]


async def _plan(database: Database, filters: ProjectFilter, *, sparse: bool = False) -> str:
    """The plan of a page of ``filters`` as the database would run it (on
    PostgreSQL with sequential scans off: whether an index can serve it)."""
    from sqlalchemy import select

    from store.models import Project
    from store.repositories.projects import PROJECT_ORDER

    query = filters.apply(
        select(Project.id).order_by(*PROJECT_ORDER[ProjectSort.UPDATED]).limit(50),  # type: ignore[arg-type]
        sparse=sparse,
    )
    async with database.transaction() as session:
        compiled = query.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        if database.backend == "sqlite":
            rows = await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            return " ".join(str(row[3]) for row in rows)
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = await session.execute(text(f"EXPLAIN {compiled}"))
        return " ".join(str(row[0]) for row in rows)


SQLITE_STATISTICS = [
    ("project_search_terms", "project_search_terms", "322100 161050 24777 11107 1"),
    ("project_search_terms", "ix_project_search_terms_project_id", "322100 4"),
    ("projects", "ix_projects_status_updated_search", "100000 33334 2 1 1 1 1 1"),
    ("projects", "ix_projects_owner_status_updated", "100000 202 68 2 1"),
    ("projects", "ix_projects_updated_at", "100000 2"),
    ("projects", "ix_projects_type", "100000 12500"),
    ("projects", "sqlite_autoindex_projects_1", "100000 1"),
]


async def test_dependencies_and_stacks_are_looked_up_in_an_index(database: Database) -> None:
    for number in range(30):
        await _project(
            database,
            f"p{number}",
            dependencies=[f"dep-{number}>=1", "fastapi"],
            state={"tech_stack": [f"word-{number}"]},
        )
    if database.backend == "postgresql":
        dependency = await _plan(database, ProjectFilter(dependency="dep-7"))
        stack = await _plan(database, ProjectFilter(stack="word-7"))
        assert "gin_projects_dependency_names" in dependency, dependency
        assert "gin_projects_state" in stack and "gin_projects_dependency_names" in stack, stack
    else:
        # The planner's statistics of the benchmark's 100,000 projects.
        async with database.transaction() as session:
            await session.execute(text("ANALYZE"))
            await session.execute(text("DELETE FROM sqlite_stat1"))
            for table, index, stat in SQLITE_STATISTICS:
                await session.execute(
                    text("INSERT INTO sqlite_stat1 VALUES (:table, :index, :stat)"),
                    {"table": table, "index": index, "stat": stat},
                )
            await session.execute(text("ANALYZE sqlite_schema"))
        active = [ProjectStatus.ACTIVE]
        dependency = await _plan(database, ProjectFilter(statuses=active, dependency="dep-7"))
        stack = await _plan(database, ProjectFilter(statuses=active, stack="word-7"))
        # Many: the list's index in order, each project's terms looked up.
        walked = "INDEX ix_projects_status_updated_search (status=?)"
        for plan in (dependency, stack):
            assert walked in plan and "TEMP B-TREE" not in plan, plan
            assert "SEARCH project_search_terms USING" in plan and "project_id=?" in plan, plan
        # Few: the term's rows, then the projects by id.
        by_term = "SEARCH project_search_terms USING PRIMARY KEY (kind=? AND term=?)"
        by_id = "SEARCH projects USING INDEX sqlite_autoindex_projects_1 (id=?)"
        for filters in (
            ProjectFilter(statuses=active, dependency="dep-7"),
            ProjectFilter(statuses=active, stack="word-7"),
        ):
            plan = await _plan(database, filters, sparse=True)
            assert by_term in plan and by_id in plan, plan
    assert await _names(database, dependency="DEP-7") == ["p7"]
    assert await _names(database, stack="word-7") == ["p7"]


async def test_the_count_of_matches_follows_each_status_change(
    database: Database, reading: str
) -> None:
    """A page that is not the whole list counts the matches: by status, a
    project with a stack word both recorded and as a dependency counted once."""
    for number in range(5):
        await _project(
            database,
            f"p{number}",
            dependencies=["Flask>=3", "vue@3"] if number % 2 else ["flask"],
            state={"tech_stack": ["vue"]} if number < 3 else {},
        )

    async def totals(**filters: Any) -> tuple[int, int]:
        listed = await project_service.list_projects(database, ProjectFilter(**filters), limit=1)
        rows = await list_project_rows(database, ProjectFilter(**filters), limit=1)
        return listed.total, rows.total

    active, archived = [ProjectStatus.ACTIVE], [ProjectStatus.ARCHIVED]
    assert await totals(statuses=active, dependency="flask") == (5, 5)
    assert await totals(statuses=active, stack="vue") == (4, 4)
    await project_service.archive_project(database, "p1")
    await project_service.delete_project(database, "p4")
    assert await totals(statuses=active, dependency="flask") == (3, 3)
    assert await totals(statuses=archived, dependency="flask") == (1, 1)
    assert await totals(status=ProjectStatus.DELETED, dependency="FLASK") == (1, 1)
    assert await totals(dependency="flask") == (5, 5)
    assert await totals(statuses=active, stack="vue") == (3, 3)
    assert await totals(statuses=active + archived, stack="vue") == (4, 4)
    await project_service.restore_project(database, "p4")
    await project_service.unarchive_project(database, "p1")
    assert await totals(statuses=active, dependency="flask") == (5, 5)
    assert await totals(statuses=active, stack="VUE") == (4, 4)


async def test_contents_stored_in_other_shapes_are_searched_without_failing(
    database: Database,
) -> None:
    """Rows written around projdeck's checks (a list where an object belongs,
    numbers in a list of names) find nothing there, and fail nothing."""
    await _project(database, "odd", dependencies=["x"], codebase={"a.py": ""})
    await _project(database, "fine", dependencies=["fastapi"], codebase={"b.py": ""})
    cast = "::jsonb" if database.backend == "postgresql" else ""
    async with database.transaction() as session:
        await session.execute(
            text(
                f"UPDATE projects SET dependencies = '{{\"fastapi\": 1}}'{cast}, "
                f"codebase = '[\"a.py\"]'{cast}, "
                f"state = '{{\"tech_stack\": \"react\"}}'{cast} WHERE name = 'odd'"
            )
        )
    assert await _names(database, dependency="fastapi") == ["fine"]
    assert await _names(database, stack="react") == []
    assert await _names(database, file="a.py") == []
    assert await _names(database, file="*.py") == ["fine"]
    async with database.transaction() as session:
        await session.execute(
            text(
                f'UPDATE projects SET dependencies = \'[1, null, ["fastapi"], "Rich"]\'{cast}, '
                f"state = '{{\"tech_stack\": [\"react\", 2]}}'{cast} WHERE name = 'odd'"
            )
        )
    assert await _names(database, dependency="fastapi") == ["fine"]
    assert await _names(database, dependency="rich") == ["odd"]
    assert await _names(database, stack="react") == ["odd"]
