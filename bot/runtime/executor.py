"""The thread pool listeners run in after the ack, carrying the request's context along.

The request's workspace tenant is a context variable set by middleware in the request
thread; a plain ThreadPoolExecutor would run the listener without it.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

# How long work that follows an ack waits for the requests being answered (AcksFirst).
ACKS_FIRST_MAX_WAIT = 2.0


class AcksFirst:
    """Slack's 3 s deadline is for the ack; the answer that follows has 30 minutes. In a
    burst (500 workspaces' first requests right after a restart) the listeners' work
    after each ack competed for the process's one GIL with the acks still to send, and
    pushed them back: here it waits until no Slack request is being answered in this
    process, at most ACKS_FIRST_MAX_WAIT seconds, so the acks go first."""

    def __init__(self, max_wait: float = ACKS_FIRST_MAX_WAIT) -> None:
        self.max_wait = max_wait
        self._answering = 0
        self._quiet = threading.Condition()

    @contextmanager
    def answering(self) -> Iterator[None]:
        with self._quiet:
            self._answering += 1
        try:
            yield
        finally:
            with self._quiet:
                self._answering -= 1
                if not self._answering:
                    self._quiet.notify_all()

    def wait(self) -> None:
        with self._quiet:
            self._quiet.wait_for(lambda: not self._answering, timeout=self.max_wait)


def start_threads(pool: ThreadPoolExecutor, count: int) -> None:
    """Start the pool's `count` threads now rather than on demand.

    A pool starts a thread inside `submit`, holding a lock every `submit` in the process
    waits on (`concurrent.futures.thread._global_shutdown_lock`) until the new thread has
    run: in a burst of requests right after a restart, acks queued there behind thread
    starts that each waited for the GIL. Each of `count` tasks holds its thread until all
    have one."""
    everyone = threading.Barrier(count + 1)
    for _ in range(count):
        pool.submit(everyone.wait, 30)
    everyone.wait(30)


class ContextExecutor(ThreadPoolExecutor):
    def __init__(self, max_workers: int = 8, thread_name_prefix: str = "listener", *,
                 acks_first: AcksFirst | None = None) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.max_workers = max_workers
        self.acks_first = acks_first

    def start_threads(self) -> ContextExecutor:
        start_threads(self, self.max_workers)
        return self

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        context = contextvars.copy_context()
        if self.acks_first is not None:
            return super().submit(context.run, _after_acks, self.acks_first, fn, *args,
                                  **kwargs)
        return super().submit(context.run, fn, *args, **kwargs)


def _after_acks(acks_first: AcksFirst, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    acks_first.wait()
    return fn(*args, **kwargs)
