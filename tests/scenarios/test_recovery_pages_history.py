"""Finding 9: recovering a crashed post reads history page by page (`has_more`, cursor), so a
busy channel under Slack's 15-message page cap does not get the post a second time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from bot.wins import flow as wins
from storage.models import Win
from tests.support.wins import react, say, win_rows, wins_posts
from tests.support.world import WINS


def test_crashed_win_post_is_found_beyond_the_first_page(sandbox: Sandbox) -> None:
    sandbox.emulator.history_page_cap = 15  # Slack's 2025 cap for non-Marketplace apps
    ts = say(sandbox, "U0AAA", "Forty families enrolled this week")
    react(sandbox, "U0BBB", ts)
    sandbox.settle()
    (post,) = wins_posts(sandbox.emulator)
    for i in range(20):  # a busy wins channel: the post is now on history's second page
        sandbox.emulator.add_message(WINS, user="U0CCC", text=f"chatter {i}")
    # As if the process died after chat.postMessage but before recording it.
    with sandbox.store.session() as session:
        win = session.scalars(select(Win)).one()
        win.status, win.posted_at, win.posted_ts = "approved", None, None
        win.lease_until = sandbox.clock.now() + wins.LEASE
    sandbox.clock.advance(wins.LEASE + timedelta(seconds=1))

    assert wins.resume_unfinished(sandbox.services, sandbox.services.client()) == 1

    assert wins_posts(sandbox.emulator) == [post]  # found, not posted again
    (win,) = win_rows(sandbox)
    assert (win.status, win.posted_ts) == ("posted", post["ts"])
    pages = [c for c in sandbox.emulator.calls_to("conversations.history")
             if c.params.get("channel") == WINS]
    assert len(pages) == 2 and pages[1].params.get("cursor")
    assert all(len(p.response["messages"]) <= 15 for p in pages)
