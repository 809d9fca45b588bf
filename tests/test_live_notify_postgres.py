"""On PostgreSQL the app is told of other processes' writes (LISTEN/NOTIFY)
instead of polling for them: a committed write notifies, a rolled-back one
does not; the app open with polling set to a minute shows a change proposed
elsewhere within a second; a listening connection killed by the server
leaves the app polling, with no error shown, and listening again later."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from textual.pilot import Pilot

from store import audit
from store.engine import Database
from store.notify import ChangeListener, Notice
from store.services import projects
from store.services.modifications import ModificationProposal, propose_modification
from tests.app_support import SIZE, make_app, press, settle, wait_until
from tests.store_support import opened
from tui.app import ProjdeckApp
from tui.screens.inbox import InboxScreen

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

KILL_LISTENERS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND query LIKE 'LISTEN%projdeck_changes%' "
    "AND pid <> pg_backend_pid()"
)


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.02)


async def kill_listeners(url: URL) -> int:
    async with opened(url) as other, other.transaction() as session:
        return len((await session.execute(KILL_LISTENERS)).all())


async def make_project(db: Database, name: str = "Orbit") -> projects.ProjectConfig:
    return await projects.create_project_with_settings(
        db, projects.ProjectCreate(name=name, type="api", owner_id="o")
    )


async def test_a_committed_write_notifies_and_a_rolled_back_one_does_not(
    database: Database,
) -> None:
    notices: list[Notice] = []
    lost: list[str] = []
    listener = ChangeListener(database, notices.append, lost.append)
    await listener.start()
    try:
        assert listener.listening
        project = await make_project(database)
        await until(lambda: len(notices) == 1)
        assert notices[0].project_id == project.project.id
        assert notices[0].audit_id is not None

        with pytest.raises(RuntimeError):
            async with database.transaction() as session:
                entry = await audit.record(
                    session, actor="tester", event_type="test.dropped", description="rolled back"
                )
                raise RuntimeError("the write fails after its audit row")
        # A write that commits afterwards is the next one told.
        async with database.transaction() as session:
            kept = await audit.record(
                session, actor="tester", event_type="test.kept", description="committed"
            )
        await until(lambda: len(notices) == 2)
        await asyncio.sleep(0.2)
        assert [notice.audit_id for notice in notices[1:]] == [kept.id]
        assert entry.id not in {notice.audit_id for notice in notices}

        # Writers appending audit rows of their own (a workspace merge) notify too.
        async with database.transaction() as session:
            await audit.lock_chain(session)
        await until(lambda: len(notices) == 3)
        assert notices[2] == Notice(audit_id=None, project_id=None)
    finally:
        await listener.close()
    assert not listener.listening
    assert lost == []


async def test_a_killed_listening_connection_is_reported_once(
    database: Database, database_url: URL
) -> None:
    lost: list[str] = []
    listener = ChangeListener(database, lambda _notice: None, lost.append)
    await listener.start()
    try:
        assert await kill_listeners(database_url) == 1
        await until(lambda: bool(lost))
        assert not listener.listening
        assert lost == [f"the connection listening for changes on {database.masked_url} ended"]
    finally:
        await listener.close()
    assert len(lost) == 1
    # The database's own connections are untouched.
    await make_project(database)


async def _open_inbox(app: ProjdeckApp, pilot: Pilot[None]) -> InboxScreen:
    await settle(pilot)
    await press(pilot, "5")
    inbox = app.screen
    assert isinstance(inbox, InboxScreen)
    # Listening, and the first reading taken: what comes next is news.
    await wait_until(pilot, lambda: app.live.listening and app.live.waiting is not None, 10.0)
    await settle(pilot)
    return inbox


async def _propose(url: URL, request: str) -> None:
    async with opened(url) as other:  # another process, as the CLI would
        await propose_modification(
            other,
            "Orbit",
            ModificationProposal(request=request, modified_files={"app.py": "print(1)\n"}),
        )


def _messages(app: ProjdeckApp) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


def _errors(app: ProjdeckApp) -> list[str]:
    return [str(n.message) for n in app._notifications if n.severity == "error"]


async def test_the_app_shows_a_change_made_elsewhere_within_a_second_without_polling(
    database: Database, database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROJDECK_ACTOR", "tester")
    await make_project(database)
    app = make_app(database_url)
    app.live.seconds = 60.0  # polling cannot explain what shows within the test
    async with app.run_test(size=SIZE) as pilot:
        inbox = await _open_inbox(app, pilot)
        assert inbox.title == "Inbox · nothing waits"
        await _propose(database_url, "Told: add the orbit job")
        took = await wait_until(
            pilot, lambda: "New: Orbit: Told: add the orbit job" in "\n".join(_messages(app)), 10.0
        )
        assert took < 1.0
        await settle(pilot)
        assert inbox.title.startswith("Inbox · 1 waiting")
        assert _errors(app) == []


async def test_a_killed_listener_leaves_the_app_polling_then_listening_again(
    database: Database, database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROJDECK_ACTOR", "tester")
    monkeypatch.setattr("tui.live.RELISTEN_DELAYS", (3.0,))
    await make_project(database)
    app = make_app(database_url)
    app.live.seconds = 0.2
    async with app.run_test(size=SIZE) as pilot:
        inbox = await _open_inbox(app, pilot)
        assert await kill_listeners(database_url) == 1
        await wait_until(pilot, lambda: not app.live.listening, 5.0)
        # Polling tells of a change while nobody listens.
        await _propose(database_url, "Polled: first")
        await wait_until(
            pilot, lambda: "New: Orbit: Polled: first" in "\n".join(_messages(app)), 5.0
        )
        # Then a new listener listens; the app is as it was.
        await wait_until(pilot, lambda: app.live.listening, 10.0)
        await _propose(database_url, "Told: second")
        await wait_until(
            pilot, lambda: "New: Orbit: Told: second" in "\n".join(_messages(app)), 5.0
        )
        await settle(pilot)
        assert inbox.title.startswith("Inbox · 2 waiting")
        assert _errors(app) == []
        assert not app.is_connection_lost
