"""A project linked to a real git repository, in the app: the review screen
says which commit a modification was made against, how far the branch has
moved since, whether it still applies (or what is in the way) and, once
applied, the commit; the project's Overview says where the repository is
and which commit the snapshot is at."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL
from textual.widgets import Static

from store import migrate
from store.config import normalize_url
from store.engine import Database, open_database
from store.models import ModificationStatus
from store.services import git as git_service
from store.services import modifications as service
from store.services import projects as project_service
from store.services import review as review_service
from tests.app_support import app_environment, open_project, press, running_app, text_of
from tests.git_support import BILLING, commit_all, git, head, make_repo, status, write
from tui.screens.confirm import ConfirmScreen
from tui.screens.review import ReviewScreen
from tui.widgets.repository import CHECKING

FILES = BILLING


@pytest.fixture
def url(tmp_path: Path) -> Iterator[URL]:
    """An empty database the app opens, with the app tests' key and actor."""
    with app_environment():
        yield normalize_url(f"sqlite:///{tmp_path / 'projdeck.db'}")


@pytest.fixture
async def db(url: URL) -> AsyncIterator[Database]:
    db = await open_database(url)
    await migrate.upgrade(db)
    try:
        yield db
    finally:
        await db.dispose()


async def linked_project(db: Database, folder: Path) -> str:
    """Project "billing" linked to ``folder`` and synced: the snapshot
    commit, the branch's tip."""
    await project_service.create_project_with_settings(
        db, project_service.ProjectCreate(name="billing", type="api", owner_id="alice")
    )
    await git_service.link_project(db, "billing", folder)
    synced = await git_service.sync_project(db, "billing")
    return synced.commit


async def proposed(db: Database, files: dict[str, str | None], request: str, base: str) -> str:
    proposal = service.ModificationProposal(
        request=request,
        modified_files=files,
        requested_by="Agent Smith <agent@example.org>",
        base_commit=base,
    )
    created = await service.propose_modification(db, "billing", proposal, actor="agent")
    return str(created.id)


def summary_text(screen: ReviewScreen) -> str:
    return text_of(screen.query_one("#review-summary", Static))


def review(screen: object) -> ReviewScreen:
    assert isinstance(screen, ReviewScreen), type(screen).__name__
    return screen


async def test_review_shows_the_base_commit_how_far_the_branch_moved_and_that_it_applies(
    url: URL, db: Database, repository: Path
) -> None:
    base = await linked_project(db, repository)
    await proposed(db, {"src/taxes.py": "TAX = 0.25\n"}, "Raise the tax", base)
    write(repository, {"README.md": "# Billing service\n"})
    commit_all(repository, "Someone else edits the readme")

    async with running_app(url) as (app, pilot):
        await press(pilot, "5", "enter")
        shown = summary_text(review(app.screen))
    assert f"Base      {base[:12]} · main has moved 1 commit since" in shown
    assert "Applies   cleanly now" in shown
    assert "Applied" not in shown
    assert CHECKING not in shown
    # Reading it changed nothing.
    assert head(repository, "HEAD~1") == base
    assert status(repository) == ""


async def test_review_names_the_conflicting_file_and_the_uncommitted_edits(
    url: URL, db: Database, repository: Path
) -> None:
    base = await linked_project(db, repository)
    await proposed(
        db,
        {"src/rates.py": "RATE = 2\n\n\ndef rate():\n    return RATE\n"},
        "Rate two",
        base,
    )
    await proposed(db, {"src/taxes.py": "TAX = 0.25\n"}, "Raise the tax", base)
    write(repository, {"src/rates.py": "RATE = 3\n\n\ndef rate():\n    return RATE\n"})
    moved = commit_all(repository, "Rate three")
    write(repository, {"src/taxes.py": "TAX = 0.3\n"})

    async with running_app(url) as (app, pilot):
        await press(pilot, "5", "enter")
        screen = review(app.screen)
        first = summary_text(screen)
        await press(pilot, "n")
        second = summary_text(screen)
    assert "Rate two" in first
    assert f"Base      {base[:12]} · main has moved 1 commit since" in first
    assert (
        "Applies   no, it conflicts with the branch: src/rates.py: changed on both sides (line 1)"
        in first
    )
    assert "Raise the tax" in second
    assert "Applies   no, uncommitted edits in the way: src/taxes.py" in second
    # Nothing was written: the branch, the edits and both modifications as they were.
    assert head(repository) == moved
    assert (repository / "src/taxes.py").read_text() == "TAX = 0.3\n"
    waiting = await review_service.waiting_modifications(db)
    assert waiting.waiting == 2


async def test_applying_from_the_review_shows_the_commit_it_was_applied_as(
    url: URL, db: Database, repository: Path
) -> None:
    base = await linked_project(db, repository)
    ref = await proposed(db, {"src/taxes.py": "TAX = 0.25\n"}, "Raise the tax", base)
    await service.approve_modification(db, ref, actor="rita")

    async with running_app(url) as (app, pilot):
        await press(pilot, "5", "enter")
        screen = review(app.screen)
        assert f"Base      {base[:12]} · the tip of main" in summary_text(screen)
        assert "Applies   cleanly now" in summary_text(screen)
        await press(pilot, "A")
        assert isinstance(app.screen, ConfirmScreen)
        question = text_of(app.screen.query_one("#confirm-question", Static))
        assert "It commits 1 file on branch main of the linked repository." in question
        await press(pilot, "y")
        assert app.screen is screen
        shown = summary_text(screen)

    commit = head(repository)
    assert commit != base
    assert git(repository, "log", "-1", "--format=%s").strip() == "Raise the tax"
    assert (repository / "src/taxes.py").read_text() == "TAX = 0.25\n"
    applied = (await review_service.get_modification(db, ref)).modification
    assert applied.status == ModificationStatus.APPLIED
    assert applied.applied_commit == commit
    assert screen.title == "Review · 1 of 1 · read-only (applied)"
    assert f"Applied   as {commit[:12]} on main" in shown
    assert f"Base      {base[:12]}" in [line.rstrip() for line in shown.splitlines()]
    assert "Applies" not in shown


async def test_review_says_it_is_checking_while_git_is_read(
    url: URL, db: Database, repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = await linked_project(db, repository)
    await proposed(db, {"src/taxes.py": "TAX = 0.25\n"}, "Raise the tax", base)
    release = asyncio.Event()
    change_state = git_service.change_state

    async def slow_change_state(db: Database, ref: str) -> Any:
        await release.wait()
        return await change_state(db, ref)

    monkeypatch.setattr(git_service, "change_state", slow_change_state)
    async with running_app(url) as (app, pilot):
        await press(pilot, "5")
        await pilot.press("enter")
        for _ in range(500):
            screen = app.screen
            if isinstance(screen, ReviewScreen) and CHECKING in summary_text(screen):
                break
            await pilot.pause(0.01)
        screen = review(app.screen)
        checking = summary_text(screen)
        assert "Raise the tax" in checking
        assert f"Git       {CHECKING}" in checking
        release.set()
        await press(pilot)
        shown = summary_text(screen)
    assert CHECKING not in shown
    assert "Applies   cleanly now" in shown


async def test_overview_shows_the_repository_and_the_snapshot_commit(
    url: URL, db: Database, repository: Path
) -> None:
    base = await linked_project(db, repository)
    write(repository, {"README.md": "# Billing service\n"})
    commit_all(repository, "Someone else edits the readme")

    async with running_app(url) as (_app, pilot):
        screen = await open_project(pilot, "billing")
        shown = text_of(screen.query_one("#overview-body", Static))
    folder = str(repository.resolve())
    assert f"Repository          {folder}" in shown
    assert f"Snapshot            {base[:12]} (main has moved 1 commit since)" in shown
    assert "Branch              main" in shown


async def test_a_hostile_branch_and_path_are_shown_as_text(
    url: URL, db: Database, tmp_path: Path
) -> None:
    """Branch names and paths come from the repository: a right-to-left
    override in either is shown as a marked stand-in, never acted on."""
    folder = make_repo(tmp_path / "repo\u202egnp.exe", FILES, branch="fix\u202eniam")
    base = await linked_project(db, folder)
    await proposed(db, {"src/taxes.py": "TAX = 0.25\n"}, "Raise the tax", base)
    commit_all(folder, "Moves the branch")

    async with running_app(url) as (app, pilot):
        screen = await open_project(pilot, "billing")
        overview = text_of(screen.query_one("#overview-body", Static))
        await press(pilot, "escape", "5", "enter")
        summary = summary_text(review(app.screen))
    assert "\u202e" not in overview + summary
    assert f"Repository          {tmp_path.resolve()}/repo<U+202E>gnp.exe" in overview
    assert "(fix<U+202E>niam has moved 1 commit since)" in overview
    assert f"Base      {base[:12]} · fix<U+202E>niam has moved 1 commit since" in summary
