"""A list command's page with no rows says which: the list is empty, or
the rows are on earlier pages (``--offset`` past the last), the same words
for runs and webhook deliveries as for every other list."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL

from tests.cli import Projdeck


@pytest.fixture
def cli(database_url: URL) -> Projdeck:
    return Projdeck(database_url)


def test_runs_and_deliveries_say_empty_or_past_the_last_page(cli: Projdeck) -> None:
    cli.ok("project", "create", "--name", "Demo", "--type", "api", "--owner", "alice")
    assert cli.ok("agent", "runs").strip() == "no runs"
    assert cli.ok("agent", "webhooks", "Demo").strip() == "no webhook deliveries"

    cli.ok("agent", "run", "start", "Demo", "--agent", "codex", "--task", "Paginate")
    cli.ok(
        "agent", "webhook", "Demo", "--event", "run.finished", "--url", "https://hooks.example/x",
    )  # fmt: skip
    assert cli.ok("agent", "runs", "--offset", "1").strip() == "no runs on this page"
    assert (
        cli.ok("agent", "webhooks", "Demo", "--offset", "1").strip()
        == "no webhook deliveries on this page"
    )
    listed = cli.ok("agent", "runs")
    assert "codex" in listed and "Paginate" in listed
