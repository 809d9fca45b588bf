"""Property: any sequence of propose, approve, reject, apply, reopen and
revert on a small random codebase keeps every modification in a valid state,
never loses a file, and leaves the codebase equal to the initial one with
the applied modifications applied in order. SQLite only, to stay fast; the
services are the same code on both backends."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from store.config import normalize_url
from store.engine import Database
from store.errors import Conflict, InvalidTransition, ValidationError
from store.models import ModificationStatus
from store.services import modifications as service
from store.services import projects, review
from tests.store_support import opened, with_files

PATHS = ["a.py", "b.py", "lib/c.py", "docs/d.md"]
CONTENTS = st.sampled_from(["", "x\n", "y\n", "x\ny\n", "no newline"])
ACTIONS = ["approve", "reject", "apply", "reopen", "revert"]

codebases = st.dictionaries(st.sampled_from(PATHS), CONTENTS, max_size=len(PATHS))
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("propose"),
            st.dictionaries(
                st.sampled_from(PATHS), st.one_of(st.none(), CONTENTS), min_size=1, max_size=3
            ),
        ),
        st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=0, max_value=50)),
        # The action the modification's state allows (approve or reject when
        # pending), so that sequences go deep rather than mostly refused.
        st.tuples(st.just("advance"), st.integers(min_value=0, max_value=50)),
        st.tuples(st.just("advance"), st.integers(min_value=0, max_value=50)),
    ),
    max_size=24,
)


@dataclass
class Expected:
    """What the services should have done, worked out without a database."""

    id: uuid.UUID
    files: dict[str, str | None]
    affected: list[str]
    base: dict[str, str]
    status: ModificationStatus = ModificationStatus.PENDING
    previous: dict[str, str | None] | None = None
    reverts: uuid.UUID | None = None


@dataclass
class Model:
    codebase: dict[str, str]
    modifications: list[Expected] = field(default_factory=list)
    applied: list[Expected] = field(default_factory=list)

    def base(self, paths: list[str]) -> dict[str, str]:
        return {path: service.content_hash(self.codebase.get(path)) for path in paths}

    def write(self, files: dict[str, str | None]) -> None:
        self.codebase = with_files(self.codebase, files)


def replay(initial: dict[str, str], applied: list[Expected]) -> dict[str, str]:
    return with_files(initial, *(modification.files for modification in applied))


async def step(db: Database, project: str, model: Model, action: str, arg: Any) -> None:
    if action == "propose":
        files: dict[str, str | None] = arg
        if any(content is None and path not in model.codebase for path, content in files.items()):
            with pytest.raises(ValidationError):
                await service.propose_modification(
                    db, project, service.ModificationProposal("r", files)
                )
            return
        created = await service.propose_modification(
            db, project, service.ModificationProposal("r", files), actor="agent"
        )
        affected = sorted(files)
        model.modifications.append(Expected(created.id, files, affected, model.base(affected)))
        return
    if not model.modifications:
        return
    expected = model.modifications[arg % len(model.modifications)]
    ref = str(expected.id)
    if action == "advance":
        action = {
            ModificationStatus.PENDING: "reject" if arg % 4 == 0 else "approve",
            ModificationStatus.APPROVED: "apply",
            ModificationStatus.FAILED: "reopen",
            ModificationStatus.APPLIED: "revert",
            ModificationStatus.REJECTED: "approve",
        }[expected.status]
    allowed = {
        "approve": ModificationStatus.PENDING,
        "reject": ModificationStatus.PENDING,
        "apply": ModificationStatus.APPROVED,
        "reopen": ModificationStatus.FAILED,
        "revert": ModificationStatus.APPLIED,
    }[action]
    if expected.status != allowed:
        with pytest.raises(InvalidTransition):
            await run_action(db, action, ref)
        event("refused transition")
        return
    event(action if action != "apply" else "apply attempted")
    if action == "approve":
        await run_action(db, action, ref)
        expected.status = ModificationStatus.APPROVED
    elif action == "reject":
        await run_action(db, action, ref)
        expected.status = ModificationStatus.REJECTED
    elif action == "reopen":
        await run_action(db, action, ref)
        expected.status = ModificationStatus.PENDING
        expected.base = model.base(expected.affected)
    elif action == "apply":
        result = await run_action(db, action, ref)
        if model.base(expected.affected) != expected.base:
            expected.status = ModificationStatus.FAILED
            event("apply failed on a conflict")
        else:
            expected.status = ModificationStatus.APPLIED
            expected.previous = {path: model.codebase.get(path) for path in expected.files}
            model.write(expected.files)
            model.applied.append(expected)
        assert result.status == expected.status
    else:
        await revert(db, model, expected)


async def revert(db: Database, model: Model, original: Expected) -> None:
    assert original.previous is not None
    waiting = any(
        m.reverts == original.id
        and m.status in (ModificationStatus.PENDING, ModificationStatus.APPROVED)
        for m in model.modifications
    )
    changed = any(model.codebase.get(path) != c for path, c in original.files.items())
    restore = {p: c for p, c in original.previous.items() if model.codebase.get(p) != c}
    if waiting or changed or not restore:
        with pytest.raises(Conflict):
            await service.revert_modification(db, str(original.id))
        event("revert refused")
        return
    # A maintainer proposes the revert; the reviewer (the default actor) approves it.
    created = await service.revert_modification(db, str(original.id), actor="maintainer")
    assert created.modified_files == restore
    affected = sorted(restore)
    model.modifications.append(
        Expected(created.id, restore, affected, model.base(affected), reverts=original.id)
    )


async def run_action(db: Database, action: str, ref: str) -> Any:
    if action == "approve":
        return await service.approve_modification(db, ref)
    if action == "reject":
        return await service.reject_modification(db, ref, comment="no")
    if action == "apply":
        return await service.apply_modification(db, ref)
    if action == "reopen":
        return await service.reopen_modification(db, ref)
    return await service.revert_modification(db, ref, actor="maintainer")


async def check(db: Database, project: str, model: Model, initial: dict[str, str]) -> None:
    codebase = (await projects.get_project(db, project)).codebase
    assert codebase == model.codebase
    assert codebase == replay(initial, model.applied)
    page = await review.list_modifications(db, project_ref=project, limit=500)
    assert {row.id: row.status for row in page.items} == {
        m.id: m.status for m in model.modifications
    }
    for expected in model.modifications:
        mod = (await review.get_modification(db, str(expected.id))).modification
        assert mod.base == expected.base
        assert mod.reverts_id == expected.reverts
        assert (mod.applied_at is not None) == (mod.status == ModificationStatus.APPLIED)
        assert (mod.failure_reason is not None) == (mod.status == ModificationStatus.FAILED)
        if mod.status == ModificationStatus.APPLIED:
            assert mod.previous_contents == expected.previous
        if mod.status == ModificationStatus.PENDING:
            assert mod.reviewed_by is None and mod.reviewed_at is None
        if mod.status == ModificationStatus.REJECTED:
            assert mod.review_comment == "no"


async def run_sequence(url: str, initial: dict[str, str], sequence: list[Any]) -> None:
    async with opened(normalize_url(url)) as db:
        created = await projects.create_project_with_settings(
            db, projects.ProjectCreate(name="P", type="api", owner_id="o", codebase=initial)
        )
        project = str(created.project.id)
        model = Model(codebase=dict(initial))
        for action, arg in sequence:
            await step(db, project, model, action, arg)
            await check(db, project, model, initial)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(initial=codebases, sequence=steps)
# A conflict, a reopen, a revert, a refused second revert and a revert of the revert.
@example(
    initial={"a.py": "x\n"},
    sequence=[
        ("propose", {"a.py": "y\n"}),
        ("propose", {"a.py": "no newline", "b.py": "x\n"}),
        ("advance", 2),
        ("advance", 1),
        ("advance", 2),
        ("advance", 1),
        ("reopen", 0),
        ("advance", 1),
        ("advance", 5),
        ("advance", 1),
        ("advance", 1),
        ("revert", 1),
        ("advance", 5),
        ("advance", 2),
        ("advance", 2),
    ],
)
def test_random_workflows_keep_valid_states_and_the_codebase_in_step(
    migrated_sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    initial: dict[str, str],
    sequence: list[Any],
) -> None:
    target = tmp_path_factory.mktemp("property") / "projdeck.db"
    shutil.copyfile(migrated_sqlite_template, target)
    asyncio.run(run_sequence(f"sqlite:///{target}", initial, sequence))
