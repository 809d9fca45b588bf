"""Patches as ``git diff`` and ``git format-patch`` write them: read into a
Change by libgit2 (parsed, then applied to the pre-image in a scratch
repository), and written from a Change for ``git apply`` and ``git am``."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.parser import BytesParser
from email.utils import format_datetime, formataddr

import pygit2
from pygit2.enums import ApplyLocation, DeltaStatus, DiffFind, DiffOption, FileMode

from store.errors import ValidationError
from store.text import visible
from store.validation import MAX_CODEBASE_FILES, MAX_TEXT, has_control
from store.vcs.change import Change, checked
from store.vcs.identity import Identity, checked_identity
from store.vcs.paths import FILE_MODES, REGULAR, kind_of_mode, repository_path

MAX_PATCH_BYTES = 50 * 1024 * 1024
_MAX_SUBJECT = 1000

Before = Callable[[str], str | None] | Mapping[str, str | None]
BeforeModes = Callable[[str], int | None] | Mapping[str, int]

_DIFF_HEADER = b"diff --git "
_HUNK_HEADER = b"@@ "
_BRACKETS = re.compile(r"^\s*(?:\[[^\]]*\]\s*)+")
_HUNK_FAILED = re.compile(r"hunk at line (\d+)")
_EMAIL_HEAD = re.compile(rb"^(?:From |From:|Subject:|Date:)", re.IGNORECASE)
_STATUSES = (
    DeltaStatus.ADDED,
    DeltaStatus.DELETED,
    DeltaStatus.MODIFIED,
    DeltaStatus.RENAMED,
    DeltaStatus.COPIED,
)


@dataclass
class _Section:
    """Where one file's part of the patch starts, and its hunks (line numbers)."""

    line: int
    hunks: list[int] = field(default_factory=list)


@contextmanager
def _scratch() -> Iterator[pygit2.Repository]:
    """A bare repository that lives as long as the block: a place for blobs,
    trees and an index that belong to no project."""
    with tempfile.TemporaryDirectory(prefix="projdeck-git-") as folder:
        repo = pygit2.init_repository(folder, bare=True)
        try:
            yield repo
        finally:
            repo.free()


def _lookup(before: Before) -> Callable[[str], str | None]:
    return before.get if isinstance(before, Mapping) else before


def _mode_lookup(before_modes: BeforeModes | None) -> Callable[[str], int | None]:
    if before_modes is None:
        return lambda _path: None
    return before_modes.get if isinstance(before_modes, Mapping) else before_modes


def _patch_bytes(patch: object, max_bytes: int) -> bytes:
    if isinstance(patch, str):
        if len(patch) > max_bytes:
            raise ValidationError("patch", f"is larger than {max_bytes} bytes")
        try:
            data = patch.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("patch", "is not valid Unicode text (lone surrogate)") from None
    elif isinstance(patch, bytes | bytearray | memoryview):
        data = bytes(patch)
    else:
        raise ValidationError("patch", "must be text or bytes")
    if len(data) > max_bytes:
        raise ValidationError("patch", f"is {len(data)} bytes; at most {max_bytes} allowed")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ValidationError(
            "patch", f"line {line} holds a NUL byte; a patch is text (binary changes are refused)"
        )
    return data


def _diff_start(data: bytes) -> int:
    if data.startswith(_DIFF_HEADER):
        return 0
    found = data.find(b"\n" + _DIFF_HEADER)
    if found < 0:
        raise ValidationError(
            "patch",
            "holds no 'diff --git' header; give a patch as git diff or git format-patch write it",
        )
    return found + 1


def _sections(data: bytes, start: int) -> list[_Section]:
    """Each file's header line and its hunks' lines, counted from 1 in the
    whole patch (a cheap scan for messages; libgit2 does the parsing)."""
    sections: list[_Section] = []
    first_line = data.count(b"\n", 0, start) + 1
    for number, line in enumerate(data[start:].split(b"\n"), start=first_line):
        if line.startswith(_DIFF_HEADER):
            _check_header(line, number)
            sections.append(_Section(number))
        elif line.startswith(_HUNK_HEADER) and sections:
            sections[-1].hunks.append(number)
    return sections


def _check_header(line: bytes, number: int) -> None:
    names = line[len(_DIFF_HEADER) :]
    if not (names.startswith((b"a/", b'"a/')) and (b" b/" in names or b' "b/' in names)):
        raise ValidationError(
            "patch",
            f"line {number}: the paths of a 'diff --git' header must start with a/ and b/ "
            "as git diff writes them (absolute paths are refused)",
        )
    if b"\\000" in names:
        raise ValidationError("patch", f"line {number}: a path holds a NUL character")


def _one_line(value: str) -> str:
    return " ".join("".join(" " if has_control(char) else char for char in value).split())


def _message(head: bytes) -> tuple[str | None, str | None, str | None, str | None]:
    """Subject, body, author name and email of a ``git format-patch`` email
    before the diff (all None when the patch has no email header)."""
    if not _EMAIL_HEAD.match(head):
        return None, None, None, None
    try:
        message = BytesParser(policy=policy.default).parsebytes(head)
        subject = _BRACKETS.sub("", _one_line(str(message.get("Subject", "")))) or None
        sender = message.get("From")
        addresses = getattr(sender, "addresses", ()) if sender is not None else ()
        name = _one_line(addresses[0].display_name) or None if addresses else None
        email = _one_line(addresses[0].addr_spec) or None if addresses else None
        payload = message.get_payload(decode=True)
        charset = message.get_content_charset() or "utf-8"
        text = payload.decode(charset, errors="replace") if isinstance(payload, bytes) else ""
    except Exception as error:  # the email package fails in many ways on hostile headers
        raise ValidationError("patch", f"its email header does not parse: {error}") from None
    lines: list[str] = []
    for line in text.splitlines():
        if line.rstrip("\r") == "---":
            break
        lines.append(line.rstrip("\r"))
    body = "\n".join(lines).strip() or None
    if subject is not None and len(subject) > _MAX_SUBJECT:
        raise ValidationError("patch", f"its subject is longer than {_MAX_SUBJECT} characters")
    if body is not None and len(body) > MAX_TEXT:
        raise ValidationError("patch", f"its message is longer than {MAX_TEXT} characters")
    return subject, body, name, email


def _parse(data: bytes) -> pygit2.Diff:
    try:
        return pygit2.Diff.parse_diff(data)
    except (pygit2.GitError, KeyError, ValueError) as error:
        problem = str(error).strip("'\"")
        raise ValidationError("patch", f"does not parse: {problem}") from None


def change_from_patch(
    patch: str | bytes,
    *,
    before: Before,
    before_modes: BeforeModes | None = None,
    base: str | None = None,
    max_bytes: int = MAX_PATCH_BYTES,
    max_files: int = MAX_CODEBASE_FILES,
) -> Change:
    """The change a patch makes to the files ``before`` gives (path -> text,
    None: no such file), applied by libgit2. A ``git format-patch`` email
    gives the subject, body and author too. A patch that does not parse or
    apply, is binary, too large, or names a path outside the repository is a
    ValidationError of "patch" naming the file and the line."""
    data = _patch_bytes(patch, max_bytes)
    start = _diff_start(data)
    subject, body, author_name, author_email = _message(data[:start])
    sections = _sections(data, start)
    diff = _parse(data)
    deltas = list(diff.deltas)
    if not deltas:
        raise ValidationError("patch", "changes no file")
    if len(deltas) > max_files:
        raise ValidationError("patch", f"changes {len(deltas)} files; at most {max_files} allowed")
    if len(sections) != len(deltas):
        # A "diff --git" line libgit2 did not take as a file (in the message):
        # the files are the last sections.
        sections = sections[-len(deltas) :] if len(sections) > len(deltas) else []
    located = [sections[i] if sections else None for i in range(len(deltas))]
    read = _lookup(before)
    read_mode = _mode_lookup(before_modes)
    preimages: dict[str, tuple[str, int]] = {}
    touched: set[str] = set()
    for delta, section in zip(deltas, located, strict=True):
        _check_delta(delta, section, read, read_mode, preimages, touched)
    with _scratch() as repo:
        index = repo.index
        for path, (content, mode) in preimages.items():
            index.add(
                pygit2.IndexEntry(path, repo.create_blob(content.encode("utf-8")), FileMode(mode))
            )
        index.write()
        try:
            repo.apply(diff, ApplyLocation.INDEX)
        except pygit2.GitError as error:
            raise _not_applying(repo, diff, data, located, error) from None
        result = repo.index
        result.read(True)
        files, modes, renames = _outcome(repo, result, deltas, located, preimages)
    return Change(
        files=files,
        modes=modes,
        renames=renames,
        base=base,
        subject=subject,
        body=body,
        author_name=author_name,
        author_email=author_email,
    )


def _at(section: _Section | None, path: str) -> str:
    shown = visible(path)
    return f"line {section.line}: {shown}" if section else shown


def _check_delta(
    delta: pygit2.DiffDelta,
    section: _Section | None,
    read: Callable[[str], str | None],
    read_mode: Callable[[str], int | None],
    preimages: dict[str, tuple[str, int]],
    touched: set[str],
) -> None:
    """Refuse what a patch may not do, and gather the file it starts from."""
    status = delta.status
    old_raw, new_raw = delta.old_file.path, delta.new_file.path
    where = _at(section, new_raw or old_raw)
    if delta.is_binary or delta.flags & pygit2.enums.DiffFlag.BINARY:
        raise ValidationError(
            "patch", f"{where}: a binary change; only changes to text files can be proposed"
        )
    if status not in _STATUSES:
        raise ValidationError("patch", f"{where}: a change of kind {status.name} is not supported")
    try:
        old = repository_path(old_raw, "patch") if status != DeltaStatus.ADDED else None
        new = repository_path(new_raw, "patch") if status != DeltaStatus.DELETED else None
    except ValidationError as error:
        raise ValidationError("patch", f"{where}: {error.problem}") from None
    if status == DeltaStatus.MODIFIED and old != new:
        raise ValidationError(
            "patch", f"{where}: names {old!r} and {new!r} but says neither rename nor copy"
        )
    for mode in (delta.old_file.mode, delta.new_file.mode):
        if mode and mode not in FILE_MODES:
            raise ValidationError(
                "patch", f"{where}: makes {kind_of_mode(mode)}; only regular files can be proposed"
            )
    for path in {old, new} - {None}:
        assert path is not None
        if path in touched:
            raise ValidationError(
                "patch", f"{_at(section, path)}: the patch changes this file twice"
            )
        if status != DeltaStatus.COPIED or path == new:
            touched.add(path)
    if old is not None:
        content = read(old)
        if content is None:
            raise ValidationError(
                "patch", f"{_at(section, old)}: the patch changes this file, which does not exist"
            )
        if not isinstance(content, str):
            raise TypeError(f"before({old!r}) must give text or None")
        stated = int(delta.old_file.mode)
        known = read_mode(old)
        start = stated if stated in FILE_MODES else known if known in FILE_MODES else REGULAR
        preimages[old] = (content, start)
    if new is not None and new != old and read(new) is not None:
        raise ValidationError(
            "patch", f"{_at(section, new)}: the patch creates this file, which already exists"
        )


def _not_applying(
    repo: pygit2.Repository,
    diff: pygit2.Diff,
    data: bytes,
    located: list[_Section | None],
    error: pygit2.GitError,
) -> ValidationError:
    """The first file whose hunks do not apply, and which hunk."""
    lines = data.split(b"\n")
    for number, section in enumerate(located):
        item = diff[number]
        if item is None:
            continue  # no text to apply: a rename or a mode change alone
        single = _one_file(item, section, located[number + 1 :], lines)
        if single is None:
            continue
        try:
            repo.applies(single, ApplyLocation.INDEX, raise_error=True)
        except pygit2.GitError as failure:
            path = item.delta.new_file.path or item.delta.old_file.path
            return ValidationError("patch", _hunk_failure(item, section, path, str(failure)))
    return ValidationError("patch", f"does not apply: {error}")


def _one_file(
    item: pygit2.Patch,
    section: _Section | None,
    later: list[_Section | None],
    lines: list[bytes],
) -> pygit2.Diff | None:
    """One file's part of the patch, to apply alone: as libgit2 writes it
    back, or else (it leaves out the ---/+++ lines of a patch without an
    index line, then cannot read it again) as the patch gave it."""
    try:
        return pygit2.Diff.parse_diff(item.data)
    except pygit2.GitError:
        pass
    if section is None:
        return None
    end = next((other.line for other in later if other is not None), len(lines) + 1)
    try:
        return pygit2.Diff.parse_diff(b"\n".join(lines[section.line - 1 : end - 1]) + b"\n")
    except pygit2.GitError:
        return None


def _hunk_failure(item: pygit2.Patch, section: _Section | None, path: str, problem: str) -> str:
    match = _HUNK_FAILED.search(problem)
    if match is None:
        return f"{_at(section, path)}: does not apply: {problem}"
    start = int(match.group(1))
    for number, hunk in enumerate(item.hunks, start=1):
        if start in (hunk.new_start, hunk.old_start):
            header = hunk.header.strip()
            line = (
                f"line {section.hunks[number - 1]}: "
                if section and len(section.hunks) >= number
                else ""
            )
            return (
                f"{line}{path}: hunk {number} ({header}) does not apply: the lines it "
                "changes are not in the file as it is"
            )
    return f"{_at(section, path)}: does not apply: {problem}"


def _outcome(
    repo: pygit2.Repository,
    index: pygit2.Index,
    deltas: list[pygit2.DiffDelta],
    located: list[_Section | None],
    preimages: dict[str, tuple[str, int]],
) -> tuple[dict[str, str | None], dict[str, int], dict[str, str]]:
    files: dict[str, str | None] = {}
    modes: dict[str, int] = {}
    renames: dict[str, str] = {}
    for delta, section in zip(deltas, located, strict=True):
        status = delta.status
        old = repository_path(delta.old_file.path, "patch")
        if status in (DeltaStatus.DELETED, DeltaStatus.RENAMED):
            files[old] = None
        if status == DeltaStatus.DELETED:
            continue
        new = repository_path(delta.new_file.path, "patch")
        entry = index[new]
        data = repo[entry.id].read_raw()
        try:
            files[new] = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(
                "patch", f"{_at(section, new)}: the patched file is not UTF-8 text"
            ) from None
        if status == DeltaStatus.RENAMED:
            renames[new] = old
        # A patch that states no mode keeps the file's (as git apply does;
        # libgit2 would make it 100644).
        start = preimages[old][1] if old in preimages else REGULAR
        stated = int(delta.new_file.mode)
        mode = stated if stated in FILE_MODES else start
        if status != DeltaStatus.MODIFIED or mode != start:
            modes[new] = mode
    return files, modes, renames


def format_patch(change: Change, *, before: Before, before_modes: BeforeModes | None = None) -> str:
    """``change`` made to the files ``before`` gives, as a patch ``git
    apply`` takes (written by libgit2: modes, renames found as git finds
    them, "No newline at end of file" markers). Empty when nothing changes."""
    change = checked(change)
    read = _lookup(before)
    read_mode = _mode_lookup(before_modes)
    with _scratch() as repo:
        old_index, new_index = pygit2.Index(), pygit2.Index()
        for path, content in change.files.items():
            prior = read(path)
            known = read_mode(path)
            prior_mode = known if known in FILE_MODES else REGULAR
            if prior is not None:
                blob = repo.create_blob(prior.encode("utf-8"))
                old_index.add(pygit2.IndexEntry(path, blob, FileMode(prior_mode)))
            elif content is None:
                raise ValidationError("files", f"deletes {path!r}, which does not exist before it")
            if content is not None:
                mode = change.modes.get(path) or (prior_mode if prior is not None else REGULAR)
                blob = repo.create_blob(content.encode("utf-8"))
                new_index.add(pygit2.IndexEntry(path, blob, FileMode(mode)))
        old_tree = repo[old_index.write_tree(repo)].peel(pygit2.Tree)
        new_tree = repo[new_index.write_tree(repo)].peel(pygit2.Tree)
        diff = old_tree.diff_to_tree(new_tree, flags=DiffOption.FORCE_TEXT, interhunk_lines=0)
        diff.find_similar(DiffFind.FIND_RENAMES)
        return diff.patch or ""


def format_mbox(
    change: Change,
    *,
    before: Before,
    subject: str,
    author: Identity,
    body: str | None = None,
    before_modes: BeforeModes | None = None,
) -> str:
    """``change`` as one email of a mailbox, as ``git format-patch`` writes
    it, for ``git am``: author, date (the author's time), subject and body.
    Mail drops carriage returns: a change to CRLF files needs ``git am
    --keep-cr``, as one made by ``git format-patch`` does."""
    author = checked_identity(author, "author")
    if not isinstance(subject, str) or not subject.strip() or has_control(subject.strip()):
        raise ValidationError("subject", "must be one line of text, without control characters")
    if len(subject) > _MAX_SUBJECT:
        raise ValidationError("subject", f"is longer than {_MAX_SUBJECT} characters")
    text = (body or "").strip("\n")
    if "\x00" in text or any(line.rstrip() == "---" for line in text.splitlines()):
        raise ValidationError("body", "must not hold NUL or a line '---' (it ends the message)")
    name = formataddr((author.name.strip(), author.email.strip()), charset="utf-8")
    encoded = subject.strip() if subject.isascii() else Header(subject.strip(), "utf-8").encode()
    lines = [
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001",
        f"From: {name}",
        f"Date: {format_datetime(author.when())}",
        f"Subject: [PATCH] {encoded}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: 8bit",
        "",
    ]
    message = "\n".join(lines) + "\n" + (f"{text}\n" if text else "")
    patch = format_patch(change, before=before, before_modes=before_modes)
    return f"{message}---\n{patch}-- \nprojdeck\n\n"
