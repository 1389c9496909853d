"""When a workspace next needs the reminder tick (bot/runtime/due_work.py asks after a run)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.measures.obligations import obligations
from bot.measures.periods import reminder_due_local
from bot.reminders.facts import load_facts
from bot.reminders.plan import EARLIEST_ZONE, change_points, is_paused, plan_member
from bot.reminders.tick import DEFAULT_LEASE, tick_options
from bot.reminders.timezones import zone_or_none
from bot.runtime.caller import load_initiative
from bot.runtime.clock import as_utc
from bot.runtime.services import Services
from storage.models import Member, ParkedDestination, SlackUser

# A DM that is due but was not delivered (Slack failed, another sender holds it) is tried
# again this much later, or when the other sender's claim on it runs out if sooner.
RETRY = timedelta(minutes=5)


def reminders_next_due(services: Services, now: datetime) -> datetime | None:
    """The first instant after `now` at which someone may be due a reminder or nudge, or
    `now + RETRY` when a DM due now is still undelivered; None with no initiative.

    Zones: a member's cached zone; one not known yet counts as the earliest zone on Earth
    (the tick then looks it up and the next answer is exact)."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        if initiative is None:
            return None
        facts = load_facts(session, initiative, now)
        periods = {ob.period for ob in obligations(session, initiative, now)}
        parked = {user: recheck for user, recheck in session.execute(
            select(ParkedDestination.destination, ParkedDestination.recheck_at)
            .where(ParkedDestination.kind == "dm"))}
        zones = {user_id: zone_or_none(tz) for user_id, tz in session.execute(
            select(SlackUser.user_id, SlackUser.tz)
            .join(Member, Member.user_id == SlackUser.user_id))}
    fallback = ZoneInfo(initiative.timezone)
    at = time.fromisoformat(initiative.reminder_time)
    points: list[datetime] = []
    # Whoever owes nothing now is not in the facts: the next periods' first reminder
    # anywhere on Earth wakes the workspace in time for all of them.
    for period in periods:
        # The reporting period rolls over at midnight in the initiative's zone (SPEC §6):
        # a member whose reminder time has passed by then is due at that instant.
        points.append(as_utc(datetime.combine(period.next().end, time(0), tzinfo=fallback)))
        for candidate in (period, period.next()):
            when = reminder_due_local(candidate, initiative.reminder_day, at, EARLIEST_ZONE)
            if when > now:
                points.append(when)
    for member in facts.members:
        zone = zones.get(member.user_id)
        recheck = parked.get(member.user_id)
        if recheck is not None and recheck > now:
            # Slack refuses this person's DMs for now (bot/parking.py): not before the recheck.
            points.append(recheck)
            continue
        if not is_paused(member, now) and plan_member(member, initiative, zone or fallback,
                                                      now) is not None:
            return now + min(RETRY, tick_options().get("lease", DEFAULT_LEASE))
        for tz in ([zone] if zone else [EARLIEST_ZONE, fallback]):
            points.extend(change_points(member, initiative, tz, now))
    return min(points, default=None)
