"""Many installed workspaces, each sending its first request at the same moment (what a
restart in multi-workspace mode looks like): nothing is provisioned on the request path,
so every one is answered, and none of them is let through without its replay record.
(bench/first_requests.py prints the ack times; these tests count, they do not time.)"""

from __future__ import annotations

import logging

import pytest

from bot.emulator.sandbox import Sandbox
from tests.support.first_requests import answered, burst, install_many, served_burst

WORKSPACES = 500
# Against a real server process: fewer, so the suite stays quick on a shared machine.
SERVED_WORKSPACES = 200


def test_500_first_requests_at_once_all_answered(multi: Sandbox,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    teams = install_many(multi, WORKSPACES)

    with caplog.at_level(logging.WARNING):
        replies = burst(multi, teams)
        multi.settle(timeout=120)

    assert [r.status for r in replies if r.status != 200] == []
    # Each got its answer: in the ack, or posted to its response_url once acked.
    assert answered(replies, multi.emulator) == WORKSPACES, replies[0].body
    # The replay memory recorded every one: none waited out the lock and went unrecorded
    # (on SQLite, before this, a dozen did under a burst: "could not record a signed
    # request: OperationalError").
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    # No auth.test before an ack: the stored install says who the bot is.
    assert multi.emulator.calls_to("auth.test") == []


def test_first_requests_to_a_freshly_started_server_process_all_answered(
        database_url: str) -> None:
    """The deployed shape: `impactbot serve` (gunicorn, 2 workers × 8 threads) started
    after the installs, then every workspace's first request at once."""
    result = served_burst(database_url, SERVED_WORKSPACES, workers=2, threads=8)

    assert [r.status for r in result.replies if r.status != 200] == []
    assert result.answered == SERVED_WORKSPACES
    assert result.warnings == {}
