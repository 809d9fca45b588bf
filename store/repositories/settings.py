"""Queries on ``project_settings``."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ProjectSettings


class SettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, project_id: uuid.UUID) -> ProjectSettings | None:
        return await self.session.get(ProjectSettings, project_id)

    def add(self, settings: ProjectSettings) -> None:
        self.session.add(settings)
