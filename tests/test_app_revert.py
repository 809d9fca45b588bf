"""Reverting an applied modification from the review screen (``R``): asked
first, then proposed as a new modification (what ``projdeck mod revert``
does), which the screen opens; not offered before the apply, greyed while
the project is archived, refused in the store's words; and ``O`` reopening
a modification whose apply failed."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import URL
from textual.widgets import Static

from store.models import ModificationStatus
from store.services import modifications as service
from store.services import projects
from store.services.review import get_modification
from tests.app_support import press, proposed_on_billing, running_app, wait_until
from tests.store_support import opened
from tui.app import ProjdeckApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.review import ReviewScreen

BEFORE = "rate = 1\n"
AFTER = "rate = 2\n"


async def applied(url: URL, *, apply: bool = True) -> uuid.UUID:
    """A modification of the demo's Billing API, approved and (``apply``) applied."""
    ref = await proposed_on_billing(
        url, "Double the rate", {"rate.py": AFTER}, codebase={"rate.py": BEFORE}
    )
    async with opened(url) as db:
        await service.approve_modification(db, str(ref))
        if apply:
            await service.apply_modification(db, str(ref))
    return ref


async def reviewing(app: ProjdeckApp, ref: uuid.UUID) -> ReviewScreen:
    screen = ReviewScreen(ref)
    await app.push_screen(screen)
    return screen


def told(app: ProjdeckApp) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


async def test_r_proposes_the_revert_after_asking_and_opens_it(demo_url: URL) -> None:
    ref = await applied(demo_url)
    async with running_app(demo_url) as (app, pilot):
        screen = await reviewing(app, ref)
        await wait_until(pilot, lambda: screen.modification is not None, 10)
        assert screen.check_action("revert", ()) is True

        await press(pilot, "R")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        question = str(dialog.query_one("#confirm-question", Static).render())
        assert "restores what its 1 file held before it" in question
        assert "written back into the codebase" in question
        await press(pilot, "n")
        assert screen.current == ref

        await press(pilot, "R", "y")
        await wait_until(pilot, lambda: screen.current != ref, 10)
        revert = screen.current
        await wait_until(pilot, lambda: screen.modification is not None, 10)
        assert screen.modification is not None
        assert screen.modification.reverts_id == ref
        assert screen.modification.status == ModificationStatus.PENDING
        assert any(message.startswith("Revert proposed as") for message in told(app))

        # A second revert of the same modification: refused, in the store's words.
        again = await reviewing(app, ref)
        await wait_until(pilot, lambda: again.modification is not None, 10)
        await press(pilot, "R", "y")
        await wait_until(pilot, lambda: any("already has a revert" in m for m in told(app)), 10)
        assert again.current == ref

    async with opened(demo_url) as db:
        detail = await get_modification(db, str(revert))
        assert detail.modification.reverts_id == ref
        assert detail.files[0].after == BEFORE
        assert (await get_modification(db, str(ref))).modification.status == (
            ModificationStatus.APPLIED
        )


async def test_r_is_not_offered_before_the_apply_and_greyed_while_archived(
    demo_url: URL,
) -> None:
    done = await applied(demo_url)
    waiting = await applied(demo_url, apply=False)
    async with running_app(demo_url) as (app, pilot):
        screen = await reviewing(app, waiting)
        await wait_until(pilot, lambda: screen.modification is not None, 10)
        assert screen.check_action("revert", ()) is False
        await press(pilot, "R")
        assert app.screen is screen

    async with opened(demo_url) as db:
        await projects.archive_project(db, "Billing API")
    async with running_app(demo_url) as (app, pilot):
        archived = await reviewing(app, done)
        await wait_until(pilot, lambda: archived.modification is not None, 10)
        # Shown, greyed: the title says why.
        assert archived.check_action("revert", ()) is None
        assert "project archived" in (archived.title or "")
        await press(pilot, "R")
        assert app.screen is archived

    async with opened(demo_url) as db:
        assert (await get_modification(db, str(done))).modification.status == (
            ModificationStatus.APPLIED
        )
        assert (await get_modification(db, str(waiting))).modification.status == (
            ModificationStatus.APPROVED
        )


async def test_capital_o_reopens_a_failed_modification(demo_url: URL) -> None:
    ref = await applied(demo_url, apply=False)
    async with opened(demo_url) as db:
        project = await projects.get_project(db, "Billing API")
        # The file moves on in the codebase: the apply fails.
        await projects.update_project(
            db, "Billing API", {"codebase": {**project.codebase, "rate.py": "rate = 3\n"}}
        )
        failed = await service.apply_modification(db, str(ref))
        assert failed.status == ModificationStatus.FAILED
    async with running_app(demo_url) as (app, pilot):
        screen = await reviewing(app, ref)
        await wait_until(pilot, lambda: screen.modification is not None, 10)
        # o opens the file in an editor now: the modification stays failed.
        assert screen.check_action("open_in_editor", ()) is True
        await press(pilot, "O")
        await wait_until(pilot, lambda: any(m.startswith("Reopened") for m in told(app)), 10)
    async with opened(demo_url) as db:
        assert (await get_modification(db, str(ref))).modification.status == (
            ModificationStatus.PENDING
        )
