"""500 installed workspaces, each sending its first request at the same moment (what a
restart in multi-workspace mode looks like): nothing is provisioned on the request path,
so every one is answered. (bench/first_requests.py prints the ack times.)"""

from __future__ import annotations

import pytest

from bot.emulator.sandbox import Sandbox
from tests.support.first_requests import burst, install_many

WORKSPACES = 500


def test_500_first_requests_at_once_all_answered(multi: Sandbox) -> None:
    if multi.store.dialect != "postgresql":
        pytest.skip("the burst runs on PostgreSQL; bench/first_requests.py runs it on both")
    teams = install_many(multi, WORKSPACES)

    replies = burst(multi, teams)
    multi.settle(timeout=120)

    assert [r.status for r in replies if r.status != 200] == []
    # Each got its answer: in the ack, or posted to its response_url once acked.
    answered = sum(1 for r in replies if r.body.strip()) + len(multi.emulator.response_posts)
    assert answered == WORKSPACES, (replies[0].body, len(multi.emulator.response_posts))
