"""The thread pool listeners run in after the ack, carrying the request's context along.

The request's workspace tenant is a context variable set by middleware in the request
thread; a plain ThreadPoolExecutor would run the listener without it.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class ContextExecutor(ThreadPoolExecutor):
    def __init__(self, max_workers: int = 8, thread_name_prefix: str = "listener") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)
