"""Template services: seed the built-ins, import, export, remove, list, show,
preview, and create a project from a template. Each write is one
transaction with its audit row; folders are checked in full before
anything is stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, template_render, templating, validation
from store.config import current_actor
from store.engine import Database
from store.errors import Conflict, NotFound, ValidationError
from store.models import Template, TemplateCategory
from store.repositories import TemplateRepository
from store.repositories.base import Page
from store.repositories.templates import TemplateFilter
from store.services import projects as project_service
from store.services import team
from store.services.project_reads import ProjectConfig, resolve_project
from store.template_spec import RenderedProject, TemplateSpec, Variable
from store.types import utcnow

__all__ = [
    "ImportResult",
    "SeedResult",
    "TemplateDetail",
    "TemplateFilter",
    "TemplateOrigin",
    "TemplateProjectCreate",
    "TemplateSummary",
    "create_project_from_template",
    "export_template",
    "get_template",
    "import_template",
    "list_templates",
    "preview_template",
    "project_template_origin",
    "remove_template",
    "seed_builtin_templates",
]


@dataclass
class TemplateSummary:
    """A row of the templates list."""

    id: uuid.UUID
    name: str
    description: str
    category: TemplateCategory
    complexity: str
    estimated_setup_time: int | None
    tech_stack: list[str]
    tags: list[str]
    version: int
    variables: int
    updated_at: datetime


@dataclass
class TemplateDetail:
    """One template in full: its spec (metadata, variables, raw files) and
    where it stands in the store."""

    id: uuid.UUID
    spec: TemplateSpec
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def variables(self) -> list[Variable]:
        return self.spec.variables

    @property
    def digest(self) -> str:
        return self.spec.digest()


@dataclass
class SeedResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    name: str
    version: int
    created: bool
    changed: bool


@dataclass
class TemplateProjectCreate:
    """A new project from a template: its own name and owner, the values of
    the template's variables, and optionally its GitHub repository and the
    project's own options (the template decides its type, files and
    dependencies)."""

    name: str
    owner_id: str
    values: dict[str, Any] = field(default_factory=dict)
    github_owner: str | None = None
    github_repo: str | None = None
    planning_statement: str = ""
    webhook_url: str | None = None
    auto_merge_enabled: bool = False
    auto_confirm_plans: bool = False
    environment_vars: dict[str, str] = field(default_factory=dict)
    branch_name: str | None = None  # None: the default branch


@dataclass
class TemplateOrigin:
    """Which template (and version) a project was made from, with which
    values, and whether that template has changed or gone since."""

    name: str
    version: int
    digest: str
    values: dict[str, Any]
    current_version: int | None
    changed: bool
    removed: bool


# -- conversions ------------------------------------------------------------------


def _spec(row: Template) -> TemplateSpec:
    """A stored template checked again as a spec (rows are never trusted to
    render unchecked)."""
    setup = row.project_setup or {}
    metadata = {
        "name": row.name,
        "description": row.description,
        "category": row.category,
        "project_type": setup.get("project_type"),
        "complexity": row.complexity,
        "estimated_setup_time": row.estimated_setup_time,
        "tech_stack": row.tech_stack,
        "tags": row.tags,
        "dependencies": setup.get("dependencies", []),
        "setup_commands": setup.get("setup_commands", []),
        "test_commands": setup.get("test_commands", []),
        "variables": row.variables or _variables_from_summary(row),
    }
    return templating.spec_from_metadata(metadata, row.files, source=f"template {row.name!r}")


def _variables_from_summary(row: Template) -> list[dict[str, Any]]:
    """Variables of a template stored before full specs were kept (revision
    0003): the names from required_vars, the defaults from optional_vars."""
    variables: list[dict[str, Any]] = [
        {"name": name, "type": "string"} for name in row.required_vars
    ]
    for name, default in row.optional_vars.items():
        kind = (
            "boolean"
            if isinstance(default, bool)
            else "integer"
            if isinstance(default, int)
            else "string"
        )
        value = default if kind != "string" else "" if default is None else str(default)
        variables.append({"name": name, "type": kind, "default": value})
    return variables


def _row_values(spec: TemplateSpec) -> dict[str, Any]:
    return {
        "description": spec.description,
        "category": spec.category,
        "files": dict(spec.files),
        "required_vars": spec.required_vars,
        "optional_vars": spec.optional_vars,
        "tech_stack": list(spec.tech_stack),
        "estimated_setup_time": spec.estimated_setup_time,
        "complexity": spec.complexity,
        "tags": list(spec.tags),
        "variables": [variable.as_dict() for variable in spec.variables],
        "project_setup": {
            "project_type": spec.project_type.value,
            "dependencies": list(spec.dependencies),
            "setup_commands": list(spec.setup_commands),
            **({"test_commands": list(spec.test_commands)} if spec.test_commands else {}),
        },
    }


def _detail(row: Template) -> TemplateDetail:
    return TemplateDetail(
        id=row.id,
        spec=_spec(row),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _upsert(session: AsyncSession, spec: TemplateSpec) -> tuple[Template, bool, bool]:
    """Store a spec: (row, created, changed). An unchanged template is left
    alone; a changed one goes up a version."""
    templates = TemplateRepository(session)
    row = await templates.get_by_name(spec.name)
    now = utcnow()
    if row is None:
        row = Template(
            name=spec.name, created_at=now, updated_at=now, version=1, **_row_values(spec)
        )
        templates.add(row)
        await session.flush()
        return row, True, True
    try:
        unchanged = _spec(row).digest() == spec.digest()
    except ValidationError:
        unchanged = False  # a stored template that no longer passes the checks is replaced
    if unchanged:
        return row, False, False
    for key, value in _row_values(spec).items():
        setattr(row, key, value)
    row.version += 1
    row.updated_at = now
    await session.flush()
    return row, False, True


async def _get_row(session: AsyncSession, name: str) -> Template:
    if not name.strip():
        raise ValidationError("template", "give a template name")
    cleaned = validation.name("template", name, limit=validation.MAX_TEXT)
    row = await TemplateRepository(session).get_by_name(cleaned)
    if row is None:
        raise NotFound(f"no template named {cleaned!r} (see `projdeck template list`)")
    return row


# -- services ---------------------------------------------------------------------


async def seed_builtin_templates(db: Database, *, actor: str | None = None) -> SeedResult:
    """Store the templates that ship with projdeck: new ones are added,
    changed ones updated (their version goes up), the rest left alone.
    Running it again changes nothing and never duplicates."""
    team.require(db, team.CHANGE_TEMPLATES)
    actor = actor or current_actor()
    specs = templating.load_builtins()
    try:
        return await _seed(db, specs, actor)
    except Conflict:
        # Another process (the app and a CLI starting together) seeded the
        # same names first; a second pass finds them and changes nothing.
        return await _seed(db, specs, actor)


async def _seed(db: Database, specs: list[TemplateSpec], actor: str) -> SeedResult:
    result = SeedResult()
    async with db.transaction() as session:
        for spec in specs:
            _row, created, changed = await _upsert(session, spec)
            bucket = result.created if created else result.updated if changed else result.unchanged
            bucket.append(spec.name)
        if result.created or result.updated:
            await audit.record(
                session,
                actor=actor,
                event_type="templates.seeded",
                description=f"seeded built-in templates ({len(result.created)} added, "
                f"{len(result.updated)} updated)",
                entity_type="template",
                details={"created": result.created, "updated": result.updated},
            )
    return result


async def import_template(
    db: Database, folder: Path | str, *, actor: str | None = None
) -> ImportResult:
    """Create or update a template from a folder. The folder is checked in
    full first; a bad one is refused and nothing is stored."""
    team.require(db, team.CHANGE_TEMPLATES)
    actor = actor or current_actor()
    validation.text("folder", str(folder))
    try:
        # In a thread: its patterns are tried with a deadline (templating).
        spec = await asyncio.to_thread(templating.load_folder, Path(folder))
    except OSError as error:
        # A name too long for the file system, a folder that cannot be read.
        raise ValidationError("folder", f"cannot be read: {_os_problem(error)}") from None
    async with db.transaction() as session:
        row, created, changed = await _upsert(session, spec)
        if changed:
            await audit.record(
                session,
                actor=actor,
                event_type="template.created" if created else "template.updated",
                description=f"{'imported' if created else 'updated'} template {spec.name!r} "
                f"(version {row.version})",
                entity_type="template",
                entity_id=row.id,
                details={"name": spec.name, "version": row.version, "files": len(spec.files)},
            )
    return ImportResult(name=spec.name, version=row.version, created=created, changed=changed)


async def export_template(db: Database, name: str, folder: Path | str) -> list[Path]:
    """Write a template as a folder (which must be new or empty); importing
    that folder gives back the same template."""
    validation.text("folder", str(folder))
    async with db.reading() as session:
        spec = _spec(await _get_row(session, name))
    try:
        return templating.write_folder(spec, Path(folder))
    except OSError as error:
        raise ValidationError("folder", f"cannot be written: {_os_problem(error)}") from None


def _os_problem(error: OSError) -> str:
    return (error.strerror or type(error).__name__).lower()


async def remove_template(db: Database, name: str, *, actor: str | None = None) -> uuid.UUID:
    """Delete a template. Projects made from it keep their files and their
    record of where they came from."""
    team.require(db, team.REMOVE_TEMPLATES)
    actor = actor or current_actor()
    async with db.transaction() as session:
        row = await _get_row(session, name)
        template_id, template_name, version = row.id, row.name, row.version
        session.expunge(row)
        await TemplateRepository(session).delete(template_id)
        await audit.record(
            session,
            actor=actor,
            event_type="template.removed",
            description=f"removed template {template_name!r}",
            entity_type="template",
            entity_id=template_id,
            details={"name": template_name, "version": version},
        )
    return template_id


async def list_templates(
    db: Database,
    filters: TemplateFilter | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> Page[TemplateSummary]:
    """A page of templates by name, narrowed by category, tag, stack and text."""
    filters = filters or TemplateFilter()
    async with db.reading() as session:
        templates = TemplateRepository(session)
        rows = await templates.list_summaries(filters, limit=limit, offset=offset)
        total = await templates.count(filters)
    items = [
        TemplateSummary(
            id=row.id,
            name=row.name,
            description=row.description,
            category=row.category,
            complexity=str(row.complexity),
            estimated_setup_time=row.estimated_setup_time,
            tech_stack=list(row.tech_stack),
            tags=list(row.tags),
            version=row.version,
            variables=len(row.variables) or len(row.required_vars) + len(row.optional_vars),
            updated_at=row.updated_at,
        )
        for row in rows
    ]
    return Page(items=items, total=total, offset=offset, limit=limit)


async def get_template(db: Database, name: str) -> TemplateDetail:
    async with db.reading() as session:
        return _detail(await _get_row(session, name))


async def preview_template(db: Database, name: str, values: Mapping[str, Any]) -> RenderedProject:
    """The files a project made from this template with these values would
    get. Wrong or missing values raise VariableErrors (``problems`` maps each
    variable to its problem); template code at fault raises ValidationError
    naming the file."""
    async with db.reading() as session:
        spec = _spec(await _get_row(session, name))
    # In a thread, so a render up to its deadline never holds the event loop
    # (the app's preview stays cancellable).
    return await asyncio.to_thread(template_render.render, spec, values)


async def create_project_from_template(
    db: Database,
    template: str,
    data: TemplateProjectCreate,
    *,
    actor: str | None = None,
) -> ProjectConfig:
    """In one transaction: render the template, create the project (its
    codebase, dependencies and type from the template, the rest from
    ``data``), its settings (the template's setup commands, and the planning
    statement and branch from ``data``) and the audit row. The project records the
    template, its version and the values used."""
    team.require(db, team.CHANGE_PROJECTS)
    actor = actor or current_actor()
    async with db.transaction() as session:
        row = await _get_row(session, template)
        spec = _spec(row)
        rendered = await asyncio.to_thread(template_render.render, spec, data.values)
        origin = {
            "name": spec.name,
            "version": row.version,
            "digest": spec.digest(),
            "values": rendered.values,
        }
        values = project_service.validate_fields(
            {
                "name": data.name,
                "type": spec.project_type,
                "owner_id": data.owner_id,
                "github_owner": data.github_owner,
                "github_repo": data.github_repo,
                "webhook_url": data.webhook_url,
                "auto_merge_enabled": data.auto_merge_enabled,
                "auto_confirm_plans": data.auto_confirm_plans,
                "environment_vars": data.environment_vars,
                "codebase": rendered.files,
                "dependencies": list(spec.dependencies),
                "state": {"template": origin, "tech_stack": list(spec.tech_stack)},
            },
            project_service._PROJECT_FIELDS,
            "project",
        )
        settings: dict[str, Any] = {
            "setup_commands": rendered.setup_commands,
            "test_commands": rendered.test_commands,
            "planning_statement": data.planning_statement,
        }
        if data.branch_name is not None:
            settings["branch_name"] = data.branch_name
        settings_values = project_service.validate_fields(
            settings, project_service._SETTINGS_FIELDS, "settings"
        )
        project_service._check_github_pair(values["github_owner"], values["github_repo"])
        return await project_service.insert_project(
            session,
            values,
            settings_values,
            actor=actor,
            origin=f" from template {spec.name!r} (version {row.version})",
            details={
                "template": spec.name,
                "template_version": row.version,
                # Names only: a value could be something its owner would not log.
                "variables": sorted(rendered.values),
            },
        )


async def project_template_origin(db: Database, ref: str) -> TemplateOrigin | None:
    """Where a project came from (None if not from a template), and whether
    its template has changed or been removed since."""
    async with db.reading() as session:
        project = await resolve_project(session, ref)
        recorded = (project.state or {}).get("template")
        if not isinstance(recorded, Mapping) or "name" not in recorded:
            return None
        row = await TemplateRepository(session).get_by_name(str(recorded["name"]))
        current_digest: str | None = None
        if row is not None:
            try:
                current_digest = _spec(row).digest()
            except ValidationError:
                current_digest = None
    return TemplateOrigin(
        name=str(recorded["name"]),
        version=int(recorded.get("version", 0)),
        digest=str(recorded.get("digest", "")),
        values=dict(recorded.get("values", {})),
        current_version=row.version if row is not None else None,
        changed=row is not None and current_digest != recorded.get("digest"),
        removed=row is None,
    )


# -- plain data for --json ------------------------------------------------------------
