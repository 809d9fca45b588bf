"""Running a project's tests on a proposed change (store.services.test_runs),
on both backends: built in a scratch copy of the codebase or a git worktree
at the branch tip, never touching the project; the outcome stored beside
the agent's results and audited; secrets only when asked, masked in the
output; what a killed run left removed by the next."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from store import scratch
from store.engine import Database
from store.errors import InvalidTransition, ValidationError
from store.repositories.audit import AuditFilter, AuditRepository
from store.services import git as git_service
from store.services import modifications, projects, secrets, test_runs
from store.services.review import get_modification
from store.vcs import worktree
from tests.git_support import BILLING, git, linked_billing, make_repo

CODEBASE = {"app.py": "VALUE = 1\n", "check.sh": "grep -q 'VALUE = 2' app.py\n"}
AGENT_RESULTS = {"passed": 12, "failed": 0}


async def proposed(database: Database, tests: list[str], *, setup: list[str] | None = None) -> str:
    await projects.create_project_with_settings(
        database,
        projects.ProjectCreate(
            name="billing",
            type="api",
            owner_id="alice",
            codebase=dict(CODEBASE),
            environment_vars={"LOG_LEVEL": "debug"},
            settings={"test_commands": tests, "setup_commands": setup or []},
        ),
    )
    created = await modifications.propose_modification(
        database,
        "billing",
        modifications.ModificationProposal(
            request="Two", modified_files={"app.py": "VALUE = 2\n"}, test_results=AGENT_RESULTS
        ),
    )
    return str(created.id)


async def tested_events(database: Database) -> list[dict[str, object]]:
    async with database.reading() as session:
        rows = await AuditRepository(session).list(
            AuditFilter(event_type="modification.tested"), limit=10
        )
    return [dict(row.details) for row in rows]


def scratch_left() -> list[str]:
    root = scratch.root()
    return sorted(entry.name for entry in root.iterdir()) if root.exists() else []


async def test_a_project_without_test_commands_is_told_how_to_set_them(
    database: Database,
) -> None:
    ref = await proposed(database, [])
    with pytest.raises(ValidationError) as refused:
        await test_runs.run_tests(database, ref)
    assert refused.value.field == "test_commands"
    assert "--test-command" in refused.value.message


async def test_the_change_is_tested_on_a_copy_of_the_codebase(database: Database) -> None:
    ref = await proposed(
        database, ["sh check.sh", 'echo "level $LOG_LEVEL"'], setup=["echo setting up"]
    )
    heard: list[str] = []

    results = await test_runs.run_tests(database, ref, actor="rita", on_line=heard.append)

    assert results["outcome"] == "passed"
    assert heard == ["setting up", "level debug"] == results["output_tail"]
    assert [(item["stage"], item["exit_code"]) for item in results["commands"]] == [
        ("setup", 0),
        ("test", 0),
        ("test", 0),
    ]
    assert results["source"] == "local" and results["run_by"] == "rita"
    assert results["where"] == "codebase" and results["base_commit"] is None
    modification = (await get_modification(database, ref)).modification
    assert modification.local_test_results == results
    assert modification.test_results == AGENT_RESULTS  # the agent's stay as reported
    assert (await projects.get_project(database, "billing")).codebase == CODEBASE
    [event] = await tested_events(database)
    assert event["outcome"] == "passed" and "output_tail" not in event
    assert scratch_left() == []


async def test_failing_and_timed_out_runs_are_recorded_as_such(database: Database) -> None:
    ref = await proposed(database, ["exit 2", "sleep 30"])

    failed = await test_runs.run_tests(database, ref, limit_seconds=1)

    assert failed["outcome"] == "timed_out"
    assert [item["exit_code"] for item in failed["commands"]] == [2, None]
    assert scratch_left() == []
    with pytest.raises(ValidationError, match="timeout"):
        await test_runs.run_tests(database, ref, limit_seconds=0)


async def test_secrets_are_given_only_when_asked_and_masked(database: Database) -> None:
    ref = await proposed(database, ['echo "key=${API_KEY:-none}"'])
    await secrets.set_secret(database, "billing", "API_KEY", "s3cret-value-123")

    without = await test_runs.run_tests(database, ref)
    given = await test_runs.run_tests(database, ref, with_secrets=True)

    assert without["output_tail"] == ["key=none"] and not without["with_secrets"]
    assert given["output_tail"] == ["key=[redacted]"] and given["with_secrets"]


async def test_an_archived_project_or_a_final_modification_is_not_tested(
    database: Database,
) -> None:
    ref = await proposed(database, ["true"])
    pending = await modifications.propose_modification(
        database,
        "billing",
        modifications.ModificationProposal(request="Three", modified_files={"b.py": "b\n"}),
    )
    await modifications.reject_modification(database, ref, comment="no")
    with pytest.raises(InvalidTransition, match="cannot test a modification that is rejected"):
        await test_runs.run_tests(database, ref)
    await projects.archive_project(database, "billing")
    with pytest.raises(InvalidTransition, match="is archived"):
        await test_runs.plan_test_run(database, str(pending.id))
    assert await tested_events(database) == []


async def test_a_linked_project_is_tested_in_a_worktree_at_the_branch_tip(
    database: Database, tmp_path: Path
) -> None:
    repository = make_repo(tmp_path / "repo", BILLING)
    await linked_billing(
        database,
        repository,
        settings={"test_commands": ["cat src/rates.py", "git rev-parse HEAD"]},
    )
    created = await modifications.propose_modification(
        database,
        "billing",
        modifications.ModificationProposal(
            request="Rate 2", modified_files={"src/rates.py": "RATE = 2\n"}
        ),
    )
    # The branch moves on after the proposal, in another file.
    (repository / "README.md").write_text("# Billing, moved\n")
    git(repository, "commit", "-qam", "moved")
    tip = git(repository, "rev-parse", "HEAD").strip()

    results = await test_runs.run_tests(database, str(created.id))

    assert results["outcome"] == "passed", results["output_tail"]
    assert results["where"] == "worktree" and results["base_commit"] == tip
    assert results["output_tail"] == ["RATE = 2", tip]
    # Nothing of the run is left in the repository.
    assert worktree.ours(repository) == []
    assert git(repository, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert git(repository, "status", "--porcelain") == ""
    assert git(repository, "rev-parse", "HEAD").strip() == tip
    assert scratch_left() == []


async def test_what_a_killed_run_left_is_removed_by_the_next(
    database: Database, tmp_path: Path
) -> None:
    repository = make_repo(tmp_path / "repo", BILLING)
    left = scratch.make("killed")
    scratch.mark_worktree(left, str(repository))
    tip = git(repository, "rev-parse", "HEAD").strip()
    worktree.add_detached(repository, commit=tip, folder=left.tree, name=left.name)
    # Its process is gone.
    (left.folder / "owner").write_text(f"{2**22 + os.getpid() % 1000}\n")
    ref = await proposed(database, ["true"])

    await test_runs.run_tests(database, ref)

    assert not left.folder.exists()
    assert worktree.ours(repository) == []
    assert scratch_left() == []


async def test_doctor_removes_what_a_killed_run_left(database: Database) -> None:
    from store import diagnostics

    left = scratch.make("killed")
    (left.folder / "owner").write_text(f"{2**22 + os.getpid() % 1000}\n")

    report = await diagnostics.examine(database)

    [finding] = [item for item in report.findings if item.name == "test runs"]
    assert finding.ok and "removed 1 scratch folders" in finding.detail
    assert not left.folder.exists()


PROJECT = {
    "calc.py": "def add(a, b):\n    return a + b\n",
    "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n",
}


async def test_a_python_projects_pytest_run_is_counted_from_its_junit_report(
    database: Database, tmp_path: Path
) -> None:
    repository = make_repo(tmp_path / "repo", PROJECT)
    pytest_command = (
        f"{sys.executable} -m pytest -q -p no:cacheprovider -p no:randomly "
        '--junitxml="$PROJDECK_JUNIT_XML"'
    )
    await projects.create_project_with_settings(
        database,
        projects.ProjectCreate(
            name="calc",
            type="library",
            owner_id="alice",
            settings={"test_commands": [pytest_command]},
        ),
    )
    await git_service.link_project(database, "calc", repository)
    await git_service.sync_project(database, "calc")
    created = await modifications.propose_modification(
        database,
        "calc",
        modifications.ModificationProposal(
            request="Subtract, and a test that catches the slip",
            modified_files={
                "calc.py": PROJECT["calc.py"] + "\n\ndef sub(a, b):\n    return a + b\n",
                "test_sub.py": "from calc import sub\n\n\ndef test_sub():\n"
                "    assert sub(3, 1) == 2\n\n\ndef test_skipped():\n"
                "    import pytest\n\n    pytest.skip('later')\n",
            },
        ),
    )

    results = await test_runs.run_tests(database, str(created.id))

    assert results["outcome"] == "failed"
    assert results["counts"] == {"passed": 1, "failed": 1, "errors": 0, "skipped": 1}
    assert results["commands"][0]["exit_code"] == 1
    assert any("test_sub" in line for line in results["output_tail"])
    assert git(repository, "status", "--porcelain") == ""
    assert worktree.ours(repository) == []
