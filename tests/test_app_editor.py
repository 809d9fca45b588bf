"""Opening a file in the person's editor (``o``): in the review screen the
version a modification proposes, in a project's codebase the stored one;
each handed over as a read-only temporary copy named after the file (never
a path made of a stored name), deleted once the editor exits; the editor's
command taken from the settings in order."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL
from textual.widgets import Tree

from store.services import projects
from tests.app_support import (
    open_project,
    press,
    proposed_on_billing,
    running_app,
    settle,
    wait_until,
)
from tests.store_support import opened
from tui.app import ProjdeckApp
from tui.editor import EditorFailed, copy_name, editor_command, open_copy
from tui.screens.review import ReviewScreen
from tui.widgets.codebase import FileBrowser

PROPOSED = "def total(items):\n    return sum(items)\r\n"


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake editor in $VISUAL (a command with an argument, as a shell
    splits it) that records its arguments, the file's content and mode,
    and tries to write to it; the record's path."""
    record = tmp_path / "record.json"
    script = tmp_path / "fake editor.py"
    script.write_text(
        "import json, os, sys\n"
        "path = sys.argv[-1]\n"
        "with open(path, 'rb') as file:\n"
        "    content = file.read().decode('utf-8')\n"
        "try:\n"
        "    open(path, 'a').write('edited')\n"
        "    wrote = True\n"
        "except OSError:\n"
        "    wrote = False\n"
        "record = {'argv': sys.argv[1:], 'content': content, 'wrote': wrote,\n"
        "          'mode': os.stat(path).st_mode & 0o777}\n"
        f"open({str(record)!r}, 'w').write(json.dumps(record))\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("VISUAL", f"'{sys.executable}' -I '{script}'")
    return record


def handed(record: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))
    return result


def can_suspend(app: ProjdeckApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Headless, the app cannot hand the terminal over: as if it could."""
    monkeypatch.setattr(app, "suspend", contextlib.nullcontext)


async def proposed(url: URL, files: dict[str, str]) -> uuid.UUID:
    return await proposed_on_billing(url, "Add a total", files)


def assert_gone(copy: str) -> None:
    folder = Path(copy).parent
    assert folder.parent == Path(tempfile.gettempdir()).resolve()
    assert not folder.exists()


async def test_o_hands_the_proposed_version_to_the_editor_read_only_then_deletes_it(
    demo_url: URL, editor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = await proposed(demo_url, {"src/total.py": PROPOSED})
    async with running_app(demo_url) as (app, pilot):
        screen = ReviewScreen(ref)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.detail is not None, 10)

        # Headless: the terminal cannot be handed over, and the app says so.
        await press(pilot, "o")
        assert not editor.exists()
        told = [str(notification.message) for notification in app._notifications]
        assert any("could not be run here" in message for message in told)

        can_suspend(app, monkeypatch)
        await press(pilot, "o")
        record = handed(editor)
        [copy] = record["argv"]
        assert Path(copy).name == "total.py"
        assert record["content"] == PROPOSED
        assert record["mode"] == 0o400
        # Read-only to its owner (root writes all the same).
        assert record["wrote"] is (os.geteuid() == 0)
        assert_gone(copy)
        assert isinstance(app.screen, ReviewScreen)

    async with opened(demo_url) as db:
        from store.services.review import get_modification

        detail = await get_modification(db, str(ref))
        assert detail.files[0].after == PROPOSED


async def test_o_in_the_codebase_hands_the_stored_file_to_the_editor(
    demo_url: URL, editor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_app(demo_url) as (app, pilot):
        can_suspend(app, monkeypatch)
        screen = await open_project(pilot, "Billing API", tab="codebase")
        tree = screen.query_one(FileBrowser).query_one(Tree)
        for _ in range(20):
            node = tree.cursor_node
            if node is not None and node.data is not None:
                break
            await press(pilot, "down")
        node = tree.cursor_node
        assert node is not None and node.data is not None
        path = node.data
        await press(pilot, "o")
        record = handed(editor)
        [copy] = record["argv"]
        assert Path(copy).name == path.rsplit("/", 1)[-1]
        assert record["mode"] == 0o400
        assert_gone(copy)

    async with opened(demo_url) as db:
        project = await projects.get_project(db, "Billing API")
    assert record["content"] == project.codebase[path]


@pytest.mark.parametrize(
    ("stored", "name"),
    [
        ("../../../etc/passwd", "passwd"),
        ("src/..", "file"),
        ("src/\x1b]0;owned\x07.py", "file.py"),
        ("docs/\u202eevil.txt", "file.txt"),
        ("bin\\..\\..\\run.sh", "run.sh"),
        ("src/-rf", "file"),
        ("", "file"),
    ],
)
def test_a_copy_is_named_after_the_base_name_or_a_stand_in(stored: str, name: str) -> None:
    assert copy_name(stored) == name


async def test_a_hostile_file_name_does_not_escape_the_temporary_folder(
    demo_url: URL, editor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_app(demo_url) as (app, _pilot):
        can_suspend(app, monkeypatch)
        for stored in ("../../../../tmp/escaped.py", "a/\x1b[2J\n..", ".."):
            open_copy(app, stored, "print(1)\n")
            [copy] = handed(editor)["argv"]
            assert Path(copy).parent.parent == Path(tempfile.gettempdir()).resolve()
            assert Path(copy).name in ("escaped.py", "file")
            assert_gone(copy)
    assert not (Path(tempfile.gettempdir()) / "escaped.py").exists()


async def test_binary_and_huge_files_are_refused(demo_url: URL, editor: Path) -> None:
    async with running_app(demo_url) as (app, _pilot):
        with pytest.raises(EditorFailed, match=r"^logo\.png: a binary file, not opened"):
            open_copy(app, "logo.png", "\x89PNG\0\0")
        with pytest.raises(EditorFailed, match=r"larger than 5 MB"):
            open_copy(app, "dump.sql", "x" * 5_000_001)
    assert not editor.exists()


def test_the_editor_is_the_setting_then_visual_then_editor_then_vi(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VISUAL", "code --wait")
    monkeypatch.setenv("EDITOR", "nano")
    assert editor_command("'my editor' -f") == ["my editor", "-f"]
    assert editor_command() == ["code", "--wait"]
    monkeypatch.delenv("VISUAL")
    assert editor_command() == ["nano"]
    monkeypatch.delenv("EDITOR")
    assert editor_command() == ["vi"]
    with pytest.raises(EditorFailed, match="is not a command"):
        editor_command("'unclosed")


async def test_the_config_files_editor_and_diff_style_are_used(
    demo_url: URL, editor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store import config

    # The fake editor named by the config file, $VISUAL a command that fails.
    named = os.environ["VISUAL"]
    monkeypatch.setenv("VISUAL", "false")
    monkeypatch.delenv("PROJDECK_EDITOR", raising=False)
    monkeypatch.delenv("PROJDECK_DIFF_STYLE", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(
        f'editor = {json.dumps(named)}\ndiff_style = "side-by-side"\n', encoding="utf-8"
    )
    monkeypatch.setenv(config.CONFIG_ENV, str(path))
    ref = await proposed(demo_url, {"src/total.py": PROPOSED})
    app = ProjdeckApp(demo_url, show_ids=False, config=config.load())
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        can_suspend(app, monkeypatch)
        screen = ReviewScreen(ref)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.detail is not None, 10)
        assert screen.query_one("#review-diff").side_by_side
        await press(pilot, "o")
        assert handed(editor)["content"] == PROPOSED
