"""Who is due which reminder DM at an instant: plain decisions from the database's facts.

No session and no Slack here: `facts.py` reads the facts, `tick.py` sends what is due.

A member's *round* is the set of reporting periods whose reminder time has passed in the
member's zone (one per cadence its partner reports). Within a round, DM 0 is the reminder
and DMs 1..max_nudges are nudges, each `nudge_after_days` after the one before (at the same
local time), sent only while the partner still owes something. A new period coming due
starts a new round. A snooze makes the next DM due when the snooze ends (even past
max_nudges: the person asked for it). The dedupe key is (member, round, DM number).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.measures.obligations import Obligation
from bot.measures.periods import reminder_due_local
from bot.reminders.messages import ReminderItem
from bot.runtime.clock import as_utc
from bot.workdays import EVERY_DAY, WorkCalendar
from storage.models import Initiative, Pause

# The earliest and the latest civil time zones on Earth: a reminder that is due (or not)
# in both is due (or not) everywhere, and then nobody's zone needs looking up.
EARLIEST_ZONE = ZoneInfo("Etc/GMT-14")  # UTC+14
LATEST_ZONE = ZoneInfo("Etc/GMT+12")  # UTC-12


@dataclass(frozen=True)
class PlannedDM:
    user_id: str
    partner_name: str
    key: str
    nudge: int
    items: tuple[ReminderItem, ...]

    def item_dicts(self) -> list[dict[str, str]]:
        return [{"measure": i.measure_key, "period": i.period} for i in self.items]


@dataclass(frozen=True)
class Sent:
    nudge: int
    sent_at: datetime


@dataclass
class MemberFacts:
    """Everything the decision for one member needs, except the member's time zone."""

    user_id: str
    partner_name: str
    obligations: list[Obligation]
    sent: dict[str, list[Sent]]  # round key -> DMs sent in it
    pause: Pause | None
    # Holidays and working days (SPEC §11): a DM due on a day off waits for the next
    # working day in the member's zone, at the same local time.
    calendar: WorkCalendar = EVERY_DAY


@dataclass
class Facts:
    initiative: Initiative
    members: list[MemberFacts] = field(default_factory=list)
    # Social proof (SPEC §12): (measure key, period) -> (partners reported, partners owing it)
    peers: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


def round_key(user_id: str, periods: Iterable[str]) -> str:
    return f"{user_id}|{'+'.join(sorted(set(periods)))}"


def delivery_key(base: str, nudge: int) -> str:
    return f"{base}|{nudge}"


def is_paused(member: MemberFacts, now: datetime) -> bool:
    return member.pause is not None and as_utc(member.pause.until) > now


def plan_member(member: MemberFacts, initiative: Initiative, tz: ZoneInfo,
                now: datetime) -> PlannedDM | None:
    """The DM this member is due at `now` in zone `tz`, if any (pauses are checked apart)."""
    at = time.fromisoformat(initiative.reminder_time)
    due_at: dict[str, datetime] = {}
    for ob in member.obligations:
        when = member.calendar.move(reminder_due_local(ob.period, initiative.reminder_day,
                                                       at, tz), tz)
        if when <= now:
            due_at[ob.period.key] = when
    owed = [ob for ob in member.obligations if ob.owed and ob.period.key in due_at]
    if not owed:
        return None
    base = round_key(member.user_id, due_at)
    if base not in member.sent:
        base = _continued_round(member, set(due_at)) or base
    history = sorted(member.sent.get(base, []), key=lambda s: s.nudge)
    if history:
        last = history[-1]
        nudge = last.nudge + 1
        every = timedelta(days=max(initiative.nudge_after_days, 1))
        # Wall-clock arithmetic in the member's zone keeps the local time across DST.
        scheduled = member.calendar.move(
            max(max(due_at.values()) + nudge * every, last.sent_at + every), tz)
        snoozed_until = None
        pause = member.pause
        if pause is not None and pause.reason == "snooze" and \
                as_utc(pause.created_at) >= last.sent_at:
            snoozed_until = as_utc(pause.until)
        if snoozed_until is not None:
            if now < min(scheduled, snoozed_until):
                return None
        elif nudge > initiative.max_nudges or now < scheduled:
            return None
    else:
        nudge = 0
    items = tuple(ReminderItem(ob.measure_key, ob.measure_name, ob.period.key, ob.due)
                  for ob in owed)
    return PlannedDM(member.user_id, member.partner_name, delivery_key(base, nudge), nudge, items)


def _continued_round(member: MemberFacts, due: set[str]) -> str | None:
    """The round already under way that covers every due period, if any.

    When a period rolls over (midnight in the initiative's zone) but the new one's reminder
    time has not come yet, the periods still due are a subset of the round already sent:
    its nudges carry on, rather than a new "first reminder" for what was already asked.
    """
    covering = [(max(s.sent_at for s in sent), key) for key, sent in member.sent.items()
                if sent and due <= set(key.partition("|")[2].split("+"))]
    return max(covering)[1] if covering else None


def plan(facts: Facts, now: datetime,
         zones: Callable[[list[str]], dict[str, ZoneInfo]]) -> tuple[list[PlannedDM], list[str]]:
    """Every DM due at `now`, and the members skipped because they paused.

    `zones(users)` resolves time zones; it is asked only about members whose decision
    differs between the earliest and the latest zone on Earth.
    """
    initiative = facts.initiative
    active = [m for m in facts.members if not is_paused(m, now)]
    paused = [m.user_id for m in facts.members if is_paused(m, now)]
    decided: dict[str, PlannedDM | None] = {}
    unsure = []
    for member in active:
        early = plan_member(member, initiative, EARLIEST_ZONE, now)
        late = plan_member(member, initiative, LATEST_ZONE, now)
        if early == late:
            decided[member.user_id] = early
        else:
            unsure.append(member)
    if unsure:
        resolved = zones([m.user_id for m in unsure])
        fallback = ZoneInfo(initiative.timezone)
        for member in unsure:
            decided[member.user_id] = plan_member(
                member, initiative, resolved.get(member.user_id, fallback), now)
    due = [dm for m in active if (dm := decided[m.user_id]) is not None]
    return due, paused


def change_points(member: MemberFacts, initiative: Initiative, tz: ZoneInfo,
                  now: datetime) -> list[datetime]:
    """Every instant after `now` at which `plan_member`'s answer for this member (in zone
    `tz`) can change without a write: a period's reminder time, a nudge's time, the end of
    a snooze or pause. A superset is fine (a tick that finds nothing sends nothing); a
    missing instant would be a late DM. Writes (a report, a skip, a new pause) mark the
    reminder job due at once (storage/due.py), so they need no instant here."""
    at = time.fromisoformat(initiative.reminder_time)
    every = timedelta(days=max(initiative.nudge_after_days, 1))
    points: list[datetime] = []
    due_at: list[datetime] = []
    move = member.calendar.move
    for ob in member.obligations:
        when = reminder_due_local(ob.period, initiative.reminder_day, at, tz)
        when = move(when, tz)
        (due_at if when <= now else points).append(when)
        points.append(move(reminder_due_local(ob.period.next(), initiative.reminder_day, at,
                                              tz), tz))
    for history in member.sent.values():
        if not history:
            continue
        last = max(history, key=lambda s: s.nudge)
        points.append(move(last.sent_at + every, tz))
        if due_at:
            points.append(move(max(due_at) + (last.nudge + 1) * every, tz))
    if member.pause is not None:
        points.append(as_utc(member.pause.until))
    return [as_utc(p) for p in points if p > now]
