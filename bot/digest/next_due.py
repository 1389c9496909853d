"""When a workspace next needs the digest tick (bot/runtime/due_work.py asks after a run)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.digest.posting import posted_digest
from bot.digest.week import digest_due, iso_week
from bot.runtime.caller import load_initiative
from bot.runtime.services import Services

RETRY = timedelta(minutes=5)


def digest_next_due(services: Services, now: datetime) -> datetime | None:
    """This week's digest time if it is still ahead; next week's once this week's is
    posted (or cannot be: no backbone channel; naming one marks the job due at once);
    `now + RETRY` while this week's is due and not posted yet."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        if initiative is None:
            return None
        due = digest_due(initiative, now)
        if now < due:
            return due
        tz = ZoneInfo(initiative.timezone)
        done = posted_digest(session, iso_week(now, tz).key) is not None
        if not done and initiative.backbone_channel:
            return now + RETRY
        # Next week's, counted in local days (a DST change moves it in UTC, not locally).
        next_week = datetime.combine(due.astimezone(tz).date() + timedelta(days=7),
                                     time(12), tzinfo=tz)
        return digest_due(initiative, next_week)
