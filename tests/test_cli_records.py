"""What scripts, CI and agents record and read through the installed
console script: secrets imported from and exported as a dotenv file, a
project named by its GitHub repository, deployments, a script's own audit
events, the conversation list, and doctor's pool figures as numbers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from dotenv import dotenv_values
from sqlalchemy.engine import URL

from tests.cli import Projdeck

VALUES = {
    "API_TOKEN": "tok-canary-1",
    "MULTILINE": "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
    "QUOTED": "say \"hi\" and 'bye' \\ done",
    "HASHED": "pa#ss # word",
    "DOLLARS": "$HOME ${HOME} $",
    "UNICODE": "clé ✓ 日本 😀",
}


@pytest.fixture
def cli(database_url: URL) -> Projdeck:
    return Projdeck(database_url)


def _project(cli: Projdeck, name: str = "Billing", *extra: str) -> str:
    return cli.ok("project", "create", "--name", name, "--type", "api", "--owner", "al", *extra)


def _dotenv(values: dict[str, str]) -> str:
    from store import dotenv

    return "".join(dotenv.line(name, value) + "\n" for name, value in values.items())


# -- secrets in bulk ---------------------------------------------------------------------------


def test_secrets_round_trip_through_a_dotenv_file(cli: Projdeck, tmp_path: Path) -> None:
    _project(cli)
    _project(cli, "Copy")
    source = tmp_path / ".env"
    source.write_text(_dotenv(VALUES), encoding="utf-8")
    imported = cli.run("secret", "import", "Billing", "--from", str(source))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[-1].startswith("imported 6 secrets (key ")
    assert "created API_TOKEN" in imported.stdout
    assert not any(value in imported.stdout + imported.stderr for value in VALUES.values())

    exported = cli.ok("secret", "export", "Billing", "--dotenv", "--reveal")
    assert dict(dotenv_values(stream=io.StringIO(exported), interpolate=False)) == VALUES
    again = cli.json("secret", "import", "Copy", input=exported)
    assert again["created"] == sorted(VALUES) and again["replaced"] == []
    for name, value in VALUES.items():
        assert cli.json("secret", "get", "Copy", name)["value"] == value
    as_json = cli.ok("secret", "export", "Copy", "--json", "--reveal")
    assert {item["key_name"]: item["value"] for item in json.loads(as_json)} == VALUES

    replaced = cli.ok("secret", "import", "Copy", input="API_TOKEN=new\n").splitlines()
    assert len(replaced) == 2 and replaced[0] == "replaced API_TOKEN"
    assert replaced[1].endswith(": 0 created, 1 replaced")

    events = [row["event_type"] for row in cli.json("audit", "list", "--project", "Copy")["items"]]
    assert events.count("secret.imported") == 2 and events.count("secret.exported") == 1
    assert cli.ok("audit", "verify").startswith("ok: ")


def test_an_import_with_one_bad_line_stores_nothing(cli: Projdeck) -> None:
    _project(cli)
    cases = [
        (
            "GOOD=1\nNO_VALUE\n",
            "error: line 2: NO_VALUE has no value (no '='); write NO_VALUE=value",
        ),
        ("GOOD=1\n\nGOOD=2\n", "error: line 3: GOOD is given twice (first on line 1)"),
        ("GOOD=1\nbad-name=2\n", "error: line 2: key name: 'bad-name' is not an environment"),
        ("GOOD=1\nEMPTY=\n", "error: line 2: value: must not be empty"),
        ('GOOD=1\nOPEN="never closed\n', "error: line 2: is not NAME=value"),
        ("# nothing here\n", "error: dotenv: holds no NAME=value lines"),
    ]
    for text, message in cases:
        assert cli.fails("secret", "import", "Billing", input=text).startswith(message)
    assert cli.fails("secret", "import", "Nope", input="GOOD=1\n").startswith(
        "error: no project matches 'Nope'"
    )
    assert cli.fails("secret", "import", "Billing", "--from", "/no/such/file").startswith(
        "error: dotenv: cannot read /no/such/file"
    )
    assert cli.ok("secret", "list", "Billing").strip() == "no secrets"


def test_export_refuses_without_reveal_and_says_why(cli: Projdeck) -> None:
    _project(cli)
    cli.ok("secret", "set", "Billing", "API_TOKEN", input="tok-canary-2\n")
    refused = cli.run("secret", "export", "Billing", "--dotenv")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr == (
        "error: secret export prints every value of the project in clear text; add --reveal "
        "to confirm (the export is recorded in the audit log)\n"
    )
    assert "give the format: --dotenv or --json" in cli.fails(
        "secret", "export", "Billing", "--reveal", code=2
    )
    events = [row["event_type"] for row in cli.json("audit", "list")["items"]]
    assert "secret.exported" not in events


def test_export_writes_hidden_characters_to_a_pipe_as_they_are(cli: Projdeck) -> None:
    _project(cli)
    cli.ok("secret", "set", "Billing", "ESCAPE", input="a\x1b[2Jb\n")
    # A pipe gets the value byte for byte, which python-dotenv reads back.
    exported = cli.ok("secret", "export", "Billing", "--dotenv", "--reveal")
    assert exported == 'ESCAPE="a\x1b[2Jb"\n'


# -- a project by its GitHub repository ----------------------------------------------------------


def test_commands_find_a_project_by_its_github_repository(cli: Projdeck) -> None:
    project_id = _project(cli, "Billing", "--github", "acme/billing-api").strip()
    assert cli.json("project", "show", "acme/billing-api")["id"] == project_id
    assert cli.json("project", "show", "Acme/Billing-API")["id"] == project_id
    cli.ok("secret", "set", "acme/billing-api", "API_TOKEN", input="x\n")
    assert "API_TOKEN" in cli.ok("secret", "list", "acme/billing-api")
    assert cli.fails("project", "show", "acme/unknown") == (
        "error: no project matches 'acme/unknown' (give its id, an id prefix of at least 6 "
        "characters, its exact name, or its GitHub owner/repo)\n"
    )
    # An exact name comes first.
    named = _project(cli, "acme/billing-api").strip()
    assert cli.json("project", "show", "acme/billing-api")["id"] == named
    assert cli.json("project", "show", "ACME/billing-api")["id"] == project_id


# -- deployments and a script's own events ---------------------------------------------------------


def test_ci_records_deployments_and_its_own_events(cli: Projdeck) -> None:
    _project(cli, "Billing", "--github", "acme/api")
    shown = cli.ok("project", "show", "Billing")
    assert "last deployed       -" in shown

    deployed = cli.json(
        "project", "deployed", "acme/api", "--at", "2025-01-31T14:05:00+01:00",
        "--environment", "production",
    )  # fmt: skip
    assert deployed["last_deployed_at"] == "2025-01-31T13:05:00+00:00"
    later = cli.ok("project", "deployed", "Billing")
    assert later.startswith("recorded a deployment of Billing; last deployed ")
    earlier = cli.ok("project", "deployed", "Billing", "--at", "2024-06-01")
    assert earlier.endswith("(a later deployment was recorded before)\n")
    assert "last deployed       2024" not in cli.ok("project", "show", "Billing")

    for when, message in [
        ("2999-01-01", "error: at: 2999-01-01T00:00:00+00:00 is in the future"),
        ("soon", "error: at: 'soon' is not a date (2026-01-31), a date-time or an age"),
    ]:
        assert cli.fails("project", "deployed", "Billing", "--at", when).startswith(message)
    assert cli.fails("project", "deployed", "Billing", "--environment", "a\tb").startswith(
        "error: environment: must not contain control characters"
    )

    row = cli.json(
        "audit", "record", "--event", "deployment.failed", "--category", "system",
        "--severity", "error", "--project", "acme/api", "--description", "1.4 failed",
        "--metadata", '{"version": "1.4", "password": "hunter2"}',
    )  # fmt: skip
    assert (row["event_type"], row["severity"], row["actor"]) == (
        "deployment.failed",
        "error",
        "cli-test",
    )
    assert row["metadata"]["version"] == "1.4" and "hunter2" not in json.dumps(row)
    plain = cli.ok(
        "audit", "record", "--event", "ci.tests_passed", "--category", "general",
        "--severity", "info", "--project", "Billing", "--description", "all green",
    )  # fmt: skip
    assert plain.startswith("recorded audit row ") and plain.endswith(" (ci.tests_passed)\n")
    events = [entry["event_type"] for entry in cli.json("audit", "list")["items"]]
    assert events[:2] == ["ci.tests_passed", "deployment.failed"]
    assert events.count("deployment.succeeded") == 3
    assert cli.ok("audit", "verify").startswith("ok: ")


def test_a_scripts_event_is_refused_naming_the_field(cli: Projdeck, tmp_path: Path) -> None:
    _project(cli)
    base = ["audit", "record", "--category", "general", "--severity", "info", "--project"]
    cases = [
        (["Billing", "--event", "project.archived", "--description", "x"], 1,
         "error: event: project.* events are projdeck's own"),
        (["Billing", "--event", "Ci", "--description", "x"], 1,
         "error: event: 'Ci' is not an event name"),
        (["Billing", "--event", "ci.x", "--description", "x", "--metadata", "[1, 2]"], 1,
         "error: metadata: must be a JSON object"),
        (["Billing", "--event", "ci.x", "--description", "x", "--metadata", "{nope"], 1,
         "error: metadata: "),
        (["Billing", "--event", "ci.x", "--description", "x", "--metadata", "@/no/file"], 1,
         "error: metadata: cannot read /no/file"),
        (["Nope", "--event", "ci.x", "--description", "x"], 1, "error: no project matches 'Nope'"),
    ]  # fmt: skip
    for args, code, message in cases:
        assert cli.fails(*base, *args, code=code).startswith(message)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"blob": "x" * 70_000}), encoding="utf-8")
    assert cli.fails(
        *base, "Billing", "--event", "ci.x", "--description", "x", "--metadata", f"@{big}"
    ).startswith("error: metadata: is 70,012 bytes as JSON; at most 65,536 (64 KiB)")
    usage = cli.fails(
        "audit", "record", "--event", "ci.x", "--category", "money", "--severity", "info",
        "--project", "Billing", "--description", "x", code=2,
    )  # fmt: skip
    assert "Invalid value for '--category': 'money' is not one of" in usage
    assert "Missing option '--severity'" in cli.fails(
        "audit", "record", "--event", "ci.x", "--category", "general", "--project", "Billing",
        "--description", "x", code=2,
    )  # fmt: skip
    events = [entry["event_type"] for entry in cli.json("audit", "list")["items"]]
    assert events == ["project.created"]


# -- the conversation list -------------------------------------------------------------------------


def test_conversations_are_listed_with_paging_and_as_json(cli: Projdeck) -> None:
    assert cli.ok("agent", "conversation", "list").strip() == "no conversations"
    _project(cli, "Billing", "--github", "acme/api")
    _project(cli, "Other")
    ids = [
        cli.ok("agent", "conversation", "start", project, "--title", title).strip()
        for project, title in [("Billing", "first"), ("Other", "second"), ("Billing", "third")]
    ]
    cli.ok("agent", "run", "start", "Billing", "--agent", "codex", "--task", "t",
           "--conversation", ids[2])  # fmt: skip

    page = cli.json("agent", "conversation", "list", "--limit", "2")
    assert (page["total"], page["offset"], page["limit"]) == (3, 0, 2)
    assert [item["title"] for item in page["items"]] == ["third", "second"]
    assert page["items"][0]["project"] == "Billing"
    assert page["items"][0]["id"] == ids[2]
    rest = cli.json("agent", "conversation", "list", "--limit", "2", "--offset", "2")
    assert [item["title"] for item in rest["items"]] == ["first"]

    billing = cli.json("agent", "conversation", "list", "--project", "acme/api")
    assert [item["title"] for item in billing["items"]] == ["third", "first"]
    without = cli.json("agent", "conversation", "list", "--project", "Billing", "--without-run")
    assert [item["title"] for item in without["items"]] == ["first"]

    table = cli.ok("agent", "conversation", "list", "--limit", "1").splitlines()
    assert table[0].split() == ["ID", "PROJECT", "STATUS", "STARTED", "BY", "UPDATED", "TITLE"]
    assert table[1].startswith(ids[2][:8]) and table[1].endswith("third")
    assert table[2] == "showing 1-1 of 3; see more with --offset"
    assert "Invalid value for '--limit'" in cli.fails(
        "agent", "conversation", "list", "--limit", "0", code=2
    )
    assert cli.fails("agent", "conversation", "list", "--project", "nope").startswith(
        "error: no project matches 'nope'"
    )


def test_agent_activity_moves_the_projects_last_activity(cli: Projdeck) -> None:
    _project(cli)
    created = cli.json("project", "show", "Billing")
    conversation = cli.ok("agent", "conversation", "start", "Billing", "--title", "t").strip()
    cli.ok("agent", "message", conversation, "--role", "user", "--content", "hi")
    after = cli.json("project", "show", "Billing")
    assert after["last_active_at"] > created["last_active_at"]
    assert after["version"] == created["version"]


# -- doctor ------------------------------------------------------------------------------------------


def test_doctor_gives_the_pool_as_numbers(cli: Projdeck, backend: str) -> None:
    report = cli.json("doctor")
    if backend == "sqlite":
        assert report["pool"] is None
        return
    pool = report["pool"]
    assert set(pool) == {
        "size",
        "max_overflow",
        "checked_out",
        "idle",
        "overflow",
        "timeout_seconds",
    }
    assert pool["size"] == 5 and pool["max_overflow"] == 10 and pool["timeout_seconds"] == 30
    assert all(isinstance(value, int | float) and value >= 0 for value in pool.values())
    [finding] = [item for item in report["findings"] if item["name"] == "pool"]
    assert finding["detail"].startswith("5 connections, up to 10 more when busy; ")
    assert "Pool size:" not in finding["detail"]
