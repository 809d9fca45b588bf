"""``projdeck template ...``: the template library, and new projects made
from a template."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from store import validation
from store.errors import ValidationError
from store.models import TemplateCategory
from store.services import shapes
from store.services import templates as service
from tui.cli.common import (
    call_service,
    echo_fields,
    json_option,
    paged_list,
    print_json,
    print_new_project,
    print_page_json,
)
from tui.cli.completion import complete_project
from tui.cli.output import fail
from tui.cli.pager import paged
from tui.cli.tables import Column, echo_table

_CATEGORIES = click.Choice([member.value for member in TemplateCategory])


def _values(items: tuple[str, ...]) -> dict[str, str]:
    """``--var KEY=VALUE`` options as a mapping (the template checks them)."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            fail(f"var: {item!r} is not KEY=VALUE")
        if key in values:
            fail(f"{key}: given twice")
        values[key] = value
    return values


@click.group()
def template() -> None:
    """The template library: list, show, import, export and remove
    templates, seed the built-in ones, preview and use one for a new project.

    A template is a folder with template.json and a files/ tree;
    docs/templates.md describes the format.
    """


@template.command("list")
@click.option("--category", type=_CATEGORIES, help="Only this category.")
@click.option("--tag", help="Only templates with this tag.")
@click.option("--stack", help="Only templates with this tech stack entry (e.g. python).")
@click.option("--search", help="Text in the name or description.")
@paged_list
def list_templates(
    ctx: click.Context,
    category: str | None,
    tag: str | None,
    stack: str | None,
    search: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List templates by name."""
    filters = service.TemplateFilter(
        category=TemplateCategory(category) if category else None,
        tag=tag,
        stack=stack,
        text=search,
    )

    page = call_service(ctx, service.list_templates, filters, limit=limit, offset=offset)
    if as_json:
        print_page_json(page, shapes.template_summary_as_dict)
        return
    if not page.items:
        click.echo("no templates" if page.total == 0 else "no templates on this page")
        if page.total == 0 and not any((category, tag, stack, search)):
            click.echo("add the built-in ones with: projdeck template seed")
        return
    echo_table(
        (
            Column("NAME", most=22),
            Column("CATEGORY"),
            Column("COMPLEXITY"),
            Column("SETUP", numeric=True),
            Column("STACK"),
        ),
        [
            (
                item.name,
                str(item.category),
                str(item.complexity),
                "-" if item.estimated_setup_time is None else f"{item.estimated_setup_time}m",
                ", ".join(item.tech_stack),
            )
            for item in page.items
        ],
    )
    click.echo(f"{page.offset + 1}-{page.offset + len(page.items)} of {page.total}")


@template.command("show")
@click.argument("name")
@click.option("--files", "with_files", is_flag=True, help="Include file contents in --json.")
@json_option()
@click.pass_context
@paged
def show_template(ctx: click.Context, name: str, with_files: bool, as_json: bool) -> None:
    """Show a template: what it is, its variables and its files."""

    detail = call_service(ctx, service.get_template, name)
    if as_json:
        print_json(shapes.template_detail_as_dict(detail, include_files=with_files))
        return
    spec = detail.spec
    lines = [
        ("name", spec.name),
        ("category", spec.category.value),
        ("project type", spec.project_type.value),
        ("complexity", spec.complexity.value),
        (
            "setup time",
            "-" if spec.estimated_setup_time is None else f"{spec.estimated_setup_time} minutes",
        ),
        ("tech stack", ", ".join(spec.tech_stack) or "-"),
        ("tags", ", ".join(spec.tags) or "-"),
        ("dependencies", ", ".join(spec.dependencies) or "-"),
        ("version", str(detail.version)),
        ("updated", f"{detail.updated_at:%Y-%m-%d %H:%M:%S %Z}"),
    ]
    echo_fields(lines)
    click.echo(f"\n{spec.description}\n")
    click.echo("variables:")
    for variable in spec.variables:
        kind = variable.type
        if variable.choices:
            kind += f" ({' | '.join(variable.choices)})"
        need = "required" if variable.required else f"default {variable.default!r}"
        click.echo(f"  {variable.name}  {kind}, {need}")
        if variable.help:
            click.echo(f"      {variable.help}")
        if variable.pattern:
            click.echo(f"      pattern: {variable.pattern}")
    click.echo("files:")
    for path in sorted(spec.files):
        click.echo(f"  {path}")


@template.command("seed")
@json_option()
@click.pass_context
def seed_templates(ctx: click.Context, as_json: bool) -> None:
    """Add the built-in templates, or update those that changed (safe to re-run)."""

    result = call_service(ctx, service.seed_builtin_templates)
    if as_json:
        print_json(
            {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
        )
        return
    click.echo(
        f"built-in templates: {len(result.created)} added, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged"
    )


@template.command("import")
@click.argument("folder", type=click.Path(path_type=Path))
@click.pass_context
def import_template(ctx: click.Context, folder: Path) -> None:
    """Create or update a template from FOLDER (template.json and files/)."""

    result = call_service(ctx, service.import_template, folder)
    if result.created:
        click.echo(f"imported template {result.name} (version {result.version})")
    elif result.changed:
        click.echo(f"updated template {result.name} to version {result.version}")
    else:
        click.echo(f"template {result.name} is unchanged (version {result.version})")


@template.command("export")
@click.argument("name")
@click.argument("folder", type=click.Path(path_type=Path))
@click.pass_context
def export_template(ctx: click.Context, name: str, folder: Path) -> None:
    """Write template NAME as FOLDER (new or empty); `template import` reads it back."""

    written = call_service(ctx, service.export_template, name, folder)
    click.echo(f"exported {name} to {folder} ({len(written) - 1} files)")


@template.command("rm")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove_template(ctx: click.Context, name: str, yes: bool) -> None:
    """Remove a template. Projects made from it are not touched."""
    if not yes:
        if not sys.stdin.isatty():
            fail("add --yes to remove the template (no terminal to ask)")
        click.confirm(f"Remove template {name!r}?", abort=True)

    call_service(ctx, service.remove_template, name)
    click.echo(f"removed template {name}")


@template.command("preview")
@click.argument("name")
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help="A variable value.")
@click.option("--file", "show_file", metavar="PATH", help="Print this rendered file.")
@json_option("Print the rendered files as JSON.")
@click.pass_context
def preview_template(
    ctx: click.Context,
    name: str,
    variables: tuple[str, ...],
    show_file: str | None,
    as_json: bool,
) -> None:
    """Show the files a project made from NAME with these values would get."""
    values = _values(variables)

    rendered = call_service(ctx, service.preview_template, name, values)
    if as_json:
        print_json(
            {
                "values": rendered.values,
                "setup_commands": rendered.setup_commands,
                "test_commands": rendered.test_commands,
                "files": rendered.files,
            }
        )
    elif show_file is not None:
        if show_file not in rendered.files:
            fail(f"file: {show_file!r} is not among the rendered files")
        click.echo(rendered.files[show_file], nl=False)
    else:
        for line in rendered.tree():
            click.echo(line)


@template.command("use")
@click.argument("template_name", metavar="TEMPLATE")
@click.option("--name", required=True, help="Name of the new project (unique).")
@click.option("--owner", required=True, help="Owner id (a person or team).")
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help="A variable value.")
@click.option("--github", metavar="OWNER/REPO", help="The GitHub repository.")
@click.option("--planning-statement", default="", help="The project's planning statement.")
@json_option("Print the new project as JSON.")
@click.pass_context
def use_template(ctx: click.Context, /, template_name: str, **options: Any) -> None:
    """Create a project from TEMPLATE: its files, dependencies and setup
    commands come from the template rendered with the --var values. Prints
    the new id. (Same as ``project create --template``.)"""
    # The options are named as create_from_template's parameters.
    create_from_template(ctx, template_name, **options)


def create_from_template(
    ctx: click.Context,
    template_name: str,
    *,
    name: str,
    owner: str,
    variables: tuple[str, ...],
    github: str | None,
    planning_statement: str,
    as_json: bool,
    webhook_url: str | None = None,
    auto_merge: bool = False,
    auto_confirm: bool = False,
    env: dict[str, str] | None = None,
    branch: str | None = None,
) -> None:
    """What ``template use`` and ``project create --template`` do: create
    the project in one transaction and print its id (or JSON)."""
    try:
        github_owner, github_repo = validation.github_pair(github) if github else (None, None)
    except ValidationError as error:
        fail(error.message)
    data = service.TemplateProjectCreate(
        name=name,
        owner_id=owner,
        values=dict(_values(variables)),
        github_owner=github_owner,
        github_repo=github_repo,
        planning_statement=planning_statement,
        webhook_url=webhook_url,
        auto_merge_enabled=auto_merge,
        auto_confirm_plans=auto_confirm,
        environment_vars=env or {},
        branch_name=branch,
    )

    print_new_project(
        call_service(ctx, service.create_project_from_template, template_name, data),
        as_json=as_json,
    )


@template.command("origin")
@click.argument("ref", shell_complete=complete_project)
@json_option()
@click.pass_context
def template_origin(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Which template (and version) project REF was created from, with which
    values, and whether that template has changed or gone since."""

    origin = call_service(ctx, service.project_template_origin, ref)
    if as_json:
        print_json(None if origin is None else shapes.template_origin_as_dict(origin))
        return
    if origin is None:
        click.echo("not created from a template")
        return
    click.echo(f"created from template {origin.name} version {origin.version}")
    if origin.removed:
        click.echo("the template has been removed since")
    elif origin.changed:
        click.echo(f"the template has changed since (now version {origin.current_version})")
    else:
        click.echo("the template is unchanged since")
    for key, value in sorted(origin.values.items()):
        click.echo(f"  {key} = {value!r}")
