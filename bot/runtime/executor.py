"""The thread pool listeners run in after the ack, carrying the request's context along.

The request's workspace tenant is a context variable set by middleware in the request
thread; a plain ThreadPoolExecutor would run the listener without it.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


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
    def __init__(self, max_workers: int = 8, thread_name_prefix: str = "listener") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.max_workers = max_workers

    def start_threads(self) -> ContextExecutor:
        start_threads(self, self.max_workers)
        return self

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)
