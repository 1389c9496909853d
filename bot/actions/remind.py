"""Action reminder DMs to owners, each exactly once (SPEC §11), and when they next fall due.

The scheduler's `action-reminders` job runs `action_tick`; `impactbot tick` runs it too. A
DM is claimed in `action_deliveries` under its key (action, step) with a lease before it is
posted (bot/exactly_once.py), so a second tick or scheduler sends nothing; a claim whose
lease ran out is taken over only after a look at the DM for the key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.schedule import due_step, next_step_time
from bot.actions.view import EVENT_TYPE, reminder_dm
from bot.exactly_once import REAL_TIME, Ledger, post_marked
from bot.reminders.plan import EARLIEST_ZONE
from bot.reminders.timezones import member_zones, zone_or_none
from bot.runtime.caller import load_initiative
from bot.runtime.services import Services
from bot.workdays import WorkCalendar, calendar_of
from storage.calendar_models import Action, ActionDelivery
from storage.models import Initiative, Member, Partner, SlackUser

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
RETRY = timedelta(minutes=5)
LEDGER = Ledger(ActionDelivery, ActionDelivery.id, ActionDelivery.lease_until,
                ActionDelivery.sent_at.is_(None), key=("team_id", "dedupe_key"))


@dataclass(frozen=True)
class OpenAction:
    id: int
    title: str
    owner_id: str
    due: date
    created_at: datetime
    calendar: WorkCalendar


@dataclass(frozen=True)
class PlannedActionDM:
    action: OpenAction
    step: str
    key: str


def _open_actions(session: Session, initiative: Initiative) -> list[OpenAction]:
    rows = session.execute(
        select(Action.id, Action.title, Action.owner_id, Action.due_date, Action.created_at,
               Partner.holidays)
        .outerjoin(Member, Member.user_id == Action.owner_id)
        .outerjoin(Partner, Partner.id == Member.partner_id)
        .where(Action.status.in_(("open", "doing")), Action.due_date.is_not(None))
        .order_by(Action.id)).all()
    return [OpenAction(r.id, r.title, r.owner_id, r.due_date, r.created_at,
                       calendar_of(initiative.calendar, r.holidays or ()))
            for r in rows]


def _sent_keys(session: Session, ids: list[int]) -> set[str]:
    if not ids:
        return set()
    return set(session.scalars(select(ActionDelivery.dedupe_key).where(
        ActionDelivery.action_id.in_(ids), ActionDelivery.sent_at.is_not(None))))


def delivery_key(action_id: int, step: str) -> str:
    return f"action:{action_id}:{step}"


def plan_actions(services: Services, client: WebClient | None,
                 now: datetime) -> list[PlannedActionDM]:
    """Every action DM due at `now` and not sent yet."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        if initiative is None:
            return []
        actions = _open_actions(session, initiative)
        sent = _sent_keys(session, [a.id for a in actions])
    if not actions:
        return []
    fallback = ZoneInfo(initiative.timezone)
    at = time.fromisoformat(initiative.reminder_time)
    zones = member_zones(services.store, client, {a.owner_id for a in actions}, now, fallback)
    planned = []
    for action in actions:
        step = due_step(action.due, at, zones.get(action.owner_id, fallback), action.calendar,
                        action.created_at, now)
        if step is not None and delivery_key(action.id, step[0]) not in sent:
            planned.append(PlannedActionDM(action, step[0], delivery_key(action.id, step[0])))
    return planned


def send_once(services: Services, client: WebClient, dm: PlannedActionDM,
              now: datetime) -> bool:
    """Claim, post, record; False when already sent, held by another worker, or failed."""
    wall = REAL_TIME.now()
    with services.store.session() as session:
        row_id = LEDGER.insert(session, {
            "dedupe_key": dm.key, "action_id": dm.action.id, "user_id": dm.action.owner_id,
            "step": dm.step, "created_at": now, "lease_until": wall + LEASE})
        lease = None
        if row_id is None:
            existing = session.scalar(select(ActionDelivery.id).where(
                ActionDelivery.dedupe_key == dm.key))
            lease = None if existing is None else LEDGER.claim_row(
                session, existing, now=wall, length=LEASE)
            if lease is None:
                return False
            row_id = existing
    message = reminder_dm(dm.action.id, dm.action.title, dm.step, dm.action.due,
                          today=now.date())
    try:
        channel = dm.action.owner_id
        if lease is not None and lease.taken_over:
            opened = client.conversations_open(users=dm.action.owner_id)
            channel = str((opened.get("channel") or {}).get("id") or channel)
        posted = post_marked(client, channel, EVENT_TYPE, {"delivery": dm.key}, message,
                             look=bool(lease and lease.taken_over),
                             since=lease.since if lease else None)
    except (SlackApiError, OSError) as exc:
        log.warning("could not send action reminder %s: %s", dm.key, type(exc).__name__)
        with services.store.session() as session:
            LEDGER.release(session, ActionDelivery.id == row_id, retry_at=REAL_TIME.now())
        return False
    with services.store.session() as session:
        LEDGER.record(session, ActionDelivery.id == row_id,
                      {"sent_at": now, "channel": posted.channel, "ts": posted.ts})
    return True


def run_action_reminders(services: Services, client: WebClient | None, now: datetime,
                         dry_run: bool = False) -> list[PlannedActionDM]:
    planned = plan_actions(services, client, now)
    if dry_run or client is None:
        return planned
    return [dm for dm in planned if send_once(services, client, dm, now)]


def action_tick(services: Services) -> None:
    """The scheduled job (bot/runtime/scheduler.py)."""
    run_action_reminders(services, services.client(), services.clock.now())


def actions_next_due(services: Services, now: datetime) -> datetime | None:
    """The next step's instant over every open action (cached zones; an unknown one counts
    as both the earliest zone on Earth and the initiative's), or a retry soon when a step
    due now is still unsent."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        if initiative is None:
            return None
        actions = _open_actions(session, initiative)
        sent = _sent_keys(session, [a.id for a in actions])
        zones = {u: zone_or_none(tz) for u, tz in session.execute(
            select(SlackUser.user_id, SlackUser.tz).where(
                SlackUser.user_id.in_({a.owner_id for a in actions})))} if actions else {}
    fallback = ZoneInfo(initiative.timezone)
    at = time.fromisoformat(initiative.reminder_time)
    points: list[datetime] = []
    for action in actions:
        zone = zones.get(action.owner_id)
        for tz in ([zone] if zone else [EARLIEST_ZONE, fallback]):
            step = due_step(action.due, at, tz, action.calendar, action.created_at, now)
            if zone and step is not None and delivery_key(action.id, step[0]) not in sent:
                return now + RETRY
            following = next_step_time(action.due, at, tz, action.calendar,
                                       action.created_at, now)
            if following is not None:
                points.append(following)
    return min(points, default=None)
