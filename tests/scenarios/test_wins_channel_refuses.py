"""Finding 11: a wins channel the bot cannot post in (archived, posting restricted, bot
removed) parks the waiting wins, tells the backbone once, and resumes when it works — no
attempt every tick."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot import parking
from bot.emulator.sandbox import Sandbox
from bot.wins import flow as wins
from tests.support.wins import react, say, win_rows, wins_posts
from tests.support.world import BACKBONE, WINS

BREAKS: dict[str, dict[str, Any]] = {
    "is_archived": {"archived": True},
    "restricted_action": {"restricted": True},
    "not_in_channel": {"bot_member": False},
}
HEALS: dict[str, dict[str, Any]] = {
    "is_archived": {"archived": False},
    "restricted_action": {"restricted": False},
    "not_in_channel": {"bot_member": True},
}


def _attempts(sandbox: Sandbox) -> int:
    return len([c for c in sandbox.emulator.calls_to("chat.postMessage")
                if c.params.get("channel") == WINS])


@pytest.mark.parametrize("error", sorted(BREAKS))
def test_wins_wait_while_the_channel_refuses_and_go_out_when_it_works(
        sandbox: Sandbox, error: str) -> None:
    sandbox.emulator.set_channel(WINS, **BREAKS[error])
    for author, text in (("U0AAA", "Forty families enrolled"), ("U0CCC", "New clinic hours")):
        react(sandbox, "U0BBB", say(sandbox, author, text))
        sandbox.settle()

    assert _attempts(sandbox) == 1  # the first win's try parks the channel: the second waits
    notices = [m for m in sandbox.emulator.bot_messages(BACKBONE)
               if (m.get("metadata") or {}).get("event_type") == parking.TOLD_EVENT
               or "can't post wins" in m["text"]]
    assert len(notices) == 1 and f"<#{WINS}>" in notices[0]["text"]
    assert [w.status for w in win_rows(sandbox)] == ["approved", "approved"]

    for _ in range(3):  # ticks within the hour: nothing is tried
        sandbox.clock.advance(timedelta(minutes=5))
        wins.wins_tick(sandbox.services)
    assert _attempts(sandbox) == 1

    sandbox.emulator.set_channel(WINS, **HEALS[error])
    sandbox.clock.advance(parking.RECHECK["channel"])
    wins.wins_tick(sandbox.services)

    assert len(wins_posts(sandbox.emulator)) == 2
    assert [w.status for w in win_rows(sandbox)] == ["posted", "posted"]
    wins.wins_tick(sandbox.services)
    assert len(wins_posts(sandbox.emulator)) == 2
