"""When a message for two people may go out (SPEC §11): never on a holiday or non-working
day of either, in their own zone; on the first moment at the same local time that is a
working day for both."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.reminders.timezones import zone_or_none
from bot.workdays import WorkCalendar, calendar_of
from storage.models import Initiative, Member, Partner, SlackUser

_MAX_MOVES = 60  # alternating days off of two people: far more than any calendar holds

Calendars = dict[str, tuple[WorkCalendar, ZoneInfo]]


def calendars_of(session: Session, initiative: Initiative, users: Iterable[str]) -> Calendars:
    """Each person's working days and zone (the initiative's when Slack's is not known)."""
    tz = ZoneInfo(initiative.timezone)
    users = sorted(set(users))
    zones = {u: zone_or_none(z) for u, z in session.execute(
        select(SlackUser.user_id, SlackUser.tz).where(SlackUser.user_id.in_(users)))}
    holidays: dict[str, list[str]] = {}
    for user, days in session.execute(
            select(Member.user_id, Partner.holidays).join(Partner, Partner.id == Member.partner_id)
            .where(Member.user_id.in_(users))):
        holidays.setdefault(user, []).extend(days or ())
    return {u: (calendar_of(initiative.calendar, holidays.get(u, ())), zones.get(u) or tz)
            for u in users}


def moment_for(calendars: Calendars, users: Iterable[str], when: datetime) -> datetime:
    """`when`, or, if it falls on a holiday or non-working day of any of `users` in their
    own zone (SPEC §11), the first later moment at the same local time that is a working
    day for all of them (one's next working day may be the other's day off)."""
    chosen = [calendars[u] for u in users if u in calendars]
    for _ in range(_MAX_MOVES):
        moved = max((calendar.move(when, zone) for calendar, zone in chosen), default=when)
        if moved == when:
            break
        when = moved
    return when


def working_moment(session: Session, initiative: Initiative, users: Iterable[str],
                   when: datetime) -> datetime:
    users = tuple(users)
    return moment_for(calendars_of(session, initiative, users), users, when)
