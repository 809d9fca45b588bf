"""The app as a person runs it, in a pseudo-terminal: ended by SIGTERM or by
its terminal closing (SIGHUP), it exits as on q, and ``--demo`` removes its
temporary database."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.terminal import Terminal


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP"])
def test_a_demo_ended_by_a_signal_removes_its_temporary_database(tmp_path: Path, how: str) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(temp),
        "PROJDECK_ACTOR": "tester",
    }
    app = Terminal("--demo", env=env)
    app.wait_for("projects (active)")
    assert [path.name.startswith("projdeck-demo-") for path in temp.iterdir()] == [True]
    if how == "SIGTERM":
        os.kill(app.pid, signal.SIGTERM)
    else:
        app.hang_up()
    status = app.exit_status()
    number = signal.SIGTERM if how == "SIGTERM" else signal.SIGHUP
    assert status == 128 + number
    assert list(temp.iterdir()) == []


def test_the_app_ended_by_sigterm_closes_its_database(tmp_path: Path) -> None:
    database = tmp_path / "work.db"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "PROJDECK_ACTOR": "tester",
        "PROJDECK_DATABASE_URL": f"sqlite:///{database}",
    }
    app = Terminal(env=env)
    app.wait_for("Projects")
    os.kill(app.pid, signal.SIGTERM)
    assert app.exit_status() == 128 + signal.SIGTERM
    # Closed as on q: SQLite's write-ahead log is checkpointed and removed.
    assert database.exists()
    assert not Path(f"{database}-wal").exists()
