"""Finding 9: recovering a crashed post reads history page by page (`has_more`, cursor), so a
busy channel under Slack's 15-message page cap does not get the post a second time. The
look is bounded by the crashed claim's time window (`oldest`), not by a count of messages:
everything newer is read, nothing older."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.digest.posting import LEASE as DIGEST_LEASE
from bot.digest.posting import METADATA_EVENT
from bot.emulator.sandbox import Sandbox
from bot.exactly_once import REAL_TIME
from bot.runtime import scheduler
from bot.wins import flow as wins
from storage.models import Digest, Win
from tests.support.digest import seed_week
from tests.support.wins import react, say, win_rows, wins_posts
from tests.support.world import BACKBONE, WINS

# Friday 13 November 2026, 15:00 in Chicago: the example's digest time.
DUE = datetime(2026, 11, 13, 21, 0, tzinfo=UTC)


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


def test_crashed_digest_is_found_behind_any_number_of_newer_messages_reading_only_its_window(
        sandbox: Sandbox) -> None:
    emu = sandbox.emulator
    emu.history_page_cap = 15
    seed_week(sandbox.store)
    # The poster claimed the week's digest, posted it and died before recording it: its
    # lease (real time, as digest leases are) ran out a minute ago.
    wall = REAL_TIME.now()
    claimed = wall - DIGEST_LEASE - timedelta(minutes=1)
    for i in range(40):  # older chatter, from before that claim: outside its window
        emu.add_message(BACKBONE, user="U0CCC", text=f"last week {i}",
                        ts=f"{(claimed - timedelta(hours=2)).timestamp() + i:.6f}")
    marked = emu.add_message(
        BACKBONE, user=emu.bot_user_id, bot_id=emu.bot_id, text="Weekly digest",
        ts=f"{(claimed + timedelta(seconds=20)).timestamp():.6f}",
        metadata={"event_type": METADATA_EVENT,
                  "event_payload": {"week": "2026-W46", "attempt": 0}})
    newer = 230  # a busy channel since: more than any fixed count the look used to read
    for i in range(newer):
        emu.add_message(BACKBONE, user="U0CCC", text=f"chatter {i}")
    with sandbox.store.session() as session:
        session.add(Digest(week="2026-W46", attempt=0, created_at=DUE,
                           lease_until=claimed + DIGEST_LEASE))

    sandbox.clock.set(DUE)
    scheduler.run_due_now(sandbox.services, only={"digest-tick"})

    digests = [m for m in emu.bot_messages(BACKBONE)
               if (m.get("metadata") or {}).get("event_type") == METADATA_EVENT]
    assert [m["ts"] for m in digests] == [marked]  # found and recorded, not posted again
    with sandbox.store.session() as session:
        assert session.scalars(select(Digest.ts)).all() == [marked]
    pages = [c for c in emu.calls_to("conversations.history")
             if c.params.get("channel") == BACKBONE]
    assert len(pages) == math.ceil((newer + 1) / 15)
    assert all(float(p.params["oldest"]) < float(marked) for p in pages)
    read = [m["text"] for p in pages for m in p.response["messages"]]
    assert not any(text.startswith("last week") for text in read)
