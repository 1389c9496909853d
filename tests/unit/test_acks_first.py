"""Work after an ack waits while the process is answering Slack requests (a burst's acks
go first), but never longer than its bound."""

from __future__ import annotations

import threading

from bot.runtime.executor import AcksFirst, ContextExecutor


def test_work_after_an_ack_starts_once_no_request_is_being_answered() -> None:
    acks_first = AcksFirst(max_wait=60)
    pool = ContextExecutor(max_workers=2, acks_first=acks_first).start_threads()
    ran = threading.Event()
    try:
        with acks_first.answering(), acks_first.answering():
            done = pool.submit(ran.set)
            with acks_first.answering():
                pass
            assert not ran.wait(0.3)  # two requests still being answered: it waits
        done.result(timeout=30)
        assert ran.is_set()
    finally:
        pool.shutdown(wait=True)


def test_work_after_an_ack_waits_no_longer_than_its_bound() -> None:
    acks_first = AcksFirst(max_wait=0.05)
    pool = ContextExecutor(max_workers=1, acks_first=acks_first)
    try:
        with acks_first.answering():  # a request that never ends, for all the work knows
            assert pool.submit(lambda: "ran").result(timeout=30) == "ran"
    finally:
        pool.shutdown(wait=True)
