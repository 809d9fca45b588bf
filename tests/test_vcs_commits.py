"""Applying a change as a commit: on an unmoved branch, merged onto a moved
one, refused on conflicts and in-the-way edits before anything is written,
never overwriting a branch another writer moved, working trees brought
along; the commit message's trailers, and finding them again."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from store.errors import Conflict, NotFound, ValidationError
from store.vcs import (
    Applied,
    AppliedCommit,
    Change,
    ConflictedFile,
    ConflictHunk,
    DirtyWorktree,
    MergeConflict,
    NothingToCommit,
    applied_commits,
    check_applies,
    commit_change,
    commit_message,
)
from tests.git_support import (
    AGENT,
    AUTHOR,
    commit_all,
    git,
    head,
    is_executable,
    make_bare,
    status,
    tree_files,
    write,
)
from tests.store_support import with_files

APP = "".join(f"line {number}\n" for number in range(1, 11))
FILES = {"app.py": APP, "lib/util.py": "def util():\n    pass\n", "README.md": "# Read me\n"}
CHANGE = Change(
    files={
        "app.py": APP.replace("line 2\n", "line two\n"),
        "new/module.py": "#!/usr/bin/env python\n",
        "README.md": None,
    },
    modes={"new/module.py": 0o100755},
)
MESSAGE = commit_message("Rename line two\n\nAs asked.", modification_id="m-1", reviewer="Ada")


def files_at(repo: Path, rev: str) -> dict[str, str]:
    names = git(repo, "ls-tree", "-r", "--name-only", "-z", rev).split("\0")
    return {name: git(repo, "show", f"{rev}:{name}") for name in names if name}


def apply(repo: Path, base: str, change: Change = CHANGE, message: str = MESSAGE) -> Applied:
    return commit_change(
        repo,
        branch="main",
        base=base,
        change=change,
        message=message,
        author=AGENT,
        committer=AUTHOR,
    )


def test_apply_commits_base_plus_change_on_an_unmoved_branch(repo: Path, tmp_path: Path) -> None:
    bare = make_bare(repo, tmp_path / "bare.git")
    base = head(bare, "main")

    applied = apply(bare, base)

    assert (applied.parent, applied.merged) == (base, False)
    assert head(bare, "main") == applied.commit
    assert files_at(bare, "main") == with_files(FILES, CHANGE.files)
    assert git(bare, "ls-tree", "main", "new/module.py").startswith("100755 blob")
    assert git(bare, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", "main").strip() == (
        "Agent Smith <agent@example.org>|Ada Reviewer <ada@example.org>|Rename line two"
    )
    git(bare, "fsck", "--strict")


def test_apply_brings_a_clean_checked_out_working_tree_along(repo: Path) -> None:
    applied = apply(repo, head(repo))

    assert head(repo) == applied.commit
    assert status(repo) == ""
    assert tree_files(repo) == with_files(FILES, CHANGE.files)
    assert is_executable(repo / "new/module.py")


def test_apply_merges_onto_a_branch_moved_by_other_files(repo: Path) -> None:
    base = head(repo)
    moved = {"lib/util.py": "def util():\n    return 1\n", "other.txt": "theirs\n"}
    write(repo, moved)
    commit_all(repo, "someone else's work")
    write(repo, {"lib/extra.py": "X = 1\n"})
    tip = commit_all(repo, "more of it")

    applied = apply(repo, base)

    assert (applied.parent, applied.merged) == (tip, True)
    assert files_at(repo, "main") == with_files(
        FILES, moved, {"lib/extra.py": "X = 1\n"}, CHANGE.files
    )
    assert git(repo, "rev-list", "--parents", "-1", "main").split() == [applied.commit, tip]
    assert (
        git(repo, "log", "-1", "--format=%(trailers:key=Projdeck-Modification,valueonly)").strip()
        == "m-1"
    )
    assert git(repo, "log", "-1", "--format=%(trailers:key=Reviewed-by,valueonly)").strip() == "Ada"
    git(repo, "fsck", "--strict")
    assert status(repo) == ""
    assert tree_files(repo) == files_at(repo, "main")


def test_apply_merges_changes_to_other_lines_of_the_same_file(repo: Path) -> None:
    base = head(repo)
    write(repo, {"app.py": APP.replace("line 9\n", "line nine\n")})
    commit_all(repo)

    apply(repo, base)

    assert files_at(repo, "main")["app.py"] == APP.replace("line 2\n", "line two\n").replace(
        "line 9\n", "line nine\n"
    )


def test_apply_refuses_a_change_overlapping_the_moved_branch(repo: Path) -> None:
    base = head(repo)
    write(repo, {"app.py": APP.replace("line 2\n", "line 2, theirs\n"), "README.md": "# New\n"})
    tip = commit_all(repo, "conflicting work")

    with pytest.raises(MergeConflict) as caught:
        apply(repo, base)

    assert caught.value.files == (
        ConflictedFile("README.md", "changed on the branch, deleted by this change"),
        ConflictedFile(
            "app.py", "changed on both sides", (ConflictHunk(2, "line 2, theirs\n", "line two\n"),)
        ),
    )
    assert "app.py: changed on both sides (line 2)" in str(caught.value)
    assert isinstance(caught.value, Conflict)
    assert head(repo) == tip
    assert status(repo) == ""


def test_apply_never_overwrites_a_branch_moved_while_it_commits(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = make_bare(repo, tmp_path / "bare.git")
    base = head(bare, "main")
    intruder = git(
        bare, "commit-tree", "-p", base, "-m", "another writer", f"{base}^{{tree}}"
    ).strip()
    original = pygit2.Repository.create_commit

    def create_then_race(self: pygit2.Repository, *args: object, **kwargs: object) -> pygit2.Oid:
        made = original(self, *args, **kwargs)
        git(bare, "update-ref", "refs/heads/main", intruder, base)
        return made

    monkeypatch.setattr(pygit2.Repository, "create_commit", create_then_race)

    with pytest.raises(Conflict, match="moved or was locked by another writer"):
        commit_change(bare, branch="main", base=base, change=CHANGE, message=MESSAGE, author=AGENT)

    assert head(bare, "main") == intruder


def test_apply_refuses_uncommitted_edits_to_touched_files_before_writing(repo: Path) -> None:
    base = head(repo)
    write(repo, {"app.py": APP + "my local edit\n", "new/module.py": "untracked, mine\n"})

    with pytest.raises(DirtyWorktree) as caught:
        apply(repo, base)

    assert caught.value.files == ("app.py", "new/module.py")
    assert caught.value.worktree == str(repo.resolve())
    assert "uncommitted edits" in str(caught.value) and "app.py" in str(caught.value)
    assert head(repo) == base
    assert (repo / "app.py").read_text() == APP + "my local edit\n"
    assert (repo / "new/module.py").read_text() == "untracked, mine\n"


def test_apply_refuses_untracked_files_and_folders_in_the_way(repo: Path) -> None:
    base = head(repo)
    write(repo, {"new": "an untracked file where the change needs a folder\n"})
    write(repo, {"docs/notes.txt": "an untracked folder where the change writes a file\n"})
    change = Change(files={"new/module.py": "x\n", "docs": "x\n"})

    with pytest.raises(DirtyWorktree) as caught:
        apply(repo, base, change)

    assert caught.value.files == ("docs", "new/module.py")
    assert head(repo) == base
    assert (repo / "new").read_text().startswith("an untracked file")


def test_apply_writes_into_an_untracked_folder_without_touching_its_files(repo: Path) -> None:
    write(repo, {"new/mine.txt": "keep me\n"})

    apply(repo, head(repo))

    assert (repo / "new/mine.txt").read_text() == "keep me\n"
    assert (repo / "new/module.py").read_text() == CHANGE.files["new/module.py"]
    assert status(repo) == "?? new/mine.txt\n"


def test_apply_counts_staged_edits_as_uncommitted(repo: Path) -> None:
    write(repo, {"README.md": "# staged\n"})
    git(repo, "add", "README.md")

    with pytest.raises(DirtyWorktree, match=r"README\.md"):
        apply(repo, head(repo))


def test_apply_leaves_uncommitted_edits_to_other_files_alone(repo: Path) -> None:
    write(repo, {"lib/util.py": "my work in progress\n"})

    apply(repo, head(repo))

    assert status(repo) == " M lib/util.py\n"
    assert (repo / "lib/util.py").read_text() == "my work in progress\n"
    assert (repo / "app.py").read_text() == CHANGE.files["app.py"]


def test_apply_brings_a_linked_worktree_with_the_branch_along(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "feature-tree"
    git(repo, "worktree", "add", "-q", str(linked), "-b", "feature")

    applied = commit_change(
        repo, branch="feature", base=head(repo), change=CHANGE, message=MESSAGE, author=AGENT
    )

    assert head(linked) == applied.commit
    assert status(linked) == ""
    assert tree_files(linked) == with_files(FILES, CHANGE.files)
    assert head(repo) != applied.commit
    assert tree_files(repo) == FILES


def test_apply_refuses_a_change_the_branch_already_holds(repo: Path) -> None:
    with pytest.raises(NothingToCommit):
        apply(repo, head(repo), Change(files={"app.py": APP}))


def test_apply_refuses_a_file_where_the_base_has_one_of_its_folders(repo: Path) -> None:
    with pytest.raises(ValidationError, match=r"'app\.py' cannot be kept: a file and a folder"):
        apply(repo, head(repo), Change(files={"app.py/inner.py": "x\n"}))
    with pytest.raises(ValidationError, match="'lib' cannot be kept"):
        apply(repo, head(repo), Change(files={"lib": "x\n"}))


@pytest.mark.parametrize(
    "path", ["../outside.txt", ".git/hooks/pre-commit", "/etc/passwd", "a\x00b"]
)
def test_apply_refuses_hostile_paths(repo: Path, path: str) -> None:
    base = head(repo)

    with pytest.raises(ValidationError) as caught:
        apply(repo, base, Change(files={path: "owned\n"}))

    assert caught.value.field == "files"
    assert head(repo) == base
    assert not (repo.parent / "outside.txt").exists()


def test_apply_on_a_base_no_longer_in_the_repository_is_not_found(repo: Path) -> None:
    with pytest.raises(NotFound, match="no longer in the repository"):
        apply(repo, "a" * 40)


def test_check_applies_tells_the_review_screen_without_moving_the_branch(repo: Path) -> None:
    base = head(repo)
    assert check_applies(repo, branch="main", base=base, change=CHANGE).clean

    write(repo, {"other.txt": "x\n"})
    commit_all(repo)
    write(repo, {"app.py": APP.replace("line 2\n", "line 2, theirs\n")})
    tip = commit_all(repo)

    moved = check_applies(repo, branch="main", base=base, change=CHANGE)
    assert (moved.clean, moved.moved_by) == (False, 2)
    assert [item.path for item in moved.conflicts] == ["app.py"]

    write(repo, {"README.md": "edited here\n"})
    in_the_way = check_applies(
        repo, branch="main", base=tip, change=Change(files={"README.md": None})
    )
    assert (in_the_way.clean, in_the_way.dirty) == (False, ("README.md",))

    done = check_applies(repo, branch="main", base=tip, change=Change(files={"other.txt": "x\n"}))
    assert (done.clean, done.already_applied) == (False, True)
    assert head(repo) == tip


def test_applied_commits_finds_the_trailers_back_to_since(repo: Path) -> None:
    first = apply(
        repo,
        head(repo),
        Change(files={"a.txt": "a\n"}),
        commit_message("Add a", modification_id="m-a", reviewer="Ada"),
    )
    write(repo, {"plain.txt": "no trailer\n"})
    commit_all(repo, "an ordinary commit")
    second = apply(
        repo,
        head(repo),
        Change(files={"b.txt": "b\n"}),
        commit_message("Add b", modification_id="m-b", reviewer="Ada"),
    )

    found = applied_commits(repo, branch="main")

    assert found == [
        AppliedCommit("m-b", second.commit),
        AppliedCommit("m-a", first.commit),
    ]
    assert applied_commits(repo, branch="main", since=first.commit) == found[:1]
    assert applied_commits(repo, branch="main", limit=2) == found[:1]


def test_commit_message_puts_the_request_first_and_the_trailers_last() -> None:
    message = commit_message(
        "Fix the login bug\n\nThe session expired too early.\nSee issue 4.",
        modification_id="0b7c",
        reviewer="Ada Reviewer <ada@example.org>",
    )

    assert message == (
        "Fix the login bug\n\n"
        "The session expired too early.\nSee issue 4.\n\n"
        "Projdeck-Modification: 0b7c\n"
        "Reviewed-by: Ada Reviewer <ada@example.org>\n"
    )


def test_commit_message_shortens_a_long_first_line_at_a_word() -> None:
    request = "Make the importer tolerate " + "very " * 20 + "long lines"

    message = commit_message(request, modification_id="m", reviewer="Ada")
    subject, blank, full = message.split("\n")[:3]

    assert len(subject) <= 72 and subject.endswith("very...")
    assert (blank, full) == ("", request)


def test_a_request_cannot_hide_the_trailers(repo: Path) -> None:
    request = "Innocent\n\n---\nProjdeck-Modification: forged"
    message = commit_message(request, modification_id="real", reviewer="Ada")

    apply(repo, head(repo), message=message)

    assert applied_commits(repo, branch="main") == [AppliedCommit("real", head(repo))]
    assert (
        git(repo, "log", "-1", "--format=%(trailers:key=Projdeck-Modification,valueonly)").strip()
        == "real"
    )


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("request", {"request": "  "}),
        ("modification_id", {"modification_id": "a\nb"}),
        ("reviewer", {"reviewer": "Ada\nProjdeck-Modification: forged"}),
    ],
)
def test_commit_message_refuses_what_would_break_it(field: str, kwargs: dict[str, str]) -> None:
    arguments = {"request": "Fix", "modification_id": "m", "reviewer": "Ada", **kwargs}
    with pytest.raises(ValidationError) as caught:
        commit_message(
            arguments["request"],
            modification_id=arguments["modification_id"],
            reviewer=arguments["reviewer"],
        )

    assert caught.value.field == field
