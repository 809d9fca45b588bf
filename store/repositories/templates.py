"""Queries on ``templates``."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from store.models import Template, TemplateCategory
from store.repositories.base import clamp_limit


class TemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, template_id: uuid.UUID) -> Template | None:
        return await self.session.get(Template, template_id)

    async def get_by_name(self, name: str) -> Template | None:
        query = select(Template).where(col(Template.name) == name)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list(
        self, category: TemplateCategory | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[Template]:
        query = select(Template)
        if category is not None:
            query = query.where(col(Template.category) == category)
        query = query.order_by(col(Template.name)).limit(clamp_limit(limit)).offset(max(offset, 0))
        return list((await self.session.execute(query)).scalars())

    async def count(self, category: TemplateCategory | None = None) -> int:
        query = select(func.count()).select_from(Template)
        if category is not None:
            query = query.where(col(Template.category) == category)
        return int((await self.session.execute(query)).scalar_one())

    def add(self, template: Template) -> None:
        self.session.add(template)
