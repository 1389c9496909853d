"""Work that follows a request but must hold none of its threads: one worker per process.

Some work a request causes can wait a moment and should not run once per request (the
App Home tabs a report makes out of date: bot/home/refresh.py). A request asks for it with
`request(key, work)` and returns at once. The worker thread (started on first use) runs
the work `quiet` seconds later; requests for the same key meanwhile merge into that one
run (debouncing), and a request that arrives while its key runs schedules one more run.
The work runs in a copy of the requester's context, so it stays in the requester's
workspace tenant. Nothing here is durable: the work must find what to do in the database
(a scheduled tick repeats it as a backstop after a restart).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

log = logging.getLogger(__name__)

QUIET_SECONDS = 2.0


@dataclass
class _Job:
    due: float
    work: Callable[[], object]
    context: contextvars.Context


class Background:
    def __init__(self, quiet: float = QUIET_SECONDS, name: str = "background") -> None:
        self.quiet = quiet
        self.name = name
        self._cond = threading.Condition()
        self._pending: dict[Hashable, _Job] = {}
        self._running = 0
        self._flushing = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def request(self, key: Hashable, work: Callable[[], object]) -> None:
        """Run `work` soon on the worker thread, once for every request of `key` that
        arrives before it starts."""
        with self._cond:
            if self._stopping:
                log.info("background work %r asked for while stopping; left to the next tick",
                         key)
                return
            if key not in self._pending:
                self._pending[key] = _Job(time.monotonic() + self.quiet, work,
                                          contextvars.copy_context())
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Run what is waiting now, without its quiet period, and block until nothing is
        waiting or running (tests, the console, a clean stop)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                while self._pending or self._running:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(f"background work still running after {timeout}s")
                    self._cond.wait(left)
            finally:
                self._flushing -= 1

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what was asked for, then end the worker thread."""
        try:
            self.wait_idle(timeout)
        finally:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
                thread = self._thread
            if thread is not None:
                thread.join(timeout)

    def _next_jobs(self) -> list[_Job] | None:
        """The jobs due now (waiting for them), or None once stopping with nothing left."""
        with self._cond:
            while True:
                if self._stopping and not self._pending:
                    return None
                now = time.monotonic()
                hurry = self._flushing > 0 or self._stopping
                due = [key for key, job in self._pending.items() if hurry or job.due <= now]
                if due:
                    self._running += len(due)
                    return [self._pending.pop(key) for key in due]
                wait = (min(job.due for job in self._pending.values()) - now
                        if self._pending else None)
                self._cond.wait(wait)

    def _loop(self) -> None:
        while (jobs := self._next_jobs()) is not None:
            for job in jobs:
                try:
                    job.context.run(job.work)
                except Exception:
                    log.exception("background work failed")
                finally:
                    with self._cond:
                        self._running -= 1
                        self._cond.notify_all()
