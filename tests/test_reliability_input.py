"""Garbage in: every service input and CLI option fed hostile values
(unicode, control characters, NUL, lone surrogates, very long text, huge or
deeply nested JSON, path tricks). Only the documented errors come out, and a
refused call leaves the database exactly as it was."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import URL

from store.engine import Database
from store.services import modifications, projects, secrets
from tests.input_support import (
    KEY,
    create_target,
    deep,
    json_values,
    nasty_text,
    paths,
    run,
    snapshot,
)
from tests.store_support import opened
from tui.cli import cli

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def prepared(database_url: URL, monkeypatch: pytest.MonkeyPatch) -> URL:
    monkeypatch.setenv("PROJDECK_SECRET_KEY", KEY)

    async def setup() -> None:
        async with opened(database_url) as db:
            await create_target(db)

    asyncio.run(setup())
    return database_url


@EXAMPLES
@given(
    name=nasty_text,
    kind=nasty_text | st.sampled_from(["api", "cli"]),
    owner=nasty_text,
    github=st.tuples(nasty_text, nasty_text) | st.none(),
    webhook=nasty_text | st.none(),
    score=st.one_of(st.floats(), st.integers(), nasty_text, st.none()),
    codebase=st.dictionaries(paths, nasty_text, max_size=3),
    env=st.dictionaries(nasty_text, nasty_text, max_size=3),
    config=json_values,
)
def test_create_project_takes_only_documented_errors(
    prepared: URL,
    name: str,
    kind: str,
    owner: str,
    github: Any,
    webhook: Any,
    score: Any,
    codebase: dict[str, str],
    env: dict[str, str],
    config: Any,
) -> None:
    data = projects.ProjectCreate(
        name=name,
        type=kind,
        owner_id=owner,
        github_owner=github[0] if github else None,
        github_repo=github[1] if github else None,
        webhook_url=webhook,
        test_coverage=score,
        codebase=codebase,
        environment_vars=env,
        deployment_config=config,
        settings={"branch_name": name},
    )
    run(prepared, lambda db: projects.create_project_with_settings(db, data))


@EXAMPLES
@given(
    field=st.sampled_from(
        [
            "name",
            "type",
            "owner_id",
            "webhook_url",
            "codebase",
            "dependencies",
            "environment_vars",
            "deployment_config",
            "state",
            "security_score",
            "auto_merge_enabled",
            "version",
            "id",
        ]
    ),
    value=json_values,
    version=st.integers(min_value=-5, max_value=5),
)
def test_update_project_takes_only_documented_errors(
    prepared: URL, field: str, value: Any, version: int
) -> None:
    run(
        prepared,
        lambda db: projects.update_project(db, "target", {field: value}, expected_version=version),
    )


@EXAMPLES
@given(
    payload=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "request": nasty_text,
                "modified_files": st.dictionaries(paths, nasty_text | st.none(), max_size=3),
            },
            optional={
                "impact_analysis": json_values,
                "test_results": json_values,
                "affected_files": json_values,
            },
        ),
        st.just({"request": "deep", "modified_files": {"a.py": "x"}, "impact_analysis": deep(200)}),
    ),
    ref=st.sampled_from(["target", "missing", "tar"]) | nasty_text,
)
def test_propose_takes_only_documented_errors(prepared: URL, payload: Any, ref: str) -> None:
    async def work(db: Database) -> None:
        proposal = modifications.proposal_from_payload(payload)
        await modifications.propose_modification(db, ref, proposal)

    run(prepared, work)


@EXAMPLES
@given(key=nasty_text, value=nasty_text, ref=st.sampled_from(["target", "nope"]))
def test_set_secret_takes_only_documented_errors(
    prepared: URL, key: str, value: str, ref: str
) -> None:
    canary = f"canary-{value}"
    error = run(prepared, lambda db: secrets.set_secret(db, ref, key, canary))
    if error is not None:
        assert "canary-" not in str(error)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    args=st.lists(nasty_text.filter(lambda text: "\x00" not in text), min_size=1, max_size=4),
    command=st.sampled_from(
        [
            ["project", "create", "--type", "api", "--owner", "o", "--name"],
            ["project", "update", "target", "--name"],
            ["project", "update", "target", "--github"],
            ["project", "update", "target", "--state"],
            ["project", "show"],
            ["settings", "set", "target", "--branch"],
            ["project", "list", "--search"],
            ["mod", "propose", "target", "--request"],
            ["mod", "propose", "target", "--request", "r", "--delete"],
            ["secret", "get", "target"],
            ["secret", "list"],
            ["settings", "set", "target", "--planning-statement"],
            ["settings", "set", "target", "--setup-command"],
            ["project", "create", "--type", "cli", "--owner", "o", "--name", "n", "--env"],
            ["project", "create", "--type", "cli", "--owner", "o", "--name", "n2", "--webhook-url"],
            ["project", "update", "target", "--deployment-config"],
            ["project", "update", "target", "--remove-file"],
            ["project", "update", "target", "--test-coverage"],
            ["project", "delete", "--yes"],
            ["mod", "list", "--project"],
            ["mod", "show"],
            ["mod", "reject", "abcdef", "--comment"],
            ["mod", "propose", "target", "--request", "r", "--impact"],
            ["audit", "list", "--since"],
            ["audit", "list", "--search"],
            ["audit", "list", "--project"],
            ["template", "show"],
            ["template", "list", "--tag"],
            ["template", "preview", "fastapi-service", "--var"],
            ["template", "use", "fastapi-service", "--owner", "o", "--name"],
            ["agent", "conversation", "start", "target", "--title"],
            ["agent", "run", "start", "target", "--agent", "a", "--task"],
            ["agent", "costs", "--since"],
            ["agent", "costs", "--project"],
            ["agent", "webhook", "target", "--event", "e", "--url"],
            ["import"],
            ["restore", "--yes"],
            ["agent", "message", "deadbeef", "--role", "user", "--content", "c", "--cost"],
            ["agent", "message", "deadbeef", "--role", "user", "--content", "c", "--metadata"],
            ["agent", "message", "deadbeef", "--content", "c", "--role"],
            ["agent", "message", "deadbeef", "--role", "tool", "--content"],
            ["agent", "run", "finish", "deadbeef", "--status", "failed", "--tests"],
            ["agent", "run", "finish", "deadbeef", "--status"],
            ["agent", "run", "start", "target", "--task", "t", "--agent"],
            ["mod", "attach-tests", "deadbeef", "--tests"],
            ["mod", "approve", "deadbeef", "--comment"],
            ["mod", "propose", "target", "--request", "r", "--tests"],
            ["mod", "propose", "target", "--payload"],
            ["project", "create", "--type", "api", "--owner", "o", "--name", "n3", "--github"],
            ["project", "create", "--type", "api", "--owner", "o", "--name", "n4", "--dependency"],
            ["project", "create", "--type", "api", "--owner", "o", "--name", "n5", "--file"],
            ["project", "list", "--limit"],
            ["project", "list", "--offset"],
            ["project", "list", "--status"],
            ["audit", "export", "--format"],
            ["audit", "list", "--until"],
            ["audit", "list", "--severity"],
            ["template", "import"],
            ["template", "rm", "--yes"],
            ["secret", "rm", "target", "--yes"],
            ["secret", "set", "target"],
            ["transfer", "--to"],
        ]
    ),
)
# Once a traceback: a folder name with a lone surrogate reached the file system.
@example(args=["\ud800"], command=["template", "import"])
def test_cli_options_never_show_a_traceback(
    prepared: URL, tmp_path: Path, args: list[str], command: list[str]
) -> None:
    # Commands that write files (export, backup, template export) are left
    # out: a generated absolute path could name a real file.
    url = prepared.render_as_string(hide_password=False)

    async def counts() -> tuple[int, ...]:
        async with opened(prepared) as db:
            return await snapshot(db)

    before = asyncio.run(counts())
    # What a shell can hand over: argv is bytes, which Python decodes with
    # surrogateescape (a lone surrogate typed in arrives as three escapes).
    argv = [os.fsdecode(arg.encode("utf-8", "surrogatepass")) for arg in args]
    result = CliRunner().invoke(cli, ["--db-url", url, *command, *argv], catch_exceptions=True)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code in (0, 1, 2), (result.exit_code, output, result.exception)
    assert "Traceback" not in output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"unexpected {type(result.exception).__name__}: {result.exception}")
    if result.exit_code != 0:
        assert asyncio.run(counts()) == before


def test_invalid_utf8_files_are_refused_by_the_cli(prepared: URL, tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_bytes(b"ok = 1\n\xff\xfe\x00 not utf-8\n")
    url = prepared.render_as_string(hide_password=False)
    for command in (
        ["project", "update", "target", "--file", f"a.py={bad}"],
        ["mod", "propose", "target", "--request", "r", "--file", f"a.py={bad}"],
    ):
        result = CliRunner().invoke(cli, ["--db-url", url, *command])
        assert result.exit_code == 1, result.output
        assert "UTF-8" in result.output or "utf-8" in result.output
    payload = tmp_path / "payload.json"
    payload.write_bytes(b'{"request": "r", "modified_files": {"a.py": "\xff"}}')
    result = CliRunner().invoke(
        cli, ["--db-url", url, "mod", "propose", "target", "--payload", str(payload)]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    huge = tmp_path / "huge.json"
    huge.write_text(
        json.dumps({"request": "r", "modified_files": {"a.py": "x" * (2 * 1024 * 1024)}})
    )
    result = CliRunner().invoke(
        cli, ["--db-url", url, "mod", "propose", "target", "--payload", str(huge)]
    )
    assert result.exit_code == 1
    assert "1 MiB" in result.output or "bytes" in result.output
