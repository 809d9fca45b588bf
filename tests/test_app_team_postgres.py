"""The app on a team database (issue #23): the keys of the writes the
connected role may not do are shown greyed, pressing one says why in the
store's words, and the header says who the database is open as."""

from __future__ import annotations

import uuid

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from store.models import ModificationStatus
from store.services import projects, review
from tests import team_support
from tests.app_support import column, press, running_app, settle
from tests.team_support import Team, connected, project_with_proposal
from tui.app import ProjdeckApp
from tui.screens.help import HelpScreen
from tui.screens.project_detail import TABS, ProjectDetailScreen
from tui.screens.review import ReviewScreen
from tui.screens.secrets_pane import MASK

pytestmark = pytest.mark.postgres

# The fixtures: this module's team database, and the key its secrets are sealed with.
team = team_support.team
secret_key = team_support.secret_key


def told(app: ProjdeckApp) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


async def open_review(app: ProjdeckApp, pilot: Pilot[None], ref: str) -> ReviewScreen:
    app.push_screen(ReviewScreen(uuid.UUID(ref)))
    await settle(pilot)
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


async def test_an_agent_sees_approve_greyed_and_is_told_why_a_reviewer_approves(
    team: Team,
) -> None:
    _name, ref = await project_with_proposal(team, team.agent)
    async with running_app(team.as_role(team.agent)) as (app, pilot):
        assert app.sub_title.endswith(f"· as {team.agent} (projdeck_agent)")
        screen = await open_review(app, pilot, ref)
        keys = screen.active_bindings
        assert not keys["a"].enabled and not keys["r"].enabled
        assert keys["j"].enabled  # reading goes on
        await press(pilot, "question_mark")  # help marks the same keys
        assert isinstance(app.screen, HelpScreen)
        assert {"a", "r"} <= set(app.screen.greyed) and "j" not in app.screen.greyed
        await press(pilot, "escape")
        await press(pilot, "a")
        assert f"role {team.agent!r} (projdeck_agent) may not approve modifications" in told(app)
    async with connected(team) as db:
        assert (await review.get_modification(db, ref)).modification.status == (
            ModificationStatus.PENDING
        )
    async with running_app(team.as_role(team.reviewer)) as (app, pilot):
        screen = await open_review(app, pilot, ref)
        assert screen.active_bindings["a"].enabled
        await press(pilot, "a")
        assert not [message for message in told(app) if "may not" in message]
    async with connected(team) as db:
        approved = (await review.get_modification(db, ref)).modification
    assert (approved.status, approved.reviewed_by) == (ModificationStatus.APPROVED, team.reviewer)


async def test_a_viewer_sees_the_secrets_reveal_and_the_projects_writes_greyed(
    team: Team,
) -> None:
    name, _ref = await project_with_proposal(team, team.agent)
    async with connected(team) as db:
        project = await projects.get_project(db, name)
    async with running_app(team.as_role(team.viewer)) as (app, pilot):
        listed = app.screen.active_bindings
        assert not listed["n"].enabled and not listed["a"].enabled
        await press(pilot, "n")
        assert f"role {team.viewer!r} (projdeck_viewer) may not change projects" in told(app)
        app.push_screen(ProjectDetailScreen(project.id))
        await settle(pilot)
        for _ in range(TABS.index("secrets")):
            await press(pilot, "right_square_bracket")
        keys = app.screen.active_bindings
        assert not keys["v"].enabled and not keys["c"].enabled and not keys["n"].enabled
        await press(pilot, "v")
        assert f"role {team.viewer!r} (projdeck_viewer) may not reveal secret values" in told(app)
        table = app.screen.query_one("#secrets-table", DataTable)
        assert column(table, "value") == [MASK]
