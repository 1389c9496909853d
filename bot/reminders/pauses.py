"""Pausing reminders (vacation) and snoozing one reminder: one `pauses` row per person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.reminders.timezones import cached_zone
from bot.rendering import dates
from bot.runtime.caller import load_initiative
from bot.runtime.clock import as_utc
from bot.runtime.errors import UserError
from storage.db import Store, tenant_key
from storage.models import Pause

MAX_PAUSE_DAYS = 365
SNOOZE = timedelta(days=1)


@dataclass(frozen=True)
class PauseAnswer:
    until: datetime  # UTC
    zone: ZoneInfo

    @property
    def local_until(self) -> datetime:
        return self.until.astimezone(self.zone)


def parse_days(text: str) -> int:
    words = text.split()
    if len(words) != 1 or not words[0].isdigit():
        raise UserError("Tell me for how many days, e.g. `/impact pause 7`.")
    days = int(words[0])
    if not 1 <= days <= MAX_PAUSE_DAYS:
        raise UserError(f"Pause for 1 to {MAX_PAUSE_DAYS} days, e.g. `/impact pause 7`.")
    return days


def _zone(store: Store, user_id: str) -> ZoneInfo:
    with store.session() as session:
        initiative = load_initiative(session)
        fallback = ZoneInfo(initiative.timezone if initiative else "UTC")
    return cached_zone(store, user_id, fallback)


def pause(store: Store, user_id: str, days: int, now: datetime) -> PauseAnswer:
    until = now + timedelta(days=days)
    with store.session() as session:
        row = session.get(Pause, tenant_key(session, user_id), with_for_update=True)
        if row is None:
            session.add(Pause(user_id=user_id, until=until, reason="pause", created_at=now))
        else:
            row.until, row.reason, row.created_at = until, "pause", now
    return PauseAnswer(until, _zone(store, user_id))


def resume(store: Store, user_id: str, now: datetime) -> tuple[bool, date]:
    """Lift a pause or snooze. (whether one was active, the local date reminders resume)."""
    with store.session() as session:
        row = session.get(Pause, tenant_key(session, user_id), with_for_update=True)
        was_active = row is not None and as_utc(row.until) > now
        if row is not None:
            session.delete(row)
    return was_active, now.astimezone(_zone(store, user_id)).date()


def snooze(store: Store, user_id: str, now: datetime) -> tuple[bool, PauseAnswer]:
    """Hold reminders for a day; the next one comes when it ends. (snoozed?, until).

    A longer pause already in place is kept (snoozing must not shorten a vacation).
    """
    until = now + SNOOZE
    with store.session() as session:
        row = session.get(Pause, tenant_key(session, user_id), with_for_update=True)
        if row is not None and row.reason == "pause" and as_utc(row.until) > until:
            return False, PauseAnswer(as_utc(row.until), _zone(store, user_id))
        if row is None:
            session.add(Pause(user_id=user_id, until=until, reason="snooze", created_at=now))
        else:
            row.until, row.reason, row.created_at = until, "snooze", now
    return True, PauseAnswer(until, _zone(store, user_id))


def describe_day(moment: datetime, now: datetime) -> str:
    """The local day reminders resume, as every screen writes a day to act on."""
    return dates.action_day(moment.date(), now.astimezone(moment.tzinfo).date())
