"""Reviewing by hunks in the app, by keyboard: moving between hunks,
accepting and rejecting a hunk (with an optional reason) or a whole file,
the decisions in the gutter and the file list, stored as they are made,
the next undecided hunk, and approving only the accepted hunks."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from textual.pilot import Pilot
from textual.widgets import Input, Static

from store.models import HunkVerdict, ModificationStatus
from store.services import hunk_review
from store.services import modifications as service
from tests.app_support import press, proposed_on_billing, running_app, wait_until
from tests.store_support import opened
from tui.app import ProjdeckApp
from tui.screens.comment import CommentScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.reject import RejectScreen
from tui.screens.review import ReviewScreen
from tui.widgets.diff_view import DiffView, RowKind

NOTES = "".join(f"note {n}\n" for n in range(1, 31))
NOTES_CHANGED = NOTES.replace("note 2\n", "note two\n").replace("note 28\n", "note 28b\n")


async def proposed(url: URL) -> uuid.UUID:
    """A modification of the demo's Billing API: two hunks in notes.txt
    (far apart), one new file."""
    return await proposed_on_billing(
        url,
        "Spell out two notes",
        {"notes.txt": NOTES_CHANGED, "zz/new.md": "# New\n"},
        codebase={"notes.txt": NOTES},
    )


async def reviewing(app: ProjdeckApp, pilot: Pilot[None], ref: uuid.UUID) -> ReviewScreen:
    """The review screen of ``ref``, its hunks loaded."""
    screen = ReviewScreen(ref)
    await app.push_screen(screen)
    await wait_until(pilot, lambda: screen.hunks is not None, 10)
    return screen


async def stored(url: URL, ref: uuid.UUID) -> list[tuple[int, str | None, str | None]]:
    async with opened(url) as db:
        review = await hunk_review.modification_hunks(db, str(ref))
    return [
        (item.number, str(item.verdict) if item.verdict else None,
         item.decision.reason if item.decision else None)
        for item in review.hunks
    ]  # fmt: skip


async def test_hunks_decided_by_keys_then_approved_in_part(demo_url: URL) -> None:
    ref = await proposed(demo_url)
    async with running_app(demo_url) as (app, pilot):
        screen = await reviewing(app, pilot, ref)
        diff = screen.query_one(DiffView)
        assert diff.path == "notes.txt"
        assert len(diff.hunk_rows) == 2

        # space accepts the hunk at hand and moves on to the next one.
        await press(pilot, "space")
        assert diff.hunk_marks == {0: "accepted"}
        assert diff.current_hunk == 1
        # x asks why (it may stay empty), then rejects.
        await press(pilot, "x")
        assert isinstance(app.screen, RejectScreen)
        await press(pilot, *"too early", "enter")
        assert diff.hunk_marks == {0: "accepted", 1: "rejected"}
        await wait_until(pilot, lambda: screen.decided == {1: "accepted", 2: "rejected"}, 10)
        assert await stored(demo_url, ref) == [
            (1, "accepted", None),
            (2, "rejected", "too early"),
            (3, None, None),
        ]
        # u: the next undecided hunk, in the next file.
        await press(pilot, "u")
        assert diff.path == "zz/new.md"
        assert screen.file_state("notes.txt") == "partly accepted"

        # P shows what would be applied, then approves only that.
        await press(pilot, "P")
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.question)
        assert "Approve only the 1 accepted hunk of 3?" in question
        assert "+note two" in question
        assert "note 28b" not in question
        await press(pilot, "y")
        await wait_until(pilot, lambda: screen.current != ref, 10)

    async with opened(demo_url) as db:
        detail = await hunk_review.modification_hunks(db, str(ref))
    approved = detail.modification
    assert approved.status == ModificationStatus.APPROVED
    assert approved.modified_files == {"notes.txt": NOTES.replace("note 2\n", "note two\n")}
    assert [item.verdict for item in detail.hunks] == [
        HunkVerdict.ACCEPTED,
        HunkVerdict.REJECTED,
        HunkVerdict.REJECTED,
    ]


async def test_a_whole_file_is_accepted_or_rejected_and_shown_in_the_list(
    demo_url: URL,
) -> None:
    ref = await proposed(demo_url)
    async with running_app(demo_url) as (app, pilot):
        screen = await reviewing(app, pilot, ref)

        await press(pilot, "F")
        await press(pilot, "j", "X")
        await press(pilot, "enter")  # no reason

        assert screen.file_state("notes.txt") == "accepted"
        assert screen.file_state("zz/new.md") == "rejected"
        await wait_until(pilot, lambda: len(screen.decided) == 3, 10)
        assert await stored(demo_url, ref) == [
            (1, "accepted", None),
            (2, "accepted", None),
            (3, "rejected", None),
        ]


async def test_hunk_keys_do_nothing_once_a_modification_is_decided(demo_url: URL) -> None:
    ref = await proposed(demo_url)
    async with opened(demo_url) as db:
        await service.approve_modification(db, str(ref))
    async with running_app(demo_url) as (app, pilot):
        screen = await reviewing(app, pilot, ref)

        await press(pilot, "space", "x", "P")

        assert app.screen is screen
        assert screen.decided == {}
        assert await stored(demo_url, ref) == [(1, None, None), (2, None, None), (3, None, None)]


async def test_decisions_made_elsewhere_show_without_a_key(demo_url: URL) -> None:
    ref = await proposed(demo_url)
    async with running_app(demo_url) as (app, pilot):
        screen = await reviewing(app, pilot, ref)
        await pilot.pause(0.6)  # the watcher has taken its first reading

        async with opened(demo_url) as db:
            await hunk_review.decide_hunks(
                db, str(ref), verdict=HunkVerdict.REJECTED, numbers=[2], actor="rita"
            )

        diff = screen.query_one(DiffView)
        await wait_until(pilot, lambda: diff.hunk_marks == {1: "rejected"}, 10)
        assert screen.file_state("notes.txt") == "undecided"


async def test_a_comment_typed_in_the_screen_shows_under_its_line(demo_url: URL) -> None:
    ref = await proposed(demo_url)
    async with running_app(demo_url) as (app, pilot):
        screen = await reviewing(app, pilot, ref)
        diff = screen.query_one(DiffView)

        # c: the first line the hunk at hand changes, unless another is typed.
        await press(pilot, "c")
        dialog = app.screen
        assert isinstance(dialog, CommentScreen)
        assert dialog.query_one("#comment-line", Input).value == "2"
        await press(pilot, *"Spell out the rest too", "enter")
        await wait_until(pilot, lambda: any(row.kind == RowKind.COMMENT for row in diff.rows), 10)

        [index] = [y for y, row in enumerate(diff.rows) if row.kind == RowKind.COMMENT]
        assert diff.rows[index].header == "💬 tester: Spell out the rest too"
        assert diff.rows[index - 1].new == 1  # under line 2 of the proposed version
        async with opened(demo_url) as db:
            [note] = (await hunk_review.modification_hunks(db, str(ref))).comments
        assert (note.path, note.line, note.side, note.line_text) == (
            "notes.txt",
            2,
            "new",
            "note two",
        )

        # A line that is not one is said in the dialog, and nothing is stored.
        await press(pilot, "c", "shift+tab", "ctrl+u", *"x2", "tab", *"no", "enter")
        assert isinstance(app.screen, CommentScreen)
        error = str(app.screen.query_one("#comment-error", Static).render())
        assert error == "line: a line number, such as 12, or -12 for a removed line"


async def test_v_shows_what_a_revision_changed_since_the_last_review(demo_url: URL) -> None:
    first = await proposed(demo_url)
    async with opened(demo_url) as db:
        await hunk_review.add_comment(db, str(first), path="notes.txt", line=2, text="good")
        await hunk_review.add_comment(db, str(first), path="notes.txt", line=28, text="why?")
        await service.reject_modification(db, str(first), comment="drop the second")
        second = await service.propose_modification(
            db,
            "Billing API",
            service.ModificationProposal(
                request="Spell out one note",
                modified_files={"notes.txt": NOTES.replace("note 2\n", "note two\n")},
            ),
            revises=str(first),
        )
    async with running_app(demo_url) as (app, pilot):
        screen = await reviewing(app, pilot, second.id)
        assert screen.check_action("since", ()) is True

        await press(pilot, "v")

        assert [entry.path for entry in screen.entries] == ["notes.txt", "zz/new.md"]
        diff = screen.query_one(DiffView)
        comments = [row.header for row in diff.rows if row.kind == RowKind.COMMENT]
        # Line 2 is still "note two" but outside what changed since: named
        # above the diff, like the comment whose line is gone.
        assert comments == [
            "💬 outdated, on line 28 ('note 28b'), now gone: tester: why?",
            "💬 line 2: tester: good",
        ]
        assert "since revision 1" in str(screen.query_one("#review-diff-box").border_subtitle)
        # What is decided on is the revision itself, not its changes since.
        assert screen.check_action("decide_hunk", ("accepted",)) is False
        await press(pilot, "space")
        assert screen.decided == {}

        await press(pilot, "v")
        assert [entry.path for entry in screen.entries] == ["notes.txt"]
        assert screen.check_action("decide_hunk", ("accepted",)) is True


async def test_a_long_comment_is_written_in_the_editor(
    demo_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'A long comment\\nover two lines\\n' > \"$1\"\n")
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(editor))
    ref = await proposed(demo_url)
    async with running_app(demo_url) as (app, pilot):
        screen = await reviewing(app, pilot, ref)
        # Headless, the app cannot hand the terminal over: it says so.
        await press(pilot, "c")
        await press(pilot, "ctrl+o")
        dialog = app.screen
        assert isinstance(dialog, CommentScreen)
        error = str(dialog.query_one("#comment-error", Static).render())
        assert error.startswith(f"editor: {str(editor)!r} could not be run here")

        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)
        await press(pilot, "ctrl+o")
        await wait_until(pilot, lambda: bool(screen.hunks and screen.hunks.comments), 10)

        [note] = screen.hunks.comments if screen.hunks else []
        assert (note.line, note.body) == (2, "A long comment\nover two lines")
        rows = [
            row.header for row in screen.query_one(DiffView).rows if row.kind == RowKind.COMMENT
        ]
        assert rows == ["💬 tester: A long comment", "   over two lines"]
