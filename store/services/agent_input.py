"""What a script or an agent hands the agent services, checked before
anything is written: messages (one by one, or as JSONL lines), test
results, the times it recorded (at most five minutes ahead of ours), counts
and labels; each error names the field. ``store.services.agents`` writes
what passes and re-exports what is public here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from store import validation
from store.errors import ValidationError
from store.models import MessageRole
from store.money import parse_amount, to_micros
from store.redaction import redact

MAX_CONTENT = 1_000_000
MAX_TOKENS = 100_000_000
MAX_BATCH = 10_000
MAX_TEST_COUNT = 10_000_000
TEST_FIELDS = ("passed", "failed", "skipped", "failing", "duration_seconds")


@dataclass
class MessageInput:
    """One message as an agent records it. ``cost`` is text or a Decimal;
    ``created_at`` (default: now) lets an agent record past messages."""

    role: MessageRole | str
    content: str
    model_used: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal | str | int = 0
    intent: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


def _label(field_name: str, value: Any, limit: int = 100) -> str:
    return validation.name(field_name, value, limit=limit)


def _optional_label(field_name: str, value: Any, limit: int = 100) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return _label(field_name, value, limit)


def _count(field_name: str, value: Any, *, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field_name, f"{value!r} is not a whole number")
    if value < 0:
        raise ValidationError(field_name, f"{value} is negative; give 0 or more")
    if value > limit:
        raise ValidationError(field_name, f"{value} is more than {limit:,}; is that a typo?")
    return value


def _message_values(item: MessageInput) -> dict[str, Any]:
    role = validation.enum_value("role", item.role, MessageRole)
    content = validation.text("content", item.content, limit=MAX_CONTENT)
    if not content.strip():
        raise ValidationError("content", "must not be empty")
    return {
        "role": role,
        "content": content,
        "model_used": _optional_label("model", item.model_used),
        "intent": _optional_label("intent", item.intent),
        "prompt_tokens": _count("tokens_in", item.prompt_tokens, limit=MAX_TOKENS),
        "completion_tokens": _count("tokens_out", item.completion_tokens, limit=MAX_TOKENS),
        "cost_micros": to_micros(parse_amount("cost", item.cost)),
        "details": redact(validation.json_object("metadata", item.metadata)),
        "created_at": validation.recorded_time("created_at", item.created_at),
    }


def check_test_results(value: Any) -> dict[str, Any]:
    """``{"passed": n, "failed": n, "skipped": n, "failing": [names],
    "duration_seconds": s}``: passed and failed required, the rest optional."""
    if not isinstance(value, Mapping):
        raise ValidationError(
            "tests", "must be a JSON object with passed, failed, skipped and failing"
        )
    for key in value:
        if key not in TEST_FIELDS:
            raise ValidationError(
                f"tests.{key}", f"is not a test result field (allowed: {', '.join(TEST_FIELDS)})"
            )
    result: dict[str, Any] = {}
    for key in ("passed", "failed", "skipped"):
        if key not in value:
            if key == "skipped":
                result[key] = 0
                continue
            raise ValidationError(f"tests.{key}", "is required")
        result[key] = _count(f"tests.{key}", value[key], limit=MAX_TEST_COUNT)
    failing = validation.string_list("tests.failing", value.get("failing", []), item_limit=1000)
    if len(failing) > result["failed"]:
        raise ValidationError(
            "tests.failing", f"names {len(failing)} tests but failed is {result['failed']}"
        )
    result["failing"] = failing
    if value.get("duration_seconds") is not None:
        seconds = value["duration_seconds"]
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 <= seconds < 10**9
        ):
            raise ValidationError("tests.duration_seconds", f"{seconds!r} is not a duration")
        result["duration_seconds"] = seconds
    return result


# The fields of a JSON line, named as ``agent message``'s options.
JSONL_FIELDS = ("role", "content", "model", "tokens_in", "tokens_out", "cost", "intent", "metadata")


def messages_from_jsonl(text: str) -> tuple[list[MessageInput], list[str]]:
    """Messages given one JSON object a line (blank lines skipped), each
    with ``agent message``'s options as fields (``role`` and ``content``
    required), and the label of each (``line 7``), which ``add_messages``
    names a bad value by (``line 7: tokens_in: 'x' is not a whole number``).
    Here each line's shape is checked: JSON, an object, its fields."""
    items: list[MessageInput] = []
    labels: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if len(items) >= MAX_BATCH:
            raise ValidationError("jsonl", f"more than {MAX_BATCH:,} messages; split the file")
        field_name = f"line {number}"
        value = validation.parse_json(field_name, line)
        if not isinstance(value, Mapping):
            raise ValidationError(field_name, "must be a JSON object (one message a line)")
        unknown = sorted(key for key in value if key not in JSONL_FIELDS)
        if unknown:
            raise ValidationError(
                f"{field_name}: {unknown[0]}",
                f"is not a message field (allowed: {', '.join(JSONL_FIELDS)})",
            )
        for required in ("role", "content"):
            if required not in value:
                raise ValidationError(f"{field_name}: {required}", "is required")
        for name in ("role", "content", "model", "intent"):
            if name in value and not (
                isinstance(value[name], str)
                or (value[name] is None and name in ("model", "intent"))
            ):
                raise ValidationError(f"{field_name}: {name}", "must be a string")
        cost = value.get("cost", 0)
        if isinstance(cost, bool) or not isinstance(cost, str | int | float):
            raise ValidationError(f"{field_name}: cost", "must be a number or a string")
        item = MessageInput(
            role=value["role"],
            content=value["content"],
            model_used=value.get("model"),
            prompt_tokens=value.get("tokens_in", 0),
            completion_tokens=value.get("tokens_out", 0),
            # A JSON number is read as written (0.1 stays 0.1, not its float).
            cost=cost if isinstance(cost, str | int) else repr(cost),
            intent=value.get("intent"),
            metadata=value.get("metadata", {}),
        )
        items.append(item)
        labels.append(field_name)
    if not items:
        raise ValidationError("jsonl", "holds no messages (one JSON object a line)")
    return items, labels
