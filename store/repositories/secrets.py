"""Queries on ``project_secrets``. Listing never loads ciphertexts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import CursorResult
from sqlmodel import col

from store.models import ProjectSecret
from store.repositories.base import Repository, clamp_limit

# The row that holds a project's webhook URL when the URL carries
# credentials (the project itself keeps the masked form). Not an
# environment-variable name, so no secret a person sets can take it, and
# listings leave it out; it is encrypted, exported and rotated like the rest.
WEBHOOK_URL_KEY = "webhook_url"


@dataclass(frozen=True)
class SecretName:
    key_name: str
    key_id: str
    created_at: datetime
    updated_at: datetime


class SecretRepository(Repository):
    async def list_names(
        self, project_id: uuid.UUID, *, limit: int | None = None, offset: int = 0
    ) -> list[SecretName]:
        """The names of a project's secrets by name: all, or a page."""
        query = (
            select(
                col(ProjectSecret.key_name),
                col(ProjectSecret.key_id),
                col(ProjectSecret.created_at),
                col(ProjectSecret.updated_at),
            )
            .where(
                col(ProjectSecret.project_id) == project_id,
                col(ProjectSecret.key_name) != WEBHOOK_URL_KEY,
            )
            .order_by(col(ProjectSecret.key_name))
        )
        if limit is not None:
            query = query.limit(clamp_limit(limit)).offset(max(offset, 0))
        rows = await self.session.execute(query)
        return [SecretName(*row) for row in rows]

    async def count_names(self, project_id: uuid.UUID) -> int:
        """How many names ``list_names`` lists in all."""
        query = (
            select(func.count())
            .select_from(ProjectSecret)
            .where(
                col(ProjectSecret.project_id) == project_id,
                col(ProjectSecret.key_name) != WEBHOOK_URL_KEY,
            )
        )
        return int((await self.session.execute(query)).scalar_one())

    async def lock(self, mode: str) -> None:
        """Take the lock that orders secret writes against key retirement.

        On SQLite the write transaction's first statement takes the database
        write lock; on PostgreSQL writers take ROW EXCLUSIVE, which waits for
        the EXCLUSIVE lock that key rotation holds while it retires a key.
        """
        if self.dialect == "postgresql":
            await self.session.execute(text(f"LOCK TABLE project_secrets IN {mode} MODE"))
        else:
            await self.session.execute(text("SELECT 1"))

    async def of_project(self, project_id: uuid.UUID) -> list[ProjectSecret]:
        """A project's secrets (not its webhook URL's row), by name."""
        query = (
            select(ProjectSecret)
            .where(
                col(ProjectSecret.project_id) == project_id,
                col(ProjectSecret.key_name) != WEBHOOK_URL_KEY,
            )
            .order_by(col(ProjectSecret.key_name))
        )
        return list((await self.session.execute(query)).scalars())

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

    async def get_by_id(self, secret_id: uuid.UUID) -> ProjectSecret | None:
        return await self.session.get(ProjectSecret, secret_id)

    async def ids_not_under(self, key_id: str) -> list[uuid.UUID]:
        """Ids of the secrets encrypted with any key but ``key_id``."""
        query = (
            select(col(ProjectSecret.id))
            .where(col(ProjectSecret.key_id) != key_id)
            .order_by(col(ProjectSecret.project_id), col(ProjectSecret.key_name))
        )
        return list((await self.session.execute(query)).scalars())

    async def count_not_under(self, key_id: str) -> int:
        query = (
            select(func.count())
            .select_from(ProjectSecret)
            .where(col(ProjectSecret.key_id) != key_id)
        )
        return int((await self.session.execute(query)).scalar_one())

    async def count_by_key(self) -> dict[str, int]:
        """How many secrets each key id encrypts."""
        query = select(col(ProjectSecret.key_id), func.count()).group_by(col(ProjectSecret.key_id))
        rows = await self.session.execute(query)
        return {str(key_id): int(count) for key_id, count in rows}

    async def delete(self, secret_id: uuid.UUID) -> bool:
        statement = delete(ProjectSecret).where(col(ProjectSecret.id) == secret_id)
        result = await self.session.execute(statement)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1
