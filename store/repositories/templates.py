"""Queries on ``templates``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Row,
    Select,
    cast,
    delete,
    exists,
    func,
    literal,
    select,
    true,
)
from sqlmodel import col

from store.models import Template, TemplateCategory
from store.repositories.base import Repository, clamp_limit, contains_any

SUMMARY_COLUMNS = (
    col(Template.id),
    col(Template.name),
    col(Template.description),
    col(Template.category),
    col(Template.complexity),
    col(Template.estimated_setup_time),
    col(Template.tech_stack),
    col(Template.tags),
    col(Template.version),
    col(Template.variables),
    col(Template.required_vars),
    col(Template.optional_vars),
    col(Template.updated_at),
)


@dataclass
class TemplateFilter:
    """What the templates list is narrowed by; every given filter must hold.
    Tags and stack entries are matched whole (lower-case); text is a
    case-insensitive substring of the name or the description."""

    category: TemplateCategory | None = None
    tag: str | None = None
    stack: str | None = None
    text: str | None = None


class TemplateRepository(Repository):
    async def get(self, template_id: uuid.UUID) -> Template | None:
        return await self.session.get(Template, template_id)

    async def get_by_name(self, name: str) -> Template | None:
        query = select(Template).where(col(Template.name) == name)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list(
        self,
        filters: TemplateFilter | TemplateCategory | None = None,
        *,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Template]:
        query = self._filtered(select(Template), _as_filter(filters))
        query = query.order_by(col(Template.name)).limit(clamp_limit(limit)).offset(max(offset, 0))
        return list((await self.session.execute(query)).scalars())

    async def list_summaries(
        self, filters: TemplateFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> Sequence[Row[Any]]:
        """The list's rows without file contents (the bulk of a template)."""
        query = self._filtered(select(*SUMMARY_COLUMNS), _as_filter(filters))
        query = query.order_by(col(Template.name)).limit(clamp_limit(limit)).offset(max(offset, 0))
        rows: Sequence[Row[Any]] = (await self.session.execute(query)).all()
        return rows

    async def count(self, filters: TemplateFilter | TemplateCategory | None = None) -> int:
        query = self._filtered(select(func.count()).select_from(Template), _as_filter(filters))
        return int((await self.session.execute(query)).scalar_one())

    def add(self, template: Template) -> None:
        self.session.add(template)

    async def delete(self, template_id: uuid.UUID) -> None:
        await self.session.execute(delete(Template).where(col(Template.id) == template_id))

    def _filtered(self, query: Select[Any], filters: TemplateFilter) -> Select[Any]:
        if filters.category is not None:
            query = query.where(col(Template.category) == filters.category)
        if filters.tag:
            query = query.where(self._holds(col(Template.tags), filters.tag.strip().lower()))
        if filters.stack:
            query = query.where(
                self._holds(col(Template.tech_stack), filters.stack.strip().lower())
            )
        if filters.text and filters.text.strip():
            query = query.where(
                contains_any(filters.text.strip(), col(Template.name), col(Template.description))
            )
        return query

    def _holds(self, column: Any, word: str) -> ColumnElement[bool]:
        """The JSON list in ``column`` has ``word`` as an element."""
        if self.dialect == "postgresql":
            # Containment uses the GIN index on the column.
            from sqlalchemy.dialects.postgresql import JSONB

            wanted = cast(literal(json.dumps([word])), JSONB)
            return column.op("@>", return_type=Boolean)(wanted)  # type: ignore[no-any-return]
        elements = func.json_each(column).table_valued("value")
        return exists(select(true()).select_from(elements).where(elements.c.value == word))


def _as_filter(filters: TemplateFilter | TemplateCategory | None) -> TemplateFilter:
    if filters is None:
        return TemplateFilter()
    if isinstance(filters, TemplateCategory):
        return TemplateFilter(category=filters)
    return filters
