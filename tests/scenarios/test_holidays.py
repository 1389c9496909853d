"""Holidays and working days (SPEC §11): a reminder due on a day off in the member's zone
arrives once, on their next working day, at the usual local time; the due-work scheduler
wakes at that moved time; a partner's own holiday moves only its members' reminders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from bot.runtime import scheduler
from storage.models import ReminderDelivery
from tests.scenarios.test_due_work import due_rows
from tests.support.reminders import set_reminders
from tests.support.world import EXAMPLE, import_example

JOB = "reminder-tick"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run_scheduler_until(sandbox: Sandbox, start: datetime, end: datetime) -> list[datetime]:
    """Run the reminder job at each instant the due-work table asks for; the wake-ups."""
    woke: list[datetime] = []
    sandbox.clock.set(start)
    scheduler.run_due_now(sandbox.services, only={JOB})
    while True:
        following = due_rows(sandbox, JOB)[""]
        if following is None or following > end:
            return woke
        woke.append(following)
        sandbox.clock.set(following)
        scheduler.run_due_now(sandbox.services, only={JOB})


def first_reminders(sandbox: Sandbox, period: str) -> dict[str, list[datetime]]:
    """When each member's first reminder (DM 0) of a round with `period` was sent."""
    found: dict[str, list[datetime]] = {}
    with sandbox.store.session() as session:
        for key, user, sent_at in session.execute(
                select(ReminderDelivery.dedupe_key, ReminderDelivery.user_id,
                       ReminderDelivery.sent_at)
                .where(ReminderDelivery.nudge == 0, ReminderDelivery.sent_at.is_not(None))):
            if period in key.split("|")[1].split("+"):
                found.setdefault(user, []).append(sent_at.astimezone(UTC))
    return found


def test_a_reminder_due_on_christmas_arrives_once_on_the_next_working_day(
        sandbox: Sandbox) -> None:
    # The example works Monday to Friday with 25 December a holiday: November's reminder,
    # due Friday 25 December at 09:00, waits for Monday 28 December at 09:00 local.
    set_reminders(sandbox.store, reminder_day=25)
    woke = run_scheduler_until(sandbox, at("2026-12-20T00:00"), at("2026-12-29T12:00"))

    sent = first_reminders(sandbox, "2026-11")
    assert sent["U0BBB"] == [at("2026-12-28T00:00")]  # 09:00 in Tokyo
    assert sent["U0AAA"] == [at("2026-12-28T15:00")]  # 09:00 in Chicago
    assert sent["U0CCC"] == [at("2026-12-28T17:00")]  # 09:00 in Los Angeles
    assert at("2026-12-28T00:00") in woke and at("2026-12-28T15:00") in woke
    # Nothing at all (reminder or nudge) reached anyone over the long weekend.
    with sandbox.store.session() as session:
        assert session.scalars(select(ReminderDelivery.dedupe_key).where(
            ReminderDelivery.sent_at >= at("2026-12-25T00:00"),
            ReminderDelivery.sent_at < at("2026-12-28T00:00"))).all() == []


def test_a_partners_own_holiday_moves_only_its_members_reminders(
        sandbox: Sandbox, tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith(("working_days:", "holidays:")))
    text = text.replace("members: [U0CCC]}", "members: [U0CCC], holidays: [2026-12-25]}")
    variant = tmp_path / "initiative.yml"
    variant.write_text(text, encoding="utf-8")
    import_example(sandbox.store, path=variant)
    set_reminders(sandbox.store, reminder_day=25)
    run_scheduler_until(sandbox, at("2026-12-20T00:00"), at("2026-12-27T00:00"))

    sent = first_reminders(sandbox, "2026-11")
    assert sent["U0AAA"] == [at("2026-12-25T15:00")]  # every day works: on Christmas
    assert sent["U0BBB"] == [at("2026-12-25T00:00")]
    assert sent["U0CCC"] == [at("2026-12-26T17:00")]  # North Clinic's holiday: the day after
