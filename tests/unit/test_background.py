"""The per-process background worker: off the caller's thread, in the caller's workspace,
requests for one key merged until it runs, and a failure stops nothing else."""

from __future__ import annotations

import threading
from contextvars import ContextVar

import pytest

from bot.runtime.background import Background

WHO: ContextVar[str] = ContextVar("who", default="nobody")


def test_work_runs_on_the_worker_thread_in_the_requesters_context() -> None:
    background = Background(quiet=0.0)
    done = threading.Event()
    seen: list[tuple[str, str]] = []

    def work() -> None:
        seen.append((threading.current_thread().name, WHO.get()))
        done.set()

    token = WHO.set("T0ALPHA")
    try:
        background.request("k", work)
    finally:
        WHO.reset(token)

    assert done.wait(10)  # ran without anyone waiting for it: the worker woke by itself
    assert seen == [("background", "T0ALPHA")]
    background.stop()


def test_requests_for_one_key_before_it_runs_make_one_run() -> None:
    background = Background(quiet=60.0)
    runs: list[str] = []

    for _ in range(5):
        background.request("homes", lambda: runs.append("homes"))
    background.request("other", lambda: runs.append("other"))
    background.wait_idle()

    assert sorted(runs) == ["homes", "other"]
    background.stop()


def test_a_request_while_its_key_runs_makes_one_more_run() -> None:
    background = Background(quiet=0.0)
    started, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def slow() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            started.set()
            assert release.wait(10)

    background.request("k", slow)
    assert started.wait(10)
    background.request("k", slow)  # the first run may have read the old state
    background.request("k", slow)
    release.set()
    background.wait_idle()

    assert runs == [0, 1]
    background.stop()


def test_a_failing_run_is_logged_and_the_worker_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    background = Background(quiet=60.0)
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    background.request("a", broken)
    background.request("b", lambda: ran.append("b"))
    background.wait_idle()

    assert ran == ["b"]
    assert "background work failed" in caplog.text
    background.stop()


def test_stop_finishes_what_was_asked_and_then_takes_nothing_more() -> None:
    background = Background(quiet=60.0)
    ran: list[str] = []
    background.request("a", lambda: ran.append("a"))

    background.stop()
    background.request("b", lambda: ran.append("b"))

    assert ran == ["a"]
