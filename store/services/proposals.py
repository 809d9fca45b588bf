"""What an agent proposes to a project's stored codebase, checked before
anything is written (the request, the files and their modes, the files it
affects, the codebase's limits), what applying it would make, and the
hashes that tie a review to the apply: a file's content hash and the
digest of the files as reviewed. ``store.services.modifications`` writes
the proposal and moves it through review to apply."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from store import validation
from store.errors import ValidationError
from store.services.review import ChangeKind, change_kind

ABSENT = "absent"


@dataclass
class ModificationProposal:
    """What an agent proposes. ``modified_files`` maps a path to its new
    content, or to None to delete the file; ``affected_files`` (default: those
    paths) are the files whose change since the proposal makes apply fail.
    On a project linked to a git repository, ``base_commit`` is the commit
    the change was made against (applying merges it onto the branch from
    there) and ``file_modes`` the git modes of files it adds or re-modes."""

    request: str
    modified_files: Mapping[str, str | None]
    requested_by: str | None = None
    affected_files: Sequence[str] | None = None
    impact_analysis: Mapping[str, Any] = field(default_factory=dict)
    test_results: Mapping[str, Any] = field(default_factory=dict)
    base_commit: str | None = None
    file_modes: Mapping[str, int] | None = None


PROPOSAL_FIELDS = tuple(item.name for item in fields(ModificationProposal))


def content_hash(content: str | None) -> str:
    """What the base records for a file: a hash of its content, or ``absent``."""
    if content is None:
        return ABSENT
    return "sha256:" + hashlib.sha256(content.encode("utf-8")).hexdigest()


def files_digest(files: Mapping[str, str | None]) -> str:
    """SHA-256 (hex) over a modification's files: each path with its new
    content, or null for a deletion, in path order. Migration 0008 computes
    the same for modifications approved before it."""
    pairs = [[path, files[path]] for path in sorted(files)]
    encoded = json.dumps(pairs, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def proposal_from_payload(payload: Any) -> ModificationProposal:
    """A proposal from one JSON document with the proposal's fields."""
    if not isinstance(payload, Mapping):
        raise ValidationError("payload", "must be a JSON object with request and modified_files")
    for key in payload:
        if key not in PROPOSAL_FIELDS:
            raise ValidationError(
                str(key), f"is not a proposal field (allowed: {', '.join(PROPOSAL_FIELDS)})"
            )
    for required in ("request", "modified_files"):
        if required not in payload:
            raise ValidationError(required, "is required")
    values = dict(payload)
    for optional in ("impact_analysis", "test_results"):
        if values.get(optional) is None:
            values.pop(optional, None)
    return ModificationProposal(**values)


def _request(value: Any) -> str:
    request = validation.text("request", value).strip()
    if not request:
        raise ValidationError("request", "must not be empty")
    return request


def _modified_files(value: Any) -> dict[str, str | None]:
    name = "modified_files"
    if not isinstance(value, Mapping):
        raise ValidationError(name, "must map file paths to new contents (null deletes a file)")
    if not value:
        raise ValidationError(name, "must change at least one file")
    if len(value) > validation.MAX_CODEBASE_FILES:
        raise ValidationError(
            name, f"has {len(value)} files; at most {validation.MAX_CODEBASE_FILES} allowed"
        )
    result: dict[str, str | None] = {}
    for raw_path, content in value.items():
        path = validation.codebase_path(raw_path, name)
        if path in result:
            raise ValidationError(name, f"path {raw_path!r} is the same file as another path")
        result[path] = (
            None if content is None else validation.file_content(f"{name}[{path}]", content)
        )
    return result


def _affected_files(value: Any, modified: Mapping[str, str | None]) -> list[str]:
    name = "affected_files"
    if value is None:
        return sorted(modified)
    if not isinstance(value, list | tuple):
        raise ValidationError(name, "must be a list of file paths")
    if len(value) > validation.MAX_CODEBASE_FILES:
        raise ValidationError(
            name, f"has {len(value)} paths; at most {validation.MAX_CODEBASE_FILES} allowed"
        )
    paths = {validation.codebase_path(item, name) for item in value}
    missing = sorted(set(modified) - paths)
    if missing:
        raise ValidationError(
            name, f"must include every modified file (missing: {', '.join(missing)})"
        )
    return sorted(paths)


def _validate_proposal(proposal: ModificationProposal, actor: str) -> dict[str, Any]:
    modified = _modified_files(proposal.modified_files)
    return {
        "request": _request(proposal.request),
        "requested_by": validation.name("requested_by", proposal.requested_by or actor),
        "modified_files": modified,
        "affected_files": _affected_files(proposal.affected_files, modified),
        "impact_analysis": validation.json_object("impact_analysis", proposal.impact_analysis),
        "test_results": validation.json_object("test_results", proposal.test_results),
        "base_commit": None
        if proposal.base_commit is None
        else validation.commit_id("base_commit", proposal.base_commit),
        "file_modes": _file_modes(proposal.file_modes, modified),
    }


def _file_modes(
    value: Mapping[str, int] | None, modified: Mapping[str, str | None]
) -> dict[str, int] | None:
    if not value:
        return None
    modes = validation.file_modes("file_modes", value)
    stray = sorted(path for path in modes if modified.get(path) is None)
    if stray:
        raise ValidationError(
            "file_modes", f"names files the change does not write: {', '.join(stray)}"
        )
    return modes


def _result_of(codebase: Mapping[str, str], files: Mapping[str, str | None]) -> dict[str, str]:
    result = dict(codebase)
    for path, content in files.items():
        if content is None:
            result.pop(path, None)
        else:
            result[path] = content
    return result


def _check_codebase_limits(codebase: Mapping[str, str]) -> None:
    if len(codebase) > validation.MAX_CODEBASE_FILES:
        raise ValidationError(
            "modified_files",
            f"would leave the project with {len(codebase)} files; "
            f"at most {validation.MAX_CODEBASE_FILES} allowed",
        )
    total = sum(len(content.encode("utf-8")) for content in codebase.values())
    if total > validation.MAX_CODEBASE_BYTES:
        raise ValidationError(
            "modified_files",
            f"would make the codebase larger than {validation.MAX_CODEBASE_BYTES // (1024 * 1024)} MiB",
        )


def _audit_files(files: Mapping[str, str | None], before: Mapping[str, str]) -> dict[str, Any]:
    """Which paths a change adds, modifies and deletes (never contents)."""
    kinds: dict[str, list[str]] = {kind.value: [] for kind in ChangeKind}
    for path in sorted(files):
        kinds[change_kind(before.get(path), files[path]).value].append(path)
    return kinds
