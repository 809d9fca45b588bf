"""Running a project's tests on a proposed change before approving it
(``projdeck mod test``, the review screen's ``T``).

The change is built in a scratch folder (``store.scratch``): on a linked
project a git worktree at the branch's tip holding what applying the change
would commit there (``vcs.change_on_tip``: the change merged onto a moved
tip, as the apply merges it); otherwise the stored codebase with the change
applied, written out. The project's setup commands, then its test commands,
run there (``store.runner``: each in a process group of its own, within a
time limit, cancellable), with a small environment: PATH, HOME, the locale
and the terminal, the project's environment variables, its secrets only
when asked, and PROJDECK_JUNIT_XML. The folder is always removed; what a
killed run left is removed by the next run or ``projdeck doctor``.

A run never changes the project's working tree, branch or stored codebase.
What came of it is stored as the modification's ``local_test_results``
(the agent's own ``test_results`` stay as reported) and audited
(``modification.tested``), in one transaction after the run. Secret values
the run was given are masked in its output, as shown and as stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from store import audit, runner, scratch, vcs
from store.config import current_actor, machine_id
from store.engine import Database
from store.errors import InvalidTransition, StoreError, ValidationError
from store.ids import short_id
from store.models import Modification, ModificationStatus, Project
from store.redaction import REDACTED, redact_text
from store.repositories import LinkRepository, ProjectRepository, SettingsRepository
from store.services.linked import as_change, branch_of
from store.services.project_reads import require_writable
from store.services.review import project_of, resolve_modification
from store.types import utcnow
from store.vcs import worktree

DEFAULT_LIMIT_SECONDS = 900.0
MAX_LIMIT_SECONDS = 24 * 3600.0
# What of the user's own environment a run gets (nothing else: the code
# that runs is an agent's).
PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TMPDIR", "USER", "SHELL")
TESTABLE = (ModificationStatus.PENDING, ModificationStatus.APPROVED, ModificationStatus.FAILED)


@dataclass(frozen=True)
class TestPlan:
    """What a run will do, to show before it starts."""

    __test__ = False  # not a pytest class

    modification_id: uuid.UUID
    project_name: str
    setup: list[str]
    tests: list[str]
    # "worktree" (of ``repository`` at ``branch``) or "codebase".
    where: str
    repository: str | None
    branch: str | None
    environment: list[str]
    secrets: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.where == "worktree":
            return f"a git worktree of {self.repository} at the tip of {self.branch}"
        return "a copy of the stored codebase"


@dataclass
class _Gathered:
    plan: TestPlan
    modification: Modification
    project: Project
    change: vcs.Change
    codebase: dict[str, str] | None
    base: str | None
    environment: dict[str, str]


def _limit(value: float) -> float:
    if not isinstance(value, int | float) or not 1 <= value <= MAX_LIMIT_SECONDS:
        raise ValidationError("timeout", f"must be between 1 and {int(MAX_LIMIT_SECONDS)} seconds")
    return float(value)


async def _gather(db: Database, ref: str, *, with_secrets: bool, actor: str) -> _Gathered:
    async with db.reading() as session:
        modification = await resolve_modification(session, ref)
        if modification.status not in TESTABLE:
            raise InvalidTransition("modification", str(modification.status), "test")
        project = await project_of(session, modification, lock=False)
        require_writable(project)
        settings = await SettingsRepository(session).get(project.id)
        setup = list(settings.setup_commands) if settings else []
        tests = list(settings.test_commands) if settings else []
        if not tests:
            raise ValidationError(
                "test_commands",
                f"project {project.name!r} has no test commands: set them with "
                f"`projdeck settings set {project.name!r} --test-command COMMAND` "
                "or in the project's Settings tab",
            )
        link = await LinkRepository(session).get(project.id, machine_id())
        branch = await branch_of(session, project) if link is not None else None
        codebase = None
        if link is None:
            codebase = dict(await ProjectRepository(session).load_codebase(project))
    environment = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    environment.update(project.environment_vars or {})
    secret_names: list[str] = []
    if with_secrets:
        from store.services.secrets import export_secrets

        for name, value in await export_secrets(
            db, ref=str(project.id), purpose="test run", actor=actor
        ):
            environment[name] = value.reveal()
            secret_names.append(name)
    plan = TestPlan(
        modification_id=modification.id,
        project_name=project.name,
        setup=setup,
        tests=tests,
        where="worktree" if link is not None else "codebase",
        repository=link.path if link is not None else None,
        branch=branch,
        environment=sorted(project.environment_vars or {}),
        secrets=secret_names,
    )
    base = modification.base_commit or project.snapshot_commit
    return _Gathered(
        plan, modification, project, as_change(modification), codebase, base, environment
    )


async def plan_test_run(db: Database, ref: str) -> TestPlan:
    """What ``run_tests`` would run for modification ``ref``, and where;
    refused (saying how to set them) when the project has no test commands."""
    return (await _gather(db, ref, with_secrets=False, actor=current_actor())).plan


def _build(gathered: _Gathered, run: scratch.Scratch) -> str | None:
    """The change built in ``run.tree``; the commit it sits on, if any.
    Runs in a thread."""
    plan = gathered.plan
    if plan.where == "worktree":
        assert plan.repository is not None and plan.branch is not None
        base = gathered.base or vcs.branch_tip(plan.repository, branch=plan.branch)
        on_tip = vcs.change_on_tip(
            plan.repository, branch=plan.branch, base=base, change=gathered.change
        )
        scratch.mark_worktree(run, plan.repository)
        worktree.add_detached(
            plan.repository, commit=on_tip.tip, folder=run.tree, name=run.name, tree=on_tip.tree
        )
        return on_tip.tip
    assert gathered.codebase is not None
    files: dict[str, str | None] = dict(gathered.codebase)
    files.update(gathered.change.files)
    scratch.write_files(
        run.tree,
        {path: content for path, content in files.items() if content is not None},
        gathered.change.modes,
    )
    return None


def _remove(gathered: _Gathered, run: scratch.Scratch) -> None:
    if gathered.plan.where == "worktree" and gathered.plan.repository is not None:
        with contextlib.suppress(StoreError):
            worktree.remove(gathered.plan.repository, name=run.name, folder=run.tree)
    scratch.discard(run.folder)


def masker(secrets: Mapping[str, str]) -> Callable[[str], str]:
    """A line with the given secret values (and any credential the
    redaction rule knows by its shape) masked."""
    values = sorted((value for value in secrets.values() if len(value) >= 4), key=len, reverse=True)

    def mask(line: str) -> str:
        for value in values:
            if value in line:
                line = line.replace(value, REDACTED)
        return redact_text(line)

    return mask


async def run_tests(
    db: Database,
    ref: str,
    *,
    limit_seconds: float = DEFAULT_LIMIT_SECONDS,
    with_secrets: bool = False,
    actor: str | None = None,
    cancel: asyncio.Event | None = None,
    on_plan: Callable[[TestPlan], None] = lambda plan: None,
    on_command: Callable[[str, str], None] = lambda stage, command: None,
    on_line: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Run the project's setup and test commands on modification ``ref``
    built in a scratch folder; store and return what came of it (the
    modification's ``local_test_results``). ``on_plan`` hears what will
    run before it starts, ``on_command`` each command as it starts and
    ``on_line`` each line of output (masked) as it comes."""
    actor = actor or current_actor()
    limit = _limit(limit_seconds)
    await asyncio.to_thread(scratch.clean_left_over)
    gathered = await _gather(db, ref, with_secrets=with_secrets, actor=actor)
    plan = gathered.plan
    on_plan(plan)
    mask = masker({name: gathered.environment[name] for name in plan.secrets})
    started_at = utcnow()
    run = await asyncio.to_thread(scratch.make, short_id(plan.modification_id))
    try:
        base_commit = await asyncio.to_thread(_build, gathered, run)
        result = await runner.run_commands(
            run.tree,
            setup=plan.setup,
            tests=plan.tests,
            environment=gathered.environment,
            limit_seconds=limit,
            junit=run.junit,
            cancel=cancel,
            on_line=lambda line: on_line(mask(line)),
            on_command=on_command,
        )
    finally:
        await asyncio.shield(asyncio.to_thread(_remove, gathered, run))
    results = _results(plan, result, actor, started_at, base_commit, limit, mask)
    await _store(db, plan.modification_id, results, actor)
    return results


def _results(
    plan: TestPlan,
    result: runner.RunResult,
    actor: str,
    started_at: Any,
    base_commit: str | None,
    limit: float,
    mask: Callable[[str], str],
) -> dict[str, Any]:
    counts = result.counts
    return {
        "source": "local",
        "outcome": str(result.outcome),
        "run_by": actor,
        "started_at": started_at.isoformat(),
        "finished_at": utcnow().isoformat(),
        "seconds": round(result.seconds, 3),
        "timeout_seconds": limit,
        "where": plan.where,
        "base_commit": base_commit,
        "with_secrets": bool(plan.secrets),
        "commands": [
            {**command.as_dict(), "command": mask(command.command)} for command in result.commands
        ],
        # From the JUnit report the commands wrote; without one the outcome
        # says it from their exit codes.
        "counts": counts,
        "output_tail": [mask(line) for line in result.tail],
    }


async def _store(
    db: Database, modification_id: uuid.UUID, results: dict[str, Any], actor: str
) -> None:
    async with db.transaction() as session:
        modification = await resolve_modification(session, str(modification_id), for_update=True)
        project = await project_of(session, modification, lock=False)
        modification.local_test_results = results
        await audit.record_step(
            session,
            modification,
            project,
            actor=actor,
            event_type="modification.tested",
            description=f"tests {results['outcome']} ({results['where']})",
            details={
                "outcome": results["outcome"],
                "where": results["where"],
                "base_commit": results["base_commit"],
                "with_secrets": results["with_secrets"],
                "commands": [
                    {key: command[key] for key in ("command", "stage", "exit_code", "seconds")}
                    for command in results["commands"]
                ],
                "counts": results["counts"],
            },
        )
