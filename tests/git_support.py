"""Real git repositories for the tests of the git layer, built and checked
with the git program (tests may run it; projdeck never does), with no
user or system configuration of this machine in the way; and a project
linked to one."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pygit2
import pytest
from pygit2.enums import ConfigLevel

from store.engine import Database
from store.services import git as git_service
from store.services import projects as project_service
from store.vcs import Identity

AUTHOR = Identity("Ada Reviewer", "ada@example.org")
AGENT = Identity("Agent Smith", "agent@example.org")
# The repository of the tests of linked projects: a project named billing.
BILLING = {
    "README.md": "# Billing\n",
    "src/rates.py": "RATE = 1\n\n\ndef rate():\n    return RATE\n",
    "src/taxes.py": "TAX = 0.2\n",
}

_LEVELS = (ConfigLevel.GLOBAL, ConfigLevel.XDG, ConfigLevel.SYSTEM, ConfigLevel.PROGRAMDATA)


_ENVIRONMENT = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": os.environ.get("HOME", "/"),
    "XDG_CONFIG_HOME": "/nonexistent",
    "LANG": "C.UTF-8",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Tess Tester",
    "GIT_AUTHOR_EMAIL": "tess@example.org",
    "GIT_COMMITTER_NAME": "Tess Tester",
    "GIT_COMMITTER_EMAIL": "tess@example.org",
    "GIT_TERMINAL_PROMPT": "0",
}


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """In every test, libgit2 and the git program both read no configuration
    but the repositories' own."""
    home = tmp_path_factory.mktemp("home")
    saved = {level: pygit2.settings.search_path[level] for level in _LEVELS}
    for level in _LEVELS:
        pygit2.settings.search_path[level] = str(home)
    try:
        yield
    finally:
        for level, value in saved.items():
            pygit2.settings.search_path[level] = value


def git(folder: Path, *args: str, stdin: bytes | None = None, check: bool = True) -> str:
    """Run git in ``folder`` and give its output."""
    done = subprocess.run(
        ["git", "-C", str(folder), *args],
        input=stdin,
        capture_output=True,
        env=_ENVIRONMENT,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"git {' '.join(args)} failed ({done.returncode}):\n"
            + done.stderr.decode("utf-8", "replace")
        )
    return done.stdout.decode("utf-8", "surrogateescape")


def write(folder: Path, files: Mapping[str, str | bytes | None]) -> None:
    """Write files byte-exact (text as UTF-8, no newline translation); None
    deletes."""
    for name, content in files.items():
        target = folder / name
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def commit_all(folder: Path, message: str = "work") -> str:
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "--allow-empty", "-m", message)
    return head(folder)


def commit_as_agent(folder: Path, message: str) -> str:
    """Commit everything in ``folder`` with the agent (AGENT) as its author;
    gives the commit."""
    git(folder, "add", "-A")
    git(folder, "commit", "-q", f"--author={AGENT.name} <{AGENT.email}>", "-m", message)
    return head(folder)


def head(folder: Path, rev: str = "HEAD") -> str:
    return git(folder, "rev-parse", rev).strip()


def make_repo(folder: Path, files: Mapping[str, str | bytes], *, branch: str = "main") -> Path:
    """A working tree on ``branch`` with one commit holding ``files``."""
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "-q", "-b", branch)
    git(folder, "config", "core.autocrlf", "false")
    write(folder, files)
    commit_all(folder, "first")
    return folder


@pytest.fixture
def repository(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A working tree on ``main`` with one commit holding the test module's
    ``FILES``."""
    files: Mapping[str, str | bytes] = request.module.FILES
    return make_repo(tmp_path / "repo", files)


@pytest.fixture
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The git layer's tests' working tree, ``project`` on ``main``, with one
    commit holding the test module's ``FILES``."""
    files: Mapping[str, str | bytes] = request.module.FILES
    return make_repo(tmp_path / "project", files)


async def linked_billing(db: Database, folder: Path, **fields: Any) -> None:
    """A project ``billing`` (an api owned by alice; ``fields`` add to its
    ProjectCreate) linked to the repository at ``folder`` and synced."""
    await project_service.create_project_with_settings(
        db, project_service.ProjectCreate(name="billing", type="api", owner_id="alice", **fields)
    )
    await git_service.link_project(db, "billing", folder)
    await git_service.sync_project(db, "billing")


def make_bare(origin: Path, folder: Path) -> Path:
    """A bare clone of ``origin``."""
    git(origin.parent, "clone", "-q", "--bare", str(origin), str(folder))
    return folder


def status(folder: Path) -> str:
    return git(folder, "status", "--porcelain")


def write_change(folder: Path, files: Mapping[str, str | None], modes: Mapping[str, int]) -> None:
    """Make a change's files and modes on disk, as an agent would."""
    write(folder, files)
    for name, mode in modes.items():
        (folder / name).chmod(0o755 if mode == 0o100755 else 0o644)


def tree_files(folder: Path) -> dict[str, str]:
    """Every file of a working tree but .git, as text, by relative path."""
    found = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).as_posix()
        if relative == ".git" or relative.startswith(".git/") or not path.is_file():
            continue
        found[relative] = path.read_bytes().decode("utf-8")
    return found


def is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & 0o100)
