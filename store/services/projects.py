"""Project and settings services: create, update, archive, delete, purge,
record a deployment, each one transaction with its audit row.

Creating and updating a project share its checks here: ``validate_fields``
for the project and its settings, ``_ensure_unique`` for its name,
``_stale`` for its version, ``_keep_webhook`` for a webhook URL's sealed
credentials. Finding and reading projects (``resolve_project``, the list)
is ``store.services.project_reads``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, crypto, validation
from store.config import current_actor
from store.engine import Database
from store.errors import Conflict, InvalidTransition, ValidationError
from store.models import (
    AuditCategory,
    Project,
    ProjectSettings,
    ProjectStatus,
    ProjectType,
)
from store.redaction import MASK
from store.repositories import (
    ModificationRepository,
    ProjectRepository,
    SecretRepository,
    SettingsRepository,
)
from store.repositories.modifications import ModificationFilter
from store.repositories.secrets import WEBHOOK_URL_KEY

# Reading projects lives in store.services.project_reads; the app, the CLI
# and the tests reach these names here, with the writes.
from store.services import team
from store.services.project_reads import ProjectConfig as ProjectConfig
from store.services.project_reads import (
    _github_label,
    require_writable,
    resolve_project,
    resolve_writable_project,
    shown_webhook,
)
from store.services.project_reads import get_project as get_project
from store.services.project_reads import get_project_full_config as get_project_full_config
from store.services.project_reads import list_projects as list_projects
from store.services.project_reads import parse_statuses as parse_statuses
from store.services.secret_keys import seal_secret
from store.types import utcnow

_BRANCH_FORBIDDEN = re.compile(r"[\s~^:?*\[\\]|\.\.|@\{|//")

# Fields a person may change with update_project, and how each is checked.
_PROJECT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: validation.name("name", v),
    "type": lambda v: validation.enum_value("type", v, ProjectType),
    "owner_id": lambda v: validation.name("owner_id", v),
    "github_owner": lambda v: None if v is None else validation.github_owner(v),
    "github_repo": lambda v: None if v is None else validation.github_repo(v),
    "webhook_url": validation.webhook_url,
    "auto_merge_enabled": lambda v: validation.boolean("auto_merge_enabled", v),
    "auto_confirm_plans": lambda v: validation.boolean("auto_confirm_plans", v),
    "codebase": validation.codebase,
    "dependencies": lambda v: validation.string_list("dependencies", v),
    "environment_vars": validation.environment,
    "deployment_config": lambda v: validation.json_object("deployment_config", v),
    "state": lambda v: validation.json_object("state", v),
    "test_coverage": lambda v: validation.score("test_coverage", v),
    "security_score": lambda v: validation.score("security_score", v),
    "performance_score": lambda v: validation.score("performance_score", v),
}
# Changes to these are audited by what changed, never by value.
_AUDIT_KEYS_ONLY = {"codebase", "environment_vars", "deployment_config", "state"}


def _branch(value: Any) -> str:
    branch = validation.name("branch_name", value)
    if (
        _BRANCH_FORBIDDEN.search(branch)
        or branch.startswith(("-", "/", "."))
        or branch.endswith(("/", ".", ".lock"))
    ):
        raise ValidationError("branch_name", f"{branch!r} is not a valid git branch name")
    return branch


_SETTINGS_FIELDS: dict[str, Callable[[Any], Any]] = {
    "planning_statement": lambda v: validation.text("planning_statement", v),
    "repository_rules": lambda v: validation.text("repository_rules", v),
    "setup_commands": lambda v: validation.string_list("setup_commands", v, item_limit=4096),
    "test_commands": lambda v: validation.string_list("test_commands", v, item_limit=4096),
    "branch_name": _branch,
}


@dataclass
class ProjectCreate:
    """What a new project needs; everything but name, type and owner is optional."""

    name: str
    type: ProjectType | str
    owner_id: str
    github_owner: str | None = None
    github_repo: str | None = None
    webhook_url: str | None = None
    auto_merge_enabled: bool = False
    auto_confirm_plans: bool = False
    codebase: dict[str, str] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    environment_vars: dict[str, str] = field(default_factory=dict)
    deployment_config: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    test_coverage: float | None = None
    security_score: float | None = None
    performance_score: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)


def validate_fields(
    changes: Mapping[str, Any], checks: Mapping[str, Callable[[Any], Any]], what: str
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        check = checks.get(key)
        if check is None:
            allowed = ", ".join(sorted(checks))
            raise ValidationError(
                key, f"is not a {what} field that can be set (allowed: {allowed})"
            )
        clean[key] = check(value)
    return clean


def _check_github_pair(owner: str | None, repo: str | None) -> None:
    if (owner is None) != (repo is None):
        raise ValidationError("github", "give both the GitHub owner and the repository, or neither")


async def _ensure_unique(
    projects: ProjectRepository,
    *,
    name: str | None,
    github: tuple[str | None, str | None],
    exclude: uuid.UUID | None = None,
) -> None:
    if name is not None:
        existing = await projects.get_by_name(name)
        if existing is not None and existing.id != exclude:
            note = (
                " (deleted; purge it to reuse the name)"
                if existing.status == ProjectStatus.DELETED
                else ""
            )
            raise Conflict(f"a project named {name!r} already exists{note}")
    owner, repo = github
    if owner is not None and repo is not None:
        existing = await projects.get_by_repository(owner, repo)
        if existing is not None and existing.id != exclude:
            raise Conflict(
                f"GitHub repository {owner}/{repo} is already used by project {existing.name!r}"
            )


@dataclass(frozen=True)
class CheckedCreate:
    """A new project's fields and settings as checked, with what its
    ``project.created`` audit row adds."""

    values: dict[str, Any]
    settings: dict[str, Any]
    details: dict[str, Any]


def checked_create(data: ProjectCreate) -> CheckedCreate:
    """``data`` checked as creating a project checks it (ValidationError
    naming the field otherwise)."""
    values = validate_fields(
        {key: value for key, value in asdict(data).items() if key != "settings"},
        _PROJECT_FIELDS,
        "project",
    )
    settings_values = validate_fields(data.settings, _SETTINGS_FIELDS, "settings")
    _check_github_pair(values["github_owner"], values["github_repo"])
    details = {"github": _github_label(values["github_owner"], values["github_repo"])}
    return CheckedCreate(values, settings_values, details)


async def create_project_with_settings(
    db: Database, data: ProjectCreate, *, actor: str | None = None
) -> ProjectConfig:
    team.require(db, team.CHANGE_PROJECTS)
    actor = actor or current_actor()
    checked = checked_create(data)
    async with db.transaction() as session:
        return await insert_project(
            session, checked.values, checked.settings, actor=actor, details=checked.details
        )


async def insert_project(
    session: AsyncSession,
    values: Mapping[str, Any],
    settings_values: Mapping[str, Any],
    *,
    actor: str,
    origin: str = "",
    details: Mapping[str, Any],
) -> ProjectConfig:
    """In the caller's transaction: a new project from checked ``values``
    (its name and repository not yet used), its settings, and the
    ``project.created`` audit row. The row's description is "created project
    NAME" then ``origin``; its details are the name, type and owner, then
    ``details``, then the number of files."""
    projects = ProjectRepository(session)
    await _ensure_unique(
        projects, name=values["name"], github=(values["github_owner"], values["github_repo"])
    )
    now = utcnow()
    webhook = values.get("webhook_url")
    _refuse_masked_webhook(webhook)
    project = Project(
        **{**values, "webhook_url": shown_webhook(webhook)},
        created_at=now,
        updated_at=now,
        last_active_at=now,
    )
    projects.add(project)
    await session.flush()
    if webhook != project.webhook_url:
        await _keep_webhook(session, project.id, webhook)
    settings = ProjectSettings(project_id=project.id, updated_at=now, **settings_values)
    SettingsRepository(session).add(settings)
    await audit.record_project(
        session,
        project,
        actor=actor,
        event_type="project.created",
        description=f"created project {project.name!r}{origin}",
        details={
            "name": project.name,
            "type": project.type,
            "owner_id": project.owner_id,
            **details,
            "files": len(project.codebase),
        },
    )
    return ProjectConfig(project=project, settings=settings, secrets=[])


async def update_project(
    db: Database,
    ref: str,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    files: Mapping[str, str] | None = None,
    removed_files: Sequence[str] = (),
    actor: str | None = None,
) -> Project:
    """Change fields of a project. Given ``expected_version`` (the version
    the caller read), nothing is written if anyone wrote the project since,
    and Conflict says so. Without it the change applies to the project as it
    is: read and written in one transaction, its row locked in between, so a
    concurrent writer makes it wait, never fail. ``files`` adds or replaces
    codebase files and ``removed_files`` removes some, from the codebase as
    it is in that transaction."""
    team.require(db, team.CHANGE_PROJECTS)
    actor = actor or current_actor()
    if not changes and not files and not removed_files:
        raise ValidationError("changes", "nothing to change")
    values = validate_fields(changes, _PROJECT_FIELDS, "project")
    async with db.transaction() as session:
        projects = ProjectRepository(session)
        project = await resolve_project(session, ref)
        if expected_version is None:
            # Read again holding the row (PostgreSQL; a SQLite write
            # transaction holds the whole database already).
            await session.refresh(project, with_for_update=True)
            expected_version = project.version
        require_writable(project)
        if files or removed_files:
            values["codebase"] = _edited_codebase(
                values.get("codebase", project.codebase), files or {}, removed_files
            )
        if "state" in values:
            values["state"] = _keep_template_origin(project.state, values["state"])
        owner = values.get("github_owner", project.github_owner)
        repo = values.get("github_repo", project.github_repo)
        _check_github_pair(owner, repo)
        github_changed = "github_owner" in values or "github_repo" in values
        await _ensure_unique(
            projects,
            name=values.get("name") if values.get("name") != project.name else None,
            github=(owner, repo) if github_changed else (None, None),
            exclude=project.id,
        )
        before = {key: getattr(project, key) for key in values}
        changed = {key: value for key, value in values.items() if before[key] != value}
        if "webhook_url" in changed:
            _refuse_masked_webhook(values["webhook_url"])
            changed["webhook_url"] = shown_webhook(values["webhook_url"])
        if project.version != expected_version:
            raise _stale(project, expected_version)
        if not changed:
            return project
        now = utcnow()
        if not await projects.update_versioned(
            project, expected_version, {**changed, "updated_at": now, "last_active_at": now}
        ):
            # Say the version it is at now, not the one read above.
            await session.refresh(project)
            raise _stale(project, expected_version)
        if "webhook_url" in changed:
            await _keep_webhook(session, project.id, values["webhook_url"])
        await audit.record_project(
            session,
            project,
            actor=actor,
            event_type="project.updated",
            description=f"updated {', '.join(sorted(changed))} of project {project.name!r}",
            details={
                "version": expected_version + 1,
                "changes": {
                    key: _audit_change(key, before[key], value) for key, value in changed.items()
                },
            },
        )
    return project


def _edited_codebase(
    codebase: Mapping[str, str], files: Mapping[str, str], removed: Sequence[str]
) -> dict[str, str]:
    edited = {**codebase, **files}
    for path in removed:
        clean = validation.codebase_path(path, "remove-file")
        if clean not in edited:
            raise ValidationError("remove-file", f"{path!r} is not a file of this project")
        del edited[clean]
    return validation.codebase(edited)


# What a project made from a template records in its state: the template
# (name, version, digest, values) and its tech stack. The rest of the state
# is the agent platform's to replace; these keys survive a new state.
_TEMPLATE_ORIGIN_KEYS = ("template", "tech_stack")


def _keep_template_origin(current: Mapping[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    current = current or {}
    if not isinstance(current.get("template"), Mapping):
        return new
    kept = dict(new)
    for key in _TEMPLATE_ORIGIN_KEYS:
        if key not in current:
            continue
        if key in new and new[key] != current[key]:
            raise ValidationError(
                "state",
                f"{key!r} records the template the project was created from and cannot be changed",
            )
        kept[key] = current[key]
    return kept


def _stale(project: Project, expected_version: int) -> Conflict:
    return Conflict(
        f"project {project.name!r} was changed by someone else (you read version {expected_version}, "
        f"it is now at {project.version}); reload it and try again"
    )


def _refuse_masked_webhook(url: str | None) -> None:
    """A new URL copied from a masked one would keep ``***`` as its
    credentials (the form shows the masked URL: changing its path must not
    silently drop the sealed password)."""
    if url is not None and MASK in url:
        raise ValidationError(
            "webhook_url",
            f"holds masked credentials ({MASK}); give the whole URL, or leave it unchanged",
        )


async def _keep_webhook(session: AsyncSession, project_id: uuid.UUID, url: str | None) -> None:
    """Seal ``url`` as the project's encrypted webhook row when it holds
    credentials; otherwise remove any such row (the project's own column
    holds all of a URL without credentials)."""
    repository = SecretRepository(session)
    row = await repository.get(project_id, WEBHOOK_URL_KEY)
    if url is None or url == shown_webhook(url):
        if row is not None:
            session.expunge(row)
            await repository.delete(row.id)
        return
    await repository.lock("ROW EXCLUSIVE")
    # Read the keys under the lock, so a key being retired is never used.
    key = crypto.load_keyring().current
    seal_secret(
        repository,
        row,
        key,
        crypto.SecretValue(url),
        project_id=project_id,
        key_name=WEBHOOK_URL_KEY,
        now=utcnow(),
    )
    await session.flush()


def _audit_change(key: str, before: Any, after: Any) -> Any:
    if key == "codebase":
        old, new = before or {}, after or {}
        return {
            "added": sorted(set(new) - set(old)),
            "removed": sorted(set(old) - set(new)),
            "changed": sorted(path for path in set(old) & set(new) if old[path] != new[path]),
        }
    if key in _AUDIT_KEYS_ONLY:
        old_keys, new_keys = set(before or {}), set(after or {})
        return {"keys": sorted(old_keys | new_keys)}
    if key == "webhook_url":
        # A project stored before webhooks were sealed may hold a clear URL.
        return {"from": shown_webhook(before), "to": shown_webhook(after)}
    return {"from": before, "to": after}


_TRANSITIONS: dict[str, tuple[set[ProjectStatus], ProjectStatus, str]] = {
    "archive": ({ProjectStatus.ACTIVE}, ProjectStatus.ARCHIVED, "project.archived"),
    "unarchive": ({ProjectStatus.ARCHIVED}, ProjectStatus.ACTIVE, "project.unarchived"),
    "delete": (
        {ProjectStatus.ACTIVE, ProjectStatus.ARCHIVED},
        ProjectStatus.DELETED,
        "project.deleted",
    ),
    "restore": ({ProjectStatus.DELETED}, ProjectStatus.ACTIVE, "project.restored"),
}


async def _change_status(db: Database, ref: str, action: str, actor: str | None) -> Project:
    team.require(db, team.CHANGE_PROJECTS)
    actor = actor or current_actor()
    allowed, target, event_type = _TRANSITIONS[action]
    async with db.transaction() as session:
        projects = ProjectRepository(session)
        project = await resolve_project(session, ref)
        if project.status not in allowed:
            raise InvalidTransition("project", project.status, action)
        previous = project.status
        if not await projects.update_versioned(
            project, project.version, {"status": target, "updated_at": utcnow()}
        ):
            raise _stale(project, project.version)
        await audit.record_project(
            session,
            project,
            actor=actor,
            event_type=event_type,
            description=f"{action}d project {project.name!r}",
            details={"from": previous, "to": target},
        )
    return project


async def archive_project(db: Database, ref: str, *, actor: str | None = None) -> Project:
    return await _change_status(db, ref, "archive", actor)


async def unarchive_project(db: Database, ref: str, *, actor: str | None = None) -> Project:
    return await _change_status(db, ref, "unarchive", actor)


async def delete_project(db: Database, ref: str, *, actor: str | None = None) -> Project:
    """Soft delete: the project is kept, marked deleted, and can be restored."""
    return await _change_status(db, ref, "delete", actor)


async def restore_project(db: Database, ref: str, *, actor: str | None = None) -> Project:
    return await _change_status(db, ref, "restore", actor)


async def record_deployment(
    db: Database,
    ref: str,
    *,
    at: datetime | None = None,
    environment: str | None = None,
    actor: str | None = None,
) -> Project:
    """Record that a project was deployed (``at``, default now; to
    ``environment``, a name such as production, kept in the audit row):
    ``last_deployed_at`` and ``last_active_at`` move to it unless they hold a
    later time (a deployment recorded late does not move them back). Not an
    edit: the version stays. Audited as ``deployment.succeeded`` (category
    system). Refused for an archived or deleted project, and to a team's
    agents and viewers."""
    team.require(db, team.RECORD_DEPLOYMENTS)
    actor = actor or current_actor()
    deployed_at = validation.recorded_time("at", at)
    where = None if environment is None else validation.name("environment", environment, limit=100)
    async with db.transaction() as session:
        project = await resolve_project(session, ref)
        require_writable(project)
        await ProjectRepository(session).move_forward(
            project.id, last_deployed_at=deployed_at, last_active_at=deployed_at
        )
        await session.refresh(project, ["last_deployed_at", "last_active_at"])
        await audit.record_project(
            session,
            project,
            actor=actor,
            event_type="deployment.succeeded",
            description=f"deployed project {project.name!r}"
            + (f" to {where}" if where else "")
            + f" at {deployed_at:%Y-%m-%d %H:%M:%S} UTC",
            category=AuditCategory.SYSTEM,
            details={"environment": where, "deployed_at": deployed_at.isoformat()},
        )
    return project


async def purge_project(db: Database, ref: str, *, actor: str | None = None) -> uuid.UUID:
    """Delete a project for good, with its settings, secrets and
    modifications; its audit trail stays."""
    team.require(db, team.PURGE_PROJECTS)
    actor = actor or current_actor()
    async with db.transaction() as session:
        project = await resolve_project(session, ref)
        project_id, name = project.id, project.name
        secrets = await SecretRepository(session).count(project_id)
        modifications = await ModificationRepository(session).count(
            ModificationFilter(project_id=project_id)
        )
        session.expunge(project)
        await ProjectRepository(session).delete(project_id)
        await audit.record_project(
            session,
            project,
            actor=actor,
            event_type="project.purged",
            description=f"purged project {name!r} and everything it held",
            details={"name": name, "encrypted_values": secrets, "modifications": modifications},
        )
    return project_id


async def update_settings(
    db: Database, ref: str, changes: Mapping[str, Any], *, actor: str | None = None
) -> ProjectSettings:
    team.require(db, team.CHANGE_SETTINGS)
    actor = actor or current_actor()
    if not changes:
        raise ValidationError("settings", "nothing to change")
    values = validate_fields(changes, _SETTINGS_FIELDS, "settings")
    async with db.transaction() as session:
        project = await resolve_writable_project(session, ref)
        repository = SettingsRepository(session)
        settings = await repository.get(project.id)
        if settings is None:
            settings = ProjectSettings(project_id=project.id)
            repository.add(settings)
        before = {key: getattr(settings, key) for key in values}
        changed = {key: value for key, value in values.items() if before[key] != value}
        if not changed:
            return settings
        for key, value in changed.items():
            setattr(settings, key, value)
        settings.updated_at = utcnow()
        await audit.record(
            session,
            actor=actor,
            event_type="settings.updated",
            description=f"updated {', '.join(sorted(changed))} in settings of {project.name!r}",
            project_id=project.id,
            entity_type="project_settings",
            entity_id=project.id,
            details={
                "changes": {
                    key: {"from": before[key], "to": value} for key, value in changed.items()
                }
            },
        )
    return settings
