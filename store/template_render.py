"""Templates rendered in a sandbox: Jinja2's immutable sandbox with strict
undefined variables (template code cannot reach Python internals, read files
or use a variable nobody gave), run in a forked child with a deadline and a
memory limit (``_bounded``). Jinja2 is imported only inside the functions
that render or parse: the app's start-up never pays for it.

``store.templating`` checks a template with the same environment and the
same child (``check_template_code``, ``_bounded``), so the checks and the
renderer cannot come to disagree on what a template may do."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from store import validation
from store.errors import ValidationError
from store.template_spec import (
    FILES_DIR,
    METADATA_FILE,
    RENDER_SUFFIX,
    RenderedProject,
    TemplateSpec,
    VariableErrors,
)

if TYPE_CHECKING:
    from jinja2 import Environment


MAX_REPEAT = 100_000
MAX_LOOP_STEPS = 100_000
# One render (every file of a template) may take this long and this much
# more memory; past either it is stopped with an error.
MAX_RENDER_SECONDS = 10
MAX_RENDER_MEMORY = 512 * 1024 * 1024
_MIB_TEXT = f"{MAX_RENDER_MEMORY // (1024 * 1024)} MiB"
_HUGE_WIDTH = re.compile(r"\d{6,}")


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
