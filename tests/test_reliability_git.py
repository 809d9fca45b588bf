"""Crash safety of applying to a linked git repository (issue #18): a process
applying approved modifications one after another is killed (SIGKILL) at
random points, again and again, and a new one carries on each time. After
every kill the repository is sound and its branch a line of commits that
each apply one modification, once; the database says applied only what the
branch holds, as approved; and reconcile records what a killed process
committed but did not record (with an audit row), so the two agree.

Kills at chosen steps of one apply pin each outcome: a kill after the branch
moved but before (or while) the working tree followed leaves it behind until
the commit is found, which brings it along; a branch lock a killed process
left refuses the apply as a locked branch, naming it."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import uuid
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlmodel import col

import store.vcs.commits
from store.config import normalize_url
from store.engine import open_database
from store.errors import Conflict
from store.models import AuditEntry, Modification, ModificationStatus, Project
from store.services import git as git_service
from store.services import linked, modifications, projects
from store.services.audit import verify_chain
from tests.crash_support import Report, random_delays, run_and_kill
from tests.git_support import commit_all, git, make_bare, make_repo, write
from tests.store_support import opened

log = logging.getLogger(__name__)

TRAILER = "Projdeck-Modification"
BRANCH = "main"
Files = dict[str, str | None]


def _first_files(count: int) -> dict[str, str]:
    """The repository before any modification: a module per modification,
    and an old file to delete for every third."""
    files = {f"parts/part_{index:03}.py": f"VALUE = {index}\n" for index in range(count)}
    files |= {f"old/old_{index:03}.txt": f"old {index}\n" for index in range(2, count, 3)}
    return files


def _change(index: int) -> Files:
    """What modification ``index`` does, to files no other one touches: edit
    its module, and add a note (one in three) or delete its old file (one
    in three)."""
    files: Files = {f"parts/part_{index:03}.py": f"VALUE = {index} * 2  # modification {index}\n"}
    if index % 3 == 1:
        files[f"docs/note_{index:03}.md"] = f"# Note {index}\n\nAdded by modification {index}.\n"
    elif index % 3 == 2:
        files[f"old/old_{index:03}.txt"] = None
    return files


@dataclass
class Scene:
    """A project linked to ``repository`` (with the branch checked out in
    ``checkout``, or bare: None) and its approved modifications, by id, with
    the files each was approved with, in the order they are applied."""

    url: str
    repository: Path
    checkout: Path | None
    root: str
    first_files: dict[str, str]
    approved: dict[str, Files]

    @property
    def git_dir(self) -> Path:
        return self.repository / ".git" if self.checkout is not None else self.repository


@dataclass
class Tally:
    """What the kills did: children killed, the modifications a kill left
    committed but unrecorded (and those of them reconcile recorded; the
    next apply of it found the others), those a child saw applied (and as
    what), working trees left behind, git lock files left, and the commits
    whose content was checked."""

    kills: int = 0
    left_unrecorded: set[str] = field(default_factory=set)
    reconciled: set[str] = field(default_factory=set)
    reported: dict[str, str] = field(default_factory=dict)
    locks_left: Counter[str] = field(default_factory=Counter)
    checked: set[str] = field(default_factory=set)


def _set_up(tmp_path: Path, url: str, *, count: int, bare: bool) -> Scene:
    first = _first_files(count)
    checkout = make_repo(tmp_path / "repo", first, branch=BRANCH)
    repository = make_bare(checkout, tmp_path / "bare.git") if bare else checkout
    root = git(repository, "rev-parse", BRANCH).strip()

    async def approve_all() -> dict[str, Files]:
        async with opened(normalize_url(url)) as db:
            await projects.create_project_with_settings(
                db, projects.ProjectCreate(name="billing", type="api", owner_id="alice")
            )
            await git_service.link_project(db, "billing", repository)
            await git_service.sync_project(db, "billing")
            approved: dict[str, Files] = {}
            for index in range(count):
                files = _change(index)
                proposal = modifications.ModificationProposal(
                    request=f"Part {index}: double it",
                    modified_files=files,
                    requested_by="Agent Smith <agent@example.org>",
                )
                made = await modifications.propose_modification(
                    db, "billing", proposal, actor="agent"
                )
                await modifications.approve_modification(db, str(made.id), actor="rita")
                approved[str(made.id)] = files
            return approved

    approved = asyncio.run(approve_all())
    return Scene(url, repository, None if bare else checkout, root, first, approved)


async def _apply_what_is_approved(scene: Scene, report: Report) -> None:
    """The process the test kills: apply every modification still approved,
    in order, saying which it saw applied; an error is reported, not lost."""
    db = await open_database(normalize_url(scene.url))
    try:
        async with db.reading() as session:
            waiting = await session.execute(
                select(col(Modification.id)).where(
                    col(Modification.status) == ModificationStatus.APPROVED
                )
            )
            still_approved = {str(ref) for ref in waiting.scalars()}
        for ref in scene.approved:
            if ref in still_approved:
                applied = await modifications.apply_modification(db, ref, actor="rita")
                report({"id": ref, "status": str(applied.status)})
        report({"done": True})
    except Exception as error:
        report({"error": f"{type(error).__name__}: {error}"})
        raise


def _run_child(scene: Scene, *, kill_after: float, tally: Tally) -> bool:
    """One child applying what is approved, killed ``kill_after`` seconds
    in unless it finished first (True)."""
    reports = run_and_kill(
        lambda report: _apply_what_is_approved(scene, report), kill_after=kill_after
    )
    assert [item for item in reports if "error" in item] == []
    seen = {item["id"]: item["status"] for item in reports if "id" in item}
    assert set(seen.values()) <= {"applied"}, seen
    tally.reported |= seen
    done = any(item.get("done") for item in reports)
    tally.kills += not done
    return done


@dataclass(frozen=True)
class BranchCommit:
    commit: str
    parents: tuple[str, ...]
    trailers: tuple[str, ...]
    paths: frozenset[str]


def _branch(repository: Path) -> list[BranchCommit]:
    """The branch's commits, oldest first: their parents, the values of
    their Projdeck-Modification trailers, and the files each changed."""
    out = git(
        repository,
        "log",
        "--reverse",
        "--name-only",
        f"--format=%x1e%H%x1f%P%x1f%(trailers:key={TRAILER},valueonly,separator=%x1f)",
        BRANCH,
    )
    commits = []
    for record in out.split("\x1e")[1:]:
        header, _newline, names = record.partition("\n")
        commit, parents, *trailers = header.split("\x1f")
        commits.append(
            BranchCommit(
                commit,
                tuple(parents.split()),
                tuple(value.strip() for value in trailers if value.strip()),
                frozenset(line for line in names.splitlines() if line),
            )
        )
    return commits


def _contents(repository: Path, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """The text of each (commit, path), None where the commit has no such file."""
    if not wanted:
        return {}
    out = git(
        repository,
        "cat-file",
        "--batch",
        stdin="".join(f"{commit}:{path}\n" for commit, path in wanted).encode(),
    ).encode("utf-8", "surrogateescape")
    found: dict[tuple[str, str], str | None] = {}
    for item in wanted:
        header, _newline, out = out.partition(b"\n")
        if header.endswith(b" missing"):
            found[item] = None
            continue
        size = int(header.split()[2])
        found[item], out = out[:size].decode(), out[size + 1 :]
    return found


def _check_repository(scene: Scene, tally: Tally) -> dict[str, str]:
    """Invariant 1, and the repository's half of 2: git finds nothing
    wrong; the branch is a line from the first commit, each later commit
    carrying exactly one trailer, no modification twice; each changed
    exactly its modification's files, to the content approved. Returns the
    commit of each modification on the branch."""
    assert git(scene.repository, "fsck", "--strict", "--no-dangling", "--no-progress") == ""
    commits = _branch(scene.repository)
    assert (commits[0].commit, commits[0].parents) == (scene.root, ())
    on_branch: dict[str, str] = {}
    for parent, item in pairwise(commits):
        assert item.parents == (parent.commit,), f"{item.commit} is off the line"
        assert len(item.trailers) == 1, f"{item.commit} carries {item.trailers}"
        [ref] = item.trailers
        assert ref in scene.approved, f"{item.commit} applies an unknown {ref}"
        assert ref not in on_branch, f"{ref} committed twice: {on_branch[ref]}, {item.commit}"
        assert item.paths == set(scene.approved[ref]), item
        on_branch[ref] = item.commit
    unchecked = {commit: ref for ref, commit in on_branch.items() if commit not in tally.checked}
    wanted = [(commit, path) for commit, ref in unchecked.items() for path in scene.approved[ref]]
    contents = _contents(scene.repository, wanted)
    for commit, path in wanted:
        assert contents[commit, path] == scene.approved[unchecked[commit]][path], (commit, path)
    tally.checked |= unchecked.keys()
    return on_branch


@dataclass(frozen=True)
class Recorded:
    """What the database holds: each modification's status and commit, its
    audit rows by event, and the project's snapshot commit and codebase."""

    statuses: dict[str, tuple[ModificationStatus, str | None]]
    events: Counter[tuple[str, str]]
    snapshot_commit: str | None
    codebase: dict[str, str]

    def applied(self) -> dict[str, str | None]:
        return {
            ref: commit
            for ref, (status, commit) in self.statuses.items()
            if status == ModificationStatus.APPLIED
        }


async def _recorded(url: str) -> Recorded:
    async with opened(normalize_url(url)) as db, db.reading() as session:
        rows = (await session.execute(select(Modification))).scalars().all()
        audit = await session.execute(
            select(col(AuditEntry.event_type), col(AuditEntry.entity_id)).where(
                col(AuditEntry.entity_type) == "modification"
            )
        )
        project = (await session.execute(select(Project))).scalar_one()
        return Recorded(
            {str(row.id): (row.status, row.applied_commit) for row in rows},
            Counter((event, str(uuid.UUID(entity))) for event, entity in audit.all()),
            project.snapshot_commit,
            dict(project.codebase),
        )


async def _reconcile(url: str, *, run: bool) -> tuple[set[str], bool, str | None]:
    """What ``projdeck doctor`` and the app's start do for the repositories
    (if ``run``); then the audit chain verified."""
    async with opened(normalize_url(url)) as db:
        fixed = await linked.reconcile(db, actor="doctor") if run else []
        chain = await verify_chain(db)
        return {str(item.id) for item in fixed}, chain.ok, chain.problem


def _expected_codebase(scene: Scene, applied: set[str]) -> dict[str, str]:
    codebase = dict(scene.first_files)
    for ref in applied:
        for path, content in scene.approved[ref].items():
            if content is None:
                codebase.pop(path)
            else:
                codebase[path] = content
    return codebase


def _check_after_kill(scene: Scene, tally: Tally, *, reconcile: bool) -> set[str]:
    """Every invariant after a kill: with ``reconcile``, once reconcile has
    run (as ``projdeck doctor`` and the app's start run it); without, the
    commit a kill left unrecorded is left for the next apply of it to find.
    Returns the modification the kill left committed but unrecorded."""
    on_branch = _check_repository(scene, tally)
    recorded = asyncio.run(_recorded(scene.url))
    assert {status for status, _commit in recorded.statuses.values()} <= {
        ModificationStatus.APPROVED,
        ModificationStatus.APPLIED,
    }
    # Invariant 2: the database says applied only what the branch holds, as
    # that very commit; a kill leaves at most the one in flight unrecorded.
    applied = recorded.applied()
    assert {ref: on_branch.get(ref) for ref in applied} == applied
    unrecorded = on_branch.keys() - applied.keys()
    assert len(unrecorded) <= 1, unrecorded
    tally.left_unrecorded |= unrecorded
    # What a child saw applied was committed, in both, before it was killed.
    assert tally.reported.keys() <= applied.keys()
    # Invariant 3: reconcile records exactly the unrecorded one, and says so.
    fixed, chain_ok, problem = asyncio.run(_reconcile(scene.url, run=reconcile))
    if reconcile:
        assert fixed == unrecorded
        tally.reconciled |= fixed
        recorded = asyncio.run(_recorded(scene.url))
        assert recorded.applied() == on_branch
    assert chain_ok, problem
    for ref in recorded.applied():
        steps = (
            recorded.events["modification.applied", ref],
            recorded.events["modification.reconciled", ref],
        )
        assert steps == ((0, 1) if ref in tally.left_unrecorded else (1, 0)), (ref, steps)
    # The stored codebase is at the newest commit the database knows of: the
    # first files with every applied modification's files.
    known = [commit for ref, commit in on_branch.items() if ref in recorded.applied()]
    assert recorded.snapshot_commit == (known[-1] if known else scene.root)
    assert recorded.codebase == _expected_codebase(scene, set(recorded.applied()))
    return unrecorded


def _changed_in_working_tree(checkout: Path) -> set[str]:
    lines = git(checkout, "status", "--porcelain", "--untracked-files=all").splitlines()
    return {line[3:] for line in lines}


def _remove_stale_locks(scene: Scene, tally: Tally) -> None:
    """A process killed while git's library held a lock (the branch's
    reference being moved, the index being written) leaves the lock file,
    as git itself does; every later writer is refused until a person
    removes it, as git tells them to. The test does what they would."""
    for lock in scene.git_dir.rglob("*.lock"):
        tally.locks_left[lock.relative_to(scene.git_dir).as_posix()] += 1
        lock.unlink()


def _check_working_tree(scene: Scene, unrecorded: set[str], *, reconciled: bool) -> None:
    """A kill after the branch moved but before the working tree followed
    leaves that modification's files behind (staged as a change undoing
    it) until the commit is found: by reconcile, or by the next apply of
    it, both of which bring the files along. Before that, any difference
    beyond the in-flight modification's files is a failure; after it, any
    difference at all."""
    if scene.checkout is None:
        return
    changed = _changed_in_working_tree(scene.checkout)
    if reconciled:
        # Said whole when it fails: what git shows, and what each file holds.
        detail = git(scene.checkout, "status", "--porcelain", "--untracked-files=all")
        for name in sorted(changed):
            path = scene.checkout / name
            detail += (
                f"{name}: {path.read_bytes()[:80]!r}\n" if path.exists() else f"{name}: gone\n"
            )
        assert changed == set(), f"the working tree was not brought along:\n{detail}"
        return
    in_flight = {path for ref in unrecorded for path in scene.approved[ref]}
    assert changed <= in_flight, f"the working tree differs beyond {sorted(in_flight)}"


def _apply_while_killing(scene: Scene, delays: list[float]) -> Tally:
    """Children apply what is approved, each killed after the next delay,
    everything checked after each; then one is left to finish."""
    tally = Tally()
    done = False
    for number, delay in enumerate(delays):
        done = _run_child(scene, kill_after=delay, tally=tally)
        _remove_stale_locks(scene, tally)
        # Reconcile after every other kill; else the next child finds it.
        reconciled = number % 2 == 0
        unrecorded = _check_after_kill(scene, tally, reconcile=reconciled)
        _check_working_tree(scene, unrecorded, reconciled=reconciled)
        if done:
            break
    if not done:
        assert _run_child(scene, kill_after=600.0, tally=tally)
    assert _check_after_kill(scene, tally, reconcile=True) == set()
    return tally


def _kill_repeatedly(
    tmp_path: Path,
    database_url: URL,
    *,
    bare: bool,
    count: int,
    kills: int,
    seed: int,
    high: float = 0.12,
) -> None:
    url = database_url.render_as_string(hide_password=False)
    scene = _set_up(tmp_path, url, count=count, bare=bare)
    tally = _apply_while_killing(scene, random_delays(kills, seed=seed, low=0.0, high=high))
    log.info(
        "%d kills; %d left a commit unrecorded, found by reconcile %d, by the next apply %d; "
        "locks left %s",
        tally.kills,
        len(tally.left_unrecorded),
        len(tally.reconciled),
        len(tally.left_unrecorded - tally.reconciled),
        dict(tally.locks_left),
    )
    # Everything applied, exactly once (each commit's trailer checked unique).
    assert _check_repository(scene, tally).keys() == scene.approved.keys()
    if scene.checkout is not None:
        assert _changed_in_working_tree(scene.checkout) == set()
    assert tally.kills >= kills // 2, "too few children were killed while applying"


@pytest.mark.parametrize("bare", [False, True], ids=["checkout", "bare"])
def test_applies_killed_at_random_points_leave_repository_and_database_agreeing(
    tmp_path: Path, database_url: URL, bare: bool
) -> None:
    _kill_repeatedly(tmp_path, database_url, bare=bare, count=48, kills=16, seed=18)


@pytest.mark.slow
def test_many_applies_killed_at_random_points_leave_repository_and_database_agreeing(
    tmp_path: Path, database_url: URL
) -> None:
    # A checked-out branch: the working tree is what a kill can leave behind.
    # Kills come sooner than in the test above: on a quiet machine a child
    # applies several modifications in 0.12 s, and the 150 ran out before
    # half the kills (each kill must land in a child still applying).
    _kill_repeatedly(tmp_path, database_url, bare=False, count=150, kills=75, seed=2026, high=0.05)


def _dies_at(module: ModuleType, name: str) -> None:
    """In the child only: the process is killed (SIGKILL) the moment the
    apply calls ``module.name``, one of the steps of an apply."""
    assert callable(getattr(module, name, None)), f"{module.__name__}.{name} is gone"

    def die(*_args: object, **_kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(module, name, die)


@dataclass(frozen=True)
class Step:
    """A step of an apply, as the function it is about to call, and whether
    the commit is on the branch by then (the database not knowing it yet)."""

    module: ModuleType
    function: str
    committed: bool


BEFORE_THE_BRANCH_MOVES = Step(store.vcs.commits, "_move", committed=False)
BEFORE_THE_WORKING_TREE_FOLLOWS = Step(store.vcs.commits, "_follow", committed=True)
BEFORE_THE_DATABASE_RECORDS = Step(linked, "_record_applied", committed=True)


def _killed_at_one_step(
    tmp_path: Path, database_url: URL, step: Step, *, reconcile: bool = True
) -> tuple[Scene, str, Tally]:
    """Three approved modifications; a child killed at ``step`` of the
    first one's apply, and everything checked (after reconcile, if asked).
    Returns the first one and what the kill did."""
    scene = _set_up(
        tmp_path, database_url.render_as_string(hide_password=False), count=3, bare=False
    )
    first = next(iter(scene.approved))

    async def die_while_applying(report: Report) -> None:
        _dies_at(step.module, step.function)
        await _apply_what_is_approved(scene, report)

    tally = Tally()
    assert run_and_kill(die_while_applying, kill_after=600.0) == []
    _remove_stale_locks(scene, tally)
    assert not tally.locks_left
    on_branch = _check_repository(scene, tally)
    assert on_branch.keys() == ({first} if step.committed else set())
    assert _check_after_kill(scene, tally, reconcile=reconcile) == on_branch.keys()
    return scene, first, tally


def _on_disk(scene: Scene, ref: str) -> Files:
    """The files of modification ``ref`` as the working tree holds them."""
    assert scene.checkout is not None
    found: Files = {}
    for path in scene.approved[ref]:
        file = scene.checkout / path
        found[path] = file.read_text() if file.exists() else None
    return found


def _expected_on_disk(scene: Scene, ref: str, *, applied: bool) -> Files:
    codebase = _expected_codebase(scene, {ref} if applied else set())
    return {path: codebase.get(path) for path in scene.approved[ref]}


@pytest.mark.parametrize(
    ("step", "reconcile"),
    [
        pytest.param(BEFORE_THE_BRANCH_MOVES, True, id="before-the-branch-moves"),
        pytest.param(BEFORE_THE_DATABASE_RECORDS, True, id="before-the-database-then-reconcile"),
        pytest.param(BEFORE_THE_DATABASE_RECORDS, False, id="before-the-database-then-apply"),
    ],
)
def test_an_apply_killed_at_a_step_leaves_nothing_or_both_done_once_recorded(
    tmp_path: Path, database_url: URL, step: Step, reconcile: bool
) -> None:
    scene, first, tally = _killed_at_one_step(tmp_path, database_url, step, reconcile=reconcile)
    assert scene.checkout is not None
    assert _changed_in_working_tree(scene.checkout) == set()
    assert _on_disk(scene, first) == _expected_on_disk(scene, first, applied=step.committed)
    # A new process applies the rest, and the first (unless reconcile
    # recorded it): its commit found and recorded, not made again.
    assert _run_child(scene, kill_after=600.0, tally=tally)
    assert _check_after_kill(scene, tally, reconcile=True) == set()
    assert tally.left_unrecorded == ({first} if step.committed else set())
    assert tally.reported.keys() == scene.approved.keys() - tally.reconciled
    assert _changed_in_working_tree(scene.checkout) == set()


def test_a_kill_after_the_branch_moved_leaves_the_working_tree_following(
    tmp_path: Path, database_url: URL
) -> None:
    scene, first, _tally = _killed_at_one_step(
        tmp_path, database_url, BEFORE_THE_WORKING_TREE_FOLLOWS
    )
    assert scene.checkout is not None
    assert _on_disk(scene, first) == _expected_on_disk(scene, first, applied=True)
    assert _changed_in_working_tree(scene.checkout) == set()


def test_a_branch_left_locked_refuses_the_apply_as_a_locked_branch(
    tmp_path: Path, database_url: URL
) -> None:
    scene = _set_up(
        tmp_path, database_url.render_as_string(hide_password=False), count=1, bare=False
    )
    [ref] = scene.approved
    (scene.git_dir / f"refs/heads/{BRANCH}.lock").write_text("")

    async def apply() -> None:
        async with opened(normalize_url(scene.url)) as db:
            with pytest.raises(Conflict, match=rf"branch {BRANCH!r} .*locked"):
                await modifications.apply_modification(db, ref, actor="rita")

    asyncio.run(apply())
    assert git(scene.repository, "rev-parse", BRANCH).strip() == scene.root


def test_the_branch_moves_only_from_the_tip_the_apply_read(
    tmp_path: Path, database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer commits between the apply reading the tip and moving
    the branch: the apply is refused, their commit kept, nothing recorded;
    applied again, it lands on their commit."""
    scene = _set_up(
        tmp_path, database_url.render_as_string(hide_password=False), count=1, bare=False
    )
    checkout = scene.checkout
    assert checkout is not None
    [ref] = scene.approved
    theirs: list[str] = []
    move = store.vcs.commits._move

    def another_writer_first(*args: Any) -> None:
        write(checkout, {"README.md": "# Billing\n"})
        theirs.append(commit_all(checkout, "Another writer"))
        move(*args)

    async def apply() -> ModificationStatus:
        async with opened(normalize_url(scene.url)) as db:
            return (await modifications.apply_modification(db, ref, actor="rita")).status

    monkeypatch.setattr(store.vcs.commits, "_move", another_writer_first)
    with pytest.raises(Conflict, match=rf"branch {BRANCH!r} moved"):
        asyncio.run(apply())
    assert git(scene.repository, "rev-parse", BRANCH).strip() == theirs[0]
    recorded = asyncio.run(_recorded(scene.url))
    assert recorded.statuses[ref] == (ModificationStatus.APPROVED, None)
    assert recorded.events["modification.applied", ref] == 0
    monkeypatch.setattr(store.vcs.commits, "_move", move)
    assert asyncio.run(apply()) == ModificationStatus.APPLIED
    assert git(scene.repository, "rev-parse", f"{BRANCH}~1").strip() == theirs[0]
    assert _changed_in_working_tree(checkout) == set()
