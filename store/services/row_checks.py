"""Every row an import, a restore from an export or a transfer brings in,
checked as the services check what a person or an agent gives them (names,
paths, sizes, control characters), so a file or database written by someone
else cannot hold what the CLI would refuse.

A value passes when its check accepts it and gives it back unchanged: a name
with white space around it, or a file path not in normal form, is refused
rather than stored as the services would never store it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from store import validation
from store.errors import ValidationError
from store.models import CommentSide, HunkVerdict
from store.repositories.secrets import WEBHOOK_URL_KEY
from store.services import agent_input, projects, secrets

Check = Callable[[Any], Any]

_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_BASE_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _name(field: str, limit: int = validation.MAX_NAME) -> Check:
    return lambda value: validation.name(field, value, limit=limit)


def _text(field: str, limit: int = validation.MAX_TEXT) -> Check:
    return lambda value: validation.text(field, value, limit=limit)


def _json(field: str) -> Check:
    return lambda value: validation.json_object(field, value)


def _hex_digest(field: str) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not _HEX_DIGEST.fullmatch(value):
            raise ValidationError(field, "is not a SHA-256 digest (64 lower-case hex digits)")
        return value

    return check


def _paths(field: str) -> Check:
    def check(value: Any) -> list[str]:
        if not isinstance(value, list) or len(value) > validation.MAX_CODEBASE_FILES:
            raise ValidationError(
                field, f"must be a list of at most {validation.MAX_CODEBASE_FILES} file paths"
            )
        return [validation.codebase_path(item, field) for item in value]

    return check


def _files(field: str, *, deletions: bool) -> Check:
    """A map of file paths to contents (None: the file is deleted or absent)."""

    def check(value: Any) -> dict[str, str | None]:
        if not isinstance(value, Mapping) or len(value) > validation.MAX_CODEBASE_FILES:
            raise ValidationError(
                field, f"must map at most {validation.MAX_CODEBASE_FILES} file paths to contents"
            )
        result: dict[str, str | None] = {}
        for raw_path, content in value.items():
            path = validation.codebase_path(raw_path, field)
            if content is None and deletions:
                result[path] = None
            else:
                result[path] = validation.file_content(f"{field}[{path}]", content)
        return result

    return check


def _base(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError("base", "must map file paths to content hashes")
    for raw_path, digest in value.items():
        validation.codebase_path(raw_path, "base")
        if digest != "absent" and not (isinstance(digest, str) and _BASE_HASH.fullmatch(digest)):
            raise ValidationError("base", f"the hash of {raw_path!r} is not sha256:<hex> or absent")
    return dict(value)


def _commit(field: str) -> Check:
    return lambda value: validation.commit_id(field, value)


def _link_path(value: Any) -> str:
    # A folder of this or another machine, as linking checks it.
    return validation.repository_path("path", value)


def _key_name(value: Any) -> str:
    # The project's sealed webhook URL is kept as a secret row under a name
    # no person can give a secret (lower case): an export carries it too.
    if value == WEBHOOK_URL_KEY:
        return WEBHOOK_URL_KEY
    return secrets.secret_name(value)


def _template_row(values: Mapping[str, Any]) -> None:
    """A template is checked as it is before every use: as a spec (its
    metadata, files and template code)."""
    from store.models import Template
    from store.services.templates import _spec

    row = Template(**{key: value for key, value in values.items()})
    _spec(row)


# Per table, each column a person or an agent writes and how it is checked;
# ids, times, enums and numbers are checked by decoding and by the
# database's own constraints.
COLUMN_CHECKS: dict[str, dict[str, Check]] = {
    # The very checks of project create/update and settings set.
    "projects": {
        **projects._PROJECT_FIELDS,
        "snapshot_commit": _optional(_commit("snapshot_commit")),
    },
    "project_settings": dict(projects._SETTINGS_FIELDS),
    "project_secrets": {"key_name": _key_name, "key_id": _name("key_id", 64)},
    "templates": {
        "name": _name("name", 100),
        "description": _text("description", 10_000),
        "files": _files("files", deletions=False),
        "required_vars": lambda value: validation.string_list("required_vars", value),
        "optional_vars": _json("optional_vars"),
        "tech_stack": lambda value: validation.string_list("tech_stack", value),
        "tags": lambda value: validation.string_list("tags", value),
        "variables": lambda value: validation.json_object("variables", {"v": value})["v"],
        "project_setup": _json("project_setup"),
    },
    "modifications": {
        "request": _text("request"),
        "requested_by": _name("requested_by"),
        "impact_analysis": _json("impact_analysis"),
        "affected_files": _paths("affected_files"),
        "reviewed_by": _optional(_name("reviewed_by")),
        "review_comment": _optional(_text("review_comment")),
        "modified_files": _files("modified_files", deletions=True),
        "base": _base,
        "test_results": _json("test_results"),
        "failure_reason": _optional(_text("failure_reason")),
        "approved_digest": _optional(_hex_digest("approved_digest")),
        "previous_contents": _optional(_files("previous_contents", deletions=True)),
        "base_commit": _optional(_commit("base_commit")),
        "applied_commit": _optional(_commit("applied_commit")),
        "file_modes": _optional(lambda value: validation.file_modes("file_modes", value)),
        "proposed_files": _optional(_files("proposed_files", deletions=True)),
        "local_test_results": _optional(_json("local_test_results")),
    },
    "hunk_decisions": {
        "path": lambda value: validation.codebase_path(value, "path"),
        "fingerprint": _hex_digest("fingerprint"),
        "verdict": lambda value: validation.enum_value("verdict", value, HunkVerdict),
        "reason": _optional(_text("reason")),
        "decided_by": _name("decided_by"),
    },
    "review_comments": {
        "path": lambda value: validation.codebase_path(value, "path"),
        "side": lambda value: validation.enum_value("side", value, CommentSide),
        "line_text": _text("line_text", validation.MAX_FILE_BYTES),
        "body": _text("body"),
        "author": _name("author"),
    },
    "repository_links": {
        "machine": _name("machine", 64),
        "path": _link_path,
        "linked_by": _name("linked_by"),
    },
    "audit_log": {
        "actor": _name("actor"),
        "event_type": _name("event_type", 100),
        "entity_type": _optional(_name("entity_type", 50)),
        "entity_id": _optional(_name("entity_id", 64)),
        "description": _text("description"),
        "metadata": _json("metadata"),
        "prev_hash": _optional(_hex_digest("prev_hash")),
        "hash": _optional(_hex_digest("hash")),
    },
    "conversations": {
        "title": _name("title"),
        "intent": _optional(_name("intent", 100)),
        "started_by": _name("started_by"),
    },
    "messages": {
        "content": _text("content", agent_input.MAX_CONTENT),
        "intent": _optional(_name("intent", 100)),
        "model_used": _optional(_name("model", 100)),
        "metadata": _json("metadata"),
    },
    "agent_runs": {
        "agent": _name("agent", 100),
        "task": _text("task"),
        "error": _optional(_text("error")),
        "test_results": _json("test_results"),
    },
    "webhook_deliveries": {
        "event": _name("event", 100),
        "url": _name("url", validation.MAX_URL),
        "response_excerpt": _optional(_text("response", validation.MAX_FILE_BYTES)),
    },
}


def check_row(table: str, values: Mapping[str, Any]) -> None:
    """A ValidationError naming the column (``table.column: problem``) of
    the first value the services would not have stored."""
    checks = COLUMN_CHECKS.get(table, {})
    for column, check in checks.items():
        if column not in values:
            continue
        value = values[column]
        try:
            clean = check(value)
        except ValidationError as error:
            raise ValidationError(f"{table}.{column}", _problem(column, error)) from None
        if clean != value:
            raise ValidationError(
                f"{table}.{column}",
                "is not as projdeck stores it (white space around a name, or a file path "
                "not in normal form)",
            )
    if table == "templates":
        try:
            _template_row(values)
        except ValidationError as error:
            raise ValidationError("templates", error.message) from None


def _problem(column: str, error: ValidationError) -> str:
    # Say the validator's own field when it is more precise (a file's path).
    return error.problem if error.field == column else f"{error.field}: {error.problem}"
