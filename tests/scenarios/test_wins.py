"""Wins: celebrations become one wins post each, with credit, a link and the author's consent."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.emulator import problems
from bot.emulator.sandbox import Sandbox
from bot.runtime.caller import load_initiative
from bot.wins import flow as wins
from storage.db import Store
from storage.models import SlackEvent, Win
from tests.support.records import set_threshold
from tests.support.wins import click, consent_dms, post_text, react, say, win_rows, wins_posts
from tests.support.world import GENERAL, NOW, PRIVATE, WINS

# --- public messages --------------------------------------------------------------------------


def test_reaction_on_public_message_posts_one_win_with_credit_and_permalink(
        sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "We enrolled 40 new families & <b>doubled</b> visits!")

    react(sandbox, "U0BBB", ts)
    sandbox.settle()

    (post,) = wins_posts(sandbox.emulator)
    shown = post_text(post)
    assert "We enrolled 40 new families &amp; &lt;b&gt;doubled&lt;/b&gt; visits!" in shown
    assert "&amp;amp;" not in shown
    assert "<@U0AAA> (Lake County Health Dept)" in shown
    assert "Celebrated by <@U0BBB>" in shown
    permalink = f"https://impact.slack.com/archives/{GENERAL}/p{ts.replace('.', '')}"
    assert f"<{permalink}|See the original message>" in shown
    assert problems(post["blocks"], kind="message", text=post["text"]) == []
    (win,) = win_rows(sandbox)
    assert (win.status, win.channel_id, win.message_ts) == ("posted", GENERAL, ts)
    assert (win.posted_channel, win.posted_ts) == (WINS, post["ts"])
    assert win.permalink == permalink
    assert win.reactors == ["U0BBB"]


def test_retried_delivery_does_not_post_again(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "First cohort graduated")

    react(sandbox, "U0BBB", ts, event_id="EvWIN1")
    react(sandbox, "U0BBB", ts, event_id="EvWIN1", retry_num=1)
    react(sandbox, "U0BBB", ts, event_id="EvWIN1", retry_num=2)
    sandbox.settle()

    assert len(wins_posts(sandbox.emulator)) == 1
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(SlackEvent)) == 1


def test_second_persons_reaction_does_not_post_again(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Clinic hours extended")

    react(sandbox, "U0BBB", ts)
    sandbox.settle()
    react(sandbox, "U0CCC", ts, emoji="trophy")
    sandbox.settle()

    assert len(wins_posts(sandbox.emulator)) == 1
    assert len(win_rows(sandbox)) == 1


def test_emoji_removed_and_added_again_does_not_post_again(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Grant approved")

    react(sandbox, "U0BBB", ts)
    sandbox.settle()
    react(sandbox, "U0BBB", ts)  # a new reaction_added, with a new event_id
    sandbox.settle()

    assert len(wins_posts(sandbox.emulator)) == 1


def test_restart_does_not_post_again(sandbox: Sandbox, database_url: str) -> None:
    ts = say(sandbox, "U0AAA", "Home visits up 20%")
    react(sandbox, "U0BBB", ts)
    sandbox.settle()

    with Sandbox(database_url, now=sandbox.clock.now(), emulator=sandbox.emulator,
                 upgrade=False) as restarted:
        react(restarted, "U0CCC", ts)
        restarted.settle()

    assert len(wins_posts(sandbox.emulator)) == 1


def test_two_concurrent_deliveries_post_once(sandbox: Sandbox) -> None:
    messages = [say(sandbox, "U0AAA", f"Win number {n}") for n in range(3)]

    for n, ts in enumerate(messages):
        start = threading.Barrier(2)

        def deliver(user: str, event_id: str, ts: str = ts,
                    start: threading.Barrier = start) -> None:
            start.wait()
            react(sandbox, user, ts, event_id=event_id)

        threads = [threading.Thread(target=deliver, args=(user, f"EvRACE{n}{user}"))
                   for user in ("U0BBB", "U0CCC")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    sandbox.settle()

    posts = wins_posts(sandbox.emulator)
    assert len(posts) == 3
    for n in range(3):
        assert sum(f"Win number {n}" in post_text(p) for p in posts) == 1
    assert [w.status for w in win_rows(sandbox)] == ["posted"] * 3


def test_threshold_of_two_waits_for_the_second_distinct_person(sandbox: Sandbox) -> None:
    set_threshold(sandbox.store, 2)
    ts = say(sandbox, "U0AAA", "Data sharing agreement signed")

    react(sandbox, "U0BBB", ts)
    react(sandbox, "U0BBB", ts, emoji="trophy")  # the same person again
    react(sandbox, "U0AAA", ts)  # the author
    sandbox.settle()
    assert wins_posts(sandbox.emulator) == []
    (win,) = win_rows(sandbox)
    assert (win.status, win.reactors) == ("counting", ["U0BBB"])

    react(sandbox, "U0CCC", ts)
    sandbox.settle()

    (post,) = wins_posts(sandbox.emulator)
    assert "Celebrated by <@U0BBB>, <@U0CCC>" in post_text(post)


def test_threshold_of_two_with_concurrent_first_reactions_posts_once(sandbox: Sandbox) -> None:
    set_threshold(sandbox.store, 2)
    ts = say(sandbox, "U0AAA", "Two at once")
    start = threading.Barrier(2)

    def deliver(user: str) -> None:
        start.wait()
        react(sandbox, user, ts)

    threads = [threading.Thread(target=deliver, args=(u,)) for u in ("U0BBB", "U0CCC")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sandbox.settle()

    assert len(wins_posts(sandbox.emulator)) == 1
    (win,) = win_rows(sandbox)
    assert sorted(win.reactors) == ["U0BBB", "U0CCC"]


def test_self_reaction_shares_nothing(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "I did a thing")

    react(sandbox, "U0AAA", ts)
    sandbox.settle()

    assert wins_posts(sandbox.emulator) == []
    assert win_rows(sandbox) == []


@pytest.mark.parametrize("kind", ["bot_id", "bot_message"])
def test_bot_message_shares_nothing(sandbox: Sandbox, kind: str) -> None:
    if kind == "bot_id":
        ts = say(sandbox, "U0OTHERBOT", "Deploy finished", bot_id="B0OTHER")
    else:
        ts = sandbox.emulator.add_message(GENERAL, user=None, text="Deploy finished",
                                          bot_id="B0OTHER")

    react(sandbox, "U0BBB", ts)
    sandbox.settle()

    assert wins_posts(sandbox.emulator) == []
    assert win_rows(sandbox) == []


def test_the_bots_own_win_posts_are_not_shared_again(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Original")
    react(sandbox, "U0BBB", ts)
    sandbox.settle()
    (post,) = wins_posts(sandbox.emulator)

    react(sandbox, "U0CCC", post["ts"], channel=WINS)
    sandbox.settle()

    assert len(wins_posts(sandbox.emulator)) == 1


def test_reactions_from_bots_do_not_count(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user("U0HELPERBOT", name="helper", is_bot=True)
    ts = say(sandbox, "U0AAA", "Celebrated by a bot")

    react(sandbox, "U0HELPERBOT", ts)
    sandbox.settle()

    assert wins_posts(sandbox.emulator) == []


def test_unconfigured_emoji_shares_nothing(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Nice")

    react(sandbox, "U0BBB", ts, emoji="thumbsup")
    sandbox.settle()

    assert wins_posts(sandbox.emulator) == []
    assert win_rows(sandbox) == []
    assert sandbox.emulator.calls_to("conversations.history") == []


def test_skin_tone_variant_of_a_configured_emoji_counts(sandbox: Sandbox) -> None:
    with sandbox.store.session() as session:
        initiative = load_initiative(session)
        assert initiative is not None
        initiative.win_emoji = ["clap"]
    ts = say(sandbox, "U0AAA", "Applause")

    react(sandbox, "U0BBB", ts, emoji="clap::skin-tone-3")
    sandbox.settle()

    assert len(wins_posts(sandbox.emulator)) == 1


def test_channel_the_bot_cannot_read_shares_nothing_and_tells_nobody(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    sandbox.emulator.add_channel("C0SECRET", name="secret", members=["U0AAA", "U0BBB"],
                                 bot_is_member=False)
    ts = say(sandbox, "U0AAA", "Hidden win", channel="C0SECRET")
    caplog.set_level(logging.INFO, logger="bot.wins.flow")

    react(sandbox, "U0BBB", ts, channel="C0SECRET")
    sandbox.settle()

    assert sandbox.emulator.calls_to("chat.postMessage") == []
    assert sandbox.emulator.calls_to("chat.postEphemeral") == []
    assert win_rows(sandbox) == []
    assert any("C0SECRET" in r.getMessage() for r in caplog.records)


def test_reply_in_a_thread_is_fetched_and_shared(sandbox: Sandbox) -> None:
    parent = say(sandbox, "U0CCC", "How did the outreach go?")
    reply = say(sandbox, "U0AAA", "We reached 300 households!", thread_ts=parent)

    react(sandbox, "U0BBB", reply)
    sandbox.settle()

    (post,) = wins_posts(sandbox.emulator)
    assert "We reached 300 households!" in post_text(post)
    assert "How did the outreach go?" not in post_text(post)
    assert sandbox.emulator.calls_to("conversations.replies")
    (win,) = win_rows(sandbox)
    assert (win.author_id, win.message_ts) == ("U0AAA", reply)


def test_long_message_is_cut_to_fit_with_an_ellipsis_and_the_permalink(
        sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Long story & details. " * 400)

    react(sandbox, "U0BBB", ts)
    sandbox.settle()

    (post,) = wins_posts(sandbox.emulator)
    quoted = post["blocks"][1]["text"]["text"]
    assert len(quoted) <= 3000
    permalink = f"https://impact.slack.com/archives/{GENERAL}/p{ts.replace('.', '')}"
    assert quoted.endswith(f"…  <{permalink}|read the whole message>") or \
        quoted.endswith(f"… <{permalink}|read the whole message>")
    assert problems(post["blocks"], kind="message", text=post["text"]) == []


def test_failed_post_is_retried_by_the_next_reaction(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Retry me")
    sandbox.emulator.fail_next("chat.postMessage", status=200, error="fatal_error")

    react(sandbox, "U0BBB", ts)
    sandbox.settle()
    assert wins_posts(sandbox.emulator) == []
    assert win_rows(sandbox)[0].status == "approved"

    react(sandbox, "U0CCC", ts)
    sandbox.settle()

    assert len(wins_posts(sandbox.emulator)) == 1
    assert win_rows(sandbox)[0].status == "posted"


def test_crash_after_posting_is_recovered_without_a_second_post(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Crash test")
    react(sandbox, "U0BBB", ts)
    sandbox.settle()
    # As if the process died after chat.postMessage but before recording it.
    with sandbox.store.session() as session:
        win = session.scalars(select(Win)).one()
        win.status, win.posted_at, win.posted_ts = "approved", None, None
        win.lease_until = sandbox.clock.now() + wins.LEASE
    sandbox.clock.advance(wins.LEASE + timedelta(seconds=1))

    resumed = wins.resume_unfinished(sandbox.services, sandbox.services.client())

    assert resumed == 1
    (post,) = wins_posts(sandbox.emulator)
    (win,) = win_rows(sandbox)
    assert (win.status, win.posted_ts) == ("posted", post["ts"])


def test_claim_held_by_a_live_worker_is_not_taken_over(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "In flight")
    with sandbox.store.session() as session:
        step = wins.nominate(session, channel_id=GENERAL, message_ts=ts, author_id="U0AAA",
                             partner_id=None, text="In flight", source="reaction",
                             nominator="U0BBB", private=False, threshold=1,
                             now=sandbox.clock.now())
    assert step.action == "post"

    assert wins.resume_unfinished(sandbox.services, sandbox.services.client()) == 0
    react(sandbox, "U0CCC", ts)
    sandbox.settle()
    assert wins_posts(sandbox.emulator) == []

    sandbox.clock.advance(wins.LEASE + timedelta(seconds=1))
    assert wins.resume_unfinished(sandbox.services, sandbox.services.client()) == 1
    assert len(wins_posts(sandbox.emulator)) == 1


# --- private channels and DMs: the author's consent --------------------------------------------


def test_private_channel_win_waits_for_the_author_and_approve_posts_once(
        sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Private <!here> milestone", channel=PRIVATE)

    react(sandbox, "U0BBB", ts, channel=PRIVATE)
    sandbox.settle()

    assert wins_posts(sandbox.emulator) == []
    (dm,) = consent_dms(sandbox, "U0AAA")
    assert "Private @\u200bhere milestone" in post_text(dm)
    assert "<!here>" not in post_text(dm)
    assert win_rows(sandbox)[0].status == "pending"

    react(sandbox, "U0CCC", ts, channel=PRIVATE)  # more reactions: no second question
    sandbox.settle()
    assert len(consent_dms(sandbox, "U0AAA")) == 1
    assert wins_posts(sandbox.emulator) == []

    click(sandbox, "U0AAA", "win_approve", dm)
    click(sandbox, "U0AAA", "win_approve", dm)  # a double click

    (post,) = wins_posts(sandbox.emulator)
    assert "Private @\u200bhere milestone" in post_text(post)
    assert "<!here>" not in post_text(post)
    assert "<@U0AAA> (Lake County Health Dept)" in post_text(post)
    (win,) = win_rows(sandbox)
    assert win.status == "posted"
    updated = sandbox.emulator.message(sandbox.emulator.dm_channel_for("U0AAA"), dm["ts"])
    assert updated is not None
    assert "win_approve" not in str(updated.get("blocks"))
    assert "shared" in updated["text"]

    react(sandbox, "U0DDD", ts, channel=PRIVATE)
    sandbox.settle()
    assert len(wins_posts(sandbox.emulator)) == 1


def test_private_channel_decline_is_remembered_and_never_posted(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Keep this between us", channel=PRIVATE)
    react(sandbox, "U0BBB", ts, channel=PRIVATE)
    sandbox.settle()
    (dm,) = consent_dms(sandbox, "U0AAA")

    click(sandbox, "U0AAA", "win_decline", dm)
    react(sandbox, "U0CCC", ts, channel=PRIVATE)
    react(sandbox, "U0DDD", ts, channel=PRIVATE, emoji="trophy")
    sandbox.settle()
    click(sandbox, "U0AAA", "win_approve", dm)  # a stale button after declining

    assert wins_posts(sandbox.emulator) == []
    (answered,) = sandbox.emulator.messages_to_user("U0AAA")  # asked once, then answered
    assert "will not be shared" in answered["text"]
    (win,) = win_rows(sandbox)
    assert win.status == "declined"

    sandbox.driver.message_shortcut("U0CCC", "share_as_win", PRIVATE, ts)
    sandbox.settle()
    assert wins_posts(sandbox.emulator) == []
    assert "chose not to share" in sandbox.emulator.response_posts[-1].payload["text"]


def test_author_sharing_their_own_private_message_is_their_consent(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Our own news", channel=PRIVATE)
    react(sandbox, "U0BBB", ts, channel=PRIVATE)
    sandbox.settle()
    assert wins_posts(sandbox.emulator) == []

    sandbox.driver.message_shortcut("U0AAA", "share_as_win", PRIVATE, ts)
    sandbox.settle()

    (post,) = wins_posts(sandbox.emulator)
    assert "Our own news" in post_text(post)
    assert "Shared in <#C0WINS>" in sandbox.emulator.response_posts[-1].payload["text"]


def test_only_the_author_can_approve(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Mine to share", channel=PRIVATE)
    react(sandbox, "U0BBB", ts, channel=PRIVATE)
    sandbox.settle()
    (dm,) = consent_dms(sandbox, "U0AAA")

    reply = sandbox.driver.block_action("U0BBB", "win_approve", message=dm,
                                        channel=sandbox.emulator.dm_channel_for("U0AAA"))
    sandbox.settle()

    assert reply.status == 200
    assert wins_posts(sandbox.emulator) == []
    assert win_rows(sandbox)[0].status == "pending"


def test_reaction_in_a_direct_message_asks_the_author_first(sandbox: Sandbox) -> None:
    dm_channel = sandbox.emulator.dm_channel_for("U0AAA")
    ts = say(sandbox, "U0AAA", "Told only the bot: we hit target", channel=dm_channel)

    react(sandbox, "U0BBB", ts, channel=dm_channel)
    sandbox.settle()

    assert wins_posts(sandbox.emulator) == []
    (dm,) = consent_dms(sandbox, "U0AAA")
    assert "a direct message" in post_text(dm)
    assert win_rows(sandbox)[0].status == "pending"


def test_direct_message_shared_by_shortcut_waits_for_the_author(sandbox: Sandbox) -> None:
    # A DM between two people: the bot is not in it, but the shortcut carries the message.
    sandbox.emulator.dm_channel_for("U0AAA")  # the bot's own DM with the author comes first
    sandbox.emulator.add_channel("D0PAIR", name="D0PAIR", is_im=True, members=["U0AAA", "U0BBB"],
                                 bot_is_member=False)
    ts = say(sandbox, "U0AAA", "We closed the gap!", channel="D0PAIR")

    sandbox.driver.message_shortcut("U0BBB", "share_as_win", "D0PAIR", ts)
    sandbox.settle()

    assert wins_posts(sandbox.emulator) == []
    assert "asked <@U0AAA>" in sandbox.emulator.response_posts[-1].payload["text"]
    (dm,) = consent_dms(sandbox, "U0AAA")
    assert "We closed the gap!" in post_text(dm)

    click(sandbox, "U0AAA", "win_approve", dm)

    (post,) = wins_posts(sandbox.emulator)
    assert "We closed the gap!" in post_text(post)


# --- the shortcut and the commands ----------------------------------------------------------


def test_share_as_a_win_shortcut_posts_a_public_message_once(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Vaccination drive done")

    first = sandbox.driver.message_shortcut("U0CCC", "share_as_win", GENERAL, ts)
    sandbox.settle()
    sandbox.driver.message_shortcut("U0DDD", "share_as_win", GENERAL, ts)
    react(sandbox, "U0BBB", ts)
    sandbox.settle()

    assert first.status == 200 and first.elapsed < 3.0
    (post,) = wins_posts(sandbox.emulator)
    assert "Vaccination drive done" in post_text(post)
    assert "<@U0CCC>" in post_text(post)
    answers = [p.payload["text"] for p in sandbox.emulator.response_posts]
    assert "Shared in <#C0WINS>" in answers[0]
    assert "already a win" in answers[1]
    assert all(p.payload["response_type"] == "ephemeral"
               for p in sandbox.emulator.response_posts)


def test_shortcut_on_a_bot_message_is_refused(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0OTHERBOT", "Automated notice", bot_id="B0OTHER")

    sandbox.driver.message_shortcut("U0CCC", "share_as_win", GENERAL, ts)
    sandbox.settle()

    assert wins_posts(sandbox.emulator) == []
    assert "can't be shared" in sandbox.emulator.response_posts[-1].payload["text"]


def test_impact_win_with_broadcast_mentions_reaches_the_wins_channel_without_pinging(
        sandbox: Sandbox) -> None:
    sandbox.driver.command("U0CCC", "win <!channel> we hit 80% <!here|here> & @everyone <3")
    sandbox.settle()

    (post,) = wins_posts(sandbox.emulator)
    shown = post_text(post)
    for mention in ("<!channel>", "<!here", "<!everyone>", "@channel", "@here", "@everyone"):
        assert mention not in shown
    assert "@\u200bchannel we hit 80% @\u200bhere &amp; @\u200beveryone &lt;3" in shown
    assert "<@U0CCC> (North Clinic)" in shown
    (win,) = win_rows(sandbox)
    assert (win.source, win.author_id, win.status) == ("command", "U0CCC", "posted")
    assert win.permalink and win.permalink.endswith(post["ts"].replace(".", ""))
    (answer,) = sandbox.emulator.response_posts
    assert answer.payload["response_type"] == "ephemeral"
    assert "shared in <#C0WINS>" in answer.payload["text"]


def test_impact_win_without_text_explains_and_writes_nothing(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0CCC", "win   ")
    sandbox.settle()

    (answer,) = sandbox.emulator.response_posts
    assert "/impact win" in answer.payload["text"]
    assert wins_posts(sandbox.emulator) == []
    assert win_rows(sandbox) == []


def test_impact_win_that_slack_refuses_writes_nothing(sandbox: Sandbox) -> None:
    sandbox.emulator.fail_next("chat.postMessage", status=200, error="fatal_error")

    sandbox.driver.command("U0CCC", "win Big news")
    sandbox.settle()

    (answer,) = sandbox.emulator.response_posts
    assert "nothing was shared" in answer.payload["text"]
    assert win_rows(sandbox) == []


def test_impact_wins_lists_recent_wins_with_links(sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Reaction win")
    react(sandbox, "U0BBB", ts)
    sandbox.settle()
    sandbox.clock.advance(timedelta(hours=1))
    sandbox.driver.command("U0CCC", "win Typed win")
    sandbox.settle()

    sandbox.driver.command("U0DDD", "wins")
    sandbox.settle()

    answer = sandbox.emulator.response_posts[-1].payload
    assert answer["response_type"] == "ephemeral"
    shown = post_text(answer)
    assert shown.index("Typed win") < shown.index("Reaction win")
    for post in wins_posts(sandbox.emulator):  # links to the wins posts, which everyone can open
        link = f"https://impact.slack.com/archives/{WINS}/p{post['ts'].replace('.', '')}"
        assert f"<{link}|link>" in shown
    assert shown.count("|link>") == 2


def test_impact_wins_with_none_yet_says_so(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0DDD", "wins")
    sandbox.settle()

    assert "No wins shared yet" in sandbox.emulator.response_posts[-1].payload["text"]


# --- the state machine, directly -------------------------------------------------------------


def test_many_people_reacting_at_once_make_exactly_one_claim(store: Store) -> None:
    now = NOW
    start = threading.Barrier(6)
    steps: list[wins.Step] = []

    def nominate(user: str) -> None:
        start.wait()
        with store.session() as session:
            steps.append(wins.nominate(
                session, channel_id=GENERAL, message_ts="1.000001", author_id="U0AAA",
                partner_id=None, text="Together", source="reaction", nominator=user,
                private=False, threshold=3, now=now))

    threads = [threading.Thread(target=nominate, args=(f"U0R{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [s.action for s in steps].count("post") == 1
    with store.session() as session:
        win = session.scalars(select(Win)).one()
        assert (win.status, len(win.reactors)) == ("approved", 6)


def test_private_message_reaching_the_threshold_asks_instead_of_posting(store: Store) -> None:
    with store.session() as session:
        step = wins.nominate(session, channel_id=PRIVATE, message_ts="1.000002",
                             author_id="U0AAA", partner_id=None, text="Quiet win",
                             source="reaction", nominator="U0BBB", private=True, threshold=1,
                             now=NOW)

    assert (step.action, step.status) == ("ask", "pending")


# --- Slack answering 500 after it posted ----------------------------------------------------


def test_a_win_slack_posted_but_answered_500_for_is_not_posted_again(sandbox: Sandbox) -> None:
    """Slack stored the post and then failed: the bot must neither repeat the call at once
    nor post again when the next tick takes the win over."""
    from bot.runtime import scheduler

    ts = say(sandbox, "U0AAA", "Our first 100 home visits!")
    sandbox.emulator.fail_after("chat.postMessage", status=500)

    react(sandbox, "U0BBB", ts)
    sandbox.settle()
    assert len(wins_posts(sandbox.emulator)) == 1  # posted once; the 500 was not retried blindly
    scheduler.run_due_now(sandbox.services, only={"wins"})  # the takeover checks history

    (post,) = wins_posts(sandbox.emulator)
    (win,) = win_rows(sandbox)
    assert (win.status, win.posted_ts) == ("posted", post["ts"])


def test_win_command_answered_500_tells_the_author_it_will_be_shared_once(
        sandbox: Sandbox) -> None:
    from bot.runtime import scheduler

    sandbox.emulator.fail_after("chat.postMessage", status=500)
    sandbox.driver.command("U0AAA", "win We opened a Saturday clinic")
    sandbox.settle()
    scheduler.run_due_now(sandbox.services, only={"wins"})

    (answer,) = sandbox.emulator.response_posts
    assert "no need to send it again" in answer.payload["text"]
    (post,) = wins_posts(sandbox.emulator)
    assert "Saturday clinic" in post_text(post)
    (win,) = win_rows(sandbox)
    assert win.status == "posted"


def test_a_reaction_during_a_slack_outage_is_shared_once_slack_is_back(
        sandbox: Sandbox) -> None:
    from bot.runtime import scheduler
    from storage.models import DeferredEvent

    ts = say(sandbox, "U0AAA", "Twelve new doulas trained!")
    sandbox.emulator.set_failure_rate("conversations.history", 1.0, status=503)
    react(sandbox, "U0BBB", ts)
    sandbox.settle()
    assert wins_posts(sandbox.emulator) == []
    with sandbox.store.session() as session:  # kept, not lost: Slack will not redeliver it
        assert len(session.scalars(select(DeferredEvent)).all()) == 1

    scheduler.run_due_now(sandbox.services, only={"wins"})  # too early: the backoff holds
    assert wins_posts(sandbox.emulator) == []
    sandbox.emulator.clear_faults()
    sandbox.clock.advance(timedelta(minutes=2))
    scheduler.run_due_now(sandbox.services, only={"wins"})
    scheduler.run_due_now(sandbox.services, only={"wins"})

    (post,) = wins_posts(sandbox.emulator)
    assert "Twelve new doulas trained!" in post_text(post)
    assert "Celebrated by <@U0BBB>" in post_text(post)
    with sandbox.store.session() as session:
        assert session.scalars(select(DeferredEvent)).all() == []
