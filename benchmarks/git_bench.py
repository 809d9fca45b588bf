"""Git: a linked project's codebase synced from its repository, and a
modification applied as a commit, each next to a reference measured in the
same run (issue 18).

    python -m benchmarks.git_bench [--repeats 5] [--apply-repeats 7]
    python -m benchmarks.git_bench --profile    # where the time goes

- Repositories: bare, one commit, written by ``git fast-import`` (no
  deltas: a real pack keeps its newest blobs whole, and fast-import's
  deltas against whichever blob came before slowed every reader): 10,000
  text files of about 100 MB in nested folders (sizes spread log-normally,
  64 bytes to 512 KiB); 10,000 files of about 45 MB, which fits the stored
  codebase's limits (store/validation.py: 10,000 files, 50 MiB); and 1,000
  files of about 5 MB. They are kept in /tmp under a name made of their
  shape, and reused.
- Sync, on the first two: ``git archive HEAD > /dev/null`` (the
  reference) interleaved with ``store.services.git.sync_project`` on a
  SQLite database in a scratch folder (the project created and linked
  beforehand; the first sync, into an empty codebase, then a second one of
  the same commit), with ``store.vcs.read_snapshot`` alone (the git part
  of a sync), and with ``projdeck project sync`` run as a command on a
  database of its own (start-up included). Wall time, and the CPU time of
  ``git archive`` and of the first sync, which a busy machine disturbs less.
- Apply, on the 45 MB and the 5 MB repositories: a project linked and
  synced; a modification of 100 files (two lines near the top of each
  changed) proposed against the tip and approved; the branch then moved by
  50 commits, each changing the last lines of one of the 100 files and
  three files the modification leaves alone, so that 50 files merge three
  ways; ``apply_modification`` timed. A fresh branch, database and content
  each round; the same on a branch that did not move, for reference.

Medians of the rounds after a first, uncounted one. Run alone, it writes
its section of RESULTS.md in place; ``python -m benchmarks`` runs it with
the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import FileMode
from sqlalchemy.engine import URL, make_url

from benchmarks.results import arguments, publish
from store import migrate, vcs
from store.engine import open_database
from store.models import ModificationStatus
from store.services import git
from store.services.modifications import (
    ModificationProposal,
    apply_modification,
    approve_modification,
    propose_modification,
)
from store.services.project_reads import get_project
from store.services.projects import (
    ProjectCreate,
    create_project_with_settings,
)

SECTION = "## Git: sync and apply"
SCRIPT = str(Path(sys.executable).with_name("projdeck"))
CACHE = Path(tempfile.gettempdir()) / "projdeck-git-bench"
MB = 1_000_000

# Targets (issue 18).
SYNC_RATIO_TARGET = 3.0
APPLY_TARGET_S = 0.300

PROJECT = "git-bench"
AGENT = "Agent Smith <agent@example.org>"
MODIFIED_FILES = 100
BRANCH_COMMITS = 50
OTHERS_PER_COMMIT = 3

# The words of the generated files' lines, folders and names.
_VOCABULARY = (
    "account adapter apply audit batch branch buffer cache client commit config cursor delta "
    "digest engine event filter folder handler index ledger merge model node order page parser "
    "patch queue reader record report request result review route schema session signal source "
    "stage state store stream tenant token tree update user value worker writer"
)
_WORDS = _VOCABULARY.split()
_LINES = (
    "    {a}_{b} = {c}({d}, {n})",
    "def {a}_{b}({c}, {d}={n}):",
    "    return {a}.{b}({c}) + {n}",
    "# {A} the {b} of the {c} before the {d} ({n})",
    "    if {a}_{c} > {n}:",
    "        {b}.{c}_{d}({a}, limit={n})",
    "class {A}{B}({C}):",
    '    """{A} {b} for each {c}."""',
    "",
    "    for {a} in {b}_{c}s[{n}:]:",
)
_TOPS = ("src", "lib", "tests", "docs", "tools", "services")
_SUFFIXES = (".py", ".py", ".py", ".ts", ".go", ".md", ".txt", ".json")
_LARGEST = 512 * 1024
_DATE = "1700000000 +0000"

# Git run with no configuration of this machine's user in the way.
_GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
}


@dataclass(frozen=True)
class Shape:
    """A generated repository: how many files, about how many megabytes."""

    files: int
    megabytes: int
    seed: int = 18

    @property
    def name(self) -> str:
        return f"{self.files}-files-{self.megabytes}mb-seed{self.seed}"


# The repositories: about 100 MB as issue 18 asks, one that fits the stored
# codebase's limits, and a small one for apply.
LARGE = Shape(10_000, 100)
FITTING = Shape(10_000, 45)
SMALL = Shape(1_000, 5)


@dataclass(frozen=True)
class Repository:
    path: str
    head: str
    files: int
    bytes: int
    largest: int
    folders: int
    seconds: float


# --- the repositories -----------------------------------------------------


def repository(shape: Shape, *, regenerate: bool = False) -> Repository:
    """The repository of ``shape``, made once and reused while it exists."""
    folder = CACHE / shape.name
    manifest = folder / "manifest.json"
    if manifest.exists() and not regenerate:
        return Repository(**json.loads(manifest.read_text(encoding="utf-8")))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"git: generating {shape.files:,} files, about {shape.megabytes} MB ...", flush=True)
    made = _generate(shape, folder / "repo.git")
    manifest.write_text(json.dumps(asdict(made)), encoding="utf-8")
    return made


def _sizes(rng: random.Random, shape: Shape) -> list[float]:
    """Log-normal file sizes summing to about ``shape.megabytes``, each
    between 64 bytes and 512 KiB."""
    sizes = [rng.lognormvariate(0, 1.2) for _ in range(shape.files)]
    for _ in range(6):
        scale = shape.megabytes * MB / sum(sizes)
        sizes = [min(_LARGEST, max(64.0, size * scale)) for size in sizes]
    return sizes


def _generate(shape: Shape, path: Path) -> Repository:
    started = time.perf_counter()
    rng = random.Random(shape.seed)
    lines = []
    for _ in range(50_000):
        a, b, c, d = rng.sample(_WORDS, 4)
        lines.append(
            rng.choice(_LINES).format(
                a=a, b=b, c=c, d=d, A=a.title(), B=b.title(), C=c.title(), n=rng.randrange(10_000)
            )
        )
    per_line = sum(len(line) + 1 for line in lines) / len(lines)
    folders = sorted(
        {"/".join([rng.choice(_TOPS), *rng.sample(_WORDS, rng.randint(0, 3))]) for _ in range(900)}
    )
    _git(path.parent, "init", "--quiet", "--bare", "--initial-branch=main", str(path))
    importer = subprocess.Popen(
        ["git", "-C", str(path), "fast-import", "--quiet", "--depth=0"],
        stdin=subprocess.PIPE,
        env=_GIT_ENV,
    )
    assert importer.stdin is not None
    out = importer.stdin
    message = b"A generated repository for benchmarks/git_bench.py\n"
    out.write(
        b"commit refs/heads/main\n"
        b"author Bench <bench@example.org> %s\ncommitter Bench <bench@example.org> %s\n"
        b"data %d\n%s" % (_DATE.encode(), _DATE.encode(), len(message), message)
    )
    total = largest = 0
    used: set[str] = set()
    sizes = _sizes(rng, shape)
    for number, size in enumerate(sizes):
        folder = rng.choice(folders)
        used.add(folder)
        name = f"{folder}/{rng.choice(_WORDS)}_{number:05d}{rng.choice(_SUFFIXES)}"
        count = max(1, round(size / per_line))
        data = ("\n".join(rng.choices(lines, k=count)) + "\n").encode("utf-8")
        total += len(data)
        largest = max(largest, len(data))
        out.write(b"M 100644 inline %s\ndata %d\n%s\n" % (name.encode(), len(data), data))
    out.close()
    if importer.wait() != 0:
        raise RuntimeError(f"git fast-import failed in {path}")
    head = _git(path, "rev-parse", "refs/heads/main").strip()
    return Repository(
        path=str(path),
        head=head,
        files=len(sizes),
        bytes=total,
        largest=largest,
        folders=len(used),
        seconds=time.perf_counter() - started,
    )


def _git(folder: Path | str, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, env=_GIT_ENV
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _archive(path: str) -> tuple[float, float]:
    """``git archive HEAD > /dev/null``: its wall time and its CPU time."""
    cpu = _children_cpu()
    started = time.perf_counter()
    subprocess.run(
        ["git", "-C", path, "archive", "HEAD"],
        stdout=subprocess.DEVNULL,
        env=_GIT_ENV,
        check=True,
    )
    return time.perf_counter() - started, _children_cpu() - cpu


# --- databases -------------------------------------------------------------


def _url(path: Path) -> URL:
    return make_url(f"sqlite+aiosqlite:///{path}")


async def _migrate(path: Path) -> None:
    db = await open_database(_url(path))
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


async def _create_linked(path: Path, repo: str, *, sync: bool = False) -> None:
    """A project named PROJECT in the database at ``path``, linked to
    ``repo`` (and synced)."""
    db = await open_database(_url(path))
    try:
        await create_project_with_settings(
            db, ProjectCreate(name=PROJECT, type="api", owner_id="bench")
        )
        await git.link_project(db, PROJECT, repo)
        if sync:
            await git.sync_project(db, PROJECT)
    finally:
        await db.dispose()


def _fresh_copy(template: Path, path: Path) -> Path:
    """A copy of the SQLite database ``template`` (its write-ahead log too)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
        if Path(f"{template}{suffix}").exists():
            shutil.copyfile(f"{template}{suffix}", f"{path}{suffix}")
    return path


# --- sync ------------------------------------------------------------------


@dataclass(frozen=True)
class _Synced:
    """Two syncs of a linked project: wall times, the first one's CPU time
    (every thread of this process: the event loop, git's worker thread,
    SQLite's), and what the first stored."""

    first: float
    again: float
    first_cpu: float
    synced: Any


async def _sync_twice(path: Path, profiler: Any = None) -> _Synced:
    """The first sync of a linked project (watched by ``profiler``, if
    given), then a second one (same commit)."""
    db = await open_database(_url(path))
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        with profiler or contextlib.nullcontext():
            synced = await git.sync_project(db, PROJECT)
        first = time.perf_counter() - started
        first_cpu = time.process_time() - cpu
        started = time.perf_counter()
        await git.sync_project(db, PROJECT)
        again = time.perf_counter() - started
        return _Synced(first, again, first_cpu, synced)
    finally:
        await db.dispose()


def _read_snapshot(repo: Repository) -> float:
    started = time.perf_counter()
    vcs.read_snapshot(repo.path, commit=repo.head)
    return time.perf_counter() - started


def _cli_sync(path: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [SCRIPT, "--db-url", f"sqlite:///{path}", "project", "sync", PROJECT],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"projdeck project sync: exit {done.returncode}\n{done.stderr}")
    return elapsed


def bench_sync(repo: Repository, folder: Path, template: Path, repeats: int) -> dict[str, Any]:
    """Sync against ``git archive``, interleaved round by round."""
    runs: dict[str, list[float]] = {
        "archive": [],
        "read": [],
        "sync": [],
        "again": [],
        "cli": [],
        "archive_cpu": [],
        "sync_cpu": [],
    }
    synced = None
    for round_number in range(repeats + 1):
        ours = _fresh_copy(template, folder / "sync.db")
        theirs = _fresh_copy(template, folder / "cli.db")
        asyncio.run(_create_linked(ours, repo.path))
        asyncio.run(_create_linked(theirs, repo.path))
        archive, archive_cpu = _archive(repo.path)
        read = _read_snapshot(repo)
        twice = asyncio.run(_sync_twice(ours))
        synced = twice.synced
        cli = _cli_sync(theirs)
        print(
            f"  {Path(repo.path).parent.name} round {round_number}: archive {archive:.2f} s "
            f"(CPU {archive_cpu:.2f} s), read_snapshot {read:.2f} s, sync {twice.first:.2f} s "
            f"(CPU {twice.first_cpu:.2f} s), again {twice.again:.2f} s, CLI {cli:.2f} s",
            flush=True,
        )
        if round_number:
            figures = (archive, read, twice.first, twice.again, cli, archive_cpu, twice.first_cpu)
            for key, value in zip(runs, figures, strict=True):
                runs[key].append(value)
    assert synced is not None
    stored_bytes = sum(len(text.encode("utf-8")) for text in _stored_texts(folder / "sync.db"))
    medians = {key: statistics.median(values) for key, values in runs.items()}
    return {
        "repository": asdict(repo),
        "runs": runs,
        "median_s": medians,
        "ratio": medians["sync"] / medians["archive"],
        "ratio_again": medians["again"] / medians["archive"],
        "ratio_cli": medians["cli"] / medians["archive"],
        "ratio_cpu": medians["sync_cpu"] / medians["archive_cpu"],
        "stored_files": synced.files,
        "stored_bytes": stored_bytes,
        "skipped": synced.skipped,
    }


def _stored_texts(path: Path) -> list[str]:
    async def read() -> list[str]:
        db = await open_database(_url(path))
        try:
            project = await get_project(db, PROJECT)
            return list(project.codebase.values())
        finally:
            await db.dispose()

    return asyncio.run(read())


# --- apply -----------------------------------------------------------------


@dataclass(frozen=True)
class _Edits:
    """The modification's files (path -> new text) and the commits the
    branch gains meanwhile (each: path -> new text)."""

    modification: dict[str, str]
    commits: list[dict[str, str]]


@dataclass(frozen=True)
class _Chosen:
    """The files a round edits: those the modification changes (the first
    BRANCH_COMMITS of them changed on the branch too) and those only the
    branch changes, with their text at the base."""

    changed: list[str]
    others: list[str]
    texts: dict[str, str]


def _choose(repo_path: str, base: str) -> _Chosen:
    """Files of at least 40 lines (edits at the top and at the bottom far
    apart) and under 64 KiB, drawn with a fixed seed."""
    repo = pygit2.Repository(repo_path)
    candidates = []
    stack: list[tuple[str, pygit2.Tree]] = [("", repo.revparse_single(base).peel(pygit2.Tree))]
    while stack:
        prefix, current = stack.pop()
        for entry in current:
            if isinstance(entry, pygit2.Tree):
                stack.append((f"{prefix}{entry.name}/", entry))
            elif (
                isinstance(entry, pygit2.Blob)
                and entry.size < 64 * 1024
                and entry.data.count(b"\n") >= 40
            ):
                candidates.append(f"{prefix}{entry.name}")
    chosen = random.Random(18).sample(
        sorted(candidates), MODIFIED_FILES + BRANCH_COMMITS * OTHERS_PER_COMMIT
    )
    tree = repo.revparse_single(base).peel(pygit2.Tree)
    texts = {path: tree[path].data.decode("utf-8") for path in chosen}
    return _Chosen(chosen[:MODIFIED_FILES], chosen[MODIFIED_FILES:], texts)


def _edits(chosen: _Chosen, round_number: int) -> _Edits:
    """Edits for one round: the same files every round, text of its own
    (objects an earlier round wrote would make git's work lighter)."""

    def edit(path: str, where: slice, note: str) -> str:
        lines = chosen.texts[path].splitlines()
        lines[where] = [f"{line}  # {note} (round {round_number})" for line in lines[where]]
        return "\n".join(lines) + "\n"

    modification = {
        path: edit(path, slice(1, 3), "changed by the modification") for path in chosen.changed
    }
    commits = []
    for number in range(BRANCH_COMMITS):
        others = chosen.others[number * OTHERS_PER_COMMIT : (number + 1) * OTHERS_PER_COMMIT]
        commits.append(
            {
                path: edit(path, slice(-2, None), f"branch commit {number}")
                for path in [chosen.changed[number], *others]
            }
        )
    return _Edits(modification, commits)


def _branch(repo_path: str, name: str, at: str) -> None:
    repo = pygit2.Repository(repo_path)
    repo.branches.local.create(name, repo.revparse_single(at).peel(pygit2.Commit))


def _move(repo_path: str, branch: str, commits: list[dict[str, str]]) -> str:
    """Commit each of ``commits`` on ``branch``; the new tip."""
    repo = pygit2.Repository(repo_path)
    reference = f"refs/heads/{branch}"
    parent = repo.references[reference].target
    index = pygit2.Index()
    index.read_tree(repo[parent].peel(pygit2.Tree))
    who = pygit2.Signature("Bench", "bench@example.org")
    for number, files in enumerate(commits):
        for path, text in files.items():
            blob = repo.create_blob(text.encode("utf-8"))
            index.add(pygit2.IndexEntry(path, blob, FileMode.BLOB))
        tree = index.write_tree(repo)
        parent = repo.create_commit(
            reference, who, who, f"Branch commit {number}\n", tree, [parent]
        )
    return str(parent)


async def _apply_round(
    db_path: Path,
    repo_path: str,
    branch: str,
    base: str,
    edits: _Edits,
    *,
    moved: bool,
    profiler: Any = None,
) -> float:
    """Link to ``branch``, propose and approve the modification, move the
    branch (when ``moved``), then time the apply (watched by ``profiler``,
    if given) and check what it made."""
    db = await open_database(_url(db_path))
    try:
        await git.link_project(db, PROJECT, repo_path, branch=branch)
        proposal = ModificationProposal(
            request="Bench: change two lines near the top of 100 files",
            modified_files=edits.modification,
            requested_by=AGENT,
            base_commit=base,
        )
        modification = await propose_modification(db, PROJECT, proposal)
        await approve_modification(db, str(modification.id))
        tip = _move(repo_path, branch, edits.commits) if moved else base
        started = time.perf_counter()
        with profiler or contextlib.nullcontext():
            applied = await apply_modification(db, str(modification.id))
        elapsed = time.perf_counter() - started
    finally:
        await db.dispose()
    if applied.status != ModificationStatus.APPLIED or applied.applied_commit is None:
        raise RuntimeError(f"apply did not apply: {applied.status} {applied.failure_reason}")
    commit = pygit2.Repository(repo_path)[applied.applied_commit].peel(pygit2.Commit)
    if str(commit.parent_ids[0]) != tip:
        raise RuntimeError("the applied commit is not on the branch's tip")
    if moved:
        # A file both sides changed holds both changes.
        path = next(iter(edits.commits[0]))
        text = commit.tree[path].data.decode("utf-8")
        if "changed by the modification" not in text or "branch commit 0" not in text:
            raise RuntimeError(f"{path} was not merged three ways")
    return elapsed


def _apply_setup(repo: Repository, folder: Path, template: Path) -> tuple[str, Path, _Chosen]:
    """A copy of the repository (the rounds' branches and objects go there,
    not into the kept one), a database whose project is linked to it and
    synced, and the files the rounds edit."""
    work = folder / f"apply-{Path(repo.path).parent.name}.git"
    shutil.copytree(repo.path, work)
    synced = _fresh_copy(template, folder / f"apply-{Path(repo.path).parent.name}.db")
    asyncio.run(_create_linked(synced, str(work), sync=True))
    return str(work), synced, _choose(str(work), repo.head)


def bench_apply(repo: Repository, folder: Path, template: Path, repeats: int) -> dict[str, Any]:
    """Apply onto a moved branch and onto an unmoved one, interleaved."""
    work, synced, chosen = _apply_setup(repo, folder, template)
    runs: dict[str, list[float]] = {"moved": [], "unmoved": []}
    for round_number in range(repeats + 1):
        for kind in runs:
            branch = f"bench-{kind}-{round_number}"
            _branch(work, branch, repo.head)
            edits = _edits(chosen, round_number * 2 + (kind == "moved"))
            db_path = _fresh_copy(synced, folder / "apply.db")
            elapsed = asyncio.run(
                _apply_round(db_path, work, branch, repo.head, edits, moved=kind == "moved")
            )
            print(
                f"  {Path(repo.path).parent.name} apply round {round_number}, {kind} branch: "
                f"{elapsed * 1000:.0f} ms",
                flush=True,
            )
            if round_number:
                runs[kind].append(elapsed)
    return {
        "repository": asdict(repo),
        "runs": runs,
        "median_s": {key: statistics.median(values) for key, values in runs.items()},
    }


# --- running, profiling, writing ---------------------------------------------


def _environment(folder: Path) -> None:
    """This process and the commands it runs: a machine id, an actor, a
    home of their own (nothing of the user's touched)."""
    os.environ["HOME"] = str(folder / "home")
    os.environ["PROJDECK_MACHINE"] = "git-bench"
    os.environ["PROJDECK_ACTOR"] = "bench"
    os.environ["PROJDECK_KEY_FILE"] = str(folder / "keys.json")
    os.environ.pop("PROJDECK_DATABASE_URL", None)


def run(
    *,
    repeats: int = 5,
    apply_repeats: int = 7,
    large: Shape = LARGE,
    fitting: Shape = FITTING,
    small: Shape = SMALL,
    regenerate: bool = False,
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="projdeck-git-"))
    saved = dict(os.environ)
    try:
        _environment(folder)
        large_repo, fitting_repo, small_repo = (
            repository(shape, regenerate=regenerate) for shape in (large, fitting, small)
        )
        template = folder / "template.db"
        asyncio.run(_migrate(template))
        load_before = os.getloadavg()
        results: dict[str, Any] = {"sync": [], "apply": []}
        for repo in (large_repo, fitting_repo):
            print(f"git: sync of {Path(repo.path).parent.name}", flush=True)
            results["sync"].append(bench_sync(repo, folder, template, repeats))
        for repo in (fitting_repo, small_repo):
            print(f"git: apply on {Path(repo.path).parent.name}", flush=True)
            results["apply"].append(bench_apply(repo, folder, template, apply_repeats))
        results["load"] = [load_before, os.getloadavg()]
        results["machine"] = _machine()
        results["date"] = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        results["commit"] = _commit()
        return results
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(folder, ignore_errors=True)


async def _inline(work: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return work(*args, **kwargs)


def profile(*, large: Shape = LARGE, fitting: Shape = FITTING) -> None:
    """pyinstrument's view of a first sync of each repository and of an
    apply onto a moved and an unmoved branch (pyinstrument is in the
    ``bench`` extra). The git work the services hand to worker threads runs
    inline here, so that the profile sees it; SQLite's own work still runs
    in aiosqlite's thread (shown as the event loop waiting)."""
    from pyinstrument import Profiler

    folder = Path(tempfile.mkdtemp(prefix="projdeck-git-profile-"))
    saved = dict(os.environ)
    to_thread = asyncio.to_thread
    try:
        _environment(folder)
        template = folder / "template.db"
        asyncio.run(_migrate(template))
        asyncio.to_thread = _inline
        for shape in (large, fitting):
            repo = repository(shape)
            path = _fresh_copy(template, folder / "sync.db")
            asyncio.run(_create_linked(path, repo.path))
            profiler = Profiler(async_mode="disabled")
            asyncio.run(_sync_twice(path, profiler))
            print(f"--- first sync, {shape.name}")
            print(profiler.output_text(unicode=True))
        repo = repository(fitting)
        work, synced, chosen = _apply_setup(repo, folder, template)
        for kind in ("moved", "unmoved"):
            _branch(work, f"profile-{kind}", repo.head)
            edits = _edits(chosen, 99 + (kind == "moved"))
            db_path = _fresh_copy(synced, folder / "apply.db")
            profiler = Profiler(async_mode="disabled")
            asyncio.run(
                _apply_round(
                    db_path,
                    work,
                    f"profile-{kind}",
                    repo.head,
                    edits,
                    moved=kind == "moved",
                    profiler=profiler,
                )
            )
            print(f"--- apply, {kind} branch, {fitting.name}")
            print(profiler.output_text(unicode=True))
    finally:
        asyncio.to_thread = to_thread
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(folder, ignore_errors=True)


def _machine() -> str:
    """The processor, the cores, git's and libgit2's versions."""
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    program = _git(".", "--version").strip()
    libgit2 = f"pygit2 {pygit2.__version__} (libgit2 {pygit2.LIBGIT2_VERSION})"
    return f"{cpu}, {os.cpu_count()} cores; {program}, {libgit2}"


def _commit() -> str:
    """The commit measured (the working tree's HEAD), or "?" outside a checkout."""
    try:
        return _git(Path(__file__).parent, "rev-parse", "--short", "HEAD").strip()
    except RuntimeError:
        return "?"


def _s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _spread(values: list[float]) -> str:
    return f"{_s(min(values))} to {_s(max(values))}"


def _repo_label(repo: dict[str, Any]) -> str:
    return (
        f"{repo['files']:,} files, {repo['bytes'] / MB:.1f} MB in {repo['folders']} folders "
        f"(largest file {repo['largest'] / 1024:.0f} KiB)"
    )


def render(results: dict[str, Any]) -> list[str]:
    """The Git section of RESULTS.md."""
    before, after = results["load"]
    lines = [
        SECTION,
        "",
        "Wall time, median of the rounds after a first, uncounted one, each next to a reference "
        "run interleaved with it (see benchmarks/git_bench.py); SQLite, bare repositories of one "
        "commit made by `git fast-import`.",
        "",
        f"- Date: {results['date']}, commit {results['commit']}",
        f"- Machine: {results['machine']}",
        f"- Load average: {before[0]:.1f} when the git figures started, {after[0]:.1f} when they "
        "ended (2 cores, one of them this benchmark's: above about 2, other work was competing; "
        "the ratios, measured side by side, hold better than the absolute times)",
        "",
        "### Sync (`project sync`) against `git archive HEAD > /dev/null` (target: within "
        f"{SYNC_RATIO_TARGET:g}x)",
        "",
        "| repository | `git archive` | `read_snapshot` alone | sync, first | sync, again | "
        "`projdeck project sync` | sync ÷ archive | again ÷ archive | command ÷ archive |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for index, figure in enumerate(results["sync"]):
        median = figure["median_s"]
        # The target is on the first, about 100 MB; the second is a
        # harder comparison of our own (see SYNC_NOTES).
        over = " (missed)" if index == 0 else f" (over {SYNC_RATIO_TARGET:g}x)"
        mark = "" if figure["ratio"] <= SYNC_RATIO_TARGET else over
        lines.append(
            f"| {_repo_label(figure['repository'])} | {_s(median['archive'])} | "
            f"{_s(median['read'])} | {_s(median['sync'])} | {_s(median['again'])} | "
            f"{_s(median['cli'])} | **{figure['ratio']:.1f}x**{mark} | "
            f"{figure['ratio_again']:.1f}x | {figure['ratio_cli']:.1f}x |"
        )
    lines.append("")
    for figure in results["sync"]:
        median = figure["median_s"]
        skipped = ", ".join(f"{count:,} {reason}" for reason, count in figure["skipped"].items())
        left_out = sum(figure["skipped"].values())
        lines.append(
            f"- {figure['repository']['bytes'] / MB:.0f} MB repository: stored "
            f"{figure['stored_files']:,} files, {figure['stored_bytes'] / MB:.1f} MB; left out "
            f"{left_out:,}"
            + (f" ({skipped})" if skipped else "")
            + f". CPU time, which other work on the machine disturbs less: `git archive` "
            f"{_s(median['archive_cpu'])}, the first sync {_s(median['sync_cpu'])} (all of this "
            f"process's threads): **{figure['ratio_cpu']:.1f}x**. "
            f"{len(figure['runs']['sync'])} rounds; sync ranged {_spread(figure['runs']['sync'])}, "
            f"archive {_spread(figure['runs']['archive'])}"
        )
    lines += ["", *SYNC_NOTES, ""]
    lines += [
        f"### Apply of a {MODIFIED_FILES}-file modification (target: under "
        f"{APPLY_TARGET_S * 1000:.0f} ms)",
        "",
        "The project linked and synced (its stored codebase holds the whole repository). The "
        f"modification changes two lines near the top of {MODIFIED_FILES} files; on the moved "
        f"branch {BRANCH_COMMITS} commits then change the last lines of {BRANCH_COMMITS} of them "
        f"and {BRANCH_COMMITS * OTHERS_PER_COMMIT} other files. Timed: `apply_modification` "
        "alone (proposal and approval before it); checked: the commit's parent is the branch's "
        "tip, and a file changed on both sides holds both changes.",
        "",
        "| repository | branch since the proposal | apply | rounds (min to max) | target |",
        "|---|---|---:|---:|---:|",
    ]
    for figure in results["apply"]:
        median, runs = figure["median_s"], figure["runs"]
        mark = "" if median["moved"] <= APPLY_TARGET_S else " (missed)"
        label = _repo_label(figure["repository"])
        lines += [
            f"| {label} | moved by {BRANCH_COMMITS} commits: merged three ways | "
            f"**{_s(median['moved'])}** | {len(runs['moved'])} ({_spread(runs['moved'])}) | "
            f"{APPLY_TARGET_S * 1000:.0f} ms{mark} |",
            f"| {label} | not moved (reference): committed on the base | "
            f"{_s(median['unmoved'])} | {len(runs['unmoved'])} ({_spread(runs['unmoved'])}) | |",
        ]
    lines += ["", *APPLY_NOTES]
    return lines


# What the figures mean and where the time goes, from profiling
# (``python -m benchmarks.git_bench --profile``, and the CPU time of each
# part called alone, one thread, on the 2-core Xeon of 2026-12-05).
SYNC_NOTES = [
    "- **The codebase's limits** (10,000 files, 50 MiB; store/validation.py): the 100 MB "
    "repository holds more than a codebase may, and what is past the limits is left out and "
    "counted. Sync leaves it out only after reading it: `vcs.read_snapshot` reads and decodes "
    "every file git tracks and checks every path, then `_within_limits` (store/services/git.py) "
    "keeps files in path order until the limit. So the 100 MB figure (the issue's target) "
    "includes reading the 48 MB it drops, while what it stores (about 52 MB) is no more than "
    "the 45 MB repository stores: `git archive`'s work doubles, the storing half does not. "
    "**The 45 MB repository, stored whole, is the harder comparison**: the issue sets the "
    "target on a repository of about 100 MB, which meets it; the 45 MB one is measured beside "
    "it so that the figure cannot hide behind what the limits leave out.",
    "- **Where a sync's time goes** (45 MB, CPU time of each part called alone): "
    "`read_snapshot` about 0.31 s (libgit2 reading and inflating the 10,000 blobs, about as "
    "long as the whole of `git archive`, then each file's NUL check and UTF-8 decoding and "
    "each path's check, about 10 µs a path); the codebase made JSON (`json.dumps`, about "
    "0.15 s); SQLite writing the 47 MB row into its write-ahead log and the checkpoint that "
    "copies it into the database file at commit (about 0.3 s). A second sync of the same "
    "commit also loads and decodes the stored codebase to count what changed, and writes it "
    "all again.",
    "- Done since the first figures (4.1x on the 45 MB repository, 3.1x on the 100 MB one): "
    "each path is checked once (`read_snapshot` checks it as the store would, `_within_limits` "
    "only counts), control characters are found by one regular expression "
    "(`validation.has_control`), and plain-ASCII paths skip the look-alike scan of every "
    "letter's Unicode name.",
    "- What is left is the codebase stored as one JSON value in one row: made JSON, written "
    "whole, read whole to compare. Files in a table of their own, keyed by path and carrying "
    "their git blob id, would let a sync write only what changed and skip reading blobs it "
    "already holds; that is a change of the schema and of every reader of the codebase, not "
    "done here.",
    "- `projdeck project sync` adds the command's start-up (about 0.45 s quiet, see Start-up) "
    "and a process of its own to the service's time.",
]
APPLY_NOTES = [
    "- **Where an apply's time goes** on the 45 MB codebase, moved branch: libgit2's work, "
    "about 0.2 s: the 100 changed blobs and every changed folder's tree written as loose "
    "objects, the trees twice (the change on its base, then the merged result, whose index "
    "has no tree cache so that all 627 folders are hashed again), and `merge_trees`; the 100 "
    "files' texts before and after (`_contents`, about 0.02 s); the statements and audit rows "
    "a few milliseconds. Before this slice it stood at 683 ms: the project's row was read "
    "with its 47 MB codebase (now left out of the locked read, `get_for_update(..., "
    "with_codebase=False)`), and `tree_with_change` walked all 10,000 index entries twice in "
    "Python (now it looks up only the changed paths and checks for lost files by count).",
    "- **Not moved** (the reference) costs more: the snapshot is at the commit's parent, so it "
    "moves along with the commit. Only the 100 changed files are sent "
    "(`ProjectRepository.update_codebase_files`: SQLite's `json_patch`, PostgreSQL's `jsonb` "
    "operators), but SQLite still parses and rewrites the whole 47 MB value in its row (about "
    "0.5 s, write-ahead log and checkpoint included): 1.23 s before this slice. Files in a "
    "table of their own (see Sync) would make it a 100-row write.",
    "- Proposing and approving still read the whole codebase (outside this figure).",
]


def missed(results: dict[str, Any]) -> list[str]:
    out = []
    for figure in results["sync"][:1]:  # the target's repository, about 100 MB
        if figure["ratio"] > SYNC_RATIO_TARGET:
            out.append(
                f"Git, sync of {figure['repository']['bytes'] / MB:.0f} MB: "
                f"{figure['ratio']:.1f}x `git archive`, target {SYNC_RATIO_TARGET:g}x "
                "(see the Git section)."
            )
    for figure in results["apply"]:
        moved = figure["median_s"]["moved"]
        if moved > APPLY_TARGET_S:
            out.append(
                f"Git, apply of {MODIFIED_FILES} files onto a branch moved by {BRANCH_COMMITS} "
                f"commits, {figure['repository']['bytes'] / MB:.0f} MB codebase: {_s(moved)}, "
                f"target {APPLY_TARGET_S * 1000:.0f} ms (see the Git section)."
            )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.git_bench")
    parser.add_argument("--repeats", type=int, default=5, help="sync rounds per repository")
    parser.add_argument("--apply-repeats", type=int, default=7)
    parser.add_argument("--files", type=int, default=10_000, help="files in each repository")
    parser.add_argument("--large-mb", type=int, default=100, help="the large repository's size")
    parser.add_argument(
        "--fitting-mb", type=int, default=45, help="the size of the one that fits the limits"
    )
    parser.add_argument("--regenerate", action="store_true", help="make the repositories again")
    parser.add_argument(
        "--profile", action="store_true", help="print pyinstrument profiles instead of figures"
    )
    args = arguments(parser, argv)
    large, fitting = Shape(args.files, args.large_mb), Shape(args.files, args.fitting_mb)
    if args.profile:
        profile(large=large, fitting=fitting)
        return
    results = run(
        repeats=args.repeats,
        apply_repeats=args.apply_repeats,
        large=large,
        fitting=fitting,
        regenerate=args.regenerate,
    )
    publish(SECTION, render(results), args.output, "git")


if __name__ == "__main__":
    main()
