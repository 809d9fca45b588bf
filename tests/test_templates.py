"""The template library: the folder format and its refusals, the sandboxed
renderer, the built-in templates (rendered and their own tests run), and the
template services on each backend."""

from __future__ import annotations

import asyncio
import json
import os
import py_compile
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from store import migrate, templating
from store.engine import Database
from store.errors import Conflict, NotFound, ValidationError
from store.models import AuditEntry, Template, TemplateCategory
from store.services import projects as project_service
from store.services import templates as service
from store.template_render import render
from store.template_spec import VariableErrors
from store.templating import load_folder, spec_from_metadata
from store.types import JSONType, UTCDateTime, utcnow
from tests.store_support import opened, project_from_template

# Values for the required variables of every built-in template.
REQUIRED = {
    "project_name": "demo-app",
    "site_title": "Demo <Site>",
    "bundle_id": "com.example.demo",
    "module_path": "example.com/demo/service",
}


def required_values(spec: templating.TemplateSpec) -> dict[str, str]:
    return {v.name: REQUIRED[v.name] for v in spec.variables if v.required}


def metadata(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "tiny",
        "description": "A tiny template.",
        "category": "api",
        "tech_stack": ["python"],
        "tags": ["small"],
        "variables": [
            {"name": "project_name", "type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
            {"name": "port", "type": "integer", "default": 8000},
        ],
    }
    data.update(overrides)
    return data


def spec(files: dict[str, str], **overrides: Any) -> templating.TemplateSpec:
    return spec_from_metadata(metadata(**overrides), files)


def write_folder(root: Path, meta: dict[str, Any] | None, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if meta is not None:
        (root / "template.json").write_text(json.dumps(meta), encoding="utf-8")
    (root / "files").mkdir(exist_ok=True)
    for path, content in files.items():
        target = root / "files" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return root


# -- the built-in library --------------------------------------------------------------


def test_builtins_cover_every_category_with_complete_metadata() -> None:
    specs = templating.load_builtins()
    assert len(specs) >= 8
    assert {s.category for s in specs} == set(TemplateCategory)
    for s in specs:
        assert s.description and s.tech_stack and s.tags, s.name
        assert s.estimated_setup_time is not None, s.name
        assert s.required_vars and s.optional_vars, s.name
        assert all(v.help for v in s.variables), s.name


def test_builtin_manifest_lists_exactly_the_files_the_repository_tracks() -> None:
    root = templating.BUILTIN_DIR
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "."], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    expected: dict[str, list[str]] = {}
    for path in filter(None, tracked):
        name, _, rest = path.partition("/")
        if not rest:
            continue
        files = expected.setdefault(name, [])
        if rest.startswith(f"{templating.FILES_DIR}/"):
            files.append(rest.removeprefix(f"{templating.FILES_DIR}/"))
    assert templating.builtin_manifest() == {name: sorted(f) for name, f in expected.items()}


def test_builtins_ignore_what_an_installer_compiles_or_adds_beside_them(tmp_path: Path) -> None:
    installed = tmp_path / "templates_builtin"
    shutil.copytree(templating.BUILTIN_DIR, installed)
    # What `pip install` of a wheel leaves: byte-code beside every .py file.
    for source in list(installed.rglob("*.py")):
        cache = source.parent / "__pycache__"
        cache.mkdir(exist_ok=True)
        (cache / f"{source.stem}.cpython-311.pyc").write_bytes(b"\xa7\r\r\n\x00\x00binary")
    assert any(installed.rglob("*.pyc"))
    (installed / "static-site" / "files" / ".DS_Store").write_bytes(b"\x00\x01")

    assert templating.load_builtins(installed) == templating.load_builtins()


def test_a_builtin_file_listed_but_missing_is_named(tmp_path: Path) -> None:
    installed = tmp_path / "templates_builtin"
    shutil.copytree(templating.BUILTIN_DIR, installed)
    (installed / "static-site" / "files" / "index.html.jinja").unlink()
    with pytest.raises(ValidationError) as caught:
        templating.load_builtins(installed)
    assert caught.value.field == "static-site/files/index.html.jinja"
    assert "missing" in caught.value.problem


def test_every_builtin_renders_to_a_small_project_with_readme_dependencies_and_a_test(
    tmp_path: Path,
) -> None:
    dependency_files = {
        "pyproject.toml",
        "requirements-dev.txt",
        "requirements.txt",
        "package.json",
        "go.mod",
    }
    for s in templating.load_builtins():
        rendered = render(s, required_values(s))
        paths = set(rendered.files)
        assert "README.md" in paths, s.name
        assert paths & dependency_files, s.name
        assert any("test" in path.rsplit("/", 1)[-1] for path in paths), s.name
        assert not any("{{" in path or path.endswith(".jinja") for path in paths), s.name
        assert all("{{" not in command for command in rendered.setup_commands), s.name
        folder = tmp_path / s.name
        for path, content in rendered.files.items():
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            if path.endswith(".json"):
                json.loads(content)
            if path.endswith(".py"):
                py_compile.compile(str(target), doraise=True)


def test_rendered_python_builtins_pass_their_own_tests(tmp_path: Path) -> None:
    runs: dict[str, subprocess.Popen[str]] = {}
    # Plain pytest: the rendered projects need none of our plugins.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    for s in templating.load_builtins():
        rendered = render(s, required_values(s))
        if not any(p.startswith("tests/test_") and p.endswith(".py") for p in rendered.files):
            continue
        folder = tmp_path / s.name
        for path, content in rendered.files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(content, encoding="utf-8")
        runs[s.name] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    assert len(runs) >= 4
    for name, process in runs.items():
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, f"{name}:\n{output}"
        assert " passed" in output, f"{name}:\n{output}"


def test_export_of_each_builtin_gives_back_its_folder_byte_for_byte(tmp_path: Path) -> None:
    for folder in templating.builtin_folders():
        target = tmp_path / folder.name
        templating.write_folder(load_folder(folder), target)
        assert _tree(target) == _tree(folder)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


# -- bad folders ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "files", "where", "problem"),
    [
        (None, {"a.txt": "x"}, "tiny/template.json", "is missing"),
        ({**metadata(), "category": "desktop"}, {"a.txt": "x"}, "tiny/template.json", "desktop"),
        (metadata(), {"a.txt.jinja": "{{ projct_name }}"}, "tiny/files/a.txt.jinja", "projct_name"),
        (
            metadata(),
            {"{{ secret_dir }}/a.txt": "x"},
            "tiny/files/{{ secret_dir }}/a.txt",
            "secret_dir",
        ),
        ({**metadata(), "tags": "one"}, {"a.txt": "x"}, "tiny/template.json", "tags"),
        ({**metadata(), "colour": "red"}, {"a.txt": "x"}, "tiny/template.json", "colour"),
        (metadata(), {}, "tiny/files", "no files"),
        (
            metadata(),
            {"a.txt.jinja": "{% include 'b.txt' %}"},
            "tiny/files/a.txt.jinja",
            "include",
        ),
        (metadata(), {"a.txt.jinja": "{% if %}"}, "tiny/files/a.txt.jinja", "not a valid template"),
        (
            {**metadata(), "variables": [{"name": "port", "type": "integer", "default": "80"}]},
            {"a.txt": "x"},
            "tiny/template.json",
            "default must be a JSON number",
        ),
        (
            {**metadata(), "variables": [{"name": "x", "help": "a\u0000b"}]},
            {"a.txt": "x"},
            "tiny/template.json",
            "variable 'x' help must not contain NUL",
        ),
        (
            {**metadata(), "variables": [{"name": "loop"}]},
            {"a.txt": "x"},
            "tiny/template.json",
            "'loop'",
        ),
    ],
)
def test_bad_folders_are_refused_naming_the_file_and_the_problem(
    tmp_path: Path, meta: dict[str, Any] | None, files: dict[str, str], where: str, problem: str
) -> None:
    folder = write_folder(tmp_path / "tiny", meta, files)
    with pytest.raises(ValidationError) as caught:
        load_folder(folder)
    assert caught.value.field == where
    assert problem in caught.value.problem


def test_invalid_json_metadata_names_the_line(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tiny", None, {"a.txt": "x"})
    (folder / "template.json").write_text('{\n  "name": "tiny",\n}', encoding="utf-8")
    with pytest.raises(ValidationError, match=r"tiny/template.json: is not valid JSON .* line 3"):
        load_folder(folder)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = "x" * (templating.MAX_TEMPLATE_FILE_BYTES + 1)
    folder = write_folder(tmp_path / "tiny", metadata(), {"data/big.txt": big})
    with pytest.raises(ValidationError) as caught:
        load_folder(folder)
    assert caught.value.field == "tiny/files/data/big.txt"
    assert f"at most {templating.MAX_TEMPLATE_FILE_BYTES} bytes" in caught.value.problem


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    folder = write_folder(tmp_path / "tiny", metadata(), {"a.txt": "x"})
    (folder / "files" / "leak.txt").symlink_to(outside)
    with pytest.raises(ValidationError) as caught:
        load_folder(folder)
    assert caught.value.field == "tiny/files/leak.txt"
    assert "symbolic link" in caught.value.problem


def test_binary_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tiny", metadata(), {"a.txt": "x"})
    (folder / "files" / "logo.png").write_bytes(b"\x89PNG\x00\x01")
    with pytest.raises(ValidationError, match=r"tiny/files/logo.png: contains a NUL byte"):
        load_folder(folder)
    (folder / "files" / "logo.png").write_bytes(b"caf\xe9")
    with pytest.raises(ValidationError, match=r"tiny/files/logo.png: is not UTF-8 text"):
        load_folder(folder)


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "a/../../b", "a\x00b", "a\\b"])
def test_stored_file_paths_that_escape_are_refused(path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        spec({path: "x"})
    assert caught.value.field == f"files/{path}"


# -- rendering -----------------------------------------------------------------------


def test_paths_and_jinja_contents_are_rendered_other_files_copied_as_they_are() -> None:
    tiny = spec(
        {
            "src/{{ project_name | snake }}/app.py.jinja": "PORT = {{ port }}\n",
            "web/App.jsx": "<p style={{ color: 'red' }}>{{ not_rendered }}</p>\n",
        }
    )
    rendered = render(tiny, {"project_name": "my-app"})
    assert rendered.files == {
        "src/my_app/app.py": "PORT = 8000\n",
        "web/App.jsx": "<p style={{ color: 'red' }}>{{ not_rendered }}</p>\n",
    }
    assert rendered.values == {"project_name": "my-app", "port": 8000}
    assert rendered.tree() == ["src/", "  my_app/", "    app.py", "web/", "  App.jsx"]


def test_values_are_checked_by_type_and_pattern_and_every_problem_names_its_variable() -> None:
    tiny = spec({"a.txt.jinja": "{{ project_name }}:{{ port }}"})
    with pytest.raises(VariableErrors) as caught:
        render(tiny, {"port": "eighty", "colour": "red"})
    assert caught.value.problems.keys() == {"project_name", "port", "colour"}
    assert "is required" in caught.value.problems["project_name"]
    assert "not a whole number" in caught.value.problems["port"]
    assert "not a variable of template 'tiny'" in caught.value.problems["colour"]
    assert "project_name: is required" in str(caught.value)
    with pytest.raises(VariableErrors, match=r"project_name: 'My App' does not match"):
        render(tiny, {"project_name": "My App"})
    assert render(tiny, {"project_name": "ok", "port": "81"}).files == {"a.txt": "ok:81"}


def test_boolean_and_choice_variables() -> None:
    tiny = spec(
        {"a.txt.jinja": "{{ 'docker' if docker else 'bare' }} {{ python }}"},
        variables=[
            {"name": "docker", "type": "boolean", "default": False},
            {"name": "python", "type": "choice", "default": "3.12", "choices": ["3.11", "3.12"]},
        ],
    )
    assert render(tiny, {"docker": "yes"}).files == {"a.txt": "docker 3.12"}
    with pytest.raises(VariableErrors, match=r"python: '2.7' is not one of: 3.11, 3.12"):
        render(tiny, {"python": "2.7"})
    with pytest.raises(VariableErrors, match=r"docker: 'maybe' is not true or false"):
        render(tiny, {"docker": "maybe"})


def refused_at_render(code: str) -> str:
    """The problem a one-file template of ``code`` is refused with when it is
    rendered (the refusal names the file)."""
    tiny = spec({"a.txt.jinja": code})
    with pytest.raises(ValidationError) as caught:
        render(tiny, {"project_name": "ok"})
    assert caught.value.field == "files/a.txt.jinja"
    return caught.value.problem


def test_strict_undefined_fails_on_a_missing_attribute() -> None:
    assert "nothing_here" in refused_at_render("{{ project_name.nothing_here }}")


@pytest.mark.parametrize(
    "code",
    [
        "{{ project_name.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ namespace.__init__.__globals__['__builtins__']['open']('/etc/passwd').read() }}",
        "{{ '{0.__class__.__mro__}'.format(project_name) }}",
        "{{ range.__self__ }}",
        "{{ project_name.__len__() }}",
        "{{ ({}).update(a=1) }}",
    ],
)
def test_template_code_cannot_reach_python_internals(code: str) -> None:
    assert "content" in refused_at_render(code)


@pytest.mark.parametrize(
    "code",
    [
        "{% import 'os' as os %}",
        "{% include '/etc/passwd' %}",
        "{% extends '../../etc/passwd' %}",
        "{% from 'x' import y %}",
        "{{ open('/etc/passwd').read() }}",
        "{{ __import__('os') }}",
    ],
)
def test_imports_and_file_reads_are_refused_before_anything_is_stored(code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        spec({"a.txt.jinja": code})
    assert caught.value.field == "files/a.txt.jinja"


@pytest.mark.parametrize(
    "code",
    [
        "{{ 'x' * 10000000000 }}",
        "{{ 'x'|center(1000000000) }}",
        "{{ 'x'.ljust(1000000000) }}",
        "{{ '{:>1000000000}'.format('x') }}",
        "{{ '%1000000000s' % 'x' }}",
        "{{ '%1000000000s'|format('x') }}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{{ 'x' * 99999 }}{% endfor %}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        "{% macro d(s, n) %}{{ d(s ~ s, n - 1) if n else s|length }}{% endmacro %}{{ d('x', 40) }}",
        "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}",
    ],
)
def test_runaway_templates_are_stopped_before_they_eat_the_machine(code: str) -> None:
    refused_at_render(code)


def test_ordinary_loops_formats_and_namespaces_still_work() -> None:
    tiny = spec(
        {
            "a.txt.jinja": "{% set ns = namespace(n=0) %}{% for c in project_name %}"
            "{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }} {{ '%5s'|format('x') }} "
            "{{ '{:>3}'.format(port) }} {{ range(3)|list }} {{ 'v1234567'.upper() }}"
        }
    )
    assert render(tiny, {"project_name": "abc"}).files == {
        "a.txt": "3     x 8000 [0, 1, 2] V1234567"
    }


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("..", "contains '..'"),
        ("/etc", "absolute"),
        ("a\\..\\b", "uses '\\'"),
    ],
)
def test_rendered_paths_that_escape_are_refused(value: str, problem: str) -> None:
    tiny = spec(
        {"{{ folder }}/x.txt": "x"},
        variables=[{"name": "folder", "type": "string", "default": "a"}],
    )
    assert render(tiny, {}).files == {"a/x.txt": "x"}
    with pytest.raises(ValidationError) as caught:
        render(tiny, {"folder": value})
    assert caught.value.field == "files/{{ folder }}/x.txt"
    assert problem in caught.value.problem


def test_nul_in_a_value_is_refused_before_it_reaches_a_path() -> None:
    tiny = spec({"{{ project_name }}.txt": "x"}, variables=[{"name": "project_name"}])
    with pytest.raises(VariableErrors, match="project_name: must not contain control"):
        render(tiny, {"project_name": "a\x00b"})


def test_rendered_paths_that_collide_are_refused() -> None:
    tiny = spec(
        {"{{ a }}.txt": "1", "{{ b }}.txt": "2"},
        variables=[
            {"name": "a", "type": "string", "default": "same"},
            {"name": "b", "type": "string", "default": "other"},
        ],
    )
    with pytest.raises(ValidationError, match=r"renders to 'same.txt', the same path as"):
        render(tiny, {"b": "same"})


# -- services, on each backend ---------------------------------------------------------------


async def test_seed_is_idempotent_and_updates_what_changed(
    database: Database, tmp_path: Path
) -> None:
    first = await service.seed_builtin_templates(database, actor="tester")
    assert len(first.created) >= 8 and not first.updated
    again = await service.seed_builtin_templates(database, actor="tester")
    assert not again.created and not again.updated
    assert sorted(again.unchanged) == sorted(first.created)
    async with database.reading() as session:
        rows = (await session.execute(select(func.count()).select_from(Template))).scalar_one()
        seeded = (
            await session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.event_type == "templates.seeded")
            )
        ).scalar_one()
    assert rows == len(first.created)
    assert seeded == 1

    # A user's change to a built-in is put back, and its version goes up.
    changed = tmp_path / "static-site"
    shutil.copytree(templating.BUILTIN_DIR / "static-site", changed)
    (changed / "files" / "extra.txt").write_text("mine\n", encoding="utf-8")
    assert (await service.import_template(database, changed)).version == 2
    third = await service.seed_builtin_templates(database)
    assert third.updated == ["static-site"]
    detail = await service.get_template(database, "static-site")
    assert detail.version == 3
    assert "extra.txt" not in detail.spec.files


async def test_two_seeds_at_once_store_each_template_once(database: Database) -> None:
    first, second = await asyncio.gather(
        service.seed_builtin_templates(database), service.seed_builtin_templates(database)
    )
    names = [folder.name for folder in templating.builtin_folders()]
    assert sorted(first.created + second.created) == names
    assert (await service.list_templates(database)).total == len(names)


async def test_list_filters_by_category_tag_stack_and_text(database: Database) -> None:
    await service.seed_builtin_templates(database)

    async def names(**filters: Any) -> list[str]:
        page = await service.list_templates(database, service.TemplateFilter(**filters))
        assert page.total == len(page.items)
        return [item.name for item in page.items]

    assert await names(category=TemplateCategory.MOBILE) == ["expo-mobile-app"]
    assert await names(tag="health-check") == ["go-microservice", "worker-microservice"]
    assert await names(stack="Python") == [
        "data-pipeline",
        "fastapi-service",
        "worker-microservice",
    ]
    assert await names(stack="python", category=TemplateCategory.API) == ["fastapi-service"]
    assert await names(text="VITE") == ["react-spa"]
    assert await names(tag='he"alth') == []
    assert len(await names()) >= 8


async def test_get_gives_variables_with_type_default_help_and_pattern(
    database: Database,
) -> None:
    await service.seed_builtin_templates(database)
    detail = await service.get_template(database, "fastapi-service")
    by_name = {v.name: v for v in detail.variables}
    assert by_name["project_name"].required
    assert by_name["project_name"].pattern == "^[a-z][a-z0-9-]{1,49}$"
    assert by_name["port"].type == "integer" and by_name["port"].default == 8000
    assert by_name["python_version"].choices == ("3.11", "3.12", "3.13")
    assert all(v.help for v in detail.variables)
    with pytest.raises(NotFound, match="no template named 'nope'"):
        await service.get_template(database, "nope")


async def test_preview_renders_without_storing_anything(database: Database) -> None:
    await service.seed_builtin_templates(database)
    preview = await service.preview_template(
        database, "data-pipeline", {"project_name": "sales", "package": "sales_etl"}
    )
    assert "src/sales_etl/pipeline.py" in preview.files
    assert preview.setup_commands[-1] == ".venv/bin/pip install -e '.[test]'"
    assert preview.test_commands[-1] == ".venv/bin/python -m sales_etl data/sample.csv"
    with pytest.raises(VariableErrors) as caught:
        await service.preview_template(database, "data-pipeline", {"package": "Bad-Name"})
    assert set(caught.value.problems) == {"project_name", "package"}
    projects = await project_service.list_projects(database)
    assert projects.total == 0


async def test_a_folder_the_file_system_refuses_is_named_not_thrown(
    database: Database, tmp_path: Path
) -> None:
    # One name longer than a file system allows (found by the hostile-input test).
    work = tmp_path / "folders"
    work.mkdir()
    too_long = work / ("0" * 300)
    with pytest.raises(ValidationError, match="folder: cannot be read: file name too long"):
        await service.import_template(database, too_long)
    source = write_folder(work / "tiny", metadata(), {"README.md": "# x\n"})
    await service.import_template(database, source)
    with pytest.raises(ValidationError, match="folder: cannot be written: file name too long"):
        await service.export_template(database, metadata()["name"], too_long)
    assert [path.name for path in work.iterdir()] == ["tiny"]


async def test_import_export_round_trip_gives_back_the_same_folder(
    database: Database, tmp_path: Path
) -> None:
    source = write_folder(
        tmp_path / "tiny",
        metadata(),
        {
            "README.md.jinja": "# {{ project_name }}\r\nwindows line ends kept\r\n",
            "src/{{ project_name }}/main.py.jinja": "PORT = {{ port }}\n",
            ".gitignore": "*.pyc\n",
            "unicode/é.txt": "naïve ✓\n",
        },
    )
    # Put the metadata in the canonical form export writes.
    (source / "template.json").write_text(
        templating.metadata_text(load_folder(source)), encoding="utf-8"
    )
    imported = await service.import_template(database, source, actor="tester")
    assert imported.created and imported.version == 1
    exported = tmp_path / "exported"
    await service.export_template(database, "tiny", exported)
    assert _tree(exported) == _tree(source)
    unchanged = await service.import_template(database, exported)
    assert not unchanged.changed and unchanged.version == 1
    with pytest.raises(ValidationError, match="already exists and is not an empty folder"):
        await service.export_template(database, "tiny", exported)


async def test_a_bad_folder_stores_nothing(database: Database, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tiny", metadata(), {"a.txt.jinja": "{{ undeclared }}"})
    with pytest.raises(ValidationError, match="undeclared"):
        await service.import_template(database, folder)
    assert (await service.list_templates(database)).total == 0


async def test_remove_deletes_the_template_and_audits_it(database: Database) -> None:
    await service.seed_builtin_templates(database)
    await service.remove_template(database, "react-spa", actor="tester")
    with pytest.raises(NotFound):
        await service.get_template(database, "react-spa")
    async with database.reading() as session:
        entry = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.event_type == "template.removed")
            )
        ).scalar_one()
    assert entry.actor == "tester" and entry.details["name"] == "react-spa"


async def test_create_project_from_template_in_one_transaction(database: Database) -> None:
    await service.seed_builtin_templates(database)
    config = await service.create_project_from_template(
        database,
        "fastapi-service",
        service.TemplateProjectCreate(
            name="Orders API",
            owner_id="alice",
            values={"project_name": "orders-api", "port": "9000"},
        ),
        actor="tester",
    )
    project = config.project
    assert project.type == "api"
    assert project.dependencies == ["fastapi>=0.110", "uvicorn[standard]>=0.29"]
    assert "uvicorn.run(app, port=9000)" in project.codebase["app/main.py"]
    assert project.state["tech_stack"] == ["python", "fastapi", "uvicorn", "pytest"]
    assert project.state["template"]["name"] == "fastapi-service"
    assert project.state["template"]["version"] == 1
    assert project.state["template"]["values"]["port"] == 9000
    assert config.settings.setup_commands[-1] == ".venv/bin/pip install -e '.[test]'"
    assert config.settings.test_commands == ['.venv/bin/pytest --junitxml="$PROJDECK_JUNIT_XML"']

    shown = await project_service.get_project_full_config(database, "Orders API")
    assert shown.settings.setup_commands == config.settings.setup_commands
    async with database.reading() as session:
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.project_id == project.id))
        ).scalar_one()
    assert entry.event_type == "project.created"
    assert entry.details["template"] == "fastapi-service"
    assert entry.details["variables"] == ["description", "port", "project_name", "python_version"]
    assert "orders-api" not in json.dumps(entry.details)  # names, never values

    origin = await service.project_template_origin(database, "Orders API")
    assert origin is not None
    assert (origin.name, origin.version, origin.changed, origin.removed) == (
        "fastapi-service",
        1,
        False,
        False,
    )


async def test_create_from_template_refuses_bad_values_and_duplicates_and_writes_nothing(
    database: Database,
) -> None:
    await service.seed_builtin_templates(database)
    with pytest.raises(VariableErrors, match="bundle_id: is required"):
        await service.create_project_from_template(
            database,
            "expo-mobile-app",
            service.TemplateProjectCreate(
                name="Phone", owner_id="bob", values={"project_name": "phone"}
            ),
        )
    assert (await project_service.list_projects(database)).total == 0
    data = service.TemplateProjectCreate(
        name="Phone", owner_id="bob", values={"project_name": "phone", "bundle_id": "com.x.phone"}
    )
    await service.create_project_from_template(database, "expo-mobile-app", data)
    with pytest.raises(Conflict, match="already exists"):
        await service.create_project_from_template(database, "expo-mobile-app", data)
    with pytest.raises(ValidationError, match="owner_id"):
        await service.create_project_from_template(
            database,
            "expo-mobile-app",
            service.TemplateProjectCreate(
                name="Phone 2", owner_id=" ", values={"project_name": "pp", "bundle_id": "com.x.p"}
            ),
        )
    assert (await project_service.list_projects(database)).total == 1


async def test_project_origin_shows_when_the_template_changed_or_went(
    database: Database, tmp_path: Path
) -> None:
    await project_from_template(
        database, "static-site", "Site", "carol", project_name="site", site_title="Site"
    )
    folder = tmp_path / "static-site"
    await service.export_template(database, "static-site", folder)
    (folder / "files" / "robots.txt").write_text("User-agent: *\n", encoding="utf-8")
    await service.import_template(database, folder)
    origin = await service.project_template_origin(database, "Site")
    assert origin is not None
    assert (origin.version, origin.current_version, origin.changed) == (1, 2, True)
    await service.remove_template(database, "static-site")
    origin = await service.project_template_origin(database, "Site")
    assert origin is not None and origin.removed and origin.current_version is None
    plain = await project_service.create_project_with_settings(
        database, project_service.ProjectCreate(name="Plain", type="cli", owner_id="carol")
    )
    assert await service.project_template_origin(database, str(plain.project.id)) is None


async def test_a_new_state_keeps_the_template_origin(database: Database) -> None:
    config = await project_from_template(
        database, "static-site", "Site", "carol", project_name="site", site_title="Site"
    )
    before = dict(config.project.state)
    updated = await project_service.update_project(
        database, "Site", {"state": {"agent": {"step": 3}}}, expected_version=1
    )
    assert updated.state == {**before, "agent": {"step": 3}}
    origin = await service.project_template_origin(database, "Site")
    assert origin is not None
    assert (origin.name, origin.version, origin.changed) == ("static-site", 1, False)
    assert origin.values["site_title"] == "Site"

    # Giving the origin back unchanged is fine; changing it is refused.
    same = await project_service.update_project(
        database, "Site", {"state": {**updated.state, "agent": {}}}, expected_version=2
    )
    assert same.state["agent"] == {} and same.state["template"] == before["template"]
    forged = {**same.state, "template": {**before["template"], "name": "react-spa"}}
    with pytest.raises(ValidationError, match="state: 'template' records the template"):
        await project_service.update_project(
            database, "Site", {"state": forged}, expected_version=3
        )
    origin = await service.project_template_origin(database, "Site")
    assert origin is not None and origin.name == "static-site"


async def test_templates_stored_before_revision_0003_keep_working(
    empty_database_url: URL,
) -> None:
    async with opened(empty_database_url) as database:
        await migrate.upgrade(database, "0002")
        old = sa.table(
            "templates",
            sa.column("id", sa.Uuid()),
            sa.column("name", sa.String()),
            sa.column("description", sa.Text()),
            sa.column("category", sa.String()),
            sa.column("files", JSONType),
            sa.column("required_vars", JSONType),
            sa.column("optional_vars", JSONType),
            sa.column("tech_stack", JSONType),
            sa.column("complexity", sa.String()),
            sa.column("tags", JSONType),
            sa.column("created_at", UTCDateTime()),
            sa.column("updated_at", UTCDateTime()),
        )
        async with database.engine.begin() as connection:
            await connection.execute(
                old.insert().values(
                    id=uuid.uuid4(),
                    name="legacy",
                    description="Stored at revision 0002.",
                    category="api",
                    files={"{{ name }}.txt.jinja": "{{ name }} on {{ port }} {{ debug }}"},
                    required_vars=["name"],
                    optional_vars={"port": 8000, "debug": False},
                    tech_stack=[],
                    complexity="simple",
                    tags=[],
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
        await migrate.upgrade(database)
        detail = await service.get_template(database, "legacy")
        assert detail.version == 1
        assert [(v.name, v.type, v.required) for v in detail.variables] == [
            ("name", "string", True),
            ("port", "integer", False),
            ("debug", "boolean", False),
        ]
        preview = await service.preview_template(database, "legacy", {"name": "x", "port": "81"})
        assert preview.files == {"x.txt": "x on 81 False"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=20))
def test_no_value_renders_a_path_outside_the_project(folder: str, name: str) -> None:
    tiny = spec(
        {"{{ folder }}/{{ name }}.txt": "x", "fixed/{{ name }}": "y"},
        variables=[
            {"name": "folder", "type": "string", "default": "a"},
            {"name": "name", "type": "string", "default": "b"},
        ],
    )
    try:
        rendered = render(tiny, {"folder": folder, "name": name})
    except ValidationError:
        return
    for path in rendered.files:
        parts = path.split("/")
        assert not path.startswith("/") and ".." not in parts and "" not in parts
        assert "\\" not in path and "\x00" not in path
