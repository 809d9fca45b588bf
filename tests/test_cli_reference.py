"""docs/cli.md is what docs/make_cli_reference.py makes from the commands'
own help: every command is in it, as ``--help`` prints it, and the links
of the README and the guides lead somewhere."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path
from types import ModuleType

import click
import pytest

from tests.cli import SCRIPT
from tui.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REFERENCE = DOCS / "cli.md"
REGENERATE = ".venv/bin/python docs/make_cli_reference.py"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_cli_reference", DOCS / "make_cli_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def every_command_path() -> list[str]:
    """Every command under ``projdeck``, found apart from the generator: the
    top-level ones from the group's COMMANDS table, those below from each
    group's own table of commands and of those it imports on use (``lazy``)."""
    paths = ["projdeck"]

    def below(command: click.Command, path: str) -> None:
        paths.append(path)
        if isinstance(command, click.Group):
            subs = dict(command.commands)
            for name in getattr(command, "lazy", {}):
                sub = command.get_command(click.Context(command), name)
                assert sub is not None, name
                subs[name] = sub
            for name, sub in subs.items():
                if not sub.hidden:
                    below(sub, f"{path} {name}")

    ctx = click.Context(cli, info_name="projdeck")
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None, name
        below(command, f"projdeck {name}")
    return paths


def section(text: str, path: str) -> str:
    """The help shown under the heading of ``path`` in docs/cli.md."""
    lines = text.splitlines()
    heading = next(
        i for i, line in enumerate(lines) if re.fullmatch(rf"#+ {re.escape(path)}", line)
    )
    start = lines.index("```text", heading) + 1
    return "\n".join(lines[start : lines.index("```", start)]) + "\n"


def test_docs_cli_md_is_what_the_script_generates(generator: ModuleType) -> None:
    assert REFERENCE.read_text(encoding="utf-8") == generator.render(), (
        f"docs/cli.md is out of date; regenerate it with: {REGENERATE}"
    )


def test_every_command_has_one_section_and_a_contents_entry() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    expected = every_command_path()
    assert len(expected) > len(COMMANDS) + 40  # the groups' commands were found too
    headings = re.findall(r"^#{2,4} (projdeck\b.*)$", text, re.M)
    assert sorted(headings) == sorted(expected)
    for path in expected:
        assert f"[{path}](#{path.replace(' ', '-')})" in text, path


@pytest.mark.parametrize(
    "path", ["projdeck", "projdeck mod", "projdeck agent run finish", "projdeck project list"]
)
def test_each_section_is_what_help_prints_on_a_wide_terminal(path: str) -> None:
    args = path.split()[1:]
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run(
        [str(SCRIPT), *args, "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert section(REFERENCE.read_text(encoding="utf-8"), path) == result.stdout


def test_the_reference_does_not_depend_on_the_terminal(
    generator: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    narrow = generator.render()
    monkeypatch.setenv("COLUMNS", "300")
    assert generator.render() == narrow


def test_check_fails_on_a_stale_file_and_says_how_to_regenerate(
    generator: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stale = REFERENCE.read_text(encoding="utf-8").replace("Show this message", "Show a message", 1)
    target = tmp_path / "cli.md"
    target.write_text(stale, encoding="utf-8")
    monkeypatch.setattr(generator, "TARGET", target)

    assert generator.main(["--check"]) == 1
    assert REGENERATE in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == stale

    assert generator.main([]) == 0
    assert target.read_text(encoding="utf-8") == generator.render()
    assert generator.main(["--check"]) == 0
    target.unlink()
    assert generator.main(["--check"]) == 1


def github_anchors(markdown: str) -> set[str]:
    """The ids GitHub gives the headings of a Markdown file."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", strip_code_blocks(markdown), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in anchors:
            n += 1
            anchor = f"{slug}-{n}"
        anchors.add(anchor)
    return anchors


def strip_code_blocks(markdown: str) -> str:
    return re.sub(r"^(`{3,}).*?^\1$", "", markdown, flags=re.M | re.S)


@pytest.mark.parametrize(
    "document",
    [ROOT / "README.md", *sorted(DOCS.glob("*.md"))],
    ids=lambda path: path.relative_to(ROOT).as_posix(),
)
def test_links_lead_to_files_and_headings_that_exist(document: Path) -> None:
    text = strip_code_blocks(document.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue
        target, _, fragment = link.partition("#")
        path = (document.parent / target).resolve() if target else document
        assert path.exists(), f"{link} in {document.name}: no such file"
        if fragment:
            assert fragment in github_anchors(path.read_text(encoding="utf-8")), (
                f"{link} in {document.name}: no such heading"
            )
