"""``projdeck`` in a pseudo-terminal, as a person runs it."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import time

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
        """Wait for the process to end (keeping what it writes meanwhile)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open:
                ready, _, _ = select.select([self.fd], [], [], 0.2)
                if ready:
                    with contextlib.suppress(OSError):
                        self.seen += os.read(self.fd, 65536)
            else:
                time.sleep(0.1)
            finished, status = os.waitpid(self.pid, os.WNOHANG)
            if finished:
                if self.open:
                    with contextlib.suppress(OSError):
                        while chunk := os.read(self.fd, 65536):
                            self.seen += chunk
                    os.close(self.fd)
                    self.open = False
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"the app did not exit within {timeout} s")
