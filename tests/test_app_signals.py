"""The app as a person runs it, in a pseudo-terminal: ended by SIGTERM or by
its terminal closing (SIGHUP), it exits as on q, and ``--demo`` removes its
temporary database."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import time
from pathlib import Path

import pytest

from tests.cli import SCRIPT


def _screen_text(output: bytes) -> bytes:
    """What the app drew, without the escape sequences that draw it."""
    return re.sub(rb"\x1b\[[0-9;?]*[ -/]*[@-~]", b"", output)


class Terminal:
    """``projdeck ARGS`` in a pseudo-terminal of its own."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the app
            os.execve(str(SCRIPT), [str(SCRIPT), *args], {**env, "TERM": "xterm-256color"})
        self.seen = b""
        self.open = True

    def wait_for(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in _screen_text(self.seen):
            assert time.monotonic() < deadline, _screen_text(self.seen)[-2000:]
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                try:
                    self.seen += os.read(self.fd, 65536)
                except OSError:
                    break

    def hang_up(self) -> None:
        """Close the terminal, as closing its window does: the kernel sends
        the app SIGHUP."""
        os.close(self.fd)
        self.open = False

    def exit_status(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open:
                ready, _, _ = select.select([self.fd], [], [], 0.2)
                if ready:
                    try:
                        os.read(self.fd, 65536)
                    except OSError:
                        pass
            else:
                time.sleep(0.1)
            finished, status = os.waitpid(self.pid, os.WNOHANG)
            if finished:
                if self.open:
                    os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"the app did not exit within {timeout} s")


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
