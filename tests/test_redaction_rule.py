"""One redaction rule for everything projdeck stores or exports of what
services, agents and webhooks hand it: credentials go (by key and by shape,
just the credential inside longer text), look-alikes stay (token counts,
"secretary", commit hashes, UUIDs, prose), and redacting twice changes
nothing. Through the services on both backends: a message's metadata, a
run's error, a webhook's response and the audit metadata are stored and
exported redacted, an old export brings no credential in, and the upgrade
to 0011 redacts what was stored before and says so in the audit log."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.engine import URL

from store import audit, migrate
from store.engine import Database, open_database
from store.models import AgentRun, AuditEntry, Message, WebhookDelivery
from store.redaction import REDACTED, is_credential_key, redact, redact_text
from store.services import agents, projects, webhooks
from store.services import workspace as workspace_service
from store.services.audit import verify_chain
from tests.store_support import opened

# Credentials as their issuers shape them (made up, put together here so no
# scanner mistakes this file for a leak).
SK = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
SK_ANT = "sk-ant-api03-" + "Zx9Cv8Bn7Mq6Wr5Ty4Ui3Op2As1Df0Gh-_kL"
GHP = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GITHUB_PAT = (
    "github_pat_" + "11ABCDEFG0" + "1a2b3c4d5e6f7g8h9i0j_" + "K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y5z6"
)
XOXB = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
XOXP = "xoxp-" + "123456789012-123456789012-" + "1234567890123-0a1b2c3d4e5f"
AKIA = "AKIA" + "IOSFODNN7EXAMPLE"
AIZA = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
GLPAT = "glpat-" + "x9Y8z7W6v5U4t3S2r1Q0"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
A_UUID = "123e4567-e89b-12d3-a456-426614174000"

# Each credential in a sentence, and the sentence as it is stored.
CREDENTIALS = [
    (f"Authorization: Bearer {JWT}", "Authorization: Bearer [redacted]"),
    ("retrying with Bearer a1B2c3D4e5F6g7H8", "retrying with Bearer [redacted]"),
    (f"token {JWT} expired", "token [redacted] expired"),
    (
        "curl -H 'Authorization: Basic dXNlcjpodW50ZXIy' https://api.example.com/v1",
        "curl -H 'Authorization: Basic [redacted]' https://api.example.com/v1",
    ),
    (f"export OPENAI_API_KEY={SK}", "export OPENAI_API_KEY=[redacted]"),
    (f"the key is {SK}.", "the key is [redacted]."),
    (f"anthropic key {SK_ANT} in .env", "anthropic key [redacted] in .env"),
    (f"pushed with {GHP}", "pushed with [redacted]"),
    (f"{GITHUB_PAT}", "[redacted]"),
    (f"slack {XOXB} and {XOXP}", "slack [redacted] and [redacted]"),
    (f"aws_access_key_id {AKIA} region eu-west-1", "aws_access_key_id [redacted] region eu-west-1"),
    (f"maps {AIZA}", "maps [redacted]"),
    (f"charge with {STRIPE}", "charge with [redacted]"),
    (f"gitlab {GLPAT}", "gitlab [redacted]"),
    (
        f"deploy key:\n{PEM}\nthen restart",
        "deploy key:\n-----BEGIN RSA PRIVATE KEY-----[redacted]"
        "-----END RSA PRIVATE KEY-----\nthen restart",
    ),
    (
        "cut short: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA",
        "cut short: -----BEGIN OPENSSH PRIVATE KEY-----[redacted]",
    ),
    (
        "postgresql://ops:hunter2@db.example:5432/team",
        "postgresql://ops:***@db.example:5432/team",
    ),
    (
        "POST https://bot:pa55@hooks.example.com/x?token=abc123&page=2 failed",
        "POST https://bot:***@hooks.example.com/x?token=***&page=2 failed",
    ),
    ('{"password": "hunter2", "user": "bob"}', '{"password": "[redacted]", "user": "bob"}'),
    (
        "{'client_secret': 'abc', 'scope': 'repo'}",
        "{'client_secret': '[redacted]', 'scope': 'repo'}",
    ),
    ("DB_PASSWORD=hunter2 ./run.sh", "DB_PASSWORD=[redacted] ./run.sh"),
    ("--client-secret='s3cr3t value' --verbose", "--client-secret='[redacted]' --verbose"),
    ("X-Api-Key: 0123abcd", "X-Api-Key: [redacted]"),
    ("Cookie: session=abc; theme=dark", "Cookie: [redacted]"),
    ("  password: hunter2", "  password: [redacted]"),
]

# Text that looks a little like a credential and is none.
LOOK_ALIKES = [
    "input_tokens: 1234",
    "tokens_used=5 max_tokens=4096",
    "the secretary filed it",
    "passwordless sign-in for everyone",
    "the tokenizer splits words",
    f"commit {SHA1}",
    f"digest {SHA256}",
    f"run {A_UUID}",
    f"https://github.com/acme/api/commit/{SHA1}",
    "https://docs.example.com/guide?page=2#install",
    "Password: at least 12 characters, one digit",
    "the bearer of this letter",
    "Basic settings apply",
    "if token == expected:",
    "token = refresh_token()",
    "scikit-learn, sk-learn",
    "password=$DB_PASSWORD",
    "token: <your token here>",
    "ghp_ marks a GitHub token",
    "Refactored the token refresh; 42 tests pass.",
    "api_key_id=k-1 secret_name=STRIPE_KEY",
    "AKIA starts an AWS key id",
    "",
]

CREDENTIAL_KEYS = [
    "api_key",
    "apiKey",
    "X-Api-Key",
    "apikey",
    "password",
    "DB_PASSWORD",
    "passwd",
    "passphrase",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refreshToken",
    "GITHUB_TOKEN",
    "authorization",
    "Cookie",
    "set-cookie",
    "private_key",
    "access_key",
    "aws_secret_access_key",
    "session_id",
    "credentials",
    "basic_auth",
]

# Keys that count or describe credentials, or only look like their names.
KEPT_KEYS = [
    "input_tokens",
    "output_tokens",
    "prompt_tokens",
    "tokens_used",
    "tokens_in",
    "max_tokens",
    "tokens",
    "token_count",
    "secret_name",
    "api_key_id",
    "token_expires_at",
    "password_min_length",
    "secretary",
    "passwordless",
    "tokenizer",
    "key",
    "key_id",
    "oauth",
    "author",
]


# -- the rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "stored"), CREDENTIALS)
def test_credentials_in_text_are_replaced_and_the_text_around_them_kept(
    text: str, stored: str
) -> None:
    assert redact_text(text) == stored


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_in_text_are_kept_as_written(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize("key", CREDENTIAL_KEYS)
def test_a_value_under_a_key_naming_a_credential_is_redacted(key: str) -> None:
    assert is_credential_key(key)
    assert redact({key: "opaque-value-1"}) == {key: REDACTED}
    assert redact({key: 1234}) == {key: REDACTED}
    assert redact({"nested": [{key: {"any": "shape"}}]}) == {"nested": [{key: REDACTED}]}
    # Nothing to hide in an absent value or a flag.
    assert redact({key: None, "x": {key: True}, "y": {key: ""}}) == {
        key: None,
        "x": {key: True},
        "y": {key: ""},
    }


@pytest.mark.parametrize("key", KEPT_KEYS)
def test_a_value_under_a_key_that_counts_or_only_looks_alike_is_kept(key: str) -> None:
    assert not is_credential_key(key)
    assert redact({key: 1234}) == {key: 1234}
    assert redact({key: "kept"}) == {key: "kept"}


def test_metadata_keeps_its_shape_and_loses_only_its_credentials() -> None:
    metadata = {
        "usage": {"input_tokens": 1234, "output_tokens": 56, "tokens_used": 1290},
        "api_key": SK,
        "tool_calls": [
            {"name": "http", "headers": {"Authorization": f"Bearer {JWT}", "Accept": "json"}},
            {"name": "shell", "command": f"GH_TOKEN={GHP} gh pr create"},
        ],
        "commit": SHA1,
        "run": A_UUID,
        "ok": True,
        "cost": 0.0123,
        "note": "the secretary said the tokenizer is passwordless",
    }
    assert redact(metadata) == {
        "usage": {"input_tokens": 1234, "output_tokens": 56, "tokens_used": 1290},
        "api_key": REDACTED,
        "tool_calls": [
            {"name": "http", "headers": {"Authorization": REDACTED, "Accept": "json"}},
            {"name": "shell", "command": "GH_TOKEN=[redacted] gh pr create"},
        ],
        "commit": SHA1,
        "run": A_UUID,
        "ok": True,
        "cost": 0.0123,
        "note": "the secretary said the tokenizer is passwordless",
    }


def test_a_key_shaped_like_a_credential_is_redacted_too() -> None:
    assert redact({GHP: 1}) == {REDACTED: 1}


_FRAGMENTS = [
    "password",
    "token",
    "api_key",
    "Authorization",
    "Cookie",
    "secret",
    "=",
    ":",
    " ",
    "\n",
    '"',
    "'",
    "&",
    "?",
    "/",
    "@",
    "{",
    "}",
    "[",
    "]",
    "(",
    "<",
    ">",
    "==",
    "\\",
    "Bearer ",
    "Basic ",
    "dXNlcjpwYXNz",
    "https://",
    "postgresql://",
    "user:pw@",
    "host.example",
    "sk-",
    "abc123def456ghi789jkl012",
    "ghp_",
    "A" * 36,
    AKIA,
    JWT,
    "-----BEGIN PRIVATE KEY-----",
    "-----END PRIVATE KEY-----",
    REDACTED,
    "***",
    "$HOME",
    SHA1,
    "commit/",
]
_TEXT = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=4), max_size=20).map("".join)
_KEYS = st.sampled_from(["password", "input_tokens", "token", "note", "api_key_id"]) | _TEXT
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_redacting_text_twice_changes_nothing(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_redacting_metadata_twice_changes_nothing(value: Any) -> None:
    once = redact(value)
    assert redact(once) == once


def test_hostile_text_is_redacted_without_an_error() -> None:
    for text in [
        "http://[::1",
        "https://[redacted]",
        "Basic ====",
        "password=" * 1000,
        "\x00:\x00",
    ]:
        assert redact_text(redact_text(text)) == redact_text(text)


# -- through the services --------------------------------------------------------------------


def _json(value: Any) -> Any:
    # A JSON column reads back as text on SQLite through a raw select.
    return json.loads(value) if isinstance(value, str) else value


async def _project_and_conversation(database: Database) -> tuple[uuid.UUID, str]:
    created = await projects.create_project_with_settings(
        database, projects.ProjectCreate(name="Demo", type="api", owner_id="alice")
    )
    conversation = await agents.start_conversation(database, "Demo", title="keys")
    return created.project.id, str(conversation.id)


async def test_a_message_with_an_api_key_is_stored_and_exported_redacted(
    database: Database, tmp_path: Path
) -> None:
    _project, conversation = await _project_and_conversation(database)
    message = await agents.add_message(
        database,
        conversation,
        agents.MessageInput(
            role="assistant",
            content="done",
            metadata={
                "api_key": SK,
                "usage": {"input_tokens": 1234, "tokens_used": 1290},
                "endpoint": "https://bot:hunter2@api.example.com/v1",
                "commit": SHA1,
            },
        ),
    )
    expected = {
        "api_key": REDACTED,
        "usage": {"input_tokens": 1234, "tokens_used": 1290},
        "endpoint": "https://bot:***@api.example.com/v1",
        "commit": SHA1,
    }
    assert message.details == expected
    async with database.reading() as session:
        stored = (await session.execute(select(Message.__table__.c.metadata))).scalar_one()  # type: ignore[attr-defined]
    assert _json(stored) == expected
    page = await agents.list_messages(database, conversation)
    assert page.items[0].details == expected

    exported = tmp_path / "workspace.jsonl"
    await workspace_service.export_workspace(database, exported)
    text = exported.read_text(encoding="utf-8")
    assert SK not in text and "hunter2" not in text
    rows = [json.loads(line) for line in text.splitlines()]
    assert [row["row"]["metadata"] for row in rows if row.get("table") == "messages"] == [expected]
    assert (await verify_chain(database)).ok


async def test_audit_metadata_keeps_token_counts_and_loses_credentials(
    database: Database,
) -> None:
    async with database.transaction() as session:
        await audit.record(
            session,
            actor="tester",
            event_type="test.redaction",
            description="one row",
            details={
                "input_tokens": 1234,
                "tokens_used": 5,
                "token_count": 7,
                "api_key": SK,
                "note": f"called with Bearer {JWT}",
                "secretary": "Jo",
            },
        )
    async with database.reading() as session:
        row = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.event_type == "test.redaction")  # type: ignore[arg-type]
            )
        ).scalar_one()
    assert row.details == {
        "input_tokens": 1234,
        "tokens_used": 5,
        "token_count": 7,
        "api_key": REDACTED,
        "note": "called with Bearer [redacted]",
        "secretary": "Jo",
    }
    assert (await verify_chain(database)).ok


async def test_a_run_error_and_test_names_are_stored_redacted(database: Database) -> None:
    await _project_and_conversation(database)
    run = await agents.start_run(database, "Demo", agent="devin", task=f"use {SHA1}")
    finished = await agents.finish_run(
        database,
        str(run.id),
        status="failed",
        error=f"401 from https://api.example.com: Authorization: Bearer {JWT}\nkey {AKIA}",
        test_results={"passed": 1, "failed": 1, "failing": [f"test_login[{GHP}]"]},
    )
    assert finished.error == (
        "401 from https://api.example.com: Authorization: Bearer [redacted]\nkey [redacted]"
    )
    assert finished.test_results["failing"] == ["test_login[[redacted]]"]
    stored = (await agents.get_run(database, str(run.id))).run
    assert stored.error == finished.error and stored.test_results == finished.test_results
    # The task is what the agent was asked, kept as written.
    assert stored.task == f"use {SHA1}"


async def test_a_webhook_response_is_stored_redacted_before_it_is_cut(
    database: Database,
) -> None:
    await _project_and_conversation(database)
    response = "x" * 1900 + f" {SK} " + "y" * 200
    delivery = await webhooks.record_webhook_delivery(
        database,
        "Demo",
        webhooks.WebhookInput(
            event="run.finished",
            url="https://ci:pa55word@hooks.example.com/p?signature=abc&event=x",
            status_code=500,
            response=response,
        ),
    )
    assert delivery.url == "https://ci:***@hooks.example.com/p?signature=***&event=x"
    assert delivery.response_excerpt is not None
    assert "sk-" not in delivery.response_excerpt
    assert delivery.response_excerpt.startswith("x" * 1900 + " [redacted] y")
    async with database.reading() as session:
        stored = (await session.execute(select(WebhookDelivery))).scalar_one()
    assert stored.response_excerpt == delivery.response_excerpt


async def test_a_webhook_url_that_masking_lengthens_still_fits_its_column(
    database: Database,
) -> None:
    await _project_and_conversation(database)
    url = ("https://hooks.example.com/" + "a" * 2048)[: 2048 - 16] + "?password=a&x=1"
    delivery = await webhooks.record_webhook_delivery(
        database, "Demo", webhooks.WebhookInput(event="e", url=url, status_code=200)
    )
    assert len(delivery.url) == 2048 and "password=***" in delivery.url


async def test_an_export_written_before_the_rule_brings_no_credential_in(
    database: Database, tmp_path: Path
) -> None:
    _project, conversation = await _project_and_conversation(database)
    await agents.add_message(
        database,
        conversation,
        agents.MessageInput(role="user", content="hi", metadata={"input_tokens": 3}),
    )
    path = tmp_path / "old.jsonl"
    await workspace_service.export_workspace(database, path)
    # As an export from before the rule: the metadata in clear.
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        document = json.loads(line)
        if document.get("table") == "messages":
            document["row"]["metadata"]["api_key"] = SK
        lines.append(json.dumps(document) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    await workspace_service.import_workspace(database, path, replace=True)
    page = await agents.list_messages(database, conversation)
    assert page.items[0].details == {"input_tokens": 3, "api_key": REDACTED}


# -- the revision that redacts what was stored before ------------------------------------------


async def test_upgrading_to_0011_redacts_stored_credentials_and_records_it(
    empty_database_url: URL,
) -> None:
    async with opened(empty_database_url) as database:
        await migrate.upgrade(database)
        _project, conversation = await _project_and_conversation(database)
        message = await agents.add_message(
            database, conversation, agents.MessageInput(role="user", content="hi")
        )
        kept = await agents.add_message(
            database,
            conversation,
            agents.MessageInput(role="user", content="ok", metadata={"input_tokens": 9}),
        )
        run = await agents.start_run(database, "Demo", agent="devin", task="t")
        await agents.finish_run(database, str(run.id), status="failed", error="boom")
        delivery = await webhooks.record_webhook_delivery(
            database,
            "Demo",
            webhooks.WebhookInput(event="e", url="https://hooks.example.com/x", response="ok"),
        )
        assert await migrate.downgrade(database, "0010") == "0010"
    # What an older projdeck stored, written straight into the rows.
    async with opened(empty_database_url) as database, database.transaction() as session:
        await session.execute(
            update(Message)
            .where(Message.id == message.id)  # type: ignore[arg-type]
            .values(details={"api_key": SK, "input_tokens": 1234})
        )
        await session.execute(
            update(AgentRun)
            .where(AgentRun.id == run.id)  # type: ignore[arg-type]
            .values(error=f"auth failed: Bearer {JWT}")
        )
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery.id)  # type: ignore[arg-type]
            .values(url="https://bot:hunter2@hooks.example.com/x", response_excerpt=PEM)
        )
    database = await open_database(empty_database_url)
    try:
        assert await migrate.upgrade(database, actor="ops") == migrate.HEAD_REVISION
        async with database.reading() as session:
            messages = {m.id: m for m in (await session.execute(select(Message))).scalars()}
            stored_run = await session.get(AgentRun, run.id)
            stored_delivery = await session.get(WebhookDelivery, delivery.id)
            rows = list(
                (
                    await session.execute(
                        select(AuditEntry).where(AuditEntry.event_type == "schema.redacted")  # type: ignore[arg-type]
                    )
                ).scalars()
            )
        assert messages[message.id].details == {"api_key": REDACTED, "input_tokens": 1234}
        assert messages[kept.id].details == {"input_tokens": 9}
        assert stored_run is not None and stored_run.error == "auth failed: Bearer [redacted]"
        assert stored_delivery is not None
        assert stored_delivery.url == "https://bot:***@hooks.example.com/x"
        assert stored_delivery.response_excerpt == (
            "-----BEGIN RSA PRIVATE KEY-----[redacted]-----END RSA PRIVATE KEY-----"
        )
        [row] = rows
        assert row.actor == "ops" and row.entity_id == "0011"
        assert row.details == {
            "revision": "0011",
            "rewritten": {"messages": 1, "agent_runs": 1, "webhook_deliveries": 1},
        }
        assert "1 messages, 1 agent_runs, 1 webhook_deliveries" in row.description
        report = await verify_chain(database)
        assert report.ok, report.problem

        # Nothing left to redact: a second pass through 0011 writes no row.
        await migrate.downgrade(database, "0010")
        await database.dispose()
        database = await open_database(empty_database_url)
        await migrate.upgrade(database)
        async with database.reading() as session:
            again = (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.event_type == "schema.redacted")  # type: ignore[arg-type]
                )
            ).scalars()
            assert len(list(again)) == 1
        assert (await verify_chain(database)).ok
    finally:
        await database.dispose()
