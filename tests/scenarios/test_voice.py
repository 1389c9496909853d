"""Anonymous community voice: relayed to the backbone, with no identity stored or logged."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text

from bot.agenda.voice import FLOOD_LIMIT, MAX_LENGTH
from bot.emulator.sandbox import Sandbox
from storage.models import Base, Voice
from tests.support.world import BACKBONE, NOW

SENDER = "U0DDD"
SENT_FROM = "G0PRIVATE"


def every_row(sandbox: Sandbox) -> set[str]:
    """Every row of every table, as text, to compare before and after."""
    rows: set[str] = set()
    with sandbox.store.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                rows.add(f"{table.name}: {tuple(row)!r}")
    return rows


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_text:
            parts.append(record.exc_text)
    return "\n".join(parts)


def test_voice_reaches_the_backbone_channel_and_nothing_identifies_the_sender(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    before = every_row(sandbox)
    caplog.set_level(logging.DEBUG)

    reply = sandbox.driver.command(SENDER, "voice The clinic closes before parents finish work",
                                   channel=SENT_FROM)
    sandbox.settle()

    assert reply.status == 200
    (relayed,) = sandbox.emulator.bot_messages(BACKBONE)
    assert "The clinic closes before parents finish work" in relayed["text"]
    assert SENDER not in str(relayed) and "Dee" not in str(relayed)

    new_rows = every_row(sandbox) - before
    # besides the request's timestamp and signature (replay refusal; no identity, kept
    # 10 minutes), the voice is the only row written
    # Besides the voice: the request's signature (replay refusal) and when the relay job is
    # next due; neither says who sent it.
    kept = {row for row in new_rows
            if not row.startswith(("signed_requests:", "due_work:"))}
    assert len(kept) == 1 and next(iter(kept)).startswith("voices:")
    with sandbox.store.session() as session:
        (row,) = session.scalars(select(Voice))
        assert row.text == "The clinic closes before parents finish work"
        assert row.created_at == NOW and row.relayed_at == NOW
    for line in new_rows:
        assert SENDER not in line and SENT_FROM not in line

    logged = log_text(caplog)
    assert caplog.records, "the test must capture the app's logging to mean anything"
    assert SENDER not in logged
    assert SENT_FROM not in logged


def test_sender_is_told_plainly_what_is_kept_and_what_is_not(sandbox: Sandbox) -> None:
    sandbox.driver.command(SENDER, "voice More evening hours please")
    sandbox.settle()

    (post,) = sandbox.emulator.response_posts
    assert post.payload["response_type"] == "ephemeral"
    said = post.payload["text"]
    assert "now in the backbone team's channel, anonymously" in said
    assert "We keep only the text and the time it arrived" in said
    assert "We do not keep your name, your user id or the channel" in said


def test_voice_table_has_no_column_that_could_hold_identity(sandbox: Sandbox) -> None:
    with sandbox.store.session() as session:
        columns = set(session.execute(text("SELECT * FROM voices")).keys())
    # team_id names the workspace (the initiative), which every member shares: not a person;
    # source (slack | web), status and counted_at (SPEC §13) say nothing of the sender.
    assert columns == {"team_id", "id", "text", "created_at", "relayed_at", "lease_until",
                       "source", "status", "counted_at"}


def test_empty_or_overlong_voice_is_refused_and_nothing_is_kept(sandbox: Sandbox) -> None:
    sandbox.driver.command(SENDER, "voice   ")
    sandbox.driver.command(SENDER, "voice " + "x" * (MAX_LENGTH + 1))
    sandbox.settle()

    empty, long = (p.payload["text"] for p in sandbox.emulator.response_posts)
    assert "/impact voice" in empty
    assert f"under {MAX_LENGTH}" in long
    assert sandbox.emulator.bot_messages(BACKBONE) == []
    with sandbox.store.session() as session:
        assert session.scalars(select(Voice)).all() == []


def test_broadcast_mentions_in_voice_do_not_ping_the_channel(sandbox: Sandbox) -> None:
    sandbox.driver.command(SENDER, "voice <!channel> listen @here please")
    sandbox.settle()

    (relayed,) = sandbox.emulator.bot_messages(BACKBONE)
    assert "<!channel>" not in str(relayed) and "@here" not in str(relayed)


def test_a_flood_of_voice_is_limited(sandbox: Sandbox) -> None:
    for n in range(FLOOD_LIMIT + 2):
        sandbox.driver.command(SENDER, f"voice message {n}")
    sandbox.driver.command("U0AAA", "voice someone else is not limited")
    sandbox.settle()

    assert len(sandbox.emulator.bot_messages(BACKBONE)) == FLOOD_LIMIT + 1
    refused = [p for p in sandbox.emulator.response_posts if "try again later" in p.payload["text"]]
    assert len(refused) == 2
    with sandbox.store.session() as session:
        assert len(session.scalars(select(Voice)).all()) == FLOOD_LIMIT + 1


def test_voice_that_could_not_be_relayed_goes_out_with_the_next_one_once(
        sandbox: Sandbox) -> None:
    # A refusal that may pass later (a channel Slack refuses for good is parked instead:
    # tests/scenarios/test_parked_posts.py).
    sandbox.emulator.fail_next("chat.postMessage", status=200, error="rate_limited")
    sandbox.driver.command(SENDER, "voice first")
    sandbox.settle()
    assert "saved and will reach" in sandbox.emulator.response_posts[-1].payload["text"]
    assert sandbox.emulator.bot_messages(BACKBONE) == []

    sandbox.driver.command("U0AAA", "voice second")
    sandbox.settle()

    texts = [m["text"] for m in sandbox.emulator.bot_messages(BACKBONE)]
    assert len(texts) == 2
    assert "first" in texts[0] and "second" in texts[1]
    with sandbox.store.session() as session:
        assert all(v.relayed_at is not None for v in session.scalars(select(Voice)))


# --- escaping and takeovers -----------------------------------------------------------------


def test_voice_text_is_shown_as_typed_escaped_exactly_once(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0OUTSIDER", "voice Q&A at the clinic <3 — more please")
    sandbox.settle()

    (relayed,) = sandbox.emulator.bot_messages(BACKBONE)
    assert "Q&amp;A at the clinic &lt;3 — more please" in relayed["text"]
    assert "&amp;amp;" not in str(relayed) and "&amp;lt;" not in str(relayed)


def test_voice_claimed_by_a_poster_that_died_is_relayed_once_after_its_lease(
        sandbox: Sandbox) -> None:
    """Killed after posting (the message is in the channel) or before (it is not): the relay
    tick finishes both, each exactly once."""
    from datetime import timedelta

    from bot.agenda.backbone_posts import EVENT_TYPE
    from bot.runtime import scheduler
    from bot.runtime.clock import SystemClock

    expired = SystemClock().now() - timedelta(seconds=1)
    with sandbox.store.session() as session:
        posted_then_died = Voice(text="Bus route 7 is too early", created_at=NOW,
                                 lease_until=expired)
        died_before = Voice(text="More Saturday hours please", created_at=NOW,
                            lease_until=expired)
        session.add_all([posted_then_died, died_before])
        session.flush()
        ids = posted_then_died.id, died_before.id
    emu = sandbox.emulator
    emu.add_message(BACKBONE, user=emu.bot_user_id, bot_id=emu.bot_id,
                    text="Community voice (anonymous): Bus route 7 is too early",
                    metadata={"event_type": EVENT_TYPE,
                              "event_payload": {"kind": "voice", "id": ids[0]}})

    scheduler.run_due_now(sandbox.services, only={"backbone-relay"})
    scheduler.run_due_now(sandbox.services, only={"backbone-relay"})

    texts = [m["text"] for m in emu.bot_messages(BACKBONE)]
    assert sum("Bus route 7" in t for t in texts) == 1
    assert sum("Saturday hours" in t for t in texts) == 1
    with sandbox.store.session() as session:
        assert None not in session.scalars(select(Voice.relayed_at)).all()
