"""``projdeck mod hunks|decide|comment|feedback`` and ``mod approve --hunks``
through the installed console script: a review by hunks from a script, the
feedback an agent reads as JSON, and bad hunk numbers named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import Projdeck

BEFORE = "".join(f"{letter}\n" for letter in "abcdefghijk")
AFTER = BEFORE.replace("b\n", "B\n").replace("j\n", "J\n")


@pytest.fixture
def cli(sqlite_file: Path) -> Projdeck:
    return Projdeck(f"sqlite:///{sqlite_file}", PROJDECK_ACTOR="rita")


def proposed(cli: Projdeck, tmp_path: Path) -> str:
    (tmp_path / "before.txt").write_text(BEFORE, encoding="utf-8")
    (tmp_path / "after.txt").write_text(AFTER, encoding="utf-8")
    cli.ok(
        "project", "create", "--name", "Demo", "--type", "api", "--owner", "alice",
        "--file", f"app.txt={tmp_path / 'before.txt'}",
    )  # fmt: skip
    return cli.ok(
        "mod", "propose", "Demo", "--request", "Capitals", "--requested-by", "agent-7",
        "--file", f"app.txt={tmp_path / 'after.txt'}",
    ).strip()  # fmt: skip


def test_a_review_by_hunks_from_a_script(cli: Projdeck, tmp_path: Path) -> None:
    ref = proposed(cli, tmp_path)

    listed = cli.json("mod", "hunks", ref)
    assert [(h["number"], h["header"], h["decision"]) for h in listed["hunks"]] == [
        (1, "@@ -1,5 +1,5 @@", "undecided"),
        (2, "@@ -7,5 +7,5 @@", "undecided"),
    ]
    assert listed["hunks"][0]["lines"] == [" a\n", "-b\n", "+B\n", " c\n", " d\n", " e\n"]
    shown = cli.ok("mod", "decide", ref, "--hunks", "2", "--reject", "--reason", "keep j")
    assert "#2   @@ -7,5 +7,5 @@  +1 -1  rejected by rita: keep j" in shown
    cli.ok("mod", "comment", ref, "--file", "app.txt", "--line", "2", "--text", "Why capitals?")

    approved = cli.ok("mod", "approve", ref, "--hunks", "1")

    assert approved == f"{ref} is now approved in part (mod feedback lists what was taken)\n"
    shown = cli.json("mod", "show", ref, "--diff")
    [file] = shown["files"]
    assert (file["added"], file["removed"]) == (1, 1)
    assert "+B\n" in file["diff"]
    assert "+J\n" not in file["diff"]
    given = cli.json("mod", "feedback", ref)
    assert given["verdict"] == "approved in part"
    assert [(h["number"], h["decision"], h["reason"]) for h in given["hunks"]] == [
        (1, "accepted", None),
        (2, "rejected", "keep j"),
    ]
    assert [(c["file"], c["line"], c["line_text"], c["text"], c["author"]) for c in given["comments"]] == [
        ("app.txt", 2, "B", "Why capitals?", "rita")
    ]  # fmt: skip
    text = cli.ok("mod", "feedback", ref)
    assert text.startswith(f"Review of modification {ref} (Capitals): approved in part by rita.")
    assert "- #2 app.txt @@ -7,5 +7,5 @@: rejected: keep j\n" in text
    assert "- app.txt line 2 ('B'), rita: Why capitals?" in text

    # The agent tries again: the next revision of the one approved in part.
    again = cli.ok(
        "mod", "propose", "Demo", "--request", "Capitals, again", "--revises", ref[:8],
        "--file", f"app.txt={tmp_path / 'after.txt'}",
    ).strip()  # fmt: skip
    shown = cli.json("mod", "show", again)
    assert (shown["revision"], shown["revises_id"]) == (2, ref)
    assert f"revision      2, revising {ref}\n" in cli.ok("mod", "show", again)
    refused = cli.fails("mod", "propose", "Demo", "--request", "x", "--revises", ref,
                        "--file", f"app.txt={tmp_path / 'after.txt'}")  # fmt: skip
    assert f"is already revised by {again[:8]} (revision 2)" in refused


# Each refused the same proposal in turn: a refusal changes nothing.
REFUSED = [
    (["approve", "--hunks", "1,x"], 2, "'1,x' is not a list of hunk numbers"),
    (["approve", "--hunks", "3-1"], 2, "'3-1' is a range that ends before it starts"),
    (["approve", "--hunks", "3"], 1, "3 is not a hunk of modification"),
    (["approve", "--hunks", "1", "--accepted"], 2, "--hunks names the hunks"),
    (["approve", "--accepted"], 1, "no hunk is accepted"),
    (["decide", "--hunks", "1"], 2, "say --accept, --reject or --undecide"),
    (["decide", "--hunks", "1", "--accept", "--reason", "x"], 1, "only a rejection"),
    (["comment", "--file", "app.txt", "--line", "99", "--text", "x"], 1, "has 11 lines"),
]


def test_bad_hunks_and_lines_are_named(cli: Projdeck, tmp_path: Path) -> None:
    ref = proposed(cli, tmp_path)
    for (command, *rest), code, message in REFUSED:
        error = cli.fails("mod", command, ref, *rest, code=code)
        assert message in error, (command, rest)
    assert cli.json("mod", "show", ref)["status"] == "pending"
    assert cli.json("mod", "hunks", ref)["files"] == {"app.txt": "undecided"}
