"""What a project template is: its folder layout (``template.json`` and a
``files/`` tree), its variables (a type, a default, a pattern or choices,
and how a given value is read), and what rendering it makes. Reading and
checking a template is ``store.templating``; rendering it,
``store.template_render``."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from store import validation
from store.errors import ValidationError
from store.models import Complexity, ProjectType, TemplateCategory

METADATA_FILE = "template.json"
FILES_DIR = "files"
RENDER_SUFFIX = ".jinja"
MAX_VALUE_CHARS = 500


_BOOLEAN_WORDS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}


class VariableType:
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    ALL = (STRING, INTEGER, BOOLEAN, CHOICE)


@dataclass(frozen=True)
class Variable:
    """One input of a template. Without a default it is required."""

    name: str
    type: str = VariableType.STRING
    help: str = ""
    default: Any = None
    required: bool = True
    pattern: str | None = None
    choices: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type, "help": self.help}
        if not self.required:
            data["default"] = self.default
        if self.pattern is not None:
            data["pattern"] = self.pattern
        if self.choices:
            data["choices"] = list(self.choices)
        return data

    def parse(self, value: Any) -> Any:
        """The value as this variable's type, or ValidationError naming it."""
        if self.type == VariableType.INTEGER:
            return self._integer(value)
        if self.type == VariableType.BOOLEAN:
            return self._boolean(value)
        if not isinstance(value, str):
            raise ValidationError(self.name, "must be text")
        if self.type == VariableType.CHOICE:
            if value not in self.choices:
                raise ValidationError(
                    self.name, f"{value!r} is not one of: {', '.join(self.choices)}"
                )
            return value
        text = validation.name(self.name, value, limit=MAX_VALUE_CHARS)
        if self.pattern is not None and not re.fullmatch(self.pattern, text):
            raise ValidationError(self.name, f"{text!r} does not match the pattern {self.pattern}")
        return text

    def _integer(self, value: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError(self.name, "must be a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d{1,18}\s*", value):
            return int(value)
        raise ValidationError(self.name, f"{value!r} is not a whole number")

    def _boolean(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
            return _BOOLEAN_WORDS[value.strip().lower()]
        raise ValidationError(self.name, f"{value!r} is not true or false")


@dataclass
class TemplateSpec:
    """A template as its folder describes it: metadata and raw files."""

    name: str
    description: str
    category: TemplateCategory
    project_type: ProjectType
    complexity: Complexity
    estimated_setup_time: int | None
    tech_stack: list[str]
    tags: list[str]
    dependencies: list[str]
    setup_commands: list[str]
    variables: list[Variable]
    files: dict[str, str] = field(default_factory=dict)
    # What runs the tests of a project made from it (``mod test``).
    test_commands: list[str] = field(default_factory=list)

    def variable(self, name: str) -> Variable | None:
        return next((v for v in self.variables if v.name == name), None)

    @property
    def required_vars(self) -> list[str]:
        return [v.name for v in self.variables if v.required]

    @property
    def optional_vars(self) -> dict[str, Any]:
        return {v.name: v.default for v in self.variables if not v.required}

    def metadata(self) -> dict[str, Any]:
        """``template.json`` as plain data, keys in their canonical order."""
        return {
            "name": self.name,
            "description": self.description,
            "category": self.category.value,
            "project_type": self.project_type.value,
            "complexity": self.complexity.value,
            "estimated_setup_time": self.estimated_setup_time,
            "tech_stack": list(self.tech_stack),
            "tags": list(self.tags),
            "dependencies": list(self.dependencies),
            "setup_commands": list(self.setup_commands),
            # Only when given: a template without them keeps its digest.
            **({"test_commands": list(self.test_commands)} if self.test_commands else {}),
            "variables": [v.as_dict() for v in self.variables],
        }

    def digest(self) -> str:
        """A fingerprint of everything that shapes a rendered project."""
        canonical = json.dumps(
            {"metadata": self.metadata(), "files": self.files}, sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class RenderedProject:
    """What a template renders to: file paths (sorted) and their contents."""

    files: dict[str, str]
    values: dict[str, Any]
    setup_commands: list[str] = field(default_factory=list)
    test_commands: list[str] = field(default_factory=list)

    def tree(self) -> list[str]:
        """The file tree as indented lines (folders end in ``/``)."""
        lines: list[str] = []
        seen: set[tuple[str, ...]] = set()
        for path in self.files:
            parts = path.split("/")
            for depth in range(len(parts) - 1):
                folder = tuple(parts[: depth + 1])
                if folder not in seen:
                    seen.add(folder)
                    lines.append("  " * depth + parts[depth] + "/")
            lines.append("  " * (len(parts) - 1) + parts[-1])
        return lines


class VariableErrors(ValidationError):
    """Several variables are wrong; ``problems`` maps each one to its problem
    (for a form to show next to each field). The message names them all."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        first = next(iter(self.problems))
        super().__init__(first, self.problems[first])
        self.args = ("; ".join(f"{key}: {value}" for key, value in self.problems.items()),)

    def __str__(self) -> str:
        return str(self.args[0])
