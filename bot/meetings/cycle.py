"""The meeting cycle as the scheduler runs it (job `meetings`): agenda requests, the agenda
post with what needs attention and the .ics, cancellations; and when it is next due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.store import action_lines
from bot.measures.obligations import obligations
from bot.measures.view import measure_statuses
from bot.meetings import ics
from bot.meetings.plan import Occurrence, agenda_time, meetings_of, request_time, upcoming
from bot.meetings.steps import log, send_once, sent_keys
from bot.reminders.plan import EARLIEST_ZONE
from bot.reminders.timezones import member_zones, zone_or_none
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.runtime.caller import load_initiative
from bot.runtime.services import Services
from bot.workdays import WorkCalendar, calendar_of
from storage.calendar_models import MeetingItem
from storage.models import Initiative, Member, Partner, SlackUser

RETRY = timedelta(minutes=5)


@dataclass(frozen=True)
class Step:
    key: str
    at: datetime
    to: str  # a user id (DM) or the meeting's channel
    occurrence: Occurrence
    kind: str  # request | agenda | cancelled


@dataclass(frozen=True)
class Attendee:
    """Someone a meeting may include: their calendar, their partners, whether an admin."""

    calendar: WorkCalendar
    partners: frozenset[str] = frozenset()
    admin: bool = False


def people(session: Session, initiative: Initiative) -> dict[str, Attendee]:
    """Everyone any meeting could include: every active partner's members, and the admins
    (each meeting's `partners`, when set, narrows it: `Meeting.includes`)."""
    admins = set(initiative.admins or ())
    partners: dict[str, set[str]] = {}
    holidays_of: dict[str, list[str]] = {}
    for user, key, holidays in session.execute(
            select(Member.user_id, Partner.key, Partner.holidays)
            .join(Partner, Partner.id == Member.partner_id)
            .where(Partner.active.is_(True)).order_by(Partner.key)):
        partners.setdefault(user, set()).add(key)
        holidays_of.setdefault(user, []).extend(holidays or ())
    found = {user: Attendee(calendar_of(initiative.calendar), admin=True) for user in admins}
    for user, keys in partners.items():
        found[user] = Attendee(calendar_of(initiative.calendar, holidays_of[user]),
                               frozenset(keys), user in admins)
    return found


def items_for(session: Session, occ: Occurrence) -> list[tuple[str, str]]:
    return [(u, t) for u, t in session.execute(
        select(MeetingItem.user_id, MeetingItem.text).where(
            MeetingItem.meeting_key == occ.meeting.key, MeetingItem.occurs_on == occ.scheduled)
        .order_by(MeetingItem.id))]


def steps(initiative: Initiative, members: dict[str, Attendee],
          zones: dict[str, ZoneInfo | None], now: datetime) -> list[Step]:
    tz = ZoneInfo(initiative.timezone)
    at = time.fromisoformat(initiative.reminder_time)
    calendar = calendar_of(initiative.calendar)
    today = now.astimezone(tz).date()
    out: list[Step] = []
    for occ in upcoming(meetings_of(initiative.calendar), today, calendar):
        if occ.starts(tz) <= now:
            continue
        kind = "agenda" if occ.on is not None else "cancelled"
        out.append(Step(f"{kind}:{occ.key}", agenda_time(occ, at, tz), occ.meeting.channel,
                        occ, kind))
        if occ.on is None:
            continue
        for user, person in members.items():
            if not occ.meeting.includes(person.partners, person.admin):
                continue
            zone = zones.get(user)
            for z in ([zone] if zone else [EARLIEST_ZONE, tz]):
                out.append(Step(f"request:{occ.key}:{user}",
                                request_time(occ, at, z, person.calendar), user, occ,
                                "request"))
    return out


def _load(services: Services) -> tuple[Initiative, dict[str, Attendee]] | None:
    with services.store.session() as session:
        initiative = load_initiative(session)
        if initiative is None or not meetings_of(initiative.calendar):
            return None
        return initiative, people(session, initiative)


def meetings_tick(services: Services) -> None:
    run_meetings(services, services.client(), services.clock.now())


def run_meetings(services: Services, client: WebClient | None, now: datetime,
                 dry_run: bool = False) -> list[Step]:
    loaded = _load(services)
    if loaded is None:
        return []
    initiative, members = loaded
    tz = ZoneInfo(initiative.timezone)
    zones: dict[str, ZoneInfo | None] = dict(member_zones(
        services.store, client, list(members), now, tz))
    sent = sent_keys(services, "")
    due = {s.key: s for s in steps(initiative, members, zones, now)
           if s.at <= now and s.key not in sent}
    if dry_run or client is None:
        return list(due.values())
    done = []
    for step in due.values():
        today = now.astimezone(tz).date()
        message = (request_message(step.occurrence, tz, today) if step.kind == "request"
                   else cancelled_message(step.occurrence, today) if step.kind == "cancelled"
                   else agenda_message(services, initiative, step.occurrence, now))
        posted = send_once(services, client, step.key, step.to, message, now)
        if posted is not None and step.kind == "agenda":
            _upload_ics(services, client, initiative, step.occurrence, posted, now)
        if posted is not None:
            done.append(step)
    return done


def meetings_next_due(services: Services, now: datetime) -> datetime | None:
    loaded = _load(services)
    if loaded is None:
        return None
    initiative, members = loaded
    with services.store.session() as session:
        zones = {u: zone_or_none(tz) for u, tz in session.execute(
            select(SlackUser.user_id, SlackUser.tz).where(SlackUser.user_id.in_(list(members))))}
    sent = sent_keys(services, "")
    points = []
    for step in steps(initiative, members, zones, now):
        if step.key in sent:
            continue
        if step.at <= now:
            return now + RETRY
        points.append(step.at)
    # Past the horizon: look again before the next occurrence's first step could fall.
    points.append(now + timedelta(days=7))
    return min(points)


def _when(occ: Occurrence, tz: ZoneInfo, today: date | None) -> str:
    return dates.moment(occ.starts(tz).astimezone(tz), today)


def request_message(occ: Occurrence, tz: ZoneInfo, today: date | None = None
                    ) -> dict[str, Any]:
    name = bk.escape(occ.meeting.name)
    # The meeting's key, so the item goes to this meeting whichever of theirs comes first.
    add = f"`/impact meeting add {occ.meeting.key}: TEXT`"
    text = (f"{name} meets {_when(occ, tz, today)}. What should be on the agenda? Add items with "
            f"{add}.")
    return bk.message(text, [bk.section(f":spiral_calendar_pad: *{name}* meets "
                                        f"{_when(occ, tz, today)} in <#{occ.meeting.channel}>."),
                             bk.section(f"What should be on the agenda? Add an item with {add}.")])


def cancelled_message(occ: Occurrence, today: date | None = None) -> dict[str, Any]:
    text = (f"{bk.escape(occ.meeting.name)} on {dates.action_day(occ.scheduled, today)} is "
            "cancelled: the "
            "initiative is off that day.")
    return bk.message(text, [bk.section(f":no_entry_sign: {text}")])


def needs_attention(session: Session, initiative: Initiative, now: datetime,
                    partners: tuple[str, ...] | None = None) -> list[str]:
    """Measures below their baseline, overdue actions, and partners behind on reporting
    (of `partners` only, when the meeting names some)."""
    today = now.astimezone(ZoneInfo(initiative.timezone)).date()
    lines = []
    for m in measure_statuses(session, initiative, now):
        if m.value is not None and m.baseline is not None and (
                (m.direction == "up" and m.value < m.baseline)
                or (m.direction == "down" and m.value > m.baseline)):
            lines.append(f"📉 *{bk.escape(m.name)}* is below its baseline "
                         f"({m.value:g} against {m.baseline:g})")
    monday = today - timedelta(days=today.weekday())
    late = action_lines(session, now, now, monday, today).overdue
    lines += [f"⏰ Overdue: {line}" for line in late]
    behind: dict[str, date] = {}
    names = dict(session.execute(select(Partner.key, Partner.name)).all())
    for ob in obligations(session, initiative, now):
        if ob.owed and ob.due < today and (partners is None or ob.partner_key in partners):
            name = names.get(ob.partner_key, ob.partner_key)
            behind[name] = min(ob.due, behind.get(name, ob.due))
    lines += [f"📋 *{bk.escape(name)}* is behind on reporting (due "
              f"{dates.action_day(due, today)})"
              for name, due in sorted(behind.items())]
    return lines


def agenda_message(services: Services, initiative: Initiative, occ: Occurrence,
                   now: datetime) -> dict[str, Any]:
    tz = ZoneInfo(initiative.timezone)
    today = now.astimezone(tz).date()
    with services.store.session() as session:
        items = items_for(session, occ)
        attention = needs_attention(session, initiative, now, occ.meeting.partners)
    name = bk.escape(occ.meeting.name)
    agenda = "\n".join(f"{n}. {bk.safe_user_text(t)} (<@{u}>)"
                       for n, (u, t) in enumerate(items, 1)) or "_No items were added._"
    blocks = [bk.header(f"Agenda: {occ.meeting.name}"),
              bk.section(f"*{name}* meets {_when(occ, tz, today)}."),
              bk.section(f"*Agenda*\n{agenda}"),
              bk.section("*Needs attention*\n" + ("\n".join(attention[:20]) or
                                                  "_Nothing: every measure is at or above "
                                                  "its baseline, no action is overdue._")),
              bk.context("The calendar invitation is in the thread. After the meeting, "
                         "`/impact meeting notes` records notes, decisions and actions.")]
    return bk.message(f"Agenda for {name}, {_when(occ, tz, today)}: {len(items)} item(s), "
                      f"{len(attention)} needing attention.", blocks)


def _upload_ics(services: Services, client: WebClient, initiative: Initiative,
                occ: Occurrence, posted: tuple[str, str], now: datetime) -> None:
    with services.store.session() as session:
        items = [text for _, text in items_for(session, occ)]
    data = ics.invitation(occ, ZoneInfo(initiative.timezone), initiative.name, items, now)
    try:
        client.files_upload_v2(channel=posted[0], thread_ts=posted[1], content=data,
                               filename=ics.filename(occ), title=f"{occ.meeting.name} (.ics)",
                               request_file_info=False)
    except SlackApiError as exc:
        log.error("could not upload the meeting's .ics: %s", exc.response.get("error"))
