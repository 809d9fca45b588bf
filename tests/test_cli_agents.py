"""``projdeck agent ...`` through the installed console script: round trips
with exit codes and JSON shapes, and bad input exiting 1 naming the field
with nothing stored (usage errors exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tests.cli import Projdeck


@pytest.fixture
def cli(database_url: URL) -> Projdeck:
    return Projdeck(database_url)


def test_agent_commands_round_trip(cli: Projdeck, tmp_path: Path) -> None:
    cli.ok("project", "create", "--name", "Demo", "--type", "api", "--owner", "alice")
    conversation = cli.json(
        "agent", "conversation", "start", "Demo", "--title", "Add pagination", "--intent", "feature"
    )
    assert conversation["status"] == "active" and conversation["project"] == "Demo"
    conv_id = conversation["id"]

    first = cli.json(
        "agent", "message", conv_id[:8], "--role", "user", "--content", "Please paginate"
    )
    assert first["cost"] == "0.000000" and first["model"] is None
    answer = tmp_path / "answer.md"
    answer.write_text("Done:\n- added ?page=\n", encoding="utf-8")
    second = cli.json(
        "agent", "message", conv_id, "--role", "assistant", "--model", "gpt-4.1",
        "--tokens-in", "1200", "--tokens-out", "300", "--cost", "0.0123",
        "--metadata", '{"tool_calls": 2}', "--content-file", str(answer),
    )  # fmt: skip
    assert second["content"] == "Done:\n- added ?page=\n"
    assert (second["prompt_tokens"], second["completion_tokens"]) == (1200, 300)
    assert second["metadata"] == {"tool_calls": 2}
    third = cli.ok(
        "agent", "message", conv_id, "--role", "tool", "--cost", "0.0007",
        "--content-file", "-", input="$ pytest\n3 passed\n",
    )  # fmt: skip
    assert len(third.strip()) == 36

    run = cli.json(
        "agent", "run", "start", "Demo", "--agent", "codex", "--task", "Paginate the list",
        "--conversation", conv_id[:8],
    )  # fmt: skip
    assert run["status"] == "running" and run["conversation_id"] == conv_id
    source = tmp_path / "app.py"
    source.write_text("print('paged')\n", encoding="utf-8")
    mod = cli.json(
        "mod", "propose", "Demo", "--request", "paginate", "--file", f"app.py={source}",
        "--run", run["id"][:8],
    )  # fmt: skip
    assert mod["run_id"] == run["id"]
    tests = tmp_path / "tests.json"
    tests.write_text('{"passed": 10, "failed": 1, "failing": ["tests/test_list.py::test_page"]}')
    finished = cli.json(
        "agent", "run", "finish", run["id"], "--status", "failed", "--tests", f"@{tests}",
        "--error", "one test fails", "--cost", "0.25",
    )  # fmt: skip
    assert finished["status"] == "failed"
    assert finished["test_results"]["failing"] == ["tests/test_list.py::test_page"]
    shown = cli.json("agent", "run", "show", run["id"][:6])
    assert [m["id"] for m in shown["modifications"]] == [mod["id"]]
    assert shown["cost"] == "0.250000" and shown["conversation"] == "Add pagination"
    text = cli.ok("agent", "run", "show", run["id"])
    assert "1 failed" in text and "paginate" in text and "$0.2500" in text

    listed = cli.json("agent", "runs", "--project", "Demo", "--status", "failed")
    assert listed["total"] == 1 and listed["items"][0]["agent"] == "codex"

    delivery = cli.json(
        "agent", "webhook", "Demo", "--event", "run.finished",
        "--url", "https://ci:hunter2@hooks.example.com/x?token=abc&page=1",
        "--status-code", "502", "--attempt", "2", "--response", "bad gateway",
    )  # fmt: skip
    assert delivery["url"] == "https://ci:***@hooks.example.com/x?token=***&page=1"
    assert delivery["delivered_at"] is None and delivery["attempt"] == 2
    cli.ok(
        "agent", "webhook", "Demo", "--event", "run.finished",
        "--url", "https://hooks.example.com/x", "--status-code", "200", "--attempt", "3",
    )  # fmt: skip
    deliveries = cli.json("agent", "webhooks", "Demo")
    assert deliveries["total"] == 2
    assert [d["attempt"] for d in deliveries["items"]] == [3, 2]
    assert "hunter2" not in str(deliveries)
    listed_text = cli.ok("agent", "webhooks", "Demo", "--limit", "1")
    assert "run.finished" in listed_text and "yes" in listed_text
    assert "showing 1-1 of 2" in listed_text

    waiting = cli.json("agent", "run", "start", "Demo", "--agent", "a", "--task", "t", "--queued")
    assert waiting["status"] == "queued" and waiting["started_at"] is None
    assert f"run {waiting['id'][:8]} running" in cli.ok("agent", "run", "begin", waiting["id"])
    assert "cannot begin a run that is running" in cli.fails("agent", "run", "begin", waiting["id"])
    cli.ok("agent", "run", "finish", waiting["id"], "--status", "cancelled")

    stats = cli.json("agent", "stats", "--project", "Demo")
    assert stats["runs_per_status"] == {
        "queued": 0, "running": 0, "succeeded": 0, "failed": 1, "cancelled": 1,
    }  # fmt: skip
    [day] = stats["tests_per_day"]
    assert (day["runs"], day["passed"], day["failed"]) == (1, 10, 1)
    assert day["pass_rate"] == pytest.approx(10 / 11)
    assert "1 failed" in cli.ok("agent", "stats") and "91%" in cli.ok("agent", "stats")

    costs = cli.json("agent", "costs", "--by", "model")
    assert costs["total"] == "0.263000"
    assert {row["label"]: row["cost"] for row in costs["rows"]} == {
        "gpt-4.1": "0.012300",
        "(no model)": "0.250700",
    }
    by_project = cli.ok("agent", "costs", "--project", "Demo", "--since", "1d")
    assert "Demo" in by_project and "$0.2630" in by_project and "█" in by_project

    show = cli.json("agent", "conversation", "show", conv_id, "--limit", "2")
    assert show["messages"] == 3 and show["cost"] == "0.013000"
    assert [m["role"] for m in show["message_list"]] == ["user", "assistant"]
    found = cli.ok("agent", "conversation", "show", conv_id, "--search", "PYTEST")
    assert "3 passed" in found and "Please paginate" not in found
    assert "closed conversation" in cli.ok("agent", "conversation", "close", conv_id)
    closed = cli.fails("agent", "message", conv_id, "--role", "user", "--content", "late")
    assert "cannot add a message to a conversation that is closed" in closed

    audit = cli.ok("audit", "export", "--format", "jsonl")
    assert "hunter2" not in audit and "Done:" not in audit
    assert "conversation.messages_added" in audit and "run.failed" in audit


def test_bad_agent_input_exits_1_naming_the_field_and_stores_nothing(cli: Projdeck) -> None:
    cli.ok("project", "create", "--name", "Demo", "--type", "api", "--owner", "alice")
    conv_id = cli.ok("agent", "conversation", "start", "Demo", "--title", "t").strip()
    run_id = cli.ok("agent", "run", "start", "Demo", "--agent", "a", "--task", "t").strip()
    for args, message in [
        (["agent", "message", conv_id, "--role", "robot", "--content", "x"], "role:"),
        (["agent", "message", conv_id, "--role", "user", "--cost", "-1", "--content", "x"], "cost:"),
        (["agent", "message", conv_id, "--role", "user", "--cost", "0.1234567", "--content", "x"], "cost:"),
        (["agent", "message", conv_id, "--role", "user", "--tokens-in", "-5", "--content", "x"], "tokens_in:"),
        (["agent", "message", conv_id, "--role", "user", "--metadata", "{bad", "--content", "x"], "metadata:"),
        (["agent", "message", conv_id, "--role", "user", "--content-file", "/nonexistent"], "content:"),
        (["agent", "message", "abc", "--role", "user", "--content", "x"], "conversation:"),
        (["agent", "run", "finish", run_id, "--status", "done"], "status:"),
        (["agent", "run", "finish", run_id, "--status", "failed", "--tests", '{"passed": 1}'], "tests.failed:"),
        (["agent", "webhook", "Demo", "--event", "e", "--url", "ftp://x"], "url:"),
        (["agent", "webhook", "Demo", "--event", "e", "--url", "https://h.io", "--status-code", "700"], "status_code:"),
        (["agent", "costs", "--by", "week"], "by:"),
        (["agent", "costs", "--since", "someday"], "since:"),
    ]:  # fmt: skip
        assert message in cli.fails(*args), args
    for args in [
        ["agent", "message", conv_id, "--role", "user", "--content", "a", "--content-file", "-"],
        ["agent", "message", conv_id, "--role", "user", "--tokens-in", "many", "--content", "x"],
    ]:
        cli.fails(*args, code=2)
    show = cli.json("agent", "conversation", "show", conv_id)
    assert show["messages"] == 0
    run = cli.json("agent", "run", "show", run_id)
    assert run["status"] == "running" and run["test_results"] == {} and run["cost"] == "0.000000"


def test_agent_message_jsonl_records_a_batch_all_or_none(cli: Projdeck, tmp_path: Path) -> None:
    import json

    cli.ok("project", "create", "--name", "Batch", "--type", "api", "--owner", "alice")
    conv_id = cli.json("agent", "conversation", "start", "Batch", "--title", "Bulk")["id"]
    lines = [
        json.dumps(
            {
                "role": "assistant" if n % 2 else "user",
                "content": f"message {n}\nsecond line",
                "model": "gpt-4.1" if n % 2 else None,
                "tokens_in": n,
                "tokens_out": 2 * n,
                "cost": 0.001,
                "metadata": {"n": n},
            }
        )
        for n in range(1, 201)
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(lines[:100]) + "\n\n", encoding="utf-8")
    ids = cli.ok("agent", "message", conv_id, "--jsonl", str(batch)).split()
    assert len(ids) == 100 and len(set(ids)) == 100
    added = cli.json("agent", "message", conv_id, "--jsonl", "-", input="\n".join(lines[100:]))
    assert [item["content"] for item in added] == [
        f"message {n}\nsecond line" for n in range(101, 201)
    ]
    assert added[0]["cost"] == "0.001000" and added[0]["metadata"] == {"n": 101}
    shown = cli.json("agent", "conversation", "show", conv_id)
    assert shown["messages"] == 200 and shown["cost"] == "0.200000"

    # A bad line anywhere: named by its number, and nothing of the batch stored.
    bad = [*lines[:4], json.dumps({"role": "user", "content": "x", "tokens_in": "many"}), lines[5]]
    error = cli.fails("agent", "message", conv_id, "--jsonl", "-", input="\n".join(bad))
    assert "line 5: tokens_in" in error and "whole number" in error
    error = cli.fails("agent", "message", conv_id, "--jsonl", "-", input=lines[0] + "\n{oops\n")
    assert "line 2" in error and "not valid JSON" in error
    error = cli.fails(
        "agent", "message", conv_id, "--jsonl", "-", input='{"role": "user", "text": "hi"}'
    )
    assert "line 1: text" in error and "not a message field" in error
    error = cli.fails("agent", "message", conv_id, "--jsonl", "-", input='{"role": "user"}')
    assert "line 1: content" in error and "required" in error
    error = cli.fails("agent", "message", conv_id, "--jsonl", "-", input="\n\n")
    assert "holds no messages" in error
    assert cli.json("agent", "conversation", "show", conv_id)["messages"] == 200

    # The per-message options and --jsonl do not mix.
    error = cli.fails(
        "agent", "message", conv_id, "--jsonl", "-", "--role", "user", input=lines[0], code=2
    )
    assert "--role cannot be used with --jsonl" in error
    error = cli.fails("agent", "message", conv_id, "--content", "hi", code=2)
    assert "--role" in error
