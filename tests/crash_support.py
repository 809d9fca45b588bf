"""Running store work in a forked child that the test kills at random
points, and reading back what the child reported as committed."""

from __future__ import annotations

import asyncio
import json
import os
import random
import select
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

Report = Callable[[dict[str, Any]], None]


def run_and_kill(
    work: Callable[[Report], Awaitable[None]], *, kill_after: float, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Fork a child running ``work`` (which reports each committed step),
    SIGKILL it ``kill_after`` seconds after it says it is ready, and return
    every report it made. The parent must have no event loop running."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        code = 0
        try:

            def report(item: dict[str, Any]) -> None:
                os.write(write_end, (json.dumps(item) + "\n").encode())

            report({"ready": True})
            asyncio.run(work(report))
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    buffer = b""
    deadline = time.monotonic() + timeout
    killed_at: float | None = None
    ready_at: float | None = None
    try:
        while True:
            now = time.monotonic()
            if now > deadline:
                raise TimeoutError("the child neither finished nor was killed in time")
            if ready_at is not None and killed_at is None and now >= ready_at + kill_after:
                os.kill(pid, signal.SIGKILL)
                killed_at = now
            wait = 0.01 if killed_at is None else 0.5
            readable, _, _ = select.select([read_end], [], [], wait)
            if readable:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                buffer += chunk
                if ready_at is None and b'{"ready": true}\n' in buffer:
                    ready_at = time.monotonic()
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    return [
        json.loads(line) for line in buffer.decode().splitlines() if line and "ready" not in line
    ]


def random_delays(count: int, seed: int, low: float = 0.05, high: float = 0.6) -> list[float]:
    generator = random.Random(seed)
    return [generator.uniform(low, high) for _ in range(count)]


def run_together(
    works: list[Callable[[Report], Awaitable[None]]], timeout: float
) -> list[list[dict[str, Any]]]:
    """Fork one child per ``work`` (each returns when its time is up) and
    return each child's reports. A child that raises reports the error."""
    children: list[tuple[int, int]] = []
    for work in works:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            os.close(read_end)
            code = 0

            def report(item: dict[str, Any], fd: int = write_end) -> None:
                os.write(fd, (json.dumps(item) + "\n").encode())

            try:
                asyncio.run(work(report))
            except BaseException as error:
                report({"op": "crash", "error": f"{type(error).__name__}: {error}"})
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        children.append((pid, read_end))
    buffers = {read_end: b"" for _, read_end in children}
    open_ends = set(buffers)
    deadline = time.monotonic() + timeout
    while open_ends:
        if time.monotonic() > deadline:
            for pid, _ in children:
                os.kill(pid, signal.SIGKILL)
            raise TimeoutError("children did not finish in time")
        readable, _, _ = select.select(list(open_ends), [], [], 0.5)
        for fd in readable:
            chunk = os.read(fd, 65536)
            if chunk:
                buffers[fd] += chunk
            else:
                open_ends.discard(fd)
                os.close(fd)
    for pid, _ in children:
        os.waitpid(pid, 0)
    return [
        [json.loads(line) for line in buffers[read_end].decode().splitlines() if line]
        for _, read_end in children
    ]
