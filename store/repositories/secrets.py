"""Queries on ``project_secrets``. Listing never loads ciphertexts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from store.models import ProjectSecret


@dataclass(frozen=True)
class SecretName:
    key_name: str
    key_id: str
    created_at: datetime
    updated_at: datetime


class SecretRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_names(self, project_id: uuid.UUID) -> list[SecretName]:
        query = (
            select(
                col(ProjectSecret.key_name),
                col(ProjectSecret.key_id),
                col(ProjectSecret.created_at),
                col(ProjectSecret.updated_at),
            )
            .where(col(ProjectSecret.project_id) == project_id)
            .order_by(col(ProjectSecret.key_name))
        )
        rows = await self.session.execute(query)
        return [SecretName(*row) for row in rows]

    async def get(self, project_id: uuid.UUID, key_name: str) -> ProjectSecret | None:
        query = select(ProjectSecret).where(
            col(ProjectSecret.project_id) == project_id, col(ProjectSecret.key_name) == key_name
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def count(self, project_id: uuid.UUID | None = None) -> int:
        query = select(func.count()).select_from(ProjectSecret)
        if project_id is not None:
            query = query.where(col(ProjectSecret.project_id) == project_id)
        return int((await self.session.execute(query)).scalar_one())

    def add(self, secret: ProjectSecret) -> None:
        self.session.add(secret)
