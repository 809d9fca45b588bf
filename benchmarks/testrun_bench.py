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
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.results import measured, scratch, script

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


def _files_by_hand(folder: Path, files: dict[str, str]) -> float:
    """The files written to a new folder and removed, with nothing else: what
    the machine's file system alone asks of a scratch folder (a reference;
    on a loaded or throttled disk it is most of ``mod test``'s overhead)."""
    started = time.perf_counter()
    target = folder / "by-hand"
    for path, content in files.items():
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_text(content)
    shutil.rmtree(target)
    return time.perf_counter() - started


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
        written: list[float] = []
        runs: dict[str, list[float]] = {"codebase": [], "worktree": []}
        for _ in range(rounds):
            hand.append(_by_hand(prepared))
            written.append(_files_by_hand(folder, files))
            for name, ref in refs.items():
                started = time.perf_counter()
                done = await test_runs.run_tests(db, ref, actor="bench")
                runs[name].append(time.perf_counter() - started)
                assert done["outcome"] == "passed", done["output_tail"]
        result["hand"] = statistics.median(hand)
        result["written"] = statistics.median(written)
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
        "",
        f"- For reference, the machine's file system in the same rounds: writing the "
        f"{result['files']:,} files to a new folder and removing them, with nothing else, took "
        f"{result['written'] * 1000:.0f} ms (median). `mod test` writes them too (the codebase, "
        "or git's checkout of the worktree), so on a slow or busy disk that time is most of "
        "its overhead.",
    ]


def missed(result: dict[str, Any]) -> list[str]:
    return [
        f"Running the tests of a change ({name}): {(result[name] - result['hand']) * 1000:.0f} ms "
        f"over running them by hand, target {TARGET_S * 1000:.0f} ms. Why: the file system; "
        f"writing the {result['files']:,} files and removing them, with nothing else, took "
        f"{result['written'] * 1000:.0f} ms in the same rounds."
        for name in ("codebase", "worktree")
        if result[name] - result["hand"] > TARGET_S
    ]


main = script("benchmarks.testrun_bench", SECTION, "test run", run, render, files=1000, rounds=5)


if __name__ == "__main__":
    main()
