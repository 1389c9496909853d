"""Finding 11 beyond wins: every scheduled or queued post waits while Slack refuses its
channel or person for good. The backbone hears of it once, nothing is retried tick after
tick (counted at the emulator), and once it works again each post goes out exactly once:
at the hourly recheck, or at once when Slack says so (`channel_unarchive`, the bot invited
back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot import parking
from bot.emulator.channel_events import invite_bot, unarchive
from bot.emulator.sandbox import Sandbox
from bot.runtime import scheduler
from bot.runtime.manifest import SHORTCUT_CALLBACK
from storage.models import ParkedDestination, Voice
from tests.support.digest import seed_week
from tests.support.reminders import reminder_dms, tick
from tests.support.wins import react, say, win_rows
from tests.support.world import ADMIN, BACKBONE, GENERAL, NOW, PRIVATE, WINS

# Friday 13 November 2026, 15:00 in Chicago: the example's digest time (tests/scenarios/
# test_digest.py).
DUE = datetime(2026, 11, 13, 21, 0, tzinfo=UTC)
TICKS = {"digest-tick", "backbone-relay", "wins"}


def _ticks(sandbox: Sandbox, at: datetime) -> None:
    """The scheduler's jobs, as they run every five minutes (the reminder tick apart)."""
    sandbox.clock.set(at)
    scheduler.run_due_now(sandbox.services, only=TICKS)


def _attempts(sandbox: Sandbox, channel: str) -> int:
    return len([c for c in sandbox.emulator.calls_to("chat.postMessage")
                if c.params.get("channel") == channel])


def _notices(sandbox: Sandbox, where: str) -> list[dict[str, Any]]:
    """Parking notices the bot posted in a channel, or sent a person by DM."""
    sent = (sandbox.emulator.bot_messages(where) if where.startswith("C")
            else sandbox.emulator.messages_to_user(where))
    return [m for m in sent
            if (m.get("metadata") or {}).get("event_type") == parking.TOLD_EVENT]


def _top_level(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [m for m in sandbox.emulator.bot_messages(BACKBONE)
            if not m.get("upload") and m.get("thread_ts") in (None, m["ts"])
            and (m.get("metadata") or {}).get("event_type") != parking.TOLD_EVENT]


def _digests(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [m for m in _top_level(sandbox)
            if (m.get("metadata") or {}).get("event_type") == "impactbot_digest"]


def _voices(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [m for m in _top_level(sandbox) if "Community voice" in m["text"]]


def _voice_rows(sandbox: Sandbox) -> int:
    """Voices kept, every one relayed."""
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Voice)
                              .where(Voice.relayed_at.is_(None))) == 0
        return int(session.scalar(select(func.count()).select_from(Voice)) or 0)


def _parked(sandbox: Sandbox) -> list[str]:
    with sandbox.store.session() as session:
        return list(session.scalars(select(ParkedDestination.destination)))


def test_the_digest_waits_while_the_backbone_channel_is_archived_and_goes_out_on_unarchive(
        sandbox: Sandbox) -> None:
    seed_week(sandbox.store)
    sandbox.emulator.set_channel(BACKBONE, archived=True)

    _ticks(sandbox, DUE)

    assert _attempts(sandbox, BACKBONE) == 1
    # The backbone channel cannot hear it: its admin is told, once, by DM.
    (told,) = _notices(sandbox, ADMIN)
    assert f"<#{BACKBONE}>" in told["text"] and "archived" in told["text"]
    assert "weekly digest" in told["text"]
    for minutes in (5, 10, 15, 20, 25):  # ticks within the hour: nothing is tried
        _ticks(sandbox, DUE + timedelta(minutes=minutes))
    assert _attempts(sandbox, BACKBONE) == 1
    assert len(_notices(sandbox, ADMIN)) == 1
    assert _parked(sandbox) == [BACKBONE]

    reply = unarchive(sandbox.driver, BACKBONE, by=ADMIN)
    sandbox.settle()

    assert reply.status == 200
    (digest,) = _digests(sandbox)
    assert "2026-W46" in digest["text"] or digest["blocks"]
    assert _parked(sandbox) == []
    for minutes in (30, 35, 90):
        _ticks(sandbox, DUE + timedelta(minutes=minutes))
    assert len(_digests(sandbox)) == 1
    assert len(_notices(sandbox, ADMIN)) == 1


def test_community_voice_waits_while_posting_is_restricted_and_goes_out_at_the_recheck(
        sandbox: Sandbox) -> None:
    sandbox.clock.set(NOW)
    sandbox.emulator.set_channel(BACKBONE, restricted=True)

    first = sandbox.driver.command("U0AAA", "voice Evening clinic hours would help parents")
    sandbox.settle()
    second = sandbox.driver.command("U0BBB", "voice Bus route 12 skips the clinic")
    sandbox.settle()

    assert first.status == second.status == 200
    assert _attempts(sandbox, BACKBONE) == 1  # the second voice waits untried
    (told,) = _notices(sandbox, ADMIN)
    assert "limited to admins" in told["text"] and f"<#{BACKBONE}>" in told["text"]
    for minutes in (5, 10, 15):
        _ticks(sandbox, NOW + timedelta(minutes=minutes))
    assert _attempts(sandbox, BACKBONE) == 1
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Voice)
                              .where(Voice.relayed_at.is_(None))) == 2

    sandbox.emulator.set_channel(BACKBONE, restricted=False)  # Slack sends no event for it
    _ticks(sandbox, NOW + timedelta(minutes=20))
    assert _voices(sandbox) == []  # not before the recheck
    _ticks(sandbox, NOW + parking.RECHECK["channel"] + timedelta(minutes=1))

    assert len(_voices(sandbox)) == 2
    for minutes in (70, 75, 140):
        _ticks(sandbox, NOW + timedelta(minutes=minutes))
    assert len(_voices(sandbox)) == 2
    assert len(_notices(sandbox, ADMIN)) == 1
    assert _parked(sandbox) == []


def test_removed_from_the_backbone_channel_the_bot_resumes_when_invited_back(
        sandbox: Sandbox) -> None:
    seed_week(sandbox.store)
    sandbox.emulator.set_channel(BACKBONE, bot_member=False)
    sandbox.clock.set(DUE)
    sandbox.driver.command("U0AAA", "voice More evening clinic hours, please")
    sandbox.settle()

    for minutes in (0, 5, 10, 15):  # the digest is due too: it waits untried
        _ticks(sandbox, DUE + timedelta(minutes=minutes))

    assert _attempts(sandbox, BACKBONE) == 1
    (told,) = _notices(sandbox, ADMIN)
    assert "/invite @Impact Bot" in told["text"]

    invite_bot(sandbox.driver, BACKBONE, by=ADMIN)
    sandbox.settle()

    voices = _voice_rows(sandbox)  # the week's seeded voices and this one
    assert voices > 1 and len(_voices(sandbox)) == voices
    assert len(_digests(sandbox)) == 1
    for minutes in (20, 25, 90):
        _ticks(sandbox, DUE + timedelta(minutes=minutes))
    assert len(_voices(sandbox)) == voices and len(_digests(sandbox)) == 1
    assert len(_notices(sandbox, ADMIN)) == 1


def test_someone_else_joining_the_channel_changes_nothing(sandbox: Sandbox) -> None:
    sandbox.clock.set(NOW)
    sandbox.emulator.set_channel(BACKBONE, archived=True)
    sandbox.driver.command("U0AAA", "voice Please add Saturday hours")
    sandbox.settle()

    sandbox.driver.event({"type": "member_joined_channel", "user": "U0CCC",
                          "channel": BACKBONE, "channel_type": "C",
                          "team": sandbox.driver.team_id})
    sandbox.settle()

    assert _attempts(sandbox, BACKBONE) == 1
    assert _parked(sandbox) == [BACKBONE]


def test_a_member_slack_refuses_dms_to_is_parked_told_once_and_reminded_once_back(
        sandbox: Sandbox) -> None:
    sandbox.emulator.set_user("U0DDD", deleted=True)

    tick(sandbox, NOW)
    _ticks(sandbox, NOW)  # the relay tick tells the backbone of what was parked

    assert _attempts(sandbox, "U0DDD") == 1
    assert reminder_dms(sandbox, "U0AAA")  # everyone else was reminded
    (told,) = _notices(sandbox, BACKBONE)
    assert "<@U0DDD>" in told["text"] and "reminders" in told["text"]
    for minutes in (5, 10, 15, 60, 120):
        at = NOW + timedelta(minutes=minutes)
        tick(sandbox, at)
        _ticks(sandbox, at)
    assert _attempts(sandbox, "U0DDD") == 1
    assert len(_notices(sandbox, BACKBONE)) == 1

    sandbox.emulator.set_user("U0DDD", deleted=False)
    back = NOW + parking.RECHECK["dm"] + timedelta(minutes=5)
    tick(sandbox, back)

    assert len(reminder_dms(sandbox, "U0DDD")) == 1
    assert _parked(sandbox) == []
    tick(sandbox, back + timedelta(minutes=5))
    _ticks(sandbox, back + timedelta(minutes=5))
    assert len(reminder_dms(sandbox, "U0DDD")) == 1
    assert len(_notices(sandbox, BACKBONE)) == 1


def test_the_consent_question_to_an_author_slack_refuses_dms_to_is_not_asked_every_tick(
        sandbox: Sandbox) -> None:
    sandbox.clock.set(NOW)
    ts = say(sandbox, "U0CCC", "Clinic reached 200 families", channel=PRIVATE)
    sandbox.emulator.set_user("U0CCC", deleted=True)  # the author left since
    react(sandbox, "U0BBB", ts, channel=PRIVATE)
    sandbox.settle()

    assert _attempts(sandbox, "U0CCC") == 1
    for minutes in (5, 10, 15, 20):  # the wins tick among them
        _ticks(sandbox, NOW + timedelta(minutes=minutes))
    assert _attempts(sandbox, "U0CCC") == 1
    (told,) = _notices(sandbox, BACKBONE)
    assert "<@U0CCC>" in told["text"] and "may be shared" in told["text"]
    assert [w.status for w in win_rows(sandbox)] == ["pending"]  # nothing shared unasked
    assert _attempts(sandbox, WINS) == 0


def test_the_bot_invited_back_to_the_wins_channel_posts_the_waiting_win_at_once(
        sandbox: Sandbox) -> None:
    sandbox.clock.set(NOW)
    sandbox.emulator.set_channel(WINS, bot_member=False)
    react(sandbox, "U0BBB", say(sandbox, "U0AAA", "Forty families enrolled"))
    sandbox.settle()
    assert _attempts(sandbox, WINS) == 1 and _parked(sandbox) == [WINS]

    invite_bot(sandbox.driver, WINS, by=ADMIN)
    sandbox.settle()

    assert [w.status for w in win_rows(sandbox)] == ["posted"]
    assert _attempts(sandbox, WINS) == 2 and _parked(sandbox) == []
    _ticks(sandbox, NOW + timedelta(minutes=5))
    assert _attempts(sandbox, WINS) == 2


def test_a_typed_win_for_an_archived_wins_channel_is_kept_and_shared_on_unarchive(
        sandbox: Sandbox) -> None:
    sandbox.clock.set(NOW)
    sandbox.emulator.set_channel(WINS, archived=True)

    sandbox.driver.command("U0AAA", "win We opened a Saturday clinic")
    sandbox.settle()
    answer = sandbox.emulator.response_posts[-1].payload["text"]
    sandbox.driver.command("U0CCC", "win Forty families enrolled")
    sandbox.settle()

    assert "kept and will be shared" in answer
    assert _attempts(sandbox, WINS) == 1
    assert [w.status for w in win_rows(sandbox)] == ["approved", "approved"]

    unarchive(sandbox.driver, WINS, by=ADMIN)
    sandbox.settle()

    assert [w.status for w in win_rows(sandbox)] == ["posted", "posted"]
    assert _attempts(sandbox, WINS) == 3


def test_share_as_a_win_while_the_bot_is_out_of_the_wins_channel_says_it_is_kept(
        sandbox: Sandbox) -> None:
    sandbox.clock.set(NOW)
    sandbox.emulator.set_channel(WINS, bot_member=False)
    ts = say(sandbox, "U0AAA", "The clinic now opens on Saturdays")

    sandbox.driver.message_shortcut("U0BBB", SHORTCUT_CALLBACK, GENERAL, ts)
    sandbox.settle()

    assert "kept and will be shared" in sandbox.emulator.response_posts[-1].payload["text"]
    invite_bot(sandbox.driver, WINS, by=ADMIN)
    sandbox.settle()
    assert [w.status for w in win_rows(sandbox)] == ["posted"]
