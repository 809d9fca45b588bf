"""Reading a project's codebase from git: exactly the text files tracked at
a commit, byte for byte, with what was left out and why; nothing ignored is
read and no link is followed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from store.errors import NotFound, ValidationError
from store.progress import Step
from store.vcs import Skipped, SkipReason, read_snapshot
from tests.git_support import commit_all, git, head, make_bare, make_repo, write

FILES = {
    "README.md": "# Project\n",
    "windows.txt": b"one\r\ntwo\r\n",
    "no-newline.txt": "last line",
    "src/deep/nested/module.py": "def f():\n    return 1\n",
    "docs/café ünïcode.md": "naïve\n",
    "run.sh": "#!/bin/sh\necho hi\n",
}


def test_snapshot_reads_tracked_text_files_byte_exact(repo: Path) -> None:
    snapshot = read_snapshot(repo, commit="HEAD")

    assert snapshot.commit == head(repo)
    assert snapshot.files == {
        path: content.decode("utf-8") if isinstance(content, bytes) else content
        for path, content in FILES.items()
    }
    assert snapshot.files["windows.txt"] == "one\r\ntwo\r\n"
    assert list(snapshot.files) == sorted(snapshot.files)
    assert snapshot.skipped == []


def test_snapshot_skips_binary_oversized_and_non_utf8_files_with_the_reason(repo: Path) -> None:
    write(
        repo,
        {
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "latin1.txt": b"caf\xe9\n",
            "big.txt": "x" * 200,
            "small.txt": "y" * 100,
        },
    )
    commit_all(repo)

    snapshot = read_snapshot(repo, commit="HEAD", max_file_bytes=100)

    assert snapshot.skipped == [
        Skipped("big.txt", SkipReason.TOO_LARGE),
        Skipped("latin1.txt", SkipReason.NOT_UTF8),
        Skipped("logo.png", SkipReason.BINARY),
    ]
    assert snapshot.files["small.txt"] == "y" * 100
    assert "big.txt" not in snapshot.files


def test_snapshot_never_reads_ignored_files(repo: Path) -> None:
    write(repo, {".gitignore": "secret.env\nbuild/\n", "secret.env": "TOKEN=hunter2\n"})
    write(repo, {"build/out.js": "generated\n"})
    commit_all(repo)

    snapshot = read_snapshot(repo, commit="HEAD")

    assert ".gitignore" in snapshot.files
    assert "secret.env" not in snapshot.files
    assert not any(path.startswith("build/") for path in snapshot.files)
    assert all("hunter2" not in content for content in snapshot.files.values())


def test_snapshot_skips_symlinks_without_following_them(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("private\n")
    os.symlink(outside, repo / "escape")
    os.symlink("README.md", repo / "readme-link")
    commit_all(repo)

    snapshot = read_snapshot(repo, commit="HEAD")

    assert Skipped("escape", SkipReason.SYMLINK) in snapshot.skipped
    assert Skipped("readme-link", SkipReason.SYMLINK) in snapshot.skipped
    assert "private\n" not in snapshot.files.values()
    assert "escape" not in snapshot.files


def test_snapshot_skips_submodules(repo: Path) -> None:
    commit = head(repo)
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{commit},vendor/library")
    git(repo, "commit", "-q", "-m", "add a submodule")

    snapshot = read_snapshot(repo, commit="HEAD")

    assert snapshot.skipped == [Skipped("vendor/library", SkipReason.SUBMODULE)]


def test_snapshot_skips_paths_the_store_refuses(repo: Path) -> None:
    write(repo, {"tab\there.txt": "x\n"})
    commit_all(repo)

    snapshot = read_snapshot(repo, commit="HEAD")

    assert snapshot.skipped == [Skipped("tab\there.txt", SkipReason.UNSAFE_PATH)]


def test_snapshot_reads_the_commit_asked_for_not_the_working_tree(repo: Path) -> None:
    first = head(repo)
    write(repo, {"README.md": "# Renamed project\n"})
    commit_all(repo)
    write(repo, {"README.md": "uncommitted edit\n"})

    assert read_snapshot(repo, commit="HEAD").files["README.md"] == "# Renamed project\n"
    assert read_snapshot(repo, commit=first).files["README.md"] == "# Project\n"


def test_snapshot_of_a_bare_repository(repo: Path, tmp_path: Path) -> None:
    bare = make_bare(repo, tmp_path / "bare.git")

    assert read_snapshot(bare, commit="main").files == read_snapshot(repo, commit="main").files


def test_snapshot_tells_its_progress(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "many", {f"f{number:04}.txt": f"{number}\n" for number in range(1200)}
    )
    steps: list[Step] = []

    read_snapshot(repo, commit="HEAD", on_step=steps.append)

    assert steps[0] == Step("reading files", 0, 1200)
    assert Step("reading files", 500, 1200) in steps
    assert steps[-1] == Step("reading files", 1200, 1200)
    assert len(steps) < 10


def test_snapshot_refuses_a_revision_that_names_no_commit(repo: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        read_snapshot(repo, commit="no-such-branch")

    assert caught.value.field == "commit"


def test_snapshot_of_a_commit_no_longer_in_the_repository_is_not_found(repo: Path) -> None:
    with pytest.raises(NotFound):
        read_snapshot(repo, commit="f" * 40)
