"""A linked git repository: opening it, its branches and their tips, and how
far a branch has moved since a commit."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import RepositoryOpenFlag

from store.errors import NotFound, ValidationError
from store.validation import has_control
from store.vcs.paths import FILE_MODES

_FULL_ID = re.compile(r"^[0-9a-f]{40}$")
_MAX_REV = 1024


@dataclass(frozen=True)
class RepositoryLink:
    """A repository a project is linked to: its top folder (or the bare
    repository's folder), resolved; whether it is bare; the branch changes
    are applied to and that branch's tip commit."""

    path: str
    bare: bool
    branch: str
    tip: str


@dataclass(frozen=True)
class Distance:
    """Commits on the branch since a commit (``ahead``), and commits of that
    commit's history the branch does not hold (``behind``: history rewritten)."""

    ahead: int
    behind: int


def open_repository(path: str | os.PathLike[str], *, field: str = "path") -> pygit2.Repository:
    """The repository at ``path``: the top folder of a working tree, or a
    bare repository (parent folders are not searched)."""
    if not isinstance(path, str | os.PathLike):
        raise ValidationError(field, "must be the path of a folder")
    text = os.fspath(path)
    if not text or "\x00" in text or has_control(text):
        raise ValidationError(field, f"{text!r} is not a usable path")
    folder = Path(text).expanduser()
    if not folder.is_dir():
        raise ValidationError(field, f"{text} is not a folder")
    try:
        return pygit2.Repository(str(folder.resolve()), RepositoryOpenFlag.NO_SEARCH)
    except pygit2.GitError as error:
        raise ValidationError(
            field,
            f"{text} is not a git repository (the top folder of a working tree, or a bare "
            f"repository): {error}",
        ) from None


def where(repo: pygit2.Repository) -> str:
    """The folder a person knows the repository by."""
    return (repo.workdir or repo.path).rstrip("/") or "/"


def branch_name(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError("branch", "must be a branch name")
    if value.startswith("refs/heads/"):
        value = value.removeprefix("refs/heads/")
    if not pygit2.reference_is_valid_name(f"refs/heads/{value}") or has_control(value):
        raise ValidationError("branch", f"{value!r} is not a valid branch name")
    return value


def branch_reference(repo: pygit2.Repository, branch: object) -> pygit2.Reference:
    """The branch's reference, pointing at a commit."""
    name = branch_name(branch)
    try:
        reference = repo.lookup_reference(f"refs/heads/{name}")
    except (KeyError, pygit2.GitError):
        raise ValidationError("branch", f"there is no branch {name!r} in {where(repo)}") from None
    try:
        reference.peel(pygit2.Commit)
    except (pygit2.GitError, KeyError, ValueError):
        raise ValidationError(
            "branch", f"branch {name!r} in {where(repo)} does not point at a commit"
        ) from None
    return reference


def tip_of(reference: pygit2.Reference) -> pygit2.Oid:
    target = reference.target
    assert isinstance(target, pygit2.Oid), "a branch is a direct reference"
    return target


def rev_text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must name a commit")
    if len(value) > _MAX_REV or has_control(value) or value.startswith("-"):
        raise ValidationError(field, f"{value[:80]!r} is not a revision")
    return value.strip()


def resolve_commit(repo: pygit2.Repository, rev: object, *, field: str) -> pygit2.Commit:
    """The commit ``rev`` names (an id, a branch, a tag, ``HEAD~2``...).
    A full commit id no longer in the repository is NotFound; anything else
    that names no commit is a ValidationError of ``field``."""
    text = rev_text(rev, field)
    if _FULL_ID.fullmatch(text) and text not in repo:
        raise NotFound(
            f"commit {text[:12]} is no longer in the repository {where(repo)} "
            "(its history was rewritten or pruned)"
        )
    try:
        found = repo.revparse_single(text)
        return found.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        raise ValidationError(field, f"{text!r} names no commit in {where(repo)}") from None


def inspect_repository(
    path: str | os.PathLike[str], *, branch: str | None = None
) -> RepositoryLink:
    """What linking a project to the repository at ``path`` records: its
    folder, bareness, the branch (by default the one HEAD points to) and
    that branch's tip."""
    repo = open_repository(path)
    if branch is None:
        if repo.head_is_detached:
            raise ValidationError(
                "branch", f"HEAD of {where(repo)} is detached (on no branch); name a branch"
            )
        head = repo.lookup_reference("HEAD").target
        if repo.head_is_unborn or not isinstance(head, str):
            raise ValidationError(
                "branch",
                f"HEAD of {where(repo)} points at the branch {str(head).removeprefix('refs/heads/')!r},"
                " which has no commits yet; commit first or name another branch",
            )
        branch = head
    reference = branch_reference(repo, branch)
    return RepositoryLink(
        path=where(repo),
        bare=repo.is_bare,
        branch=reference.shorthand,
        tip=str(tip_of(reference)),
    )


def branch_tip(path: str | os.PathLike[str], *, branch: str) -> str:
    """The id of the commit the branch points at now."""
    repo = open_repository(path)
    return str(tip_of(branch_reference(repo, branch)))


def distance(path: str | os.PathLike[str], *, since: str, branch: str) -> Distance:
    """How far the branch has moved since the commit ``since`` (a snapshot's
    or a proposal's); NotFound when that commit is no longer in the repository."""
    repo = open_repository(path)
    tip = tip_of(branch_reference(repo, branch))
    then = resolve_commit(repo, since, field="since")
    ahead, behind = repo.ahead_behind(tip, then.id)
    return Distance(ahead=ahead, behind=behind)


def parent_of(path: str | os.PathLike[str], *, commit: str) -> str:
    """The first parent of ``commit`` (the branch's tip it was made on)."""
    repo = open_repository(path)
    found = resolve_commit(repo, commit, field="commit")
    if not found.parent_ids:
        raise ValidationError("commit", f"{commit[:12]} is a root commit (no parent)")
    return str(found.parent_ids[0])


def configured_email(path: str | os.PathLike[str]) -> str | None:
    """``user.email`` as the repository's configuration gives it, if set."""
    repo = open_repository(path)
    try:
        value = repo.config["user.email"]
    except (KeyError, pygit2.GitError):
        return None
    text = str(value).strip()
    return text if text and not has_control(text) and " " not in text else None


def has_commit(path: str | os.PathLike[str], *, commit: str) -> bool:
    """Whether the repository holds the commit ``commit`` (a full id)."""
    repo = open_repository(path)
    if not _FULL_ID.fullmatch(commit):
        return False
    found = repo.get(commit)
    return isinstance(found, pygit2.Commit)


class CommitFiles:
    """The files of one commit, read on demand: their text (None: no such
    file, or not a text file git would show as one) and their git mode."""

    def __init__(self, path: str | os.PathLike[str], *, commit: str) -> None:
        self.repo = open_repository(path)
        self.commit = resolve_commit(self.repo, commit, field="commit")
        self.tree = self.commit.tree

    def _entry(self, file: str) -> pygit2.Object | None:
        try:
            return self.tree[file]
        except (KeyError, ValueError):
            return None

    def text(self, file: str) -> str | None:
        entry = self._entry(file)
        if not isinstance(entry, pygit2.Blob) or entry.filemode not in FILE_MODES:
            return None
        if entry.is_binary:
            return None
        try:
            return entry.data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def mode(self, file: str) -> int | None:
        entry = self._entry(file)
        return None if entry is None else int(entry.filemode)

    def texts(self, files: Iterable[str]) -> dict[str, str | None]:
        return {file: self.text(file) for file in files}


def files_at(path: str | os.PathLike[str], *, commit: str) -> CommitFiles:
    """The files of ``commit`` in the repository at ``path``, read on demand."""
    return CommitFiles(path, commit=commit)
