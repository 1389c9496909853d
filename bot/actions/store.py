"""Actions in the store: add, list, status updates, and who may change one (SPEC §11).

Only the owner, the members of the owner's partner and the initiative's admins change an
action; everything refused is refused with the reason, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.actions.digest import ActionLines
from bot.actions.parse import ActionRequest, parse_due
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.runtime.caller import Caller, identify, require_initiative
from bot.runtime.errors import UserError
from storage.calendar_models import Action, ActionUpdate
from storage.kinds import ActionSource, ActionStatus
from storage.models import Measure, Partner

OPEN: tuple[ActionStatus, ...] = ("open", "doing")
MAX_UPDATE = 1000


@dataclass(frozen=True)
class ActionRow:
    id: int
    title: str
    owner_id: str
    partner_name: str | None
    due_date: date | None
    status: ActionStatus
    measure_key: str | None
    last_update: str | None


def _not_allowed_to_add() -> UserError:
    return UserError("Only partner members and the backbone team add actions, and you are "
                     "not on a partner yet. Nothing was added.")


def add_action(session: Session, caller: Caller, request: ActionRequest, today: date,
               now: datetime, source: ActionSource = "slash",
               meeting_key: str | None = None) -> Action:
    """Check everything, then write the action (one transaction, the caller's)."""
    require_initiative(session)
    if not (caller.is_member or caller.is_admin):
        raise _not_allowed_to_add()
    owner_id = request.owner or caller.user_id
    owner = identify(session, owner_id)
    if not (owner.is_member or owner.is_admin):
        raise UserError(f"<@{owner_id}> is not on a partner or the backbone team of this "
                        "initiative, so they cannot own an action. Nothing was added.")
    due = parse_due(request.due_text, today) if request.due_text else None
    measure_id = None
    if request.measure_key:
        measure_id = session.scalar(select(Measure.id).where(
            Measure.key == request.measure_key, Measure.active.is_(True)))
        if measure_id is None:
            keys = ", ".join(session.scalars(select(Measure.key).where(
                Measure.active.is_(True)).order_by(Measure.position)))
            raise UserError(f"There is no measure {request.measure_key!r} (the measures are "
                            f"{keys}). Nothing was added.")
    action = Action(title=request.title, owner_id=owner_id, partner_id=owner.partner_id,
                    due_date=due, status="open", measure_id=measure_id, source=source,
                    meeting_key=meeting_key, created_by=caller.user_id, created_at=now,
                    updated_at=now)
    session.add(action)
    session.flush()
    return action


def find_action(session: Session, text: str) -> Action:
    raw = text.strip().lstrip("#")
    action = session.get(Action, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if action is None:
        raise UserError(f"There is no action {text.strip()!r}: `/impact actions all` lists "
                        "them with their numbers. Nothing was changed.")
    return action


def may_change(caller: Caller, action: Action) -> bool:
    return (caller.user_id == action.owner_id or caller.is_admin
            or (caller.partner_id is not None and caller.partner_id == action.partner_id))


def change_status(session: Session, caller: Caller, id_text: str, text: str,
                  status: ActionStatus | None, now: datetime) -> Action:
    """A status update (who, when, what), with a new status when given. An update on an
    open action means work has started (doing)."""
    action = find_action(session, id_text)
    if not may_change(caller, action):
        raise UserError(f"Action #{action.id} is <@{action.owner_id}>'s: only they, their "
                        "partner's members and the backbone team can change it. Nothing was "
                        "changed.")
    if len(text) > MAX_UPDATE:
        raise UserError(f"Please keep an update under {MAX_UPDATE} characters. "
                        "Nothing was changed.")
    if status is None and not text.strip():
        raise UserError(f"Say what happened: `/impact action {action.id} Sent the draft to "
                        "the clinics`. Nothing was changed.")
    if status is None and action.status == "open":
        status = "doing"
    if status is not None:
        action.status = status
        action.done_at = now if status == "done" else None
    action.updated_at = now
    session.add(ActionUpdate(action_id=action.id, user_id=caller.user_id, text=text.strip(),
                             status=status, created_at=now))
    session.flush()
    return action


def list_actions(session: Session, *, owner: str | None = None, key: str | None = None,
                 statuses: tuple[ActionStatus, ...] = OPEN, limit: int = 40
                 ) -> list[ActionRow]:
    query = (select(Action, Partner.name, Measure.key)
             .outerjoin(Partner, Partner.id == Action.partner_id)
             .outerjoin(Measure, Measure.id == Action.measure_id)
             .where(Action.status.in_(statuses)))
    if owner is not None:
        query = query.where(Action.owner_id == owner)
    if key is not None:
        query = query.where((Measure.key == key) | (Partner.key == key))
    query = query.order_by(Action.due_date.is_(None), Action.due_date, Action.id).limit(limit)
    rows = session.execute(query).all()
    latest: dict[int, str] = {}
    ids = [row[0].id for row in rows]
    if ids:
        for action_id, text in session.execute(
                select(ActionUpdate.action_id, ActionUpdate.text)
                .where(ActionUpdate.action_id.in_(ids), ActionUpdate.text != "")
                .order_by(ActionUpdate.created_at, ActionUpdate.id)):
            latest[action_id] = text
    return [ActionRow(a.id, a.title, a.owner_id, partner, a.due_date, a.status, measure,
                      latest.get(a.id)) for a, partner, measure in rows]


def is_key(session: Session, key: str) -> bool:
    return (session.scalar(select(Measure.id).where(Measure.key == key)) is not None
            or session.scalar(select(Partner.id).where(Partner.key == key)) is not None)


def _line(action: Action, today: date) -> str:
    due = f" (due {dates.action_day(action.due_date, today)})" if action.due_date else ""
    return f"*#{action.id}* {bk.safe_user_text(bk.truncate(action.title, 120))} — " \
           f"<@{action.owner_id}>{due}"


def action_lines(session: Session, week_start: datetime, week_end: datetime,
                 monday: date, today: date) -> ActionLines:
    """Done this week, due next week, overdue: one statement, sorted apart here."""
    next_monday = monday + timedelta(days=7)
    following = next_monday + timedelta(days=7)
    open_ = Action.status.in_(("open", "doing"))
    rows = list(session.scalars(select(Action).where(or_(
        and_(Action.status == "done", Action.done_at >= week_start, Action.done_at < week_end),
        and_(open_, Action.due_date >= next_monday, Action.due_date < following),
        and_(open_, Action.due_date < today))).order_by(Action.id)))
    dated = [(a.due_date, a) for a in rows
             if a.status in ("open", "doing") and a.due_date is not None]
    done = sorted((a for a in rows if a.status == "done"),
                  key=lambda a: (a.done_at or week_start, a.id))
    due = [a for day, a in sorted(dated, key=lambda p: (p[0], p[1].id))
           if next_monday <= day < following]
    late = [a for day, a in sorted(dated, key=lambda p: (p[0], p[1].id)) if day < today]
    return ActionLines([_line(a, today) for a in done], [_line(a, today) for a in due],
                       [_line(a, today) for a in late])
