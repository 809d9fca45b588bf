"""Worker threads that drain a job queue."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

Job = Callable[[], Any]


class WorkerPool:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.done = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, name=f"worker-{index}", daemon=True)
            for index in range(size)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> None:
        self.jobs.put(job)

    def stop(self) -> None:
        for _ in self._threads:
            self.jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    def alive(self) -> bool:
        return all(thread.is_alive() for thread in self._threads)

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                self.jobs.task_done()
                return
            try:
                job()
                outcome = "done"
            except Exception:
                outcome = "failed"
            with self._lock:
                setattr(self, outcome, getattr(self, outcome) + 1)
            self.jobs.task_done()
