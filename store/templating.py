"""Project templates read and checked: the metadata (``template.json``) and
its variables, a template's files and their limits, folders written and
read, and the built-in templates listed in their manifest.

A template is a folder holding ``template.json`` (what the template is and
which variables it takes) and a ``files/`` tree. Every file path is rendered
with the variables; a file whose name ends in ``.jinja`` has its content
rendered too and loses the suffix, any other file is copied as it is (so
JSX, GitHub workflow files and the like need no escaping).

A template is valid only if the renderer accepts it: reading the metadata
parses every file's template code in the sandboxed environment that renders
it (``store.template_render.check_template_code``) and tries each variable's
pattern in the same forked child, with its deadline and memory limit, that
rendering runs in. What a template is (``TemplateSpec``, ``Variable``) is
``store.template_spec``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from store import validation
from store.errors import ValidationError
from store.models import Complexity, ProjectType, TemplateCategory
from store.template_render import _bounded, check_template_code
from store.template_spec import (
    FILES_DIR,
    MAX_VALUE_CHARS,
    METADATA_FILE,
    TemplateSpec,
    Variable,
    VariableType,
)

MAX_TEMPLATE_FILE_BYTES = 256 * 1024
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
MAX_TEMPLATE_FILES = 500
MAX_VARIABLES = 50
MAX_PATTERN_SECONDS = 2

BUILTIN_DIR = Path(__file__).resolve().parent / "templates_builtin"
BUILTIN_MANIFEST = "manifest.json"

_TEMPLATE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_VARIABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
# Names Jinja2 itself gives a meaning to, or that the sandbox provides.
_RESERVED_NAMES = frozenset(
    {"loop", "self", "true", "false", "none", "and", "or", "not", "in", "is", "if", "else"}
    | {"range", "dict", "lipsum", "cycler", "joiner", "namespace", "varargs", "kwargs"}
)
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
