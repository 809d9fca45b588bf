"""Garbage in, continued: the services behind settings, reviews, test
results, templates and agent activity fed hostile values. Only the
documented errors come out, and a refused call leaves every table as it
was."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import URL

from store.engine import Database
from store.services import agents, modifications, projects, templates, webhooks
from tests.input_support import KEY, create_target, deep, json_values, nasty_text, run
from tests.store_support import opened

# Fewer examples than the first file: these services are many.
EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    nasty_text,
    st.none(),
)


@pytest.fixture
def workspace(database_url: URL, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A project with a pending modification, a conversation and a running
    agent run, and the built-in templates."""
    monkeypatch.setenv("PROJDECK_SECRET_KEY", KEY)

    async def setup() -> dict[str, Any]:
        async with opened(database_url) as db:
            await create_target(db)
            proposal = modifications.proposal_from_payload(
                {"request": "r", "modified_files": {"a.py": "2\n"}}
            )
            modification = await modifications.propose_modification(
                db, "target", proposal, actor="agent-7"
            )
            conversation = await agents.start_conversation(db, "target", title="t")
            agent_run = await agents.start_run(db, "target", agent="a", task="t")
            await templates.seed_builtin_templates(db)
            return {
                "url": database_url,
                "modification": str(modification.id),
                "conversation": str(conversation.id),
                "run": str(agent_run.id),
            }

    return asyncio.run(setup())


@EXAMPLES
@given(
    field=st.sampled_from(
        [
            "planning_statement",
            "repository_rules",
            "setup_commands",
            "branch_name",
            "project_id",
            "nope",
        ]
    ),
    value=json_values,
)
def test_update_settings_takes_only_documented_errors(
    workspace: dict[str, Any], field: str, value: Any
) -> None:
    run(workspace["url"], lambda db: projects.update_settings(db, "target", {field: value}))


@EXAMPLES
@given(
    action=st.sampled_from(["approve", "reject"]),
    comment=nasty_text | st.none(),
    ref=st.sampled_from(["modification", "nasty"]),
    nasty=nasty_text,
)
def test_review_comments_take_only_documented_errors(
    workspace: dict[str, Any], action: str, comment: str | None, ref: str, nasty: str
) -> None:
    target = workspace["modification"] if ref == "modification" else nasty

    async def work(db: Database) -> None:
        # The first accepted review ends it; later examples meet the
        # transition refused, which must change nothing either.
        if action == "approve":
            await modifications.approve_modification(db, target, comment=comment)
        else:
            await modifications.reject_modification(db, target, comment=comment or "")

    run(workspace["url"], work)


@EXAMPLES
@given(results=st.one_of(json_values, st.just(deep(200)), st.dictionaries(nasty_text, json_values)))
def test_attach_test_results_takes_only_documented_errors(
    workspace: dict[str, Any], results: Any
) -> None:
    run(
        workspace["url"],
        lambda db: modifications.attach_test_results(db, workspace["modification"], results),
    )


@EXAMPLES
@given(
    values=st.dictionaries(
        st.sampled_from(["service_name", "port", "python_version", "description"]) | nasty_text,
        json_values,
        max_size=4,
    ),
    name=nasty_text,
    template=st.sampled_from(["fastapi-service", "missing"]) | nasty_text,
)
# Once a traceback: a lone surrogate reached the driver as a template name.
@example(values={}, name="", template="\ud800")
def test_templates_take_only_documented_errors(
    workspace: dict[str, Any], values: dict[str, Any], name: str, template: str
) -> None:
    run(workspace["url"], lambda db: templates.preview_template(db, template, values))
    run(
        workspace["url"],
        lambda db: templates.create_project_from_template(
            db, template, templates.TemplateProjectCreate(name=name, owner_id="o", values=values)
        ),
    )


@EXAMPLES
@given(
    title=nasty_text,
    intent=nasty_text | st.none(),
    project=st.sampled_from(["target", "missing"]) | st.none() | nasty_text,
)
# Once a traceback on PostgreSQL: a lone surrogate reached the driver as a project name.
@example(title="0", intent=None, project="\ud800")
def test_start_conversation_takes_only_documented_errors(
    workspace: dict[str, Any], title: str, intent: str | None, project: str | None
) -> None:
    run(
        workspace["url"],
        lambda db: agents.start_conversation(db, project, title=title, intent=intent),
    )


@EXAMPLES
@given(
    role=st.sampled_from(["user", "assistant", "tool"]) | nasty_text,
    content=nasty_text,
    model=nasty_text | st.none(),
    tokens=st.tuples(numbers, numbers),
    cost=numbers,
    metadata=json_values,
)
def test_add_message_takes_only_documented_errors(
    workspace: dict[str, Any],
    role: str,
    content: str,
    model: str | None,
    tokens: tuple[Any, Any],
    cost: Any,
    metadata: Any,
) -> None:
    message = agents.MessageInput(
        role=role,
        content=content,
        model_used=model,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
        cost=cost,
        metadata=metadata,
    )
    error = run(
        workspace["url"], lambda db: agents.add_message(db, workspace["conversation"], message)
    )
    if error is None:
        # Accepted: the cost was a real amount, stored exactly.
        assert Decimal(str(cost)) >= 0


@EXAMPLES
@given(
    agent=nasty_text,
    task=nasty_text,
    status=st.sampled_from(["succeeded", "failed", "cancelled", "running"]) | nasty_text,
    tests=json_values,
    error_text=nasty_text | st.none(),
    cost=numbers,
)
def test_agent_runs_take_only_documented_errors(
    workspace: dict[str, Any],
    agent: str,
    task: str,
    status: str,
    tests: Any,
    error_text: str | None,
    cost: Any,
) -> None:
    run(workspace["url"], lambda db: agents.start_run(db, "target", agent=agent, task=task))
    run(
        workspace["url"],
        lambda db: agents.finish_run(
            db, workspace["run"], status=status, test_results=tests, error=error_text, cost=cost
        ),
    )


@EXAMPLES
@given(
    event=nasty_text,
    url=nasty_text | st.sampled_from(["https://user:pw@example.com/hook?token=x"]),
    code=st.integers(min_value=-(2**40), max_value=2**40) | st.none(),
    attempt=st.integers(min_value=-(2**40), max_value=2**40),
    response=nasty_text | st.none(),
)
def test_webhook_deliveries_take_only_documented_errors(
    workspace: dict[str, Any],
    event: str,
    url: str,
    code: int | None,
    attempt: int,
    response: str | None,
) -> None:
    delivery = webhooks.WebhookInput(
        event=event, url=url, status_code=code, attempt=attempt, response=response
    )
    run(workspace["url"], lambda db: webhooks.record_webhook_delivery(db, "target", delivery))
