"""Queries on ``project_settings``."""

from __future__ import annotations

import uuid

from store.models import ProjectSettings
from store.repositories.base import Repository


class SettingsRepository(Repository):
    async def get(self, project_id: uuid.UUID) -> ProjectSettings | None:
        return await self.session.get(ProjectSettings, project_id)

    def add(self, settings: ProjectSettings) -> None:
        self.session.add(settings)
