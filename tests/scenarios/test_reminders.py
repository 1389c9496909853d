"""Reminder DMs: who gets them, when, how often, and what the buttons in them do."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.emulator.sandbox import Sandbox
from bot.reminders.messages import EVENT_TYPE
from storage.models import Pause, ReminderDelivery, Skip
from tests.support.records import add_report
from tests.support.reminders import (
    FOUR_ZONES,
    listed_measures,
    reminder_dms,
    set_reminders,
    tick,
)
from tests.support.world import NOW


def _who_has_dms(sandbox: Sandbox) -> set[str]:
    return {user for user in FOUR_ZONES if reminder_dms(sandbox, user)}


def test_members_in_four_zones_are_reminded_only_after_their_own_reminder_time(
        sandbox: Sandbox) -> None:
    # November's reminder is due on day 2 at 09:00, local time for each member.
    set_reminders(sandbox.store, reminder_day=2)
    add_report(sandbox.store, "county-health", "low-birthweight", "2026-Q3", NOW)

    seen = []
    for at in ("2026-12-01T23:59", "2026-12-02T00:01",  # 09:00 in Tokyo is 00:00Z
               "2026-12-02T07:59", "2026-12-02T08:01",  # Berlin (CET) 08:00Z
               "2026-12-02T14:59", "2026-12-02T15:01",  # Chicago (CST) 15:00Z
               "2026-12-02T16:59", "2026-12-02T17:01"):  # Los Angeles (PST) 17:00Z
        tick(sandbox, datetime.fromisoformat(at).replace(tzinfo=UTC))
        seen.append(sorted(_who_has_dms(sandbox)))

    assert seen == [
        [], ["U0BBB"],
        ["U0BBB"], ["U0BBB", "U0DDD"],
        ["U0BBB", "U0DDD"], ["U0AAA", "U0BBB", "U0DDD"],
        ["U0AAA", "U0BBB", "U0DDD"], ["U0AAA", "U0BBB", "U0CCC", "U0DDD"],
    ]
    for user in FOUR_ZONES:
        (dm,) = reminder_dms(sandbox, user)
        assert "2026-11" in dm["text"]
    # Slack was asked about each person's zone once, and the answer cached.
    asked = [c.params["user"] for c in sandbox.emulator.calls_to("users.info")]
    assert sorted(asked) == sorted(set(asked))


def test_one_dm_lists_every_measure_the_partner_owes_with_period_and_due_date(
        sandbox: Sandbox) -> None:
    tick(sandbox, NOW)

    (dm,) = reminder_dms(sandbox, "U0AAA")
    assert listed_measures(dm) == ["prenatal-visits", "home-visits", "low-birthweight"]
    assert "2026-10, due Sun 8 Nov" in dm["text"]
    assert "2026-Q3, due Thu 8 Oct" in dm["text"]
    buttons = [e["action_id"] for b in dm["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert "reminder_skip:home-visits" in buttons and "reminder_snooze" in buttons
    # Posted to the user id (Slack's DM with the app), no conversations.open per member.
    assert sandbox.emulator.calls_to("conversations.open") == []
    assert {c.params["channel"] for c in sandbox.emulator.calls_to("chat.postMessage")} == \
        {"U0AAA", "U0BBB", "U0CCC", "U0DDD", "U0EEE"}


def test_the_same_tick_run_twice_sends_nothing_the_second_time(sandbox: Sandbox) -> None:
    first = tick(sandbox, NOW)
    second = tick(sandbox, NOW)

    assert first.sent == 5
    assert second.planned == [] and second.sent == 0
    assert len(sandbox.emulator.calls_to("chat.postMessage")) == 5
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(ReminderDelivery)) == 5


def test_nudges_go_only_to_partners_that_still_owe_and_stop_at_max_nudges(
        sandbox: Sandbox) -> None:
    tick(sandbox, NOW)
    add_report(sandbox.store, "county-health", "prenatal-visits", "2026-10", NOW)  # still owes 2
    add_report(sandbox.store, "clinic-north", "prenatal-visits", "2026-10", NOW)  # owes nothing

    for days in (1, 3, 6, 9, 12):
        tick(sandbox, NOW + timedelta(days=days))

    health = reminder_dms(sandbox, "U0AAA")
    assert [m["text"].split(":")[0] for m in health] == ["Reminder", "Nudge", "Nudge"]
    assert listed_measures(health[1]) == ["home-visits", "low-birthweight"]
    assert len(reminder_dms(sandbox, "U0BBB")) == 3
    assert len(reminder_dms(sandbox, "U0CCC")) == 1
    with sandbox.store.session() as session:
        nudges = sorted(session.scalars(select(ReminderDelivery.nudge)
                                        .where(ReminderDelivery.user_id == "U0AAA")))
    assert nudges == [0, 1, 2]


def test_paused_member_gets_nothing_until_they_resume(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0DDD", "pause 30")
    sandbox.settle()
    tick(sandbox, NOW)
    tick(sandbox, NOW + timedelta(days=3))

    (answer,) = sandbox.emulator.response_posts
    assert "They resume on Thu 10 Dec" in answer.payload["text"]
    assert reminder_dms(sandbox, "U0DDD") == []
    assert len(reminder_dms(sandbox, "U0AAA")) == 2  # the others carry on

    sandbox.clock.set(NOW + timedelta(days=4))
    sandbox.driver.command("U0DDD", "resume")
    sandbox.settle()
    tick(sandbox, NOW + timedelta(days=4))

    assert "Reminders resume today, Sat 14 Nov" in \
        sandbox.emulator.response_posts[-1].payload["text"]
    assert len(reminder_dms(sandbox, "U0DDD")) == 1


def test_pause_without_a_number_of_days_explains_and_changes_nothing(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "pause soon")
    sandbox.settle()  # (the answers of two requests at once may come in either order)
    sandbox.driver.command("U0AAA", "pause 4000")
    sandbox.settle()

    texts = [p.payload["text"] for p in sandbox.emulator.response_posts]
    assert texts[0].startswith("Tell me for how many days")
    assert texts[1].startswith("Pause for 1 to 365 days")
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Pause)) == 0


def test_snooze_button_holds_reminders_for_a_day_then_reminds_again(sandbox: Sandbox) -> None:
    tick(sandbox, NOW)
    (dm,) = reminder_dms(sandbox, "U0AAA")
    sandbox.driver.block_action("U0AAA", "reminder_snooze", message=dm,
                                channel=sandbox.emulator.dm_channel_for("U0AAA"))
    sandbox.settle()

    (answer,) = sandbox.emulator.response_posts
    assert answer.payload["text"].startswith("Snoozed. I'll remind you again tomorrow")
    assert answer.payload["response_type"] == "ephemeral"
    tick(sandbox, NOW + timedelta(hours=23))
    assert len(reminder_dms(sandbox, "U0AAA")) == 1
    tick(sandbox, NOW + timedelta(days=1, minutes=5))

    assert len(reminder_dms(sandbox, "U0AAA")) == 2  # the snoozed reminder came back
    assert len(reminder_dms(sandbox, "U0BBB")) == 1  # a colleague's schedule is unchanged


def _skip(sandbox: Sandbox, user: str, measure: str, reason: str) -> dict[str, object]:
    dm = reminder_dms(sandbox, user)[-1]
    sandbox.driver.block_action(user, f"reminder_skip:{measure}", message=dm,
                                channel=sandbox.emulator.dm_channel_for(user))
    sandbox.settle()
    view = sandbox.driver.last_view()
    reply = sandbox.driver.view_submission(
        user, view, {"skip_reason": {"reason": {"type": "plain_text_input", "value": reason}}})
    sandbox.settle()
    return {"view": view, "reply": reply}


def test_skip_button_records_the_reason_and_the_measure_is_no_longer_owed(
        sandbox: Sandbox) -> None:
    tick(sandbox, NOW)
    result = _skip(sandbox, "U0AAA", "home-visits", "Our data system is down this month")

    view = result["view"]
    assert isinstance(view, dict) and json.loads(view["private_metadata"])["period"] == "2026-10"
    with sandbox.store.session() as session:
        (skip,) = session.scalars(select(Skip))
        assert (skip.period, skip.reason, skip.skipped_by) == \
            ("2026-10", "Our data system is down this month", "U0AAA")
    confirmation = sandbox.emulator.messages_to_user("U0AAA")[-1]
    assert confirmation["text"].startswith("Skipped *Families enrolled in home visiting*")

    # Three days on is Saturday in Tokyo: the example works Monday to Friday, so the nudge
    # waits for Monday there (SPEC §11).
    tick(sandbox, NOW + timedelta(days=5))
    nudge = reminder_dms(sandbox, "U0BBB")[-1]  # the colleague's nudge omits it too
    assert len(reminder_dms(sandbox, "U0BBB")) == 2
    assert listed_measures(nudge) == ["prenatal-visits", "low-birthweight"]


def test_skipping_everything_owed_stops_the_nudges(sandbox: Sandbox) -> None:
    tick(sandbox, NOW)
    _skip(sandbox, "U0DDD", "home-visits", "No home visits staff in October")
    tick(sandbox, NOW + timedelta(days=3))

    assert len(reminder_dms(sandbox, "U0DDD")) == 1


def test_skip_without_a_reason_is_refused_in_the_form(sandbox: Sandbox) -> None:
    tick(sandbox, NOW)
    result = _skip(sandbox, "U0AAA", "home-visits", "   ")

    reply = result["reply"]
    assert json.loads(reply.body)["response_action"] == "errors"  # type: ignore[attr-defined]
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Skip)) == 0


def test_reminder_at_nine_local_follows_the_end_of_daylight_saving(sandbox: Sandbox) -> None:
    # US clocks go back on Sunday 1 November 2026: 09:00 in Chicago is 15:00Z, not 14:00Z.
    set_reminders(sandbox.store, calendar={})  # every day a working day (the example: Mon-Fri)
    add_report(sandbox.store, "county-health", "low-birthweight", "2026-Q3", NOW)
    nov1 = datetime(2026, 11, 1, tzinfo=UTC)

    tick(sandbox, nov1 + timedelta(hours=14, minutes=30))
    assert reminder_dms(sandbox, "U0AAA") == []
    tick(sandbox, nov1 + timedelta(hours=15, minutes=1))
    assert len(reminder_dms(sandbox, "U0AAA")) == 1
    tick(sandbox, nov1 + timedelta(hours=16, minutes=30))  # 09:00 PST is 17:00Z
    assert reminder_dms(sandbox, "U0CCC") == []
    tick(sandbox, nov1 + timedelta(hours=17, minutes=1))
    assert len(reminder_dms(sandbox, "U0CCC")) == 1


def test_nudge_across_the_daylight_saving_change_keeps_the_local_time(
        sandbox: Sandbox) -> None:
    # Weekly reminder on Friday 30 October 09:00 CDT (14:00Z); the nudge two days later is
    # Sunday 1 November 09:00 CST (15:00Z), after the clocks went back, not 48 hours later.
    set_reminders(sandbox.store, reminder_day=5, nudge_after_days=2, calendar={})
    tick(sandbox, datetime(2026, 10, 30, 14, 1, tzinfo=UTC))
    assert len(reminder_dms(sandbox, "U0EEE")) == 1

    tick(sandbox, datetime(2026, 11, 1, 14, 30, tzinfo=UTC))
    assert len(reminder_dms(sandbox, "U0EEE")) == 1
    tick(sandbox, datetime(2026, 11, 1, 15, 1, tzinfo=UTC))
    assert [m["text"].split(":")[0] for m in reminder_dms(sandbox, "U0EEE")] == \
        ["Reminder", "Nudge"]


def test_slack_errors_and_429s_still_deliver_each_dm_once(sandbox: Sandbox) -> None:
    emu = sandbox.emulator
    emu.fail_next("chat.postMessage", status=500, count=2)
    emu.fail_next("chat.postMessage", status=429, count=1, retry_after=1)
    emu.fail_next("chat.postMessage", status=503, count=1)

    result = tick(sandbox, NOW)

    assert result.sent == 5 and result.failed == 0
    for user in ("U0AAA", "U0BBB", "U0CCC", "U0DDD", "U0EEE"):
        assert len(reminder_dms(sandbox, user)) == 1
    # After each 5xx the DM's history was checked before sending again.
    assert len(emu.calls_to("conversations.history")) >= 3


def test_dm_posted_by_a_sender_that_died_before_recording_it_is_not_sent_again(
        sandbox: Sandbox) -> None:
    emu = sandbox.emulator
    key = "U0DDD|2026-10|0"
    # A dead process claimed the DM and posted it, and never recorded it.
    with sandbox.store.session() as session:
        session.add(ReminderDelivery(dedupe_key=key, user_id="U0DDD", nudge=0, items=[],
                                     created_at=NOW, attempts=1,
                                     lease_until=datetime(2000, 1, 1, tzinfo=UTC)))
    emu.add_message("U0DDD", user=emu.bot_user_id, bot_id=emu.bot_id, text="Reminder",
                    metadata={"event_type": EVENT_TYPE, "event_payload": {"delivery": key}})

    result = tick(sandbox, NOW)

    assert result.count("found") == 1 and result.sent == 4
    assert len(reminder_dms(sandbox, "U0DDD")) == 1
    with sandbox.store.session() as session:
        row = session.scalar(select(ReminderDelivery).where(ReminderDelivery.dedupe_key == key))
        assert row is not None and row.sent_at is not None and row.ts is not None


def test_dry_run_lists_who_would_get_what_and_sends_nothing(sandbox: Sandbox) -> None:
    result = tick(sandbox, NOW, dry_run=True)

    assert sorted(dm.user_id for dm in result.planned) == \
        ["U0AAA", "U0BBB", "U0CCC", "U0DDD", "U0EEE"]
    assert sandbox.emulator.calls_to("chat.postMessage") == []
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(ReminderDelivery)) == 0


def test_dm_slack_refuses_is_reported_and_left_for_later_without_holding_up_the_tick(
        sandbox: Sandbox) -> None:
    sandbox.emulator.add_user("U0CCC", real_name="Cy Clinic", tz="America/Los_Angeles",
                              deleted=True)  # deactivated: Slack refuses the DM

    first = tick(sandbox, NOW)
    second = tick(sandbox, NOW)

    assert (first.sent, first.failed) == (4, 1)
    assert [o.error for o in first.outcomes if o.status == "failed"] == ["channel_not_found"]
    assert [o.status for o in second.outcomes] == ["deferred"]
    assert second.elapsed < 5  # it did not wait for the retry time
    with sandbox.store.session() as session:
        row = session.scalar(select(ReminderDelivery)
                             .where(ReminderDelivery.user_id == "U0CCC"))
        assert row is not None and row.sent_at is None
        # Refused for good: the person is parked (bot/parking.py) and, as nothing was
        # posted, the attempt after the recheck need not look for it first.
        assert (row.attempts, row.last_error) == (0, "channel_not_found")


def test_a_period_rolling_over_at_midnight_sends_no_extra_reminder(sandbox: Sandbox) -> None:
    """At 00:30 on 1 Dec in Chicago the monthly period has changed but its reminder is not
    due until 09:00: what is still owed (the quarter) was already asked for."""
    for day in (10, 13, 16):  # the reminder and both nudges for October + Q3
        tick(sandbox, datetime(2026, 11, day, 21, 0, tzinfo=UTC))
    assert len(reminder_dms(sandbox, "U0AAA")) == 3

    tick(sandbox, datetime(2026, 12, 1, 6, 30, tzinfo=UTC))  # 00:30 in Chicago
    assert len(reminder_dms(sandbox, "U0AAA")) == 3

    tick(sandbox, datetime(2026, 12, 1, 15, 30, tzinfo=UTC))  # 09:30: November is due
    dms = reminder_dms(sandbox, "U0AAA")
    assert len(dms) == 4
    assert sorted(listed_measures(dms[-1])) == ["home-visits", "low-birthweight",
                                                "prenatal-visits"]
