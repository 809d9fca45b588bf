"""Demo data: a small, realistic workspace for ``projdeck --demo`` and
``projdeck demo``, and the fixed data of the app's tests and screenshots.

Everything is drawn from fixed lists and one seeded random generator, so two
fills give the same names, contents, statuses and (given the same ``now``)
the same times. Projects, settings and secrets go through the services;
modifications and the older history are written through the repositories
with their audit rows. At the end the fresh history is spread over the past
ninety days: every row's time is moved back, the records take the times of
their audit rows, and the audit chain is hashed again in that order.
demo_cache.py keeps a built demo for the next ``--demo``.

One module, over 600 lines, because the demo is one picture: some 300 of its lines are
the data (``PROJECTS``: each project's files, settings and the requests an
agent makes of those files), and the fill below is written against it, every
choice drawn from one seeded generator in a fixed order, so that the tests
and screenshots see the same workspace every time.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from store import audit
from store.engine import Database
from store.errors import Conflict
from store.models import (
    AuditCategory,
    AuditEntry,
    Modification,
    ModificationStatus,
    Project,
    ProjectSecret,
    ProjectSettings,
    Severity,
    Template,
)
from store.progress import OnStep, Step, ignore
from store.services import projects as project_service
from store.services.projects import ProjectCreate
from store.types import utcnow

SEED = 20260301
HISTORY_DAYS = 90

_AGENTS = ["claude-code", "codex-agent", "devin", "aider-bot"]
_REVIEWERS = ["alice", "bruno", "chen", "dana"]


@dataclass
class DemoProject:
    name: str
    type: str
    owner: str
    github: str | None
    status: str
    files: dict[str, str]
    dependencies: list[str]
    scores: tuple[float | None, float | None, float | None]
    planning: str
    rules: str
    setup: list[str]
    branch: str = "main"
    # What runs its tests (mod test, the review's T), after the setup.
    tests: list[str] = field(default_factory=list)
    webhook: str | None = None
    auto_merge: bool = False
    auto_confirm: bool = False
    env: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    requests: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class DemoSummary:
    projects: int
    secrets: int
    modifications: int
    templates: int
    audit_rows: int


PROJECTS: list[DemoProject] = [
    DemoProject(
        name="Billing API",
        type="api",
        owner="alice",
        github="acme/billing-api",
        status="active",
        webhook="https://hooks.acme.dev/billing",
        auto_confirm=True,
        files={
            "README.md": "# Billing API\n\nInvoices, payments and refunds for Acme customers.\n",
            "pyproject.toml": '[project]\nname = "billing-api"\nversion = "2.4.0"\ndependencies = ["fastapi", "sqlalchemy", "stripe"]\n',
            "billing/app.py": 'from fastapi import FastAPI\n\nfrom billing.invoices import router\n\napp = FastAPI(title="Billing API")\napp.include_router(router, prefix="/invoices")\n\n\n@app.get("/health")\ndef health() -> dict[str, str]:\n    return {"status": "ok"}\n',
            "billing/invoices.py": 'from decimal import Decimal\n\nfrom fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get("/{invoice_id}")\ndef get_invoice(invoice_id: str) -> dict[str, object]:\n    return {"id": invoice_id, "total": str(Decimal("0.00"))}\n',
            "tests/test_health.py": 'from fastapi.testclient import TestClient\n\nfrom billing.app import app\n\n\ndef test_health() -> None:\n    assert TestClient(app).get("/health").json() == {"status": "ok"}\n',
        },
        dependencies=["fastapi", "sqlalchemy", "stripe", "pydantic"],
        scores=(87, 92, 78),
        planning="Keep invoices immutable once issued; every money amount is a Decimal.",
        rules="No direct pushes to main. Migrations need a reviewer from the payments team.",
        setup=["python -m venv .venv", ".venv/bin/pip install -e '.[test]'"],
        tests=['.venv/bin/pytest --junitxml="$PROJDECK_JUNIT_XML"'],
        env={"LOG_LEVEL": "info", "REGION": "eu-west-1"},
        secrets=["STRIPE_API_KEY", "DATABASE_URL", "WEBHOOK_SIGNING_KEY"],
        requests=[
            ("Add pagination to GET /invoices", ["billing/invoices.py"]),
            ("Round tax amounts half-even per line item", ["billing/invoices.py"]),
            (
                "Return 404 for unknown invoice ids",
                ["billing/invoices.py", "tests/test_invoices.py"],
            ),
            ("Add a /version endpoint", ["billing/app.py"]),
            ("Document the refund flow in the README", ["README.md"]),
        ],
    ),
    DemoProject(
        name="Storefront Web",
        type="web_app",
        owner="bruno",
        github="acme/storefront",
        status="active",
        auto_merge=True,
        files={
            "package.json": '{\n  "name": "storefront",\n  "version": "1.8.2",\n  "scripts": {"dev": "vite", "test": "vitest"}\n}\n',
            "src/App.tsx": 'import { Cart } from "./Cart";\n\nexport function App() {\n  return (\n    <main>\n      <h1>Acme Store</h1>\n      <Cart />\n    </main>\n  );\n}\n',
            "src/Cart.tsx": 'import { useState } from "react";\n\nexport function Cart() {\n  const [items] = useState<string[]>([]);\n  return <aside>{items.length} items</aside>;\n}\n',
            "src/styles.css": "main {\n  font-family: system-ui, sans-serif;\n  max-width: 60rem;\n  margin: 0 auto;\n}\n",
            "index.html": '<!doctype html>\n<html lang="en">\n  <body>\n    <div id="root"></div>\n    <script type="module" src="/src/main.tsx"></script>\n  </body>\n</html>\n',
        },
        dependencies=["react", "react-dom", "vite", "vitest"],
        scores=(71, 84, 90),
        planning="A fast storefront: first paint under one second on a mid-range phone.",
        rules="Components stay under 200 lines. Every new page has a vitest test.",
        setup=["npm ci"],
        tests=["npm test"],
        secrets=["SENTRY_DSN", "CDN_TOKEN"],
        requests=[
            ("Show item count badge on the cart icon", ["src/Cart.tsx"]),
            ("Lazy-load the product images", ["src/App.tsx"]),
            ("Add dark mode styles", ["src/styles.css"]),
            ("Add an empty-cart message", ["src/Cart.tsx"]),
        ],
    ),
    DemoProject(
        name="Inventory Service",
        type="microservice",
        owner="chen",
        github="acme/inventory",
        status="active",
        webhook="https://hooks.acme.dev/inventory",
        files={
            "go.mod": "module github.com/acme/inventory\n\ngo 1.22\n",
            "main.go": 'package main\n\nimport (\n\t"log"\n\t"net/http"\n)\n\nfunc main() {\n\thttp.HandleFunc("/health", health)\n\tlog.Fatal(http.ListenAndServe(":8080", nil))\n}\n',
            "health.go": 'package main\n\nimport "net/http"\n\nfunc health(w http.ResponseWriter, r *http.Request) {\n\tw.Write([]byte("ok"))\n}\n',
            "stock/stock.go": "package stock\n\n// Level is the quantity on hand of one SKU.\ntype Level struct {\n\tSKU      string\n\tQuantity int\n}\n",
            "Dockerfile": 'FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /inventory\n\nFROM gcr.io/distroless/base\nCOPY --from=build /inventory /inventory\nENTRYPOINT ["/inventory"]\n',
        },
        dependencies=["go-chi/chi", "jackc/pgx"],
        scores=(64, 88, 95),
        planning="Stock levels are eventually consistent; reservations are strongly consistent.",
        rules="Every handler has a table-driven test. No global state outside main.",
        setup=["go mod download"],
        tests=["go test ./..."],
        secrets=["POSTGRES_PASSWORD", "NATS_TOKEN"],
        requests=[
            ("Reserve stock with a compare-and-swap", ["stock/stock.go"]),
            ("Add readiness probe separate from /health", ["health.go", "main.go"]),
            ("Use a non-root user in the Dockerfile", ["Dockerfile"]),
            ("Add SKU validation", ["stock/stock.go"]),
        ],
    ),
    DemoProject(
        name="deckctl",
        type="cli",
        owner="dana",
        github="acme/deckctl",
        status="active",
        files={
            "Cargo.toml": '[package]\nname = "deckctl"\nversion = "0.9.1"\nedition = "2021"\n\n[dependencies]\nclap = { version = "4", features = ["derive"] }\n',
            "src/main.rs": 'use clap::Parser;\n\n#[derive(Parser)]\nstruct Args {\n    /// Deck to deploy\n    name: String,\n}\n\nfn main() {\n    let args = Args::parse();\n    println!("deploying {}", args.name);\n}\n',
            "README.md": "# deckctl\n\nDeploy decks from the command line.\n",
        },
        dependencies=["clap", "serde", "tokio"],
        scores=(58, 75, 97),
        planning="Single static binary; no runtime configuration files required.",
        rules="cargo clippy -- -D warnings must pass.",
        setup=["cargo build"],
        tests=["cargo test"],
        secrets=["CRATES_IO_TOKEN"],
        requests=[
            ("Add --dry-run flag", ["src/main.rs"]),
            ("Print a progress bar while uploading", ["src/main.rs", "Cargo.toml"]),
            ("Add shell completions", ["src/main.rs"]),
        ],
    ),
    DemoProject(
        name="Ledger Core",
        type="library",
        owner="alice",
        github="acme/ledger-core",
        status="active",
        files={
            "ledger/__init__.py": '"""Double-entry bookkeeping primitives."""\n\nfrom ledger.entry import Entry\n\n__all__ = ["Entry"]\n',
            "ledger/entry.py": "from dataclasses import dataclass\nfrom decimal import Decimal\n\n\n@dataclass(frozen=True)\nclass Entry:\n    account: str\n    debit: Decimal = Decimal(0)\n    credit: Decimal = Decimal(0)\n\n    @property\n    def balance(self) -> Decimal:\n        return self.debit - self.credit\n",
            "tests/test_entry.py": "from decimal import Decimal\n\nfrom ledger import Entry\n\n\ndef test_balance() -> None:\n    assert Entry('cash', debit=Decimal(5)).balance == Decimal(5)\n",
            "pyproject.toml": '[project]\nname = "ledger-core"\nversion = "1.2.0"\n',
        },
        dependencies=["pytest", "hypothesis"],
        scores=(96, 90, 85),
        planning="Pure functions, no I/O; 100% branch coverage on ledger/.",
        rules="Public API changes need a changelog entry.",
        setup=["pip install -e ."],
        tests=["pytest"],
        requests=[
            (
                "Add a Journal type that checks debits equal credits",
                ["ledger/journal.py", "ledger/__init__.py"],
            ),
            ("Property tests for Entry.balance", ["tests/test_entry.py"]),
            ("Support multiple currencies", ["ledger/entry.py"]),
        ],
    ),
    DemoProject(
        name="Metrics Pipeline",
        type="data",
        owner="emeka",
        github="acme/metrics-pipeline",
        status="active",
        files={
            "dags/daily_metrics.py": 'from datetime import datetime\n\nfrom airflow import DAG\n\nwith DAG("daily_metrics", start_date=datetime(2025, 1, 1), schedule="@daily") as dag:\n    pass\n',
            "sql/active_users.sql": "SELECT date_trunc('day', seen_at) AS day,\n       count(DISTINCT user_id) AS active_users\nFROM events\nGROUP BY 1\nORDER BY 1;\n",
            "sql/revenue.sql": "SELECT invoice_month, sum(total) AS revenue\nFROM invoices\nWHERE status = 'paid'\nGROUP BY invoice_month;\n",
            "requirements.txt": "apache-airflow==2.9.2\npandas==2.2.2\n",
        },
        dependencies=["apache-airflow", "pandas", "dbt-core"],
        scores=(45, 70, 66),
        planning="Daily metrics land in the warehouse by 06:00 UTC.",
        rules="SQL is formatted with sqlfluff; no SELECT * in production queries.",
        setup=["pip install -r requirements.txt"],
        tests=["airflow dags test daily_metrics"],
        env={"WAREHOUSE": "analytics"},
        secrets=["WAREHOUSE_PASSWORD", "SLACK_WEBHOOK_TOKEN"],
        requests=[
            ("Exclude internal test accounts from active users", ["sql/active_users.sql"]),
            ("Add weekly revenue rollup", ["sql/revenue_weekly.sql"]),
            ("Retry the DAG twice on failure", ["dags/daily_metrics.py"]),
            ("Pin pandas below 3", ["requirements.txt"]),
        ],
    ),
    DemoProject(
        name="Field App",
        type="mobile",
        owner="farah",
        github="acme/field-app",
        status="active",
        files={
            "app/build.gradle.kts": 'plugins {\n    id("com.android.application")\n    kotlin("android")\n}\n\nandroid {\n    namespace = "dev.acme.field"\n    compileSdk = 34\n}\n',
            "app/src/main/kotlin/dev/acme/field/MainActivity.kt": "package dev.acme.field\n\nimport android.os.Bundle\nimport androidx.activity.ComponentActivity\n\nclass MainActivity : ComponentActivity() {\n    override fun onCreate(savedInstanceState: Bundle?) {\n        super.onCreate(savedInstanceState)\n    }\n}\n",
            "README.md": "# Field App\n\nOffline-first app for field technicians.\n",
        },
        dependencies=["androidx.activity", "kotlinx-coroutines", "room"],
        scores=(52, 81, 73),
        planning="Works fully offline; syncs when a connection returns.",
        rules="No network calls on the main thread.",
        setup=["./gradlew assembleDebug"],
        tests=["./gradlew test"],
        secrets=["MAPS_API_KEY"],
        requests=[
            (
                "Cache job photos locally before upload",
                ["app/src/main/kotlin/dev/acme/field/MainActivity.kt"],
            ),
            ("Raise compileSdk to 35", ["app/build.gradle.kts"]),
            ("Add a sync status banner", ["app/src/main/kotlin/dev/acme/field/MainActivity.kt"]),
        ],
    ),
    DemoProject(
        name="Auth Gateway",
        type="microservice",
        owner="chen",
        github="acme/auth-gateway",
        status="active",
        webhook="https://hooks.acme.dev/auth",
        files={
            "go.mod": "module github.com/acme/auth-gateway\n\ngo 1.22\n",
            "main.go": 'package main\n\nimport "net/http"\n\nfunc main() {\n\thttp.Handle("/", requireToken(proxy()))\n\thttp.ListenAndServe(":8443", nil)\n}\n',
            "middleware.go": 'package main\n\nimport "net/http"\n\nfunc requireToken(next http.Handler) http.Handler {\n\treturn http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {\n\t\tif r.Header.Get("Authorization") == "" {\n\t\t\thttp.Error(w, "unauthorized", http.StatusUnauthorized)\n\t\t\treturn\n\t\t}\n\t\tnext.ServeHTTP(w, r)\n\t})\n}\n',
            "config.yaml": "listen: :8443\nupstream: http://storefront:3000\ntoken_ttl: 15m\n",
        },
        dependencies=["golang-jwt/jwt", "prometheus/client_golang"],
        scores=(77, 96, 88),
        planning="Every request is authenticated; tokens live at most 15 minutes.",
        rules="Security review for any change under middleware.go.",
        setup=[],
        tests=["go test ./...", "go vet ./..."],
        secrets=["JWT_SIGNING_KEY", "OAUTH_CLIENT_SECRET"],
        requests=[
            ("Validate JWT audience claim", ["middleware.go"]),
            ("Rate-limit failed logins per IP", ["middleware.go", "config.yaml"]),
            ("Expose Prometheus metrics", ["main.go"]),
        ],
    ),
    DemoProject(
        name="Search Indexer",
        type="other",
        owner="gwen",
        github="acme/search-indexer",
        status="active",
        files={
            "pom.xml": "<project>\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>dev.acme</groupId>\n  <artifactId>search-indexer</artifactId>\n  <version>0.4.0</version>\n</project>\n",
            "src/main/java/dev/acme/Indexer.java": 'package dev.acme;\n\npublic final class Indexer {\n    public static void main(String[] args) {\n        System.out.println("indexing");\n    }\n}\n',
            "README.md": "# Search Indexer\n\nFeeds product changes into the search cluster.\n",
        },
        dependencies=["lucene", "jackson"],
        scores=(61, None, 82),
        planning="Index lag under 30 seconds at the 99th percentile.",
        rules="mvn verify before merging.",
        setup=[],
        tests=["mvn -q verify"],
        secrets=["SEARCH_API_KEY"],
        requests=[
            ("Batch index writes by 500 documents", ["src/main/java/dev/acme/Indexer.java"]),
            ("Upgrade to Java 21", ["pom.xml"]),
        ],
    ),
    DemoProject(
        name="Docs Site",
        type="web_app",
        owner="bruno",
        github="acme/docs",
        status="archived",
        files={
            "mkdocs.yml": "site_name: Acme Docs\nnav:\n  - Home: index.md\n  - API: api.md\n",
            "docs/index.md": "# Acme Docs\n\nStart here.\n",
            "docs/api.md": "# API\n\nSee the Billing API reference.\n",
        },
        dependencies=["mkdocs", "mkdocs-material"],
        scores=(None, 99, 93),
        planning="Moved to the developer portal; kept for reference.",
        rules="",
        setup=["pip install mkdocs-material"],
        tests=["mkdocs build --strict"],
        requests=[("Fix broken link to the Billing API", ["docs/api.md"])],
    ),
    DemoProject(
        name="Legacy Reports",
        type="data",
        owner="emeka",
        github=None,
        status="archived",
        files={
            "reports/monthly.sql": "SELECT region, sum(amount)\nFROM orders\nWHERE created_at >= date_trunc('month', now())\nGROUP BY region;\n",
            "reports/README.md": "# Legacy reports\n\nReplaced by Metrics Pipeline.\n",
        },
        dependencies=[],
        scores=(12, 40, 35),
        planning="Read-only; replaced by Metrics Pipeline.",
        rules="",
        setup=[],
        requests=[("Add region filter parameter", ["reports/monthly.sql"])],
    ),
    DemoProject(
        name="Payments Sandbox",
        type="api",
        owner="dana",
        github="acme/payments-sandbox",
        status="deleted",
        files={
            "Gemfile": "source 'https://rubygems.org'\n\ngem 'sinatra'\n",
            "app.rb": "require 'sinatra'\n\nget '/charge' do\n  'ok'\nend\n",
        },
        dependencies=["sinatra"],
        scores=(30, 55, 60),
        planning="A throwaway sandbox for payment provider experiments.",
        rules="",
        setup=["bundle install", "ruby app.rb"],
        secrets=["SANDBOX_API_KEY"],
        requests=[("Add a /refund endpoint", ["app.rb"])],
    ),
]

# The steps fill_demo tells its caller of: the templates, each project,
# modifications, operations, history and agents.
DEMO_STEPS = len(PROJECTS) + 5


def _changed_content(path: str, current: str | None, request: str) -> str:
    """New file content for a demo modification: the old text plus a line
    in the file's own comment syntax."""
    note = f"{request}."
    if path.endswith((".py", ".toml", ".yaml", ".yml", ".txt", ".rb")) or path == "Dockerfile":
        line = f"# {note}\n"
    elif path.endswith((".sql",)):
        line = f"-- {note}\n"
    elif path.endswith((".md",)):
        line = f"\n{note}\n"
    elif path.endswith((".html", ".xml")):
        line = f"<!-- {note} -->\n"
    elif path.endswith(".json"):
        return current or "{}\n"
    else:
        line = f"// {note}\n"
    return (current or "") + line


async def _is_empty(db: Database) -> bool:
    """No projects, and nothing in the audit log but the seeding of the
    built-in template library (which a new default database gets when it is
    first opened): such a database holds nothing of anyone's."""
    async with db.reading() as session:
        projects = (await session.execute(select(func.count()).select_from(Project))).scalar_one()
        entries = (
            await session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(col(AuditEntry.event_type) != "templates.seeded")
            )
        ).scalar_one()
    return int(projects) == 0 and int(entries) == 0


async def fill_demo(
    db: Database, *, now: datetime | None = None, on_step: OnStep = ignore
) -> DemoSummary:
    """Fill an empty database with the demo workspace; its history ends at
    ``now`` (default: the present). Raises Conflict if the database holds data
    (the built-in templates a new database is given do not count). Each step
    is told to ``on_step`` as it starts (counted: ``DEMO_STEPS`` in all)."""
    if not await _is_empty(db):
        raise Conflict(
            f"{db.masked_url} already holds projects or audit rows; demo data goes into an empty database"
        )
    from store.services import secrets as secret_service
    from store.services.templates import seed_builtin_templates

    steps = iter(range(DEMO_STEPS))

    def step(what: str) -> None:
        on_step(Step(f"Building the demo: {what}…", next(steps), DEMO_STEPS))

    rng = random.Random(SEED)  # noqa: S311 - fixed demo data, not security
    step("the template library")
    seeded = await seed_builtin_templates(db, actor="projdeck")
    project_ids: dict[str, uuid.UUID] = {}
    secret_count = 0
    for number, demo in enumerate(PROJECTS, start=1):
        step(f"project {number} of {len(PROJECTS)}, {demo.name}")
        github_owner, github_repo = demo.github.split("/") if demo.github else (None, None)
        coverage, security, performance = demo.scores
        config = await project_service.create_project_with_settings(
            db,
            ProjectCreate(
                name=demo.name,
                type=demo.type,
                owner_id=demo.owner,
                github_owner=github_owner,
                github_repo=github_repo,
                webhook_url=demo.webhook,
                # Set once the demo's reviews are done (below).
                auto_merge_enabled=False,
                auto_confirm_plans=demo.auto_confirm,
                codebase=dict(demo.files),
                dependencies=list(demo.dependencies),
                environment_vars=dict(demo.env),
                deployment_config={"target": "kubernetes", "replicas": rng.choice([1, 2, 3])},
                test_coverage=None if coverage is None else max(coverage - 6, 0),
                security_score=security,
                performance_score=performance,
                settings={
                    "planning_statement": "",
                    "repository_rules": demo.rules,
                    "setup_commands": list(demo.setup),
                    "test_commands": list(demo.tests),
                    "branch_name": demo.branch,
                },
            ),
            actor=demo.owner,
        )
        project_ids[demo.name] = config.project.id
        for key_name in demo.secrets:
            value = f"demo-{key_name.lower()}-{rng.randrange(16**12):012x}"
            await secret_service.set_secret(db, demo.name, key_name, value, actor=demo.owner)
            secret_count += 1
        # A little history: coverage goes up and the plan gets written down.
        if coverage is not None:
            await project_service.update_project(
                db,
                demo.name,
                {"test_coverage": coverage},
                expected_version=config.project.version,
                actor=demo.owner,
            )
        await project_service.update_settings(
            db, demo.name, {"planning_statement": demo.planning}, actor=demo.owner
        )
    step("modifications in every status")
    modifications = await _add_modifications(db, rng)
    from store.demo_review import add_reviewed_revision

    modifications += await add_reviewed_revision(db)
    step("deployments and operations")
    await _add_operations_history(db, rng, project_ids)
    for demo in PROJECTS:
        if demo.status == "archived":
            await project_service.archive_project(db, demo.name, actor=demo.owner)
        elif demo.status == "deleted":
            await project_service.delete_project(db, demo.name, actor=demo.owner)
    moment = now or utcnow()
    step("90 days of history")
    audit_rows = await _spread_history(db, rng, moment)
    # Agents' conversations, runs and costs. After the history: a run that
    # proposed a modification is dated just before the modification's request.
    from store.demo_agents import fill_agent_demo

    step("agents' conversations and runs")
    await fill_agent_demo(db, now=moment)
    await _merge_automatically(db, [demo.name for demo in PROJECTS if demo.auto_merge])
    on_step(Step("Building the demo: done", DEMO_STEPS, DEMO_STEPS))
    return DemoSummary(
        projects=len(PROJECTS),
        secrets=secret_count,
        modifications=modifications,
        templates=len(seeded.created) + len(seeded.updated) + len(seeded.unchanged),
        # The history, and the row that records the agents' activity.
        audit_rows=audit_rows + 1,
    )


# What becomes of each request in turn (the first of a project's requests is
# applied, and a second agent asking the same thing later fails to apply).
_OUTCOMES = [
    ModificationStatus.PENDING,
    ModificationStatus.APPROVED,
    ModificationStatus.PENDING,
    ModificationStatus.REJECTED,
    ModificationStatus.APPLIED,
    ModificationStatus.PENDING,
]
_REJECTIONS = [
    "Out of scope for this release; open an issue first.",
    "This breaks the public API; needs a migration plan.",
    "Duplicate of an earlier change.",
]


async def _add_modifications(db: Database, rng: random.Random) -> int:
    """Modifications in every status through the review workflow: proposed
    by agents, approved or rejected by people, applied (changing the stored
    codebase) or failed because a file changed since the proposal."""
    from store.services import modifications as mod_service

    count = 0
    for demo in PROJECTS:
        asks = list(demo.requests)
        outcomes = [ModificationStatus.APPLIED] + [
            _OUTCOMES[(count + index) % len(_OUTCOMES)] for index in range(1, len(asks))
        ]
        if len(asks) >= 3:
            asks.append(asks[0])
            outcomes.append(ModificationStatus.FAILED)
        proposed = []
        for (request, paths), outcome in zip(asks, outcomes, strict=True):
            agent = rng.choice(_AGENTS)
            passed = rng.randrange(20, 240)
            failed = rng.choice([0, 0, 0, 1]) if outcome != ModificationStatus.APPLIED else 0
            failures = [
                {
                    "name": f"test_{paths[0].rsplit('/', 1)[-1].split('.')[0]}_regression",
                    "message": "AssertionError: expected 200, got 500",
                }
            ][:failed]
            modification = await mod_service.propose_modification(
                db,
                demo.name,
                mod_service.ModificationProposal(
                    request=request,
                    requested_by=agent,
                    modified_files={
                        path: _changed_content(path, demo.files.get(path), request)
                        for path in paths
                    },
                    impact_analysis={
                        "risk": rng.choice(["low", "low", "medium", "high"]),
                        "summary": f"{request} ({len(paths)} file{'s' if len(paths) > 1 else ''}).",
                        "estimated_effort_minutes": rng.choice([5, 10, 20, 45]),
                        "breaking_change": rng.random() < 0.1,
                    },
                    test_results={
                        "passed": passed,
                        "failed": failed,
                        "skipped": rng.choice([0, 0, 2, 5]),
                        "duration_seconds": round(rng.uniform(3, 180), 1),
                        "failures": failures,
                    },
                ),
                actor=agent,
            )
            proposed.append((modification.id, outcome))
            count += 1
        for modification_id, outcome in proposed:
            reviewer = rng.choice(_REVIEWERS)
            ref = str(modification_id)
            if outcome == ModificationStatus.PENDING:
                continue
            if outcome == ModificationStatus.REJECTED:
                comment = rng.choice(_REJECTIONS)
                await mod_service.reject_modification(db, ref, comment=comment, actor=reviewer)
                continue
            await mod_service.approve_modification(db, ref, comment="Looks good.", actor=reviewer)
            if outcome in (ModificationStatus.APPLIED, ModificationStatus.FAILED):
                await mod_service.apply_modification(db, ref, actor=reviewer)
    return count


async def _merge_automatically(db: Database, names: list[str]) -> None:
    """Turn auto-merge on, as its projects had it all along. Set after the
    demo's reviews, which would otherwise have applied its approved
    modifications at once: the demo shows some waiting in the inbox."""
    async with db.transaction() as session:
        await session.execute(
            update(Project).where(col(Project.name).in_(names)).values(auto_merge_enabled=True)
        )


async def _add_operations_history(
    db: Database, rng: random.Random, project_ids: dict[str, uuid.UUID]
) -> None:
    """Deployments and access reviews, the events a workspace collects
    between edits (one transaction)."""
    async with db.transaction() as session:
        _add_operations(session, rng, project_ids)


def _add_operations(
    session: AsyncSession, rng: random.Random, project_ids: dict[str, uuid.UUID]
) -> None:
    # Audit rows of the demo's own history, added unchained: _spread_history
    # hashes every row once all are written (cheaper than audit.record's
    # three round trips per row).
    active = [demo for demo in PROJECTS if demo.status == "active"]
    for round_number in range(24):
        for demo in active:
            if rng.random() < 0.45:
                continue
            project_id = project_ids[demo.name]
            version = f"{1 + round_number // 5}.{round_number % 5}.{rng.randrange(10)}"
            if rng.random() < 0.12:
                event, severity = "deployment.failed", Severity.ERROR
                description = f"deployment of {demo.name} {version} failed: health check timed out"
            else:
                event, severity = "deployment.succeeded", Severity.INFO
                description = f"deployed {demo.name} {version} to production"
            session.add(
                AuditEntry(
                    actor="ci",
                    event_type=event,
                    description=description,
                    project_id=project_id,
                    entity_type="project",
                    entity_id=str(project_id),
                    category=AuditCategory.SYSTEM,
                    severity=severity,
                    details={"version": version, "environment": "production"},
                )
            )
        if round_number % 4 == 1:
            session.add(
                AuditEntry(
                    actor="compliance-bot",
                    event_type="compliance.review",
                    description=f"quarterly access review {round_number // 4 + 1} completed",
                    category=AuditCategory.COMPLIANCE,
                    details={"projects_reviewed": len(active), "findings": rng.randrange(3)},
                )
            )


async def _spread_history(db: Database, rng: random.Random, now: datetime) -> int:
    """Move the fresh history back over the past HISTORY_DAYS, in order,
    give every record the times of its audit rows, and hash the chain again."""
    async with db.transaction() as session:
        entries = list(
            (await session.execute(select(AuditEntry).order_by(col(AuditEntry.id)))).scalars()
        )
        start = now - timedelta(days=HISTORY_DAYS)
        span = (now - start).total_seconds() - 3600
        steps = sorted(rng.random() for _ in entries)
        first_at: dict[str, datetime] = {}
        last_at: dict[str, datetime] = {}
        by_event: dict[tuple[str, str], datetime] = {}
        seeded_at = now
        previous = audit.GENESIS_HASH
        for entry, step in zip(entries, steps, strict=True):
            # Whole seconds, so the times read back alike on every backend.
            entry.at = (start + timedelta(seconds=int(step * span))).replace(microsecond=0)
            entry.prev_hash = previous
            entry.hash = audit.chain_hash(previous, entry)
            previous = entry.hash
            for key in (f"project:{entry.project_id}", f"entity:{entry.entity_id}"):
                first_at.setdefault(key, entry.at)
                last_at[key] = entry.at
            if entry.event_type == "templates.seeded":
                seeded_at = entry.at
            if entry.entity_id is not None:
                by_event[(entry.entity_id, entry.event_type.split(".")[-1])] = entry.at
        for project in (await session.execute(select(Project))).scalars():
            key = f"project:{project.id}"
            project.created_at = first_at[key]
            project.updated_at = last_at[key]
            project.last_active_at = last_at[key]
            project.last_deployed_at = by_event.get((str(project.id), "succeeded"))
        for settings in (await session.execute(select(ProjectSettings))).scalars():
            settings.updated_at = last_at[f"project:{settings.project_id}"]
        for secret in (await session.execute(select(ProjectSecret))).scalars():
            key = f"entity:{secret.id}"
            secret.created_at = first_at[key]
            secret.updated_at = last_at[key]
        for modification in (await session.execute(select(Modification))).scalars():
            key = f"entity:{modification.id}"
            modification.requested_at = first_at[key]
            if modification.reviewed_by is not None:
                reviewed = by_event.get((str(modification.id), "approved")) or by_event.get(
                    (str(modification.id), "rejected")
                )
                modification.reviewed_at = reviewed
            if modification.status == ModificationStatus.APPLIED:
                modification.applied_at = last_at[key]
        for template in (await session.execute(select(Template))).scalars():
            template.created_at = seeded_at
            template.updated_at = seeded_at
    return len(entries)
