"""Patches in and out: a git diff or format-patch email read into a Change
by libgit2, hostile and broken patches refused with the file and line, and
a Change written as a patch git apply takes and an email git am takes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.errors import ValidationError
from store.vcs import Change, Identity, change_from_patch, format_mbox, format_patch
from tests.git_support import (
    commit_all,
    git,
    is_executable,
    make_repo,
    tree_files,
    write,
    write_change,
)
from tests.store_support import with_files

LONG = "".join(f"line {number}\n" for number in range(1, 11))
BEFORE: dict[str, str | None] = {
    "app.py": "import os\n\nprint('hi')\n",
    "old_name.py": LONG,
    "obsolete.txt": "remove me\n",
    "windows.txt": "one\r\ntwo\r\nthree\r\n",
    "no-newline.txt": "a\nb",
    "tool.sh": "#!/bin/sh\necho tool\n",
}
CHANGE = Change(
    files={
        "app.py": "import os\n\nprint('hello')\n",
        "old_name.py": None,
        "renamed/name.py": LONG.replace("line 5\n", "line five\n"),
        "obsolete.txt": None,
        "windows.txt": "one\r\nTWO\r\nthree\r\n",
        "no-newline.txt": "a\nB",
        "tool.sh": "#!/bin/sh\necho tool\n",
        "pkg/sub/new_module.py": "VALUE = 1\n",
        "résumé/ünï.txt": "ü\n",
        "bin/run": "#!/bin/sh\nexec tool.sh\n",
    },
    modes={
        "tool.sh": 0o100755,
        "bin/run": 0o100755,
        "renamed/name.py": 0o100644,
        "pkg/sub/new_module.py": 0o100644,
        "résumé/ünï.txt": 0o100644,
    },
    renames={"renamed/name.py": "old_name.py"},
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    files = {path: content for path, content in BEFORE.items() if content is not None}
    return make_repo(tmp_path / "project", files)


@pytest.fixture
def agent_commit(repo: Path) -> Path:
    """The repository with CHANGE committed by an agent on top of BEFORE."""
    write_change(repo, CHANGE.files, CHANGE.modes)
    git(repo, "add", "-A")
    git(
        repo,
        "-c",
        "user.name=Zoë Agent",
        "-c",
        "user.email=zoe@example.org",
        "commit",
        "-q",
        "--author=Zoë Agent <zoe@example.org>",
        "-m",
        "Rename the module and say hello é\n\nThe body explains why.\nSecond line.",
    )
    return repo


def test_format_patch_output_is_taken_by_git_apply(repo: Path) -> None:
    patch = format_patch(CHANGE, before=BEFORE)

    git(repo, "apply", "--check", stdin=patch.encode("utf-8"))
    git(repo, "apply", stdin=patch.encode("utf-8"))

    assert tree_files(repo) == with_files(BEFORE, CHANGE.files)
    assert is_executable(repo / "tool.sh")
    assert is_executable(repo / "bin/run")
    assert not is_executable(repo / "renamed/name.py")
    assert "rename from old_name.py" in patch
    assert "\\ No newline at end of file" in patch


def test_change_from_patch_reads_back_what_format_patch_wrote() -> None:
    patch = format_patch(CHANGE, before=BEFORE)

    change = change_from_patch(patch, before=BEFORE, base="abc")

    assert change.files == CHANGE.files
    assert change.modes == CHANGE.modes
    assert change.renames == CHANGE.renames
    assert change.base == "abc"
    assert change.subject is None


def test_change_from_patch_reads_a_git_format_patch_email(agent_commit: Path) -> None:
    mbox = git(agent_commit, "format-patch", "-1", "--stdout")

    change = change_from_patch(mbox, before=BEFORE)

    assert change.files == CHANGE.files
    assert change.modes == CHANGE.modes
    assert change.renames == CHANGE.renames
    assert change.subject == "Rename the module and say hello é"
    assert change.body == "The body explains why.\nSecond line."
    assert (change.author_name, change.author_email) == ("Zoë Agent", "zoe@example.org")


def test_change_from_patch_reads_plain_git_diff_output(agent_commit: Path) -> None:
    diff = git(agent_commit, "diff", "HEAD~1", "HEAD").encode("utf-8", "surrogateescape")

    change = change_from_patch(diff, before=BEFORE.get)

    assert change.files == CHANGE.files
    assert change.renames == CHANGE.renames
    assert change.subject is None and change.author_name is None


def test_change_from_patch_keeps_the_pre_image_mode_of_a_renamed_executable() -> None:
    before = {"tool.sh": "#!/bin/sh\n"}
    patch = (
        "diff --git a/tool.sh b/bin/tool.sh\n"
        "similarity index 100%\n"
        "rename from tool.sh\n"
        "rename to bin/tool.sh\n"
    )

    change = change_from_patch(patch, before=before, before_modes={"tool.sh": 0o100755})

    assert change.files == {"tool.sh": None, "bin/tool.sh": "#!/bin/sh\n"}
    assert change.modes == {"bin/tool.sh": 0o100755}


def test_format_mbox_goes_through_git_am_with_its_author_and_subject(repo: Path) -> None:
    when = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    mbox = format_mbox(
        CHANGE,
        before=BEFORE,
        subject="Say hello to ünïcode",
        body="Why:\nbecause the review asked.",
        author=Identity("Zoë Agent", "zoe@example.org", when),
    )

    # --keep-cr: mail transport drops carriage returns, and windows.txt has them.
    git(repo, "am", "-q", "--keep-cr", stdin=mbox.encode("utf-8"))

    logged = git(repo, "log", "-1", "--format=%an|%ae|%ad|%s|%b", "--date=iso-strict")
    assert logged.strip() == (
        "Zoë Agent|zoe@example.org|2024-05-01T12:30:00+00:00|Say hello to ünïcode|"
        "Why:\nbecause the review asked."
    )
    assert tree_files(repo) == with_files(BEFORE, CHANGE.files)
    assert is_executable(repo / "bin/run")
    git(repo, "fsck", "--strict")


def _patch_for(path: str, *, quoted: bool = False) -> str:
    a, b = (f'"a/{path}"', f'"b/{path}"') if quoted else (f"a/{path}", f"b/{path}")
    return (
        f"diff --git {a} {b}\nnew file mode 100644\n--- /dev/null\n+++ {b}\n@@ -0,0 +1 @@\n+owned\n"
    )


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (_patch_for("../escape.txt"), "line 1: ../escape.txt: path '../escape.txt' contains '..'"),
        (_patch_for("src/../../escape.txt"), "contains '..'"),
        (_patch_for(".git/config"), "line 1: .git/config: path '.git/config' is inside .git"),
        (_patch_for("sub/.GIT/hooks/pre-commit"), "is inside .git"),
        (_patch_for("x").replace("a/x b/x", "/etc/passwd /etc/passwd"), "line 1: the paths"),
        (_patch_for("x\\ty", quoted=True), "contains control characters"),
        (_patch_for("x\\000y", quoted=True), "line 1: a path holds a NUL character"),
        (_patch_for("x").replace("+owned", "+own\x00ed"), "line 6 holds a NUL byte"),
        (_patch_for("x").replace("100644", "120000"), "line 1: x: makes a symbolic link"),
        (_patch_for("x").replace("100644", "160000"), "makes a submodule"),
        (
            "diff --git a/app.py b/y\nsimilarity index 100%\nrename from app.py\nrename to ../y\n",
            "contains '..'",
        ),
        ("diff --git a/app.py b/y\n--- a/app.py\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n", "neither rename"),
    ],
)
def test_change_from_patch_refuses_hostile_paths(patch: str, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        change_from_patch(patch, before=BEFORE)

    assert caught.value.field == "patch"
    assert expected in caught.value.problem


def test_change_from_patch_refuses_binary_changes(repo: Path) -> None:
    write(repo, {"image.bin": b"\x00\x01\x02binary"})
    commit_all(repo)
    write(repo, {"image.bin": b"\x00\x01\x03binary", "app.py": "changed\n"})
    before = {**BEFORE, "image.bin": "\x00\x01\x02binary"}

    for options in ((), ("--binary",)):
        patch = git(repo, "diff", *options).encode("utf-8", "surrogateescape")
        with pytest.raises(ValidationError) as caught:
            change_from_patch(patch, before=before)
        assert "image.bin: a binary change" in caught.value.problem
        assert caught.value.problem.startswith("line 1")


def test_a_patch_that_does_not_apply_names_the_file_hunk_and_line() -> None:
    patch = format_patch(CHANGE, before=BEFORE)
    lines = patch.split("\n")
    header = lines.index("diff --git a/app.py b/app.py")
    hunk_line = next(n for n in range(header, len(lines)) if lines[n].startswith("@@")) + 1

    with pytest.raises(ValidationError) as caught:
        change_from_patch(patch, before={**BEFORE, "app.py": "import sys\n\nprint('hi')\n"})

    assert caught.value.field == "patch"
    assert caught.value.problem == (
        f"line {hunk_line}: app.py: hunk 1 (@@ -1,3 +1,3 @@) does not apply: "
        "the lines it changes are not in the file as it is"
    )


def test_a_patch_that_does_not_parse_is_refused() -> None:
    with pytest.raises(ValidationError, match="no 'diff --git' header"):
        change_from_patch("just some words\n", before=BEFORE)
    broken = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1,5 +1,5 @@\n-a\n+b\n"
    with pytest.raises(ValidationError, match="does not parse: invalid patch hunk"):
        change_from_patch(broken, before=BEFORE)


def test_a_patch_over_the_size_limit_is_refused_before_parsing() -> None:
    patch = format_patch(CHANGE, before=BEFORE)

    with pytest.raises(ValidationError, match=r"is \d+ bytes; at most 100 allowed"):
        change_from_patch(patch.encode("utf-8"), before=BEFORE, max_bytes=100)
    with pytest.raises(ValidationError, match="at most 2 allowed"):
        change_from_patch(patch, before=BEFORE, max_files=2)


def test_a_patch_must_agree_with_which_files_exist() -> None:
    with pytest.raises(ValidationError, match=r"line 1: app\.py: the patch creates this file"):
        change_from_patch(_patch_for("app.py"), before=BEFORE)
    with pytest.raises(ValidationError, match="the patch changes this file, which does not exist"):
        change_from_patch(format_patch(CHANGE, before=BEFORE), before={"app.py": "x\n"})


def test_a_patch_touching_one_file_twice_is_refused() -> None:
    patch = _patch_for("twice.txt") + _patch_for("twice.txt")

    with pytest.raises(ValidationError, match="changes this file twice"):
        change_from_patch(patch, before=BEFORE)


def test_words_before_the_diff_are_not_an_email() -> None:
    patch = "Here is my change, please review.\n\n" + _patch_for("notes.txt")

    change = change_from_patch(patch, before=BEFORE)

    assert change.files == {"notes.txt": "owned\n"}
    assert change.subject is None


def test_format_patch_refuses_deleting_a_file_that_is_not_there() -> None:
    with pytest.raises(ValidationError, match=r"deletes 'ghost\.txt'"):
        format_patch(Change(files={"ghost.txt": None}), before=BEFORE)
