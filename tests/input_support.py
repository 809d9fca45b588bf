"""What the hostile-input tests share: strategies of nasty text, paths and
JSON, and a runner that checks a refused call left the database as it was."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from store.engine import Database
from store.errors import Conflict, InvalidTransition, NotFound, ValidationError
from store.models import (
    AgentRun,
    AuditEntry,
    Conversation,
    Message,
    Modification,
    Project,
    ProjectSecret,
    ProjectSettings,
    Template,
    WebhookDelivery,
)
from store.services import projects
from tests.store_support import opened

# The master key of the hostile-input tests (PROJDECK_SECRET_KEY).
KEY = "w7IbUa4wb3Ju1mMzgCpZq1OZ6QnX3Vvv5S4pSKsxZ0E="

# The errors a service may refuse bad input with; anything else is a defect.
DOCUMENTED = (ValidationError, Conflict, NotFound, InvalidTransition)

nasty_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20),
    st.text(alphabet=st.characters(categories=["Cc", "Cs", "Zs", "So"]), max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\ud800",
            "../etc/passwd",
            "/etc/passwd",
            "a/./b",
            "a//b",
            "C:\\x",
            "💥" * 300,
            "x" * 5000,
            "'; DROP TABLE projects;--",
            "\u202e",
            "NaN",
        ]
    ),
)
paths = st.one_of(
    nasty_text,
    st.sampled_from(
        [
            "../up.py",
            "/abs.py",
            "a/../b.py",
            "a/./b.py",
            "ok.py",
            "dir/",
            ".",
            "a\\b.py",
            "x\x00.py",
        ]
    ),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), nasty_text),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(nasty_text, children, max_size=4)
    ),
    max_leaves=30,
)


async def create_target(db: Database) -> None:
    """The project the hostile calls aim at: ``target``, holding one file."""
    await projects.create_project_with_settings(
        db,
        projects.ProjectCreate(name="target", type="api", owner_id="o", codebase={"a.py": "1\n"}),
    )


def deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"d": value}
    return value


async def snapshot(db: Database) -> tuple[int, ...]:
    async with db.reading() as session:
        counts = []
        for model in (
            Project,
            ProjectSettings,
            ProjectSecret,
            Modification,
            AuditEntry,
            Conversation,
            Message,
            AgentRun,
            WebhookDelivery,
            Template,
        ):
            counts.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
        newest = await session.scalar(select(func.max(AuditEntry.id)))
        counts.append(int(newest or 0))
        versions = await session.scalar(select(func.sum(Project.version)))
        counts.append(int(versions or 0))
    return tuple(counts)


def run(url: URL, work: Any) -> Any:
    """One example: open the database, snapshot, call, check the outcome."""

    async def main() -> Any:
        async with opened(url) as db:
            before = await snapshot(db)
            try:
                await work(db)
            except DOCUMENTED as error:
                assert str(error), "an error without a message"
                assert "Traceback" not in str(error)
                assert await snapshot(db) == before, f"refused call changed the database: {error}"
                return error
            return None

    return asyncio.run(main())
