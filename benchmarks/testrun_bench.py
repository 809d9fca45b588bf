"""Running a project's tests on a proposed change (issue 20): what ``mod
test`` costs over running the same commands by hand in a folder prepared
beforehand.

    python -m benchmarks.testrun_bench [--files 1000] [--rounds 5]

- The project: ``--files`` Python files (about 2 KB each) in the stored
  codebase, and the same files in a git repository it is linked to; a
  modification changing one of them; test commands ``python -c pass`` and
  ``true``, no setup commands.
- By hand (the baseline): the same two commands run one after the other
  with ``subprocess`` in a folder holding the files already.
- ``mod test``: the service call the CLI makes (``test_runs.run_tests``):
  reading the project, the scratch folder made (the codebase written out,
  or a git worktree checked out at the branch tip with the change), the
  commands run in process groups of their own, the folder removed, the
  results stored and audited. The overhead is its time less the baseline's.
  Target: under 0.5 s on a 1,000-file project.

Run alone, it writes its section of RESULTS.md in place.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.results import arguments, measured, publish, scratch

SECTION = "## Running the tests of a change"
TARGET_S = 0.5
COMMANDS = [f"{sys.executable} -c pass", "true"]


def _files(count: int) -> dict[str, str]:
    body = "".join(f"VALUE_{n} = {n}  # a line of the benchmark's project\n" for n in range(40))
    return {f"pkg/module_{n:04d}.py": body for n in range(count)}


def _git(folder: Path, *args: str) -> None:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.org",
    }
    subprocess.run(
        ["git", "-C", str(folder), *args], check=True, env=environment, capture_output=True
    )


def _by_hand(folder: Path) -> float:
    started = time.perf_counter()
    for command in COMMANDS:
        subprocess.run(command, shell=True, cwd=folder, check=True)
    return time.perf_counter() - started


async def _measure(folder: Path, count: int, rounds: int) -> dict[str, Any]:
    from store import migrate
    from store.config import normalize_url
    from store.engine import open_database
    from store.services import git as git_service
    from store.services import modifications, projects, test_runs

    files = _files(count)
    prepared = folder / "prepared"
    for path, content in files.items():
        (prepared / path).parent.mkdir(parents=True, exist_ok=True)
        (prepared / path).write_text(content)
    repository = folder / "repo"
    repository.mkdir()
    _git(repository, "init", "-q", "-b", "main")
    for path, content in files.items():
        (repository / path).parent.mkdir(parents=True, exist_ok=True)
        (repository / path).write_text(content)
    _git(repository, "add", "-A")
    _git(repository, "commit", "-q", "-m", "files")

    db = await open_database(normalize_url(f"sqlite:///{folder / 'bench.db'}"))
    result: dict[str, Any] = {"files": count}
    try:
        await migrate.upgrade(db)
        changed = {"pkg/module_0000.py": files["pkg/module_0000.py"] + "EXTRA = 1\n"}
        refs = {}
        for name, linked in (("codebase", False), ("worktree", True)):
            await projects.create_project_with_settings(
                db,
                projects.ProjectCreate(
                    name=name,
                    type="api",
                    owner_id="bench",
                    codebase={} if linked else dict(files),
                    settings={"test_commands": COMMANDS},
                ),
            )
            if linked:
                await git_service.link_project(db, name, repository)
                await git_service.sync_project(db, name)
            created = await modifications.propose_modification(
                db,
                name,
                modifications.ModificationProposal(request="bench", modified_files=changed),
            )
            refs[name] = str(created.id)
        hand: list[float] = []
        runs: dict[str, list[float]] = {"codebase": [], "worktree": []}
        for _ in range(rounds):
            hand.append(_by_hand(prepared))
            for name, ref in refs.items():
                started = time.perf_counter()
                done = await test_runs.run_tests(db, ref, actor="bench")
                runs[name].append(time.perf_counter() - started)
                assert done["outcome"] == "passed", done["output_tail"]
        result["hand"] = statistics.median(hand)
        for name, values in runs.items():
            result[name] = statistics.median(values)
    finally:
        await db.dispose()
    return result


def run(*, files: int = 1000, rounds: int = 5) -> dict[str, Any]:
    with scratch("projdeck-testrun-bench-") as folder:
        os.environ["PROJDECK_SCRATCH_DIR"] = str(folder / "scratch")
        os.environ["PROJDECK_MACHINE"] = "bench"
        result = measured(lambda: asyncio.run(_measure(folder, files, rounds)))
    result["rounds"] = rounds
    return result


def render(result: dict[str, Any]) -> list[str]:
    hand = result["hand"]
    before, after = result["load"]

    def row(name: str, what: str) -> str:
        total = result[name]
        overhead = total - hand
        missed = "" if overhead <= TARGET_S else " (missed)"
        return (
            f"| {what} | {total * 1000:.0f} ms | **{overhead * 1000:.0f} ms** | "
            f"{total / hand:.1f}x | {TARGET_S * 1000:.0f} ms{missed} |"
        )

    return [
        SECTION,
        "",
        f"`mod test` on a project of {result['files']:,} files against the same two commands "
        "run by hand in a folder prepared beforehand (see benchmarks/testrun_bench.py); "
        f"medians of {result['rounds']} rounds, measured in the same run.",
        "",
        f"- Date: {result['date']}; load average {before:.1f} before, {after:.1f} after (2 cores)",
        "",
        "| what | time | overhead | ratio to by hand | target (overhead) |",
        "|---|---:|---:|---:|---:|",
        f"| by hand: the two commands (baseline) | {hand * 1000:.0f} ms | | 1.0x | |",
        row("codebase", "`mod test`, the stored codebase written to a scratch folder"),
        row("worktree", "`mod test`, a git worktree at the linked branch's tip"),
    ]


def missed(result: dict[str, Any]) -> list[str]:
    return [
        f"Running the tests of a change ({name}): {(result[name] - result['hand']) * 1000:.0f} ms "
        f"over running them by hand, target {TARGET_S * 1000:.0f} ms."
        for name in ("codebase", "worktree")
        if result[name] - result["hand"] > TARGET_S
    ]


def main(argv: list[str] | None = None) -> None:
    args = arguments("benchmarks.testrun_bench", argv, files=1000, rounds=5)
    result = run(files=args.files, rounds=args.rounds)
    publish(SECTION, render(result), args.output, "test run")


if __name__ == "__main__":
    main()
