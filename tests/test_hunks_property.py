"""Hunks as the review cuts them, checked against libgit2 (a diff library
that is not ours): for random files and random subsets of their hunks, the
accepted hunks as a patch apply to the base and give exactly the file the
review rebuilds; every hunk gives the proposed file, none the base. The
same for the quick cut that shows the changes since the last review."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from store import hunks, vcs

LINES = st.sampled_from(["a\n", "b\n", "c\n", "d\n", "\n", "  x = 1\n", "y\r\n"])


@st.composite
def versions(draw: st.DrawFn) -> tuple[str, str]:
    """A file and an edited version of it (lines removed, added, changed,
    the final newline dropped or added)."""
    before = draw(st.lists(LINES, min_size=1, max_size=40))
    after = list(before)
    for _ in range(draw(st.integers(1, 8))):
        where = draw(st.integers(0, len(after)))
        if after and where < len(after) and draw(st.booleans()):
            del after[where]
        else:
            after.insert(where, draw(st.sampled_from(["new\n", "other\n", "b\n"])))
    old, new = "".join(before), "".join(after)
    if draw(st.booleans()):
        old = old.rstrip("\n")
    if draw(st.booleans()):
        new = new.rstrip("\n")
    return old, new


@settings(max_examples=150, deadline=None)
@given(versions(), st.data())
def test_accepted_hunks_make_what_libgit2_makes_of_them(
    pair: tuple[str, str], data: st.DataObject
) -> None:
    before, after = pair
    # quick: the cut that anchors on lines found once on each side (the
    # changes since the last review); the review's own is difflib's.
    files = hunks.split("src/file.py", before, after, quick=data.draw(st.booleans()))
    count = len(files.hunks)
    assert files.rebuilt(set(range(count))) == after
    assert files.rebuilt(set()) == before
    accepted = data.draw(st.sets(st.integers(0, count - 1)))
    rebuilt = files.rebuilt(accepted)
    patch = hunks.partial_patch(files, accepted)
    if not any(files.hunks[index].lines for index in accepted):
        assert patch == ""
        assert rebuilt == before
        return
    applied = vcs.change_from_patch(patch, before={"src/file.py": before})
    assert applied.files.get("src/file.py", before) == rebuilt


@settings(max_examples=100, deadline=None)
@given(versions())
def test_the_diff_shown_is_difflibs(pair: tuple[str, str]) -> None:
    import difflib

    before, after = pair
    shown, _added, _removed = hunks.unified(hunks.split("f", before, after))
    expected = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        for line in difflib.unified_diff(
            hunks.text_lines(before), hunks.text_lines(after), "a/f", "b/f"
        )
    )
    assert shown == expected
