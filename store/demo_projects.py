"""The demo's projects (``projdeck demo``, ``--demo``, the app's tests and
screenshots): each project's files, settings, secrets' names and the
requests an agent makes of those files. ``store.demo`` fills a workspace
from them, every choice drawn from one seeded generator in a fixed order."""

from __future__ import annotations

from dataclasses import dataclass, field


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
