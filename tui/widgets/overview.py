"""A project's every field, scores as bars, and the template it came from."""

from __future__ import annotations

import json
from datetime import datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from store.redaction import mask_url
from store.services.projects import ProjectConfig
from store.services.templates import TemplateOrigin, project_template_origin
from tui import format
from tui.context import attempt, deck


class OverviewPane(VerticalScroll):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[ProjectConfig, datetime, bool] | None = None
        self._origin: TemplateOrigin | None = None

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="overview-body")

    def show(self, config: ProjectConfig, now: datetime, *, show_ids: bool) -> None:
        if self._shown is None or self._shown[0].project.id != config.project.id:
            self._origin = None
        self._shown = (config, now, show_ids)
        self._draw()
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
