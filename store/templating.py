"""Project templates: the folder format, its checks, and safe rendering.

A template is a folder holding ``template.json`` (what the template is and
which variables it takes) and a ``files/`` tree. Every file path is rendered
with the variables; a file whose name ends in ``.jinja`` has its content
rendered too and loses the suffix, any other file is copied as it is (so
JSX, GitHub workflow files and the like need no escaping).

Rendering runs in Jinja2's immutable sandbox with strict undefined
variables: template code cannot reach Python internals, read files or use
a variable nobody gave. Jinja2 is imported only inside the functions that
render or parse: the app's start-up never pays for it.

One module, over 600 lines, because a template is valid only if the renderer
accepts it: reading the metadata parses every file's template code in the
same sandboxed environment that renders it (``check_template_code``) and
tries each variable's pattern in the same forked child, with its deadline
and memory limit, that rendering runs in (``_bounded``). Apart, the checks
and the renderer could come to disagree on what a template may do.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store import validation
from store.errors import ValidationError
from store.models import Complexity, ProjectType, TemplateCategory

if TYPE_CHECKING:
    from jinja2 import Environment

METADATA_FILE = "template.json"
FILES_DIR = "files"
RENDER_SUFFIX = ".jinja"
MAX_TEMPLATE_FILE_BYTES = 256 * 1024
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
MAX_TEMPLATE_FILES = 500
MAX_VARIABLES = 50
MAX_VALUE_CHARS = 500
MAX_REPEAT = 100_000
MAX_LOOP_STEPS = 100_000
# One render (every file of a template) may take this long and this much
# more memory; past either it is stopped with an error.
MAX_RENDER_SECONDS = 10
MAX_RENDER_MEMORY = 512 * 1024 * 1024
MAX_PATTERN_SECONDS = 2
_MIB_TEXT = f"{MAX_RENDER_MEMORY // (1024 * 1024)} MiB"

BUILTIN_DIR = Path(__file__).resolve().parent / "templates_builtin"
BUILTIN_MANIFEST = "manifest.json"

_HUGE_WIDTH = re.compile(r"\d{6,}")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_VARIABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
# Names Jinja2 itself gives a meaning to, or that the sandbox provides.
_RESERVED_NAMES = frozenset(
    {"loop", "self", "true", "false", "none", "and", "or", "not", "in", "is", "if", "else"}
    | {"range", "dict", "lipsum", "cycler", "joiner", "namespace", "varargs", "kwargs"}
)
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
_DEFAULT_PROJECT_TYPE = {
    TemplateCategory.API: ProjectType.API,
    TemplateCategory.WEB: ProjectType.WEB_APP,
    TemplateCategory.MOBILE: ProjectType.MOBILE,
    TemplateCategory.DATA: ProjectType.DATA,
    TemplateCategory.MICROSERVICE: ProjectType.MICROSERVICE,
}
_METADATA_KEYS = (
    "name",
    "description",
    "category",
    "project_type",
    "complexity",
    "estimated_setup_time",
    "tech_stack",
    "tags",
    "dependencies",
    "setup_commands",
    "test_commands",
    "variables",
)
_VARIABLE_KEYS = ("name", "type", "help", "default", "pattern", "choices")


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


# -- metadata -----------------------------------------------------------------


def spec_from_metadata(
    metadata: Any, files: Mapping[str, str], *, source: str = METADATA_FILE
) -> TemplateSpec:
    """Check metadata and files; every problem names ``source`` (the
    metadata file) or the file at fault."""

    def bad(problem: str) -> ValidationError:
        return ValidationError(source, problem)

    if not isinstance(metadata, Mapping):
        raise bad("must hold a JSON object")
    unknown = sorted(set(metadata) - set(_METADATA_KEYS))
    if unknown:
        raise bad(f"unknown key {unknown[0]!r} (known: {', '.join(_METADATA_KEYS)})")
    for key in ("name", "category"):
        if key not in metadata:
            raise bad(f"{key!r} is missing")
    name = _field(source, "name", lambda: validation.name("name", metadata["name"], limit=100))
    if not _TEMPLATE_NAME.fullmatch(name):
        raise bad(
            f"name {name!r} must be 1-100 lower-case letters, digits, '.', '-' or '_', "
            "starting with a letter or digit"
        )
    category = _choice(source, "category", metadata["category"], TemplateCategory)
    project_type = (
        _choice(source, "project_type", metadata["project_type"], ProjectType)
        if metadata.get("project_type") is not None
        else _DEFAULT_PROJECT_TYPE[category]
    )
    complexity = _choice(source, "complexity", metadata.get("complexity", "simple"), Complexity)
    setup_time = metadata.get("estimated_setup_time")
    if setup_time is not None and (
        isinstance(setup_time, bool) or not isinstance(setup_time, int) or setup_time < 0
    ):
        raise bad("estimated_setup_time must be a whole number of minutes, 0 or more")
    variables = _variables(source, metadata.get("variables", []))
    spec = TemplateSpec(
        name=name,
        description=_field(
            source,
            "description",
            lambda: validation.text("description", metadata.get("description", ""), limit=10_000),
        ),
        category=category,
        project_type=project_type,
        complexity=complexity,
        estimated_setup_time=setup_time,
        tech_stack=_words(source, "tech_stack", metadata.get("tech_stack", [])),
        tags=_words(source, "tags", metadata.get("tags", [])),
        dependencies=_field(
            source,
            "dependencies",
            lambda: validation.string_list("dependencies", metadata.get("dependencies", [])),
        ),
        setup_commands=_field(
            source,
            "setup_commands",
            lambda: validation.string_list(
                "setup_commands", metadata.get("setup_commands", []), item_limit=4096
            ),
        ),
        test_commands=_field(
            source,
            "test_commands",
            lambda: validation.string_list(
                "test_commands", metadata.get("test_commands", []), item_limit=4096
            ),
        ),
        variables=variables,
        files=check_files(files),
    )
    check_template_code(spec)
    return spec


def _field(source: str, key: str, check: Any) -> Any:
    try:
        return check()
    except ValidationError as error:
        raise ValidationError(source, f"{key} {error.problem}") from None


def _choice(source: str, key: str, value: Any, enum_class: Any) -> Any:
    return _field(source, key, lambda: validation.enum_value(key, value, enum_class))


def _words(source: str, key: str, value: Any) -> list[str]:
    """Tags and stack entries: short, lower-case, no duplicates, order kept."""
    items = _field(source, key, lambda: validation.string_list(key, value, item_limit=50))
    words: list[str] = []
    for item in items:
        word = item.strip().lower()
        if not word or any(char.isspace() for char in word):
            raise ValidationError(source, f"{key} entry {item!r} must be one word")
        if word not in words:
            words.append(word)
    return words


def _variables(source: str, raw: Any) -> list[Variable]:
    if not isinstance(raw, list):
        raise ValidationError(source, "variables must be a list of objects")
    if len(raw) > MAX_VARIABLES:
        raise ValidationError(source, f"has {len(raw)} variables; at most {MAX_VARIABLES}")
    variables: list[Variable] = []
    for index, item in enumerate(raw):
        where = f"variables[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError(source, f"{where} must be an object")
        unknown = sorted(set(item) - set(_VARIABLE_KEYS))
        if unknown:
            raise ValidationError(
                source,
                f"{where} has unknown key {unknown[0]!r} (known: {', '.join(_VARIABLE_KEYS)})",
            )
        name = item.get("name")
        if (
            not isinstance(name, str)
            or not _VARIABLE_NAME.fullmatch(name)
            or name in _RESERVED_NAMES
        ):
            raise ValidationError(
                source,
                f"{where} name {name!r} must be a lower-case identifier (letters, digits, _) "
                "and not a Jinja2 word",
            )
        if any(v.name == name for v in variables):
            raise ValidationError(source, f"variable {name!r} is declared twice")
        kind = item.get("type", VariableType.STRING)
        if kind not in VariableType.ALL:
            raise ValidationError(
                source,
                f"variable {name!r} has type {kind!r}; use one of: {', '.join(VariableType.ALL)}",
            )
        raw_help = item.get("help", "")
        help_text = _field(
            source,
            f"variable {name!r} help",
            lambda raw=raw_help: validation.text("help", raw, limit=1000),
        )
        pattern = item.get("pattern")
        if pattern is not None:
            if kind != VariableType.STRING or not isinstance(pattern, str):
                raise ValidationError(
                    source, f"variable {name!r}: a pattern applies to string variables only"
                )
            _field(
                source,
                f"variable {name!r} pattern",
                lambda raw=pattern: validation.text("pattern", raw, limit=1000),
            )
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValidationError(
                    source, f"variable {name!r} pattern is not a regular expression ({error})"
                ) from None
            _check_pattern_speed(source, name, pattern)
        choices = item.get("choices")
        if kind == VariableType.CHOICE:
            if (
                not isinstance(choices, list)
                or not choices
                or not all(isinstance(c, str) and c and "\x00" not in c for c in choices)
            ):
                raise ValidationError(
                    source, f"variable {name!r} of type choice needs a list of text choices"
                )
        elif choices is not None:
            raise ValidationError(
                source, f"variable {name!r}: choices apply to choice variables only"
            )
        variable = Variable(
            name=name,
            type=kind,
            help=help_text,
            required="default" not in item,
            pattern=pattern,
            choices=tuple(choices or ()),
        )
        if not variable.required:
            try:
                default = variable.parse(item["default"])
            except ValidationError as error:
                raise ValidationError(
                    source, f"variable {name!r} default {error.problem}"
                ) from None
            if type(default) is not type(item["default"]):
                raise ValidationError(
                    source, f"variable {name!r} default must be a JSON {_json_kind(kind)}"
                )
            variable = replace(variable, default=default)
        variables.append(variable)
    return variables


def _check_pattern_speed(source: str, name: str, pattern: str) -> None:
    """Refuse a pattern that backtracks catastrophically: it is tried on
    the values most likely to make it (each character it names, repeated
    to the longest value, then one that fails) in a child process with a
    deadline, since such a pattern would otherwise hang every use."""
    compiled = re.compile(pattern)

    def attempt() -> None:
        for probe in _probes(pattern):
            compiled.fullmatch(probe)

    _bounded(
        attempt,
        seconds=MAX_PATTERN_SECONDS,
        too_long=ValidationError(
            source,
            f"variable {name!r} pattern takes longer than {MAX_PATTERN_SECONDS} s to check a "
            f"value of {MAX_VALUE_CHARS} characters (nested repetition such as (a+)+?)",
        ),
    )


def _probes(pattern: str) -> list[str]:
    """Values of MAX_VALUE_CHARS characters that end in a mismatch."""
    characters = {char for char in pattern if char.isprintable()} | set("aA0_-. /")
    return [char * MAX_VALUE_CHARS + end for char in sorted(characters) for end in ("\x00", "!")]


def _json_kind(kind: str) -> str:
    return {"integer": "number", "boolean": "true or false"}.get(kind, "string")


def check_files(files: Mapping[str, str]) -> dict[str, str]:
    """Raw template files: safe relative paths, text, within the limits."""
    if not isinstance(files, Mapping):
        raise ValidationError(FILES_DIR, "must map file paths to contents")
    if not files:
        raise ValidationError(FILES_DIR, "holds no files; a template needs at least one")
    if len(files) > MAX_TEMPLATE_FILES:
        raise ValidationError(FILES_DIR, f"holds {len(files)} files; at most {MAX_TEMPLATE_FILES}")
    result: dict[str, str] = {}
    total = 0
    for raw_path in sorted(files):
        where = f"{FILES_DIR}/{raw_path}"
        path = validation.codebase_path(raw_path, where)
        if path != raw_path:
            raise ValidationError(where, "is not a normalised relative path")
        content = files[raw_path]
        if not isinstance(content, str):
            raise ValidationError(where, "content must be text")
        size = len(content.encode("utf-8", errors="surrogatepass"))
        if size > MAX_TEMPLATE_FILE_BYTES:
            raise ValidationError(
                where, f"is {size} bytes; at most {MAX_TEMPLATE_FILE_BYTES} bytes per template file"
            )
        if "\x00" in content:
            raise ValidationError(where, "contains a NUL byte; templates hold text files only")
        total += size
        if total > MAX_TEMPLATE_BYTES:
            raise ValidationError(FILES_DIR, f"is larger than {MAX_TEMPLATE_BYTES} bytes in all")
        result[path] = content
    return result


# -- folders --------------------------------------------------------------------


def load_folder(folder: Path, *, listed: Collection[str] | None = None) -> TemplateSpec:
    """Read and check a template folder. Nothing is stored here.

    With ``listed``, exactly those paths under ``files/`` are read and
    anything else in the folder is ignored: the built-in templates are read
    that way, so the byte-code an installer compiles beside their Python
    files (``__pycache__/*.pyc``) never becomes part of a template."""
    folder = Path(folder)
    label = folder.name or str(folder)
    if not folder.is_dir():
        raise ValidationError(str(folder), "is not a folder")
    metadata_path = folder / METADATA_FILE
    source = f"{label}/{METADATA_FILE}"
    if metadata_path.is_symlink() or not metadata_path.is_file():
        raise ValidationError(
            source, f"is missing; a template folder holds {METADATA_FILE} and {FILES_DIR}/"
        )
    raw = _read_text(metadata_path, source, MAX_TEMPLATE_FILE_BYTES)
    metadata = validation.parse_json(source, raw)
    files_root = folder / FILES_DIR
    if files_root.is_symlink() or not files_root.is_dir():
        raise ValidationError(f"{label}/{FILES_DIR}", "is missing; put the template's files there")
    if listed is None:
        files = _read_tree(files_root, f"{label}/{FILES_DIR}")
    else:
        files = _read_listed(files_root, f"{label}/{FILES_DIR}", listed)
    try:
        return spec_from_metadata(metadata, files, source=source)
    except ValidationError as error:
        if error.field.startswith(f"{FILES_DIR}/") or error.field == FILES_DIR:
            raise ValidationError(f"{label}/{error.field}", error.problem) from None
        raise


def _read_tree(root: Path, label: str) -> dict[str, str]:
    files: dict[str, str] = {}
    pending = [root]
    while pending:
        directory = pending.pop()
        for entry in sorted(directory.iterdir()):
            relative = entry.relative_to(root).as_posix()
            where = f"{label}/{relative}"
            if entry.is_symlink():
                raise ValidationError(
                    where, "is a symbolic link; it could point outside the template folder"
                )
            if entry.is_dir():
                pending.append(entry)
            elif entry.is_file():
                if len(files) >= MAX_TEMPLATE_FILES:
                    raise ValidationError(label, f"holds more than {MAX_TEMPLATE_FILES} files")
                files[relative] = _read_text(entry, where, MAX_TEMPLATE_FILE_BYTES)
            else:
                raise ValidationError(where, "is not a regular file")
    return files


def _read_listed(root: Path, label: str, listed: Collection[str]) -> dict[str, str]:
    files: dict[str, str] = {}
    for relative in sorted(listed):
        where = f"{label}/{relative}"
        entry = root
        for part in validation.codebase_path(relative, where).split("/"):
            entry = entry / part
            if entry.is_symlink():
                raise ValidationError(
                    where, "is a symbolic link; it could point outside the template folder"
                )
        if not entry.is_file():
            raise ValidationError(where, "is listed but missing")
        files[relative] = _read_text(entry, where, MAX_TEMPLATE_FILE_BYTES)
    return files


def _read_text(path: Path, where: str, limit: int) -> str:
    size = path.stat().st_size
    if size > limit:
        raise ValidationError(where, f"is {size} bytes; at most {limit} bytes per template file")
    data = path.read_bytes()
    if b"\x00" in data:
        raise ValidationError(where, "contains a NUL byte; templates hold text files only")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(where, "is not UTF-8 text") from None


def metadata_text(spec: TemplateSpec) -> str:
    """``template.json`` exactly as export writes it."""
    return json.dumps(spec.metadata(), indent=2, ensure_ascii=False) + "\n"


def write_folder(spec: TemplateSpec, folder: Path) -> list[Path]:
    """Write a template folder; ``folder`` must be new or empty."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValidationError(str(folder), "already exists and is not an empty folder")
    written = []
    folder.mkdir(parents=True, exist_ok=True)
    metadata_path = folder / METADATA_FILE
    metadata_path.write_bytes(metadata_text(spec).encode("utf-8"))
    written.append(metadata_path)
    for raw_path, content in sorted(spec.files.items()):
        relative = validation.codebase_path(raw_path, f"{FILES_DIR}/{raw_path}")
        target = folder / FILES_DIR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8"))
        written.append(target)
    return written


def builtin_manifest(root: Path = BUILTIN_DIR) -> dict[str, list[str]]:
    """The built-in templates' names and the files each holds, as listed in
    ``manifest.json`` (a test keeps it equal to what the repository tracks)."""
    listed: dict[str, list[str]] = json.loads((root / BUILTIN_MANIFEST).read_text("utf-8"))
    return listed


def builtin_folders(root: Path = BUILTIN_DIR) -> list[Path]:
    return [root / name for name in sorted(builtin_manifest(root))]


def load_builtins(root: Path = BUILTIN_DIR) -> list[TemplateSpec]:
    """The templates that ship with projdeck, read by their manifest: files an
    installer or a tool adds beside them are not part of them."""
    return [
        load_folder(root / name, listed=files)
        for name, files in sorted(builtin_manifest(root).items())
    ]


# -- rendering -------------------------------------------------------------------


def _environment() -> Environment:
    """A sandboxed, strict Jinja2 environment, built for one render (its
    loop budget is spent by that render only)."""
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
    from jinja2.utils import Namespace

    def check_numbers(values: Iterable[Any]) -> None:
        for value in values:
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_REPEAT:
                raise SecurityError(f"numbers above {MAX_REPEAT} are not allowed as arguments")

    def check_size(values: Iterable[Any]) -> None:
        # Doubling a value in a loop (namespace) or in recursion (macro calls)
        # grows exponentially: stop values at the size of a file.
        for value in values:
            if isinstance(value, str) and len(value) > validation.MAX_FILE_BYTES:
                raise SecurityError(f"text longer than {validation.MAX_FILE_BYTES} characters")
            if isinstance(value, list | tuple | dict) and len(value) > MAX_REPEAT:
                raise SecurityError(f"collections of more than {MAX_REPEAT} items")

    class BoundedNamespace(Namespace):
        def __init__(*args: Any, **kwargs: Any) -> None:
            check_size([*args[1:], *kwargs.values()])
            Namespace.__init__(*args, **kwargs)

        def __setitem__(self, name: str, value: Any) -> None:
            check_size([value])
            super().__setitem__(name, value)

    def check_width(format_string: Any) -> None:
        if isinstance(format_string, str) and _HUGE_WIDTH.search(format_string):
            raise SecurityError("format widths of six digits or more are not allowed")

    class TemplateEnvironment(ImmutableSandboxedEnvironment):
        # Repetition and padding are the cheap ways to ask for gigabytes.
        intercepted_binops = frozenset({"*", "**", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, int) and abs(right) > 64:
                raise SecurityError("exponents above 64 are not allowed in templates")
            if operator == "%":
                check_width(left)
            if operator == "*":
                for sequence, count in ((left, right), (right, left)):
                    if (
                        isinstance(sequence, str | list | tuple)
                        and isinstance(count, int)
                        and len(sequence) * count > MAX_REPEAT
                    ):
                        raise SecurityError(
                            f"repeating text beyond {MAX_REPEAT} items is not allowed"
                        )
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            check_numbers([*args, *kwargs.values()])
            check_size([*args, *kwargs.values()])
            if getattr(__obj, "__name__", None) in {"format", "format_map"}:
                # The sandbox wraps str.format; the string is on the wrapped method.
                method = getattr(__obj, "__wrapped__", __obj)
                check_width(getattr(method, "__self__", None))
            return super().call(__context, __obj, *args, **kwargs)

    environment = TemplateEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        loader=None,
    )
    budget = [MAX_LOOP_STEPS]

    def counted_range(*args: int) -> Iterator[int]:
        for number in safe_range(*args):
            budget[0] -= 1
            if budget[0] < 0:
                raise SecurityError(f"range() may give at most {MAX_LOOP_STEPS} numbers per render")
            yield number

    def bounded(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check_numbers([*args[1:], *kwargs.values()])
            if function.__name__ == "do_format" and args:
                check_width(args[0])
            return function(*args, **kwargs)

        return wrapper

    environment.globals["range"] = counted_range
    environment.globals["namespace"] = BoundedNamespace
    environment.filters.update({"snake": snake_case, "kebab": kebab_case, "pascal": pascal_case})
    for name, function in list(environment.filters.items()):
        environment.filters[name] = bounded(function)
    return environment


def _words_of(value: Any) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(value))
    return [word for word in re.split(r"[^A-Za-z0-9]+", spaced) if word]


def snake_case(value: Any) -> str:
    return "_".join(word.lower() for word in _words_of(value))


def kebab_case(value: Any) -> str:
    return "-".join(word.lower() for word in _words_of(value))


def pascal_case(value: Any) -> str:
    return "".join(word[:1].upper() + word[1:].lower() for word in _words_of(value))


def _sources(spec: TemplateSpec) -> Iterable[tuple[str, str, str]]:
    """(where, what, Jinja2 source) for every path and every rendered content."""
    for index, command in enumerate(spec.setup_commands):
        yield METADATA_FILE, f"setup_commands[{index}]", command
    for index, command in enumerate(spec.test_commands):
        yield METADATA_FILE, f"test_commands[{index}]", command
    for raw_path, content in spec.files.items():
        where = f"{FILES_DIR}/{raw_path}"
        yield where, "path", raw_path
        if raw_path.endswith(RENDER_SUFFIX):
            yield where, "content", content


def check_template_code(spec: TemplateSpec) -> None:
    """Refuse code that does not parse, includes other files, or uses a
    variable the metadata does not declare."""
    from jinja2 import TemplateSyntaxError, meta, nodes

    environment = _environment()
    declared = {variable.name for variable in spec.variables}
    for where, what, source in _sources(spec):
        try:
            tree = environment.parse(source)
        except TemplateSyntaxError as error:
            raise ValidationError(
                where, f"{what} is not a valid template ({error.message}, line {error.lineno})"
            ) from None
        for node_type in (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends):
            if next(tree.find_all(node_type), None) is not None:
                raise ValidationError(
                    where,
                    f"{what} uses {{% {node_type.__name__.lower()} %}}; templates cannot read other files",
                )
        unknown = sorted(meta.find_undeclared_variables(tree) - declared - set(environment.globals))
        if unknown:
            raise ValidationError(
                where,
                f"{what} uses variable {unknown[0]!r}, which {METADATA_FILE} does not declare",
            )


def resolve_values(spec: TemplateSpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """Given values checked by type and pattern, defaults filled in; every
    wrong or missing variable is reported at once (VariableErrors)."""
    problems: dict[str, str] = {}
    for key in given:
        if spec.variable(key) is None:
            known = ", ".join(v.name for v in spec.variables) or "none"
            problems[key] = f"is not a variable of template {spec.name!r} (its variables: {known})"
    values: dict[str, Any] = {}
    for variable in spec.variables:
        if variable.name in given and given[variable.name] is not None:
            try:
                values[variable.name] = variable.parse(given[variable.name])
            except ValidationError as error:
                problems[variable.name] = error.problem
        elif variable.required:
            problems[variable.name] = "is required" + (
                f" ({variable.help})" if variable.help else ""
            )
        else:
            values[variable.name] = variable.default
    if problems:
        raise VariableErrors(problems)
    return values


def render(spec: TemplateSpec, given: Mapping[str, Any]) -> RenderedProject:
    """Render a template's files with the given variable values, in a child
    process with a deadline and a memory limit (``_bounded``): the sandbox's
    counters stop most runaway templates, but work done inside one call
    (a huge ``replace`` or ``join``, ``lipsum`` asked for millions of words,
    a loop over text with an empty body) can only be stopped from outside."""
    values = resolve_values(spec, given)

    def work() -> list[Any]:
        done = _render(spec, values)
        return [done.files, done.values, done.setup_commands, done.test_commands]

    _environment()  # jinja2 imported before the fork, not in each child
    files, rendered_values, commands, tests = _bounded(
        work,
        seconds=MAX_RENDER_SECONDS,
        too_long=ValidationError(
            FILES_DIR, f"rendering took longer than {MAX_RENDER_SECONDS} s and was stopped"
        ),
    )
    return RenderedProject(
        files=files, values=rendered_values, setup_commands=commands, test_commands=tests
    )


def _bounded(work: Callable[[], Any], *, seconds: float, too_long: ValidationError) -> Any:
    """``work`` run in a forked child that may take ``seconds`` and
    MAX_RENDER_MEMORY more memory; its result (JSON) or ValidationError comes
    back through a pipe, ``too_long`` is raised past the deadline. Without
    fork (Windows) it runs here, unbounded."""
    import os
    import select
    import signal
    import time

    if not hasattr(os, "fork"):
        return work()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to the caller's stack
        os.close(reader)
        outcome: list[Any]
        try:
            _limit_memory(MAX_RENDER_MEMORY)
            outcome = ["done", work()]
        except ValidationError as error:
            outcome = ["refused", error.field, error.problem]
        except MemoryError:
            outcome = ["refused", FILES_DIR, f"rendering needs more than {_MIB_TEXT} of memory"]
        except BaseException as error:
            outcome = ["refused", FILES_DIR, f"rendering failed ({type(error).__name__})"]
        try:
            with os.fdopen(writer, "wb") as stream:
                stream.write(json.dumps(outcome).encode("ascii"))
        finally:
            os._exit(0)
    os.close(writer)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([reader], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                raise too_long
            chunk = os.read(reader, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(reader)
        os.waitpid(pid, 0)
    if not chunks:
        raise ValidationError(FILES_DIR, "rendering stopped without a result")
    outcome = json.loads(b"".join(chunks))
    if outcome[0] == "refused":
        raise ValidationError(outcome[1], outcome[2])
    return outcome[1]


def _limit_memory(extra: int) -> None:
    """Let this process grow by ``extra`` bytes of address space at most."""
    import resource

    with open("/proc/self/statm", encoding="ascii") as statm:
        size = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (size + extra, size + extra))


def _render(spec: TemplateSpec, values: dict[str, Any]) -> RenderedProject:
    from jinja2.exceptions import SecurityError, TemplateError

    environment = _environment()
    rendered: dict[str, str] = {}
    origin: dict[str, str] = {}
    total = 0

    def run(where: str, what: str, source: str) -> str:
        try:
            pieces: list[str] = []
            size = 0
            # Stream, so a runaway template stops at the limit, not at the end.
            for piece in environment.from_string(source).generate(values):
                size += len(piece)
                if size > validation.MAX_FILE_BYTES:
                    raise ValidationError(
                        where, f"{what} renders to more than {validation.MAX_FILE_BYTES} characters"
                    )
                pieces.append(piece)
            return "".join(pieces)
        except SecurityError as error:
            raise ValidationError(
                where, f"{what} tried to reach Python internals and was stopped ({error})"
            ) from None
        except TemplateError as error:
            raise ValidationError(where, f"{what} cannot be rendered ({error})") from None
        except RecursionError:
            raise ValidationError(where, f"{what} recurses too deeply") from None
        except (ArithmeticError, TypeError, ValueError, LookupError) as error:
            raise ValidationError(
                where, f"{what} failed while rendering ({type(error).__name__}: {error})"
            ) from None

    for raw_path, content in sorted(spec.files.items()):
        where = f"{FILES_DIR}/{raw_path}"
        renders = raw_path.endswith(RENDER_SUFFIX)
        path_source = raw_path[: -len(RENDER_SUFFIX)] if renders else raw_path
        path = validation.codebase_path(run(where, "path", path_source), where)
        if path in origin:
            raise ValidationError(
                where, f"renders to {path!r}, the same path as {FILES_DIR}/{origin[path]}"
            )
        origin[path] = raw_path
        text = run(where, "content", content) if renders else content
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > validation.MAX_FILE_BYTES:
            raise ValidationError(
                where, f"renders to {size} bytes; at most {validation.MAX_FILE_BYTES}"
            )
        total += size
        if total > validation.MAX_CODEBASE_BYTES:
            raise ValidationError(FILES_DIR, "renders to more than the codebase limit")
        rendered[path] = validation.file_content(where, text)
    commands = [
        run(METADATA_FILE, f"setup_commands[{index}]", command)
        for index, command in enumerate(spec.setup_commands)
    ]
    tests = [
        run(METADATA_FILE, f"test_commands[{index}]", command)
        for index, command in enumerate(spec.test_commands)
    ]
    return RenderedProject(
        files=dict(sorted(rendered.items())),
        values=values,
        setup_commands=commands,
        test_commands=tests,
    )
