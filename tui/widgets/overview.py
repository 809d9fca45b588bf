"""A project's every field, scores as bars, the template it came from, and
its linked git repository (where, and how far the branch moved since the
snapshot)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from store.redaction import mask_url
from store.services.project_reads import ProjectConfig
from store.services.templates import TemplateOrigin, project_template_origin
from tui import format
from tui.context import attempt, deck
from tui.widgets.repository import load_git

if TYPE_CHECKING:
    from store.services.git import RepositoryStatus


class OverviewPane(VerticalScroll):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[ProjectConfig, datetime, bool] | None = None
        self._origin: TemplateOrigin | None = None
        self._repository: RepositoryStatus | None = None

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="overview-body")

    def show(self, config: ProjectConfig, now: datetime, *, show_ids: bool) -> None:
        if self._shown is None or self._shown[0].project.id != config.project.id:
            self._origin = None
            self._repository = None
        self._shown = (config, now, show_ids)
        self._draw()
        # Drawn without it first: git can be slow.
        self._check_repository(str(config.project.id))
        recorded = (config.project.state or {}).get("template")
        if isinstance(recorded, dict) and "name" in recorded:
            # Whether the template changed since needs the template itself.
            self._check_template(str(config.project.id))

    @work(exclusive=True, group="overview-template")
    async def _check_template(self, project_id: str) -> None:
        origin = await attempt(self, project_template_origin(deck(self).database, project_id))
        if origin is not None and self._shown and str(self._shown[0].project.id) == project_id:
            self._origin = origin
            self._draw()

    @work(exclusive=True, group="overview-repository")
    async def _check_repository(self, project_id: str) -> None:
        await load_git()
        from store.services import git

        status = await attempt(self, git.repository_status(deck(self).database, project_id))
        shown = self._shown
        if shown is None or str(shown[0].project.id) != project_id or status == self._repository:
            return
        self._repository = status
        self._draw()

    def _repository_rows(self, config: ProjectConfig) -> list[tuple[str, str | Text]]:
        """Where the linked repository is and which commit the snapshot is
        at: none for a project neither linked here nor synced from git."""
        repository = self._repository
        commit = config.project.snapshot_commit
        if repository is not None:
            commit = repository.snapshot_commit
        rows: list[tuple[str, str | Text]] = []
        if repository is not None:
            rows.append(("Repository", repository.path))
        if repository is not None or commit is not None:
            rows.append(("Snapshot", format.snapshot_state(commit, repository)))
        return rows

    def _template_text(self, config: ProjectConfig) -> str:
        if self._origin is not None:
            return format.template_origin(self._origin)
        recorded = (config.project.state or {}).get("template")
        if isinstance(recorded, dict) and "name" in recorded:
            return f"{recorded['name']} version {recorded.get('version', '?')}"
        return "—"

    def _draw(self) -> None:
        assert self._shown is not None
        config, now, show_ids = self._shown
        project = config.project
        fields = Table.grid(padding=(0, 2))
        fields.add_column(style="bold", no_wrap=True)
        fields.add_column()
        github = (
            f"{project.github_owner}/{project.github_repo}"
            if project.github_owner and project.github_repo
            else "—"
        )
        rows: list[tuple[str, str | Text]] = [
            ("Name", format.safe(project.name, style="bold")),
            ("Id", format.short_id(project.id, shown=show_ids)),
            ("Type", str(project.type)),
            ("Status", format.status_text(project.status)),
            ("Owner", project.owner_id),
            ("GitHub", github),
            # Masked: a URL stored before credentials were sealed shows none.
            ("Webhook", mask_url(project.webhook_url) if project.webhook_url else "—"),
            ("Auto-merge", "on" if project.auto_merge_enabled else "off"),
            ("Auto-confirm plans", "on" if project.auto_confirm_plans else "off"),
            ("Dependencies", ", ".join(project.dependencies) or "—"),
            (
                "Environment",
                ", ".join(
                    f"{key}={value}" for key, value in sorted(project.environment_vars.items())
                )
                or "—",
            ),
            (
                "Deployment",
                json.dumps(project.deployment_config, sort_keys=True)
                if project.deployment_config
                else "—",
            ),
            ("Files", f"{len(project.codebase)} in the stored codebase"),
            ("Secrets", ", ".join(secret.key_name for secret in config.secrets) or "—"),
            ("Branch", config.settings.branch_name),
            *self._repository_rows(config),
            ("Template", self._template_text(config)),
            ("Version", str(project.version)),
            (
                "Created",
                f"{format.stamp(project.created_at)} ({format.ago(project.created_at, now)})",
            ),
            (
                "Updated",
                f"{format.stamp(project.updated_at)} ({format.ago(project.updated_at, now)})",
            ),
            ("Last deployed", format.ago(project.last_deployed_at, now)),
            ("Last active", format.ago(project.last_active_at, now)),
        ]
        for label, value in rows:
            # Text, not str: a table reads strings as markup, values are as typed.
            fields.add_row(label, format.cell(value))
        scores = Table.grid(padding=(0, 2))
        scores.add_column(style="bold", no_wrap=True)
        scores.add_column()
        scores.add_row("Test coverage", format.score_bar(project.test_coverage))
        scores.add_row("Security", format.score_bar(project.security_score))
        scores.add_row("Performance", format.score_bar(project.performance_score))
        self.query_one("#overview-body", Static).update(
            Group(fields, format.safe(""), format.safe("Scores", style="bold underline"), scores)
        )
