"""Start-up: how long a person or an agent waits for ``projdeck`` to answer,
each figure next to a reference measured in the same run.

    python -m benchmarks.startup_bench [--sqlite /tmp/projdeck-bench-large.db]

Every figure is the median wall time of launching a process until it exits
(or, for the app, until its first screen is painted), the reference run
interleaved with it so that a busy machine slows both alike:

- ``--version`` and ``--help`` against a trivial click program;
- reads (``project list``, ``mod list --json``) on a small SQLite database,
  and an agent's write (``mod propose`` of a 3-file change), against
  ``python -c "import sqlalchemy.ext.asyncio, aiosqlite, click"``;
- 1,000 messages in one ``agent message --jsonl`` call against one message;
- ``project list --search`` matching nothing against a plain ``project
  list``, on the large workspace (when it exists);
- ``projdeck --demo`` on a machine that never ran it (an empty cache dir)
  against the minimal Textual app of app_bench.

Run alone, it writes its section of RESULTS.md in place; ``python -m
benchmarks`` runs it with the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import app_bench
from benchmarks.results import arguments, publish

SECTION = "## Start-up"
SCRIPT = str(Path(sys.executable).with_name("projdeck"))

TRIVIAL_CLICK = '''
import click


@click.group()
@click.version_option("1.0", prog_name="trivial")
def cli():
    """A trivial click program."""


@cli.command()
def hello():
    """Say hello."""
    click.echo("hello")


cli()
'''
IMPORTS = "import sqlalchemy.ext.asyncio, aiosqlite, click"

# Targets (issue 16): the ratio each figure must stay within.
TARGETS = {
    "version": 1.5,
    "help": 1.5,
    "project list": 1.5,
    "mod list --json": 1.5,
    "mod propose (3 files)": 2.0,
    "agent message --jsonl (1,000)": 2.0,
    "--demo, no cache": 3.0,
}
SEARCH_TARGET_MS = 100.0


def _timed(command: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        command, env=env, input=stdin, capture_output=True, text=True, timeout=600, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command}: exit {done.returncode}\n{done.stderr}")
    return elapsed


def _pair(
    ours: Callable[[], float], reference: Callable[[], float], repeats: int
) -> dict[str, float]:
    """Both measured ``repeats`` times, interleaved, after one warm-up each."""
    ours()
    reference()
    mine, theirs = [], []
    for _ in range(repeats):
        mine.append(ours())
        theirs.append(reference())
    result = {"ours_s": statistics.median(mine), "reference_s": statistics.median(theirs)}
    result["ratio"] = result["ours_s"] / result["reference_s"]
    return result


def _small_workspace(folder: Path, env: dict[str, str]) -> tuple[str, str]:
    """A small SQLite database with a project and a conversation; its URL
    and the conversation's id."""
    url = f"sqlite:///{folder / 'small.db'}"

    def cli(*args: str) -> str:
        done = subprocess.run(
            [SCRIPT, "--db-url", url, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip()

    for n in range(5):
        cli("project", "create", "--name", f"project-{n}", "--type", "api", "--owner", "bench")
    conversation = cli("agent", "conversation", "start", "project-0", "--title", "bench")
    return url, conversation


def run(large_sqlite: str | None, *, repeats: int = 9) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="projdeck-startup-"))
    try:
        return _run(folder, large_sqlite, repeats)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path, large_sqlite: str | None, repeats: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "HOME": str(folder / "home"),
        "PROJDECK_ACTOR": "bench",
        "PROJDECK_KEY_FILE": str(folder / "keys.json"),
    }
    env.pop("PROJDECK_DATABASE_URL", None)
    trivial = folder / "trivial.py"
    trivial.write_text(TRIVIAL_CLICK, encoding="utf-8")
    py = sys.executable
    results: dict[str, Any] = {}

    def ours(*args: str, stdin: str | None = None) -> Callable[[], float]:
        return lambda: _timed([SCRIPT, *args], env, stdin)

    def imports() -> float:
        return _timed([py, "-c", IMPORTS], env)

    print("start-up: --version, --help", flush=True)
    results["version"] = _pair(
        ours("--version"), lambda: _timed([py, str(trivial), "--version"], env), repeats
    )
    results["help"] = _pair(
        ours("--help"), lambda: _timed([py, str(trivial), "--help"], env), repeats
    )

    print("start-up: commands on a small database", flush=True)
    url, conversation = _small_workspace(folder, env)
    results["project list"] = _pair(ours("--db-url", url, "project", "list"), imports, repeats)
    results["mod list --json"] = _pair(
        ours("--db-url", url, "mod", "list", "--json"), imports, repeats
    )
    files = []
    for n in range(3):
        path = folder / f"file{n}.py"
        path.write_text(f"def f{n}():\n    return {n}\n" * 20, encoding="utf-8")
        files += ["--file", f"src/file{n}.py={path}"]
    results["mod propose (3 files)"] = _pair(
        ours("--db-url", url, "mod", "propose", "project-1", "--request", "bench", *files),
        imports,
        repeats,
    )

    print("start-up: 1,000 messages in one call", flush=True)
    lines = "\n".join(
        json.dumps(
            {"role": "assistant", "content": f"message {n}", "tokens_in": n, "cost": "0.001"}
        )
        for n in range(1000)
    )
    results["agent message --jsonl (1,000)"] = _pair(
        ours("--db-url", url, "agent", "message", conversation, "--jsonl", "-", stdin=lines),
        ours(
            "--db-url", url, "agent", "message", conversation, "--role", "user", "--content", "hi"
        ),
        max(3, repeats // 3),
    )

    if large_sqlite and Path(large_sqlite).exists():
        print("start-up: project list --search on the large workspace", flush=True)
        large = f"sqlite:///{large_sqlite}"
        pair = _pair(
            ours("--db-url", large, "project", "list", "--search", "zzz-matches-nothing"),
            ours("--db-url", large, "project", "list"),
            max(3, repeats // 2),
        )
        pair["added_ms"] = (pair["ours_s"] - pair["reference_s"]) * 1000
        results["search"] = pair

    print("start-up: --demo on a machine that never ran it", flush=True)

    def demo() -> float:
        cache, temp = folder / "demo-cache", folder / "demo-tmp"
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir()
        child_env = {**env, "XDG_CACHE_HOME": str(cache), "TMPDIR": str(temp)}
        figures = app_bench.first_paint(["--child", "demo"], env=child_env)
        projects.append(figures["projects_s"])
        return figures["seconds"]

    projects: list[float] = []
    results["--demo, no cache"] = _pair(
        demo,
        lambda: app_bench.first_paint(["--child", "baseline"])["seconds"],
        max(3, repeats // 3),
    )
    results["--demo, no cache"]["projects_s"] = statistics.median(projects[1:])
    return results


def render(results: dict[str, Any]) -> list[str]:
    """The Start-up section of RESULTS.md."""
    names = {
        "version": ("`projdeck --version`", "a trivial click program"),
        "help": ("`projdeck --help`", "a trivial click program"),
        "project list": ("`project list` (small SQLite database)", f"`python -c '{IMPORTS}'`"),
        "mod list --json": (
            "`mod list --json` (small SQLite database)",
            f"`python -c '{IMPORTS}'`",
        ),
        "mod propose (3 files)": ("`mod propose` of a 3-file change", f"`python -c '{IMPORTS}'`"),
        "agent message --jsonl (1,000)": (
            "`agent message --jsonl`, 1,000 messages",
            "one `agent message`",
        ),
        "--demo, no cache": (
            "`projdeck --demo`, no cache: first painted screen (the demo being built, its "
            "progress shown)",
            "the minimal Textual app's first paint",
        ),
    }
    lines = [
        SECTION,
        "",
        "Median wall time of a whole process (for the app: to its first painted screen), "
        "next to a reference run interleaved with it (see benchmarks/startup_bench.py).",
        "",
        "| what | projdeck | reference | ratio | target |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, (what, reference) in names.items():
        figure = results[key]
        mark = "" if figure["ratio"] <= TARGETS[key] else " (missed)"
        lines.append(
            f"| {what} | {figure['ours_s'] * 1000:.0f} ms | {reference}: "
            f"{figure['reference_s'] * 1000:.0f} ms | **{figure['ratio']:.2f}x** | "
            f"{TARGETS[key]:g}x{mark} |"
        )
    search = results.get("search")
    lines.append("")
    demo = results["--demo, no cache"]
    lines.append(
        f"- `projdeck --demo` with no cache shows its Projects screen, the demo built and kept "
        f"for the next run, after **{demo['projects_s']:.2f} s** "
        f"({demo['projects_s'] / demo['reference_s']:.1f}x the minimal app's first paint)"
    )
    if search:
        mark = "" if search["added_ms"] <= SEARCH_TARGET_MS else " (missed)"
        lines.append(
            f"- `project list --search` matching nothing on the large workspace: "
            f"{search['ours_s'] * 1000:.0f} ms against {search['reference_s'] * 1000:.0f} ms "
            f"for a plain `project list`: **{search['added_ms']:+.0f} ms** (target at most "
            f"+{SEARCH_TARGET_MS:.0f} ms{mark})"
        )
    else:
        lines.append("- `project list --search`: not measured (no large workspace)")
    return lines


# Why a start-up target is still missed, from profiling (see the Findings).
_SQLMODEL = (
    "SQLModel: importing it adds about 60 ms to the reference and defining the ten tables "
    "another 60 ms (pydantic schemas and SQLAlchemy mappers), 1.44x before the command's "
    "own code runs; the rest is opening the database, the query and the command's modules"
)
REASONS = {
    "project list": _SQLMODEL
    + ". Timed side by side with 420f41c (1.66x then) on one machine: 0.51 s then, 0.55 s now; "
    "`python -X importtime` puts the difference in rich (the tables of issue 22), the config "
    "file's tomllib and platformdirs, and the team's permission checks",
    "mod list --json": _SQLMODEL
    + ". Timed side by side with 420f41c on one machine: 0.53 s then and now (the ratio moves "
    "with the machine); `mod test`, which brings pygit2 and the test runner, is imported only "
    "when it runs",
}
REASONS["mod propose (3 files)"] = REASONS["mod list --json"]


def missed(results: dict[str, Any]) -> list[str]:
    out = [
        f"Start-up, {key}: {figure['ratio']:.2f}x of its reference, target {TARGETS[key]:g}x."
        + (f" Why: {REASONS[key]}." if key in REASONS else "")
        for key, figure in results.items()
        if key in TARGETS and figure["ratio"] > TARGETS[key]
    ]
    search = results.get("search")
    if search and search["added_ms"] > SEARCH_TARGET_MS:
        out.append(
            f"Start-up, project list --search: {search['added_ms']:+.0f} ms, "
            f"target +{SEARCH_TARGET_MS:.0f} ms."
        )
    return out


def main(argv: list[str] | None = None) -> None:
    args = arguments(
        "benchmarks.startup_bench", argv, sqlite="/tmp/projdeck-bench-large.db", repeats=9
    )
    results = run(args.sqlite, repeats=args.repeats)
    publish(SECTION, render(results), args.output, "start-up")


if __name__ == "__main__":
    main()
