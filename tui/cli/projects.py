"""``projdeck project ...`` and ``projdeck settings ...``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from store import validation
from store.engine import Database
from store.errors import ValidationError
from store.models import ProjectStatus, ProjectType
from store.services import ProjectFilter, ProjectSort, shapes
from store.services import projects as service
from tui.cli.common import (
    call_service,
    echo_fields,
    json_input,
    json_option,
    paged_list,
    print_json,
    print_new_project,
    print_record,
    printed_page,
    read_input,
    run_with_database,
)
from tui.cli.completion import complete_project
from tui.cli.output import fail
from tui.cli.pager import paged
from tui.cli.tables import Column, echo_table

if TYPE_CHECKING:
    from store.crypto import SecretValue
    from store.services.templates import TemplateOrigin

# The template and secret services and the app's formatting load inside the
# commands that use them: ``project list`` starts without them.

F = TypeVar("F", bound=Callable[..., Any])
_TYPES = click.Choice([member.value for member in ProjectType])
_STATUSES = click.Choice([member.value for member in ProjectStatus])


def _key_values(field: str, items: tuple[str, ...]) -> dict[str, str]:
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(field, f"{item!r} is not KEY=VALUE")
        result[key] = value
    return result


def _files(items: tuple[str, ...]) -> dict[str, str]:
    """``--file PATH=LOCALFILE``: the codebase path and the file to read."""
    return {
        path: read_input("file", "--file", local, limit=validation.MAX_FILE_BYTES)
        for path, local in _key_values("file", items).items()
    }


def _short(project_id: Any) -> str:
    return str(project_id)[:8]


_PROJECT_COLUMNS = (
    Column("ID"),
    Column("NAME", most=28),
    Column("TYPE"),
    Column("STATUS"),
    Column("OWNER", most=16),
    Column("PENDING", numeric=True),
    Column("UPDATED"),
)


@click.group()
def project() -> None:
    """Create, list, show, change, archive and delete projects.

    REF is a project's full id, a unique id prefix of at least 6
    characters, its exact name, or its GitHub owner/repo (a name is tried
    first: a project named acme/api is found before the one linked to
    the repository acme/api).
    """


@project.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=_STATUSES,
    help="Only these statuses (repeatable). Default: active and archived.",
)
@click.option("--all", "show_all", is_flag=True, help="Include deleted projects.")
@click.option("--owner", help="Only projects of this owner.")
@click.option("--type", "project_type", type=_TYPES, help="Only projects of this type.")
@click.option("--search", help="Text in the name, owner or repository.")
@click.option(
    "--dependency",
    metavar="NAME",
    help="Only projects with a dependency of this name, in any case and any version "
    "(fastapi finds fastapi>=0.110).",
)
@click.option(
    "--stack",
    metavar="NAME",
    help="Only projects whose recorded tech stack (their template's) holds NAME, or with "
    "a dependency NAME.",
)
@click.option(
    "--file",
    "file_pattern",
    metavar="PATTERN",
    help="Only projects with a file whose path matches this glob, in any case (* any "
    "characters, / included; ? one character).",
)
@click.option(
    "--sort",
    type=click.Choice([s.value for s in ProjectSort]),
    default="updated",
    show_default=True,
)
@paged_list
def list_projects(
    ctx: click.Context,
    statuses: tuple[str, ...],
    show_all: bool,
    owner: str | None,
    project_type: str | None,
    search: str | None,
    dependency: str | None,
    stack: str | None,
    file_pattern: str | None,
    sort: str,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List projects, most recently changed first. The filters combine:
    each narrows the list.

    --dependency, --stack and --file find projects by what they contain. A
    dependency is matched by its name up to its version or extras
    (fastapi>=0.110, uvicorn[standard] and react@^18 name fastapi, uvicorn
    and react; @scope/name@^1 names @scope/name). A glob is matched against
    the whole path: src/*.py, *.md, */Dockerfile; there is no escape for a
    literal * or ?.
    """
    if statuses:
        wanted = service.parse_statuses(statuses)
    elif show_all:
        wanted = list(ProjectStatus)
    else:
        wanted = [ProjectStatus.ACTIVE, ProjectStatus.ARCHIVED]
    filters = ProjectFilter(
        statuses=wanted,
        owner_id=owner,
        type=ProjectType(project_type) if project_type else None,
        search=search,
        dependency=dependency,
        stack=stack,
        file=file_pattern,
    )

    page = call_service(
        ctx, service.list_projects, filters, sort=ProjectSort(sort), limit=limit, offset=offset
    )
    if printed_page(page, shapes.project_summary_as_dict, as_json=as_json, noun="projects"):
        return
    echo_table(
        _PROJECT_COLUMNS,
        [
            (
                _short(item.id),
                item.name,
                str(item.type),
                str(item.status),
                item.owner_id,
                str(item.pending_modifications),
                f"{item.updated_at:%Y-%m-%d %H:%M}",
            )
            for item in page.items
        ],
    )
    shown_to = page.offset + len(page.items)
    click.echo(f"{page.offset + 1}-{shown_to} of {page.total}")


@project.command("show")
@click.argument("ref", shell_complete=complete_project)
@click.option("--codebase", "with_codebase", is_flag=True, help="Include file contents in --json.")
@click.option(
    "--reveal-webhook",
    is_flag=True,
    help="Show the webhook URL with its credentials (the read is recorded in the audit log).",
)
@json_option()
@click.pass_context
@paged
def show_project(
    ctx: click.Context, ref: str, with_codebase: bool, reveal_webhook: bool, as_json: bool
) -> None:
    """Show a project with its settings and secret names (never values).
    The webhook URL is shown with its credentials masked unless
    --reveal-webhook is given."""

    from store.services import git
    from store.services import secrets as secret_service
    from store.services import templates as template_service
    from tui import format

    async def work(
        database: Database,
    ) -> tuple[
        service.ProjectConfig,
        TemplateOrigin | None,
        SecretValue | None,
        git.RepositoryStatus | None,
    ]:
        config = await service.get_project_full_config(database, ref)
        project_id = str(config.project.id)
        origin = await template_service.project_template_origin(database, project_id)
        webhook = None
        if reveal_webhook and config.project.webhook_url is not None:
            webhook = await secret_service.reveal_webhook_url(database, project_id)
        repository = await git.repository_status(database, project_id)
        return config, origin, webhook, repository

    config, origin, webhook, repository = run_with_database(ctx, work)
    data = shapes.project_as_dict(config.project, include_codebase=with_codebase)
    if webhook is not None:
        data["webhook_url"] = webhook.reveal()
    data["settings"] = shapes.settings_as_dict(config.settings)
    data["secrets"] = [secret.key_name for secret in config.secrets]
    data["repository"] = None if repository is None else shapes.repository_as_dict(repository)
    if as_json:
        print_json(data)
        return
    p = config.project
    lines = [
        ("id", str(p.id)),
        ("name", p.name),
        ("type", p.type),
        ("status", p.status),
        ("owner", p.owner_id),
        ("github", (data["github_owner"] and f"{p.github_owner}/{p.github_repo}") or "-"),
        ("webhook", data["webhook_url"] or "-"),
        ("auto-merge", "on" if p.auto_merge_enabled else "off"),
        ("auto-confirm plans", "on" if p.auto_confirm_plans else "off"),
        (
            "scores",
            f"coverage {_score(p.test_coverage)}  security {_score(p.security_score)}  performance {_score(p.performance_score)}",
        ),
        ("dependencies", ", ".join(p.dependencies) or "-"),
        ("environment", ", ".join(sorted(p.environment_vars)) or "-"),
        ("files", f"{len(p.codebase)}"),
        ("secrets", ", ".join(data["secrets"]) or "-"),
        ("branch", config.settings.branch_name),
        ("repository", "-" if repository is None else repository.path),
        ("snapshot", format.snapshot_state(p.snapshot_commit, repository)),
        ("template", "-" if origin is None else format.template_origin(origin)),
        ("version", str(p.version)),
        ("created", f"{p.created_at:%Y-%m-%d %H:%M:%S %Z}"),
        ("updated", f"{p.updated_at:%Y-%m-%d %H:%M:%S %Z}"),
        ("last deployed", _time(p.last_deployed_at)),
        ("last active", _time(p.last_active_at)),
    ]
    echo_fields(lines)
    if config.settings.planning_statement:
        click.echo(f"\nplanning statement:\n{config.settings.planning_statement}")


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _time(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M:%S %Z}"


# Options a template decides: given with --template they are refused rather
# than silently ignored.
_NOT_WITH_TEMPLATE = {
    "project_type": ("--type", "the template sets the type"),
    "dependencies": ("--dependency", "the template sets the dependencies"),
    "files": ("--file", "the template's rendered files are the codebase"),
}


@project.command("create")
@click.option("--name", required=True, help="Unique project name.")
@click.option("--type", "project_type", type=_TYPES, help="Required unless --template is given.")
@click.option("--owner", required=True, help="Owner id (a person or team).")
@click.option("--github", metavar="OWNER/REPO", help="The GitHub repository.")
@click.option("--webhook-url", help="http(s) URL notified of changes.")
@click.option("--auto-merge/--no-auto-merge", default=False, show_default=True)
@click.option(
    "--auto-confirm/--no-auto-confirm",
    default=False,
    show_default=True,
    help="Auto-confirm agent plans.",
)
@click.option("--dependency", "dependencies", multiple=True, help="A dependency (repeatable).")
@click.option(
    "--env",
    "env",
    multiple=True,
    metavar="KEY=VALUE",
    help="A non-secret environment variable (repeatable).",
)
@click.option(
    "--file",
    "files",
    multiple=True,
    metavar="PATH=LOCALFILE",
    help="Add a codebase file read from LOCALFILE (repeatable).",
)
@click.option("--planning-statement", help="The project's planning statement.")
@click.option(
    "--branch",
    help="Branch name (default main; with --repo: the repository's branch to link, "
    "default the one checked out).",
)
@click.option(
    "--repo",
    "repository",
    metavar="PATH",
    type=click.Path(file_okay=False, path_type=str),
    help="Link the project to the git repository at PATH on this machine (as `project link` does).",
)
@click.option(
    "--template",
    "template_name",
    metavar="TEMPLATE",
    help="Create the project from this template (as `template use` does).",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="A template variable's value (with --template; repeatable).",
)
@json_option("Print the new project as JSON.")
@click.pass_context
def create_project(
    ctx: click.Context,
    name: str,
    project_type: str | None,
    owner: str,
    github: str | None,
    webhook_url: str | None,
    auto_merge: bool,
    auto_confirm: bool,
    dependencies: tuple[str, ...],
    env: tuple[str, ...],
    files: tuple[str, ...],
    planning_statement: str | None,
    branch: str | None,
    repository: str | None,
    template_name: str | None,
    variables: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create a project (and its settings). Prints the new id.

    With --template, the project is made from that template rendered with
    the --var values: its type, files, dependencies and setup commands come
    from the template; the other options apply as without it.

    With --repo, the project is linked to that git repository in the same
    step; `project sync` then reads its codebase from the branch."""
    if template_name is not None:
        if repository is not None:
            raise click.UsageError(
                "--repo cannot be used with --template yet: create from the template, "
                "then projdeck project link NAME PATH"
            )
        for parameter, (option, reason) in _NOT_WITH_TEMPLATE.items():
            if ctx.get_parameter_source(parameter) is not ParameterSource.DEFAULT:
                raise click.UsageError(f"{option} cannot be used with --template: {reason}")
        try:
            environment = _key_values("env", env)
        except ValidationError as error:
            fail(error.message)
        from tui.cli.templates import create_from_template

        create_from_template(
            ctx,
            template_name,
            name=name,
            owner=owner,
            variables=variables,
            github=github,
            planning_statement=planning_statement or "",
            webhook_url=webhook_url,
            auto_merge=auto_merge,
            auto_confirm=auto_confirm,
            env=environment,
            branch=branch,
            as_json=as_json,
        )
        return
    if variables:
        raise click.UsageError("--var needs --template (the values of a template's variables)")
    if project_type is None:
        raise click.UsageError("Missing option '--type' (or give --template)")
    try:
        github_owner, github_repo = validation.github_pair(github) if github else (None, None)
        settings: dict[str, Any] = {}
        if planning_statement is not None:
            settings["planning_statement"] = planning_statement
        if branch is not None and repository is None:
            settings["branch_name"] = branch
        data = service.ProjectCreate(
            name=name,
            type=project_type,
            owner_id=owner,
            github_owner=github_owner,
            github_repo=github_repo,
            webhook_url=webhook_url,
            auto_merge_enabled=auto_merge,
            auto_confirm_plans=auto_confirm,
            dependencies=list(dependencies),
            environment_vars=_key_values("env", env),
            codebase=_files(files),
            settings=settings,
        )
    except ValidationError as error:
        fail(error.message)

    if repository is not None:
        from store.services import git

        config, _link = call_service(
            ctx, git.create_linked_project, data, repository, branch=branch
        )
        print_new_project(config, as_json=as_json)
        return
    print_new_project(
        call_service(ctx, service.create_project_with_settings, data), as_json=as_json
    )


@project.command("update")
@click.argument("ref", shell_complete=complete_project)
@click.option("--name")
@click.option("--type", "project_type", type=_TYPES)
@click.option("--owner")
@click.option("--github", metavar="OWNER/REPO", help="The GitHub repository ('none' clears it).")
@click.option("--webhook-url", help="http(s) URL ('' clears it).")
@click.option("--auto-merge/--no-auto-merge", default=None)
@click.option("--auto-confirm/--no-auto-confirm", default=None)
@click.option(
    "--dependency", "dependencies", multiple=True, help="Replace the dependencies (repeatable)."
)
@click.option("--clear-dependencies", is_flag=True, help="Remove every dependency.")
@click.option(
    "--env", "env", multiple=True, metavar="KEY=VALUE", help="Replace the environment (repeatable)."
)
@click.option(
    "--file",
    "files",
    multiple=True,
    metavar="PATH=LOCALFILE",
    help="Add or replace a codebase file.",
)
@click.option(
    "--remove-file", "removed", multiple=True, metavar="PATH", help="Remove a codebase file."
)
@click.option("--deployment-config", metavar="JSON|@FILE")
@click.option("--state", metavar="JSON|@FILE")
@click.option("--test-coverage", type=float)
@click.option("--security-score", type=float)
@click.option("--performance-score", type=float)
@click.option(
    "--expect-version", type=int, help="Fail if the project is no longer at this version."
)
@json_option("Print the updated project as JSON.")
@click.pass_context
def update_project(ctx: click.Context, /, ref: str, **options: Any) -> None:
    """Change fields of a project; unchanged fields stay as they are."""
    as_json = options.pop("as_json")
    expect_version = options.pop("expect_version")
    try:
        changes = _update_changes(options)
    except ValidationError as error:
        fail(error.message)
    if not changes and not options["files"] and not options["removed"]:
        raise click.UsageError("give at least one field to change")
    try:
        files = _files(options["files"])
    except ValidationError as error:
        fail(error.message)

    # Without --expect-version the service reads and writes in one
    # transaction: someone else's update makes it wait, not fail.
    updated = call_service(
        ctx,
        service.update_project,
        ref,
        changes,
        expected_version=expect_version,
        files=files,
        removed_files=options["removed"],
    )
    line = f"updated {updated.name} (version {updated.version})"
    print_record(updated, shapes.project_as_dict, line, as_json=as_json)


def _update_changes(options: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    simple = {
        "name": "name",
        "project_type": "type",
        "owner": "owner_id",
        "webhook_url": "webhook_url",
        "auto_merge": "auto_merge_enabled",
        "auto_confirm": "auto_confirm_plans",
        "test_coverage": "test_coverage",
        "security_score": "security_score",
        "performance_score": "performance_score",
    }
    for option, field in simple.items():
        if options[option] is not None:
            changes[field] = options[option]
    if options["github"] is not None:
        if options["github"].lower() == "none":
            changes["github_owner"] = changes["github_repo"] = None
        else:
            changes["github_owner"], changes["github_repo"] = validation.github_pair(
                options["github"]
            )
    if options["dependencies"] or options["clear_dependencies"]:
        changes["dependencies"] = list(options["dependencies"])
    if options["env"]:
        changes["environment_vars"] = _key_values("env", options["env"])
    for option in ("deployment_config", "state"):
        if options[option] is not None:
            changes[option] = json_input(option, "--" + option.replace("_", "-"), options[option])
    return changes


def _status_command(name: str, action: str, help_text: str) -> None:
    @project.command(name, help=help_text)
    @click.argument("ref", shell_complete=complete_project)
    @click.pass_context
    def command(ctx: click.Context, ref: str) -> None:
        operation = getattr(service, f"{action}_project")

        changed = call_service(ctx, operation, ref)
        click.echo(f"{changed.name} is now {changed.status}")


_status_command("archive", "archive", "Archive a project (read-only, hidden from agents).")
_status_command("unarchive", "unarchive", "Make an archived project active again.")
_status_command("restore", "restore", "Bring back a deleted (not purged) project.")


@project.command("deployed")
@click.argument("ref", shell_complete=complete_project)
@click.option(
    "--at",
    "when",
    metavar="TIME",
    help="When it was deployed: ISO 8601 (2026-01-31T14:05:00Z; UTC unless it names a "
    "zone) or an age (30m, 2h). Default: now.",
)
@click.option(
    "--environment",
    metavar="NAME",
    help="Where to: production, staging... (kept in the audit row).",
)
@json_option("Print the project as JSON.")
@click.pass_context
def deployed_project(
    ctx: click.Context, ref: str, when: str | None, environment: str | None, as_json: bool
) -> None:
    """Record that project REF was deployed (for CI and agents).

    Its last deployment and last activity move to TIME, unless a later one
    is recorded already; its version stays (this is not an edit). The
    deployment is recorded in the audit log (deployment.succeeded); a time
    in the future is refused."""
    from store.services.audit import parse_time

    try:
        at = parse_time("at", when) if when is not None else None
    except ValidationError as error:
        fail(error.message)

    updated = call_service(ctx, service.record_deployment, ref, at=at, environment=environment)
    if as_json:
        print_json(shapes.project_as_dict(updated))
        return
    last = updated.last_deployed_at
    assert last is not None
    where = f" to {environment.strip()}" if environment else ""
    later = " (a later deployment was recorded before)" if at is not None and last > at else ""
    click.echo(
        f"recorded a deployment of {updated.name}{where}; "
        f"last deployed {last:%Y-%m-%d %H:%M:%S %Z}{later}"
    )


@project.command("delete")
@click.argument("ref", shell_complete=complete_project)
@click.option(
    "--purge", is_flag=True, help="Delete for good, with settings, secrets and modifications."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete_project(ctx: click.Context, ref: str, purge: bool, yes: bool) -> None:
    """Mark a project deleted (restorable), or --purge it for good."""
    if purge and not yes:
        if not sys.stdin.isatty():
            fail("purging cannot be undone; add --yes to confirm (no terminal to ask)")
        click.confirm(
            f"Purge project {ref!r} with its settings, secrets and modifications? This cannot be undone",
            abort=True,
        )

    if purge:
        project_id = call_service(ctx, service.purge_project, ref)
        click.echo(f"purged project {project_id}")
        return
    deleted = call_service(ctx, service.delete_project, ref)
    click.echo(
        f"{deleted.name} is now deleted (restore with: projdeck project restore {_short(deleted.id)})"
    )


@project.command("link")
@click.argument("ref", shell_complete=complete_project)
@click.argument("path", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--branch",
    help="The branch changes are applied to (default: the project's branch if the "
    "repository has it, else the one checked out).",
)
@json_option()
@click.pass_context
def link_project(
    ctx: click.Context, ref: str, path: str, branch: str | None, as_json: bool
) -> None:
    """Link a project to the git repository at PATH (a working tree or a
    bare repository) on this machine. The branch becomes the project's
    branch; sync reads it, applied modifications are committed to it."""
    from store.services import git

    link = call_service(ctx, git.link_project, ref, path, branch=branch)
    if as_json:
        print_json({"project": link.project, "path": link.path, "branch": link.branch})
        return
    click.echo(f"linked {link.project} to {link.path} (branch {link.branch})")
    click.echo(f"next: projdeck project sync {link.project}")


@project.command("unlink")
@click.argument("ref", shell_complete=complete_project)
@click.pass_context
def unlink_project(ctx: click.Context, ref: str) -> None:
    """Remove the project's link to its repository on this machine (the
    repository itself is not touched)."""
    from store.services import git

    link = call_service(ctx, git.unlink_project, ref)
    click.echo(f"unlinked {link.project} from {link.path}")


@project.command("sync")
@click.argument("ref", shell_complete=complete_project)
@click.option(
    "--max-file-size",
    type=click.IntRange(1),
    default=validation.MAX_FILE_BYTES,
    show_default=True,
    metavar="BYTES",
    help="Leave out files larger than this.",
)
@json_option("Print JSON (with every file left out).")
@click.pass_context
def sync_project(ctx: click.Context, ref: str, max_file_size: int, as_json: bool) -> None:
    """Replace the stored codebase with what git tracks at the tip of the
    linked branch, and record that commit. Binary files, files over
    --max-file-size, links and submodules are left out and counted."""
    from store.services import git
    from tui.cli.output import StatusLine

    status = StatusLine()

    async def work(database: Database) -> git.Synced:
        return await git.sync_project(database, ref, max_file_bytes=max_file_size, on_step=status)

    synced = run_with_database(ctx, work, status=status)
    if as_json:
        print_json(
            {
                "project": synced.project,
                "commit": synced.commit,
                "files": synced.files,
                "added": synced.added,
                "changed": synced.changed,
                "removed": synced.removed,
                "skipped": synced.skipped,
                "skipped_files": [
                    {"path": path, "reason": reason} for path, reason in synced.skipped_paths
                ],
            }
        )
        return
    click.echo(
        f"synced {synced.project} at {synced.commit[:12]}: "
        f"{synced.files} file{'s' if synced.files != 1 else ''} "
        f"({synced.added} added, {synced.changed} changed, {synced.removed} removed)"
    )
    if synced.skipped:
        total = sum(synced.skipped.values())
        reasons = ", ".join(f"{count} {reason}" for reason, count in synced.skipped.items())
        click.echo(f"left out {total}: {reasons} (--json lists them)")


@click.group()
def settings() -> None:
    """Show and change a project's settings."""


@settings.command("show")
@click.argument("ref", shell_complete=complete_project)
@json_option()
@click.pass_context
def show_settings(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show the planning statement, repository rules, setup and test commands and branch."""

    config = call_service(ctx, service.get_project_full_config, ref)
    data = shapes.settings_as_dict(config.settings)
    if as_json:
        print_json(data)
        return
    click.echo(f"branch: {data['branch_name']}")
    click.echo(f"planning statement:\n{data['planning_statement'] or '-'}")
    click.echo(f"repository rules:\n{data['repository_rules'] or '-'}")
    for kind in ("setup", "test"):
        click.echo(f"{kind} commands:")
        for command in data[f"{kind}_commands"] or ["-"]:
            click.echo(f"  {command}")


def _command_list_options(kind: str, help: str) -> Callable[[F], F]:
    """``--KIND-command`` (repeatable: the new list of KIND commands) and
    ``--clear-KIND-commands`` (an empty one)."""

    def decorate(command: F) -> F:
        command = click.option(f"--clear-{kind}-commands", is_flag=True)(command)
        return click.option(f"--{kind}-command", f"{kind}_commands", multiple=True, help=help)(
            command
        )

    return decorate


@settings.command("set")
@click.argument("ref", shell_complete=complete_project)
@click.option("--planning-statement")
@click.option("--repository-rules")
@_command_list_options("setup", "Replace the setup commands (repeatable).")
@_command_list_options(
    "test",
    "Replace the test commands (repeatable): what `mod test` runs after the setup commands.",
)
@click.option("--branch")
@json_option("Print the settings as JSON.")
@click.pass_context
def set_settings(
    ctx: click.Context,
    ref: str,
    planning_statement: str | None,
    repository_rules: str | None,
    setup_commands: tuple[str, ...],
    clear_setup_commands: bool,
    test_commands: tuple[str, ...],
    clear_test_commands: bool,
    branch: str | None,
    as_json: bool,
) -> None:
    """Change a project's settings."""
    changes: dict[str, Any] = {}
    if planning_statement is not None:
        changes["planning_statement"] = planning_statement
    if repository_rules is not None:
        changes["repository_rules"] = repository_rules
    if setup_commands or clear_setup_commands:
        changes["setup_commands"] = list(setup_commands)
    if test_commands or clear_test_commands:
        changes["test_commands"] = list(test_commands)
    if branch is not None:
        changes["branch_name"] = branch
    if not changes:
        raise click.UsageError("give at least one setting to change")

    updated = call_service(ctx, service.update_settings, ref, changes)
    line = f"updated settings: {', '.join(sorted(changes))}"
    print_record(updated, shapes.settings_as_dict, line, as_json=as_json)
