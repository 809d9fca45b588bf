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

The demo is one picture: the data (``PROJECTS``: each project's files,
settings and the requests an agent makes of those files) is in
demo_projects.py, and the fill here is written against it, every choice
drawn from one seeded generator in a fixed order, so that the tests and
screenshots see the same workspace every time.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from store import audit
from store.demo_projects import PROJECTS
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
class DemoSummary:
    projects: int
    secrets: int
    modifications: int
    templates: int
    audit_rows: int


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
        projects = await session.scalar(select(func.count()).select_from(Project))
        entries = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(col(AuditEntry.event_type) != "templates.seeded")
        )
    return projects == 0 and entries == 0


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
