"""Finding and reading projects: a reference resolved to a project (id, id
prefix, exact name or GitHub owner/repo), the writable check every write
makes, one project with its settings, and the projects list (filters, sort,
pages: ``store.services.browse`` reads it). Every service that takes a
project ``ref`` finds it here; ``store.services.projects`` (the writes)
re-exports what is public."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from store import validation
from store.engine import Database
from store.errors import NotFound, ProjectReadOnly, ValidationError
from store.ids import MIN_ID_PREFIX, full_id, id_prefix
from store.models import Project, ProjectSettings, ProjectStatus
from store.redaction import mask_url
from store.repositories import (
    ProjectRepository,
    SecretRepository,
    SettingsRepository,
)
from store.repositories.secrets import SecretName
from store.services.browse import list_project_rows


@dataclass
class ProjectConfig:
    """A project with its settings and the names (never values) of its secrets."""

    project: Project
    settings: ProjectSettings
    secrets: list[SecretName]


async def resolve_project(session: AsyncSession, ref: str) -> Project:
    """A project by full id, unique id prefix (6+ characters), exact name or
    GitHub ``owner/repo`` (any case, as GitHub takes it), tried in that
    order: a project named ``acme/api`` is found by its name before another
    project linked to the repository acme/api. Two projects linked to one
    repository (which differ only in case, made before projdeck compared
    them so) are an error naming both."""
    projects = ProjectRepository(session)
    ref = ref.strip()
    if not ref:
        raise ValidationError("project", "give a project id, id prefix, name or GitHub owner/repo")
    validation.text("project", ref, limit=validation.MAX_TEXT)
    project_id = full_id(ref)
    if project_id is not None:
        project = await projects.get(project_id)
        if project is None:
            raise NotFound(f"no project with id {ref}")
        return project
    by_name = await projects.get_by_name(ref)
    if by_name is not None:
        return by_name
    prefix = id_prefix(ref)
    if prefix is not None:
        matches = await projects.find_by_id_prefix(prefix)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ValidationError(
                "project", f"id prefix {ref!r} matches several projects; give more of it"
            )
    repository = _github_ref(ref)
    if repository is not None:
        linked = await projects.find_by_repository(*repository)
        if len(linked) == 1:
            return linked[0]
        if len(linked) > 1:
            names = ", ".join(repr(project.name) for project in linked)
            raise ValidationError(
                "project",
                f"GitHub repository {ref!r} is linked to several projects ({names}); "
                "give the name or id of one",
            )
    raise NotFound(
        f"no project matches {ref!r} (give its id, an id prefix of at least {MIN_ID_PREFIX} characters, its exact name, or its GitHub owner/repo)"
    )


def _github_ref(ref: str) -> tuple[str, str] | None:
    """``ref`` as a GitHub owner and repository, if it reads as one."""
    owner, slash, repo = ref.partition("/")
    if not slash:
        return None
    try:
        return validation.github_owner(owner), validation.github_repo(repo)
    except ValidationError:
        return None


def require_writable(project: Project) -> None:
    """Refuse a write to ``project``, its settings, secrets or modifications
    unless it is active: an archived project is read-only until unarchived,
    a deleted one until restored (ProjectReadOnly says which)."""
    if project.status != ProjectStatus.ACTIVE:
        raise ProjectReadOnly(project.name, str(project.status))


async def resolve_writable_project(session: AsyncSession, ref: str) -> Project:
    """``resolve_project`` for a write (``require_writable``)."""
    project = await resolve_project(session, ref)
    require_writable(project)
    return project


async def get_project(db: Database, ref: str) -> Project:
    return await db.read(lambda session: resolve_project(session, ref))


async def get_project_full_config(db: Database, ref: str) -> ProjectConfig:
    async def read(session: AsyncSession) -> ProjectConfig:
        project = await resolve_project(session, ref)
        settings = await SettingsRepository(session).get(project.id)
        if settings is None:
            settings = ProjectSettings(project_id=project.id, updated_at=project.created_at)
        secrets = await SecretRepository(session).list_names(project.id)
        return ProjectConfig(project=project, settings=settings, secrets=secrets)

    return await db.read(read)


def shown_webhook(url: str | None) -> str | None:
    """What a project stores and shows of its webhook URL: the URL with its
    credentials masked (the whole URL is sealed apart, see ``_keep_webhook``)."""
    return None if url is None else mask_url(url)


def _github_label(owner: str | None, repo: str | None) -> str | None:
    if owner and repo:
        return f"{owner}/{repo}"
    return None


# The CLI's name for the projects list: the same page the app's table reads
# (``store.services.browse``), so that the two find the same projects.
list_projects = list_project_rows


def parse_statuses(values: Sequence[str]) -> list[ProjectStatus]:
    return [validation.enum_value("status", value, ProjectStatus) for value in values]
