"""`/impact meeting`, `meeting add TEXT` and the notes modal (SPEC §11): agenda items for
the next occurrence; after the meeting, notes, decisions and actions (each action becomes
an Action), posted to the meeting's channel, and one DM per owner listing theirs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.parse import ActionRequest
from bot.actions.store import add_action
from bot.meetings.cycle import items_for
from bot.meetings.plan import Meeting, Occurrence, meetings_of, upcoming
from bot.meetings.steps import send_once
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.runtime.caller import Caller, require_initiative
from bot.runtime.errors import UserError
from bot.runtime.services import Services
from bot.workdays import calendar_of
from storage.calendar_models import MeetingItem
from storage.models import Initiative, Member, Partner

NOTES_CALLBACK = "meeting_notes"
ACTION_ROWS = 3
MAX_ITEM = 500


def partners_of(session: Session, user_id: str) -> frozenset[str]:
    """The active partners a person is a member of (usually one)."""
    return frozenset(session.scalars(
        select(Partner.key).join(Member, Member.partner_id == Partner.id)
        .where(Member.user_id == user_id, Partner.active.is_(True))))


def _meetings_for(session: Session, caller: Caller | None
                  ) -> tuple[Initiative, list[Meeting]]:
    """The initiative's meetings; with a partner member as `caller`, theirs only (a
    meeting's `partners` narrow who is in it; admins are in every one)."""
    initiative = require_initiative(session)
    meetings = meetings_of(initiative.calendar)
    if not meetings:
        raise UserError("This initiative has no meetings yet: the backbone team adds them "
                        "under `meetings:` in initiative.yml.")
    if caller is not None and caller.is_member and not caller.is_admin:
        partners = partners_of(session, caller.user_id)
        meetings = [m for m in meetings if m.includes(partners, admin=False)]
        if not meetings:
            raise UserError("None of the initiative's meetings includes your partner: the "
                            "backbone team lists each meeting's partners in initiative.yml.")
    return initiative, meetings


def _occurrences(session: Session, now: datetime, caller: Caller | None = None
                 ) -> tuple[list[Occurrence], ZoneInfo]:
    initiative, meetings = _meetings_for(session, caller)
    tz = ZoneInfo(initiative.timezone)
    today = now.astimezone(tz).date()
    return upcoming(meetings, today, calendar_of(initiative.calendar)), tz


def next_occurrence(session: Session, now: datetime, caller: Caller | None = None,
                    key: str | None = None) -> tuple[Occurrence, ZoneInfo]:
    """The next occurrence of the caller's meetings (of meeting `key` only, when given)."""
    found, tz = _occurrences(session, now, caller)
    ahead = [o for o in found if o.on is not None and o.starts(tz) > now
             and (key is None or o.meeting.key == key)]
    if not ahead:
        raise UserError("No meeting is scheduled in the next weeks." if key is None else
                        f"No {key} meeting is scheduled in the next weeks.")
    return ahead[0], tz


def _addressed(session: Session, caller: Caller, text: str) -> tuple[str | None, str]:
    """`KEY: item` names one of the caller's meetings; anything else is the item alone."""
    head, colon, rest = text.partition(":")
    if not colon or " " in head.strip():
        return None, text
    key = head.strip().lower()
    return (key, rest) if _is_my_meeting(session, caller, key) else (None, text)


def _is_my_meeting(session: Session, caller: Caller | None, key: str) -> bool:
    """False when no meeting has this key; a UserError when the caller is not in it."""
    initiative, mine = _meetings_for(session, caller)
    if key not in {m.key for m in meetings_of(initiative.calendar)}:
        return False
    if key not in {m.key for m in mine}:
        raise UserError(f"You are not in the {key} meeting: its partners are listed under "
                        "`meetings:` in initiative.yml.")
    return True


def latest_occurrence(session: Session, now: datetime, caller: Caller | None = None,
                      key: str | None = None) -> Occurrence:
    """The caller's meeting just held (within a week), else the next one; of meeting `key`
    only, when given."""
    if key is not None and not _is_my_meeting(session, caller, key):
        keys = [m.key for m in meetings_of(require_initiative(session).calendar)]
        raise UserError(f"There is no meeting {key!r}: the meetings are "
                        f"{', '.join(f'`{k}`' for k in keys)}.")
    found, tz = _occurrences(session, now, caller)
    held = [o for o in found if o.on is not None and now - timedelta(days=7) <= o.starts(tz)
            <= now and (key is None or o.meeting.key == key)]
    return held[-1] if held else next_occurrence(session, now, caller, key)[0]


def add_item(session: Session, caller: Caller, text: str, now: datetime) -> Occurrence:
    """To the next meeting the caller is in, or to meeting KEY (`KEY: item`)."""
    if not (caller.is_member or caller.is_admin):
        raise UserError("Only partner members and the backbone team add agenda items.")
    key, text = _addressed(session, caller, text.strip())
    text = text.strip()
    if not text:
        raise UserError("Say what to discuss: `/impact meeting add Referral backlog`.")
    if len(text) > MAX_ITEM:
        raise UserError(f"Please keep an agenda item under {MAX_ITEM} characters.")
    occ, _ = next_occurrence(session, now, caller, key)
    session.add(MeetingItem(meeting_key=occ.meeting.key, occurs_on=occ.scheduled,
                            user_id=caller.user_id, text=text, created_at=now))
    return occ


def show_next(session: Session, now: datetime, caller: Caller | None = None
              ) -> dict[str, Any]:
    occ, tz = next_occurrence(session, now, caller)
    start = occ.starts(tz).astimezone(tz)
    items = items_for(session, occ)
    agenda = "\n".join(f"{n}. {bk.safe_user_text(t)} (<@{u}>)"
                       for n, (u, t) in enumerate(items, 1)) or "_No items yet._"
    today = now.astimezone(tz).date()
    moved = (f" (moved from {dates.action_day(occ.scheduled, today)}: a day off)"
             if occ.on != occ.scheduled else "")
    head = (f"*{bk.escape(occ.meeting.name)}* meets {dates.moment(start, today)}{moved} in "
            f"<#{occ.meeting.channel}>.")
    return bk.message(f"Next meeting: {occ.meeting.name}, {dates.moment(start, today)}",
                      [bk.section(head), bk.section(f"*Agenda*\n{agenda}"),
                       bk.context("Add an item with `/impact meeting add TEXT`.")])


def notes_modal(occ: Occurrence, today: date | None = None) -> dict[str, Any]:
    blocks = [
        bk.section(f"*{bk.escape(occ.meeting.name)}*, "
                   f"{dates.action_day(occ.on or occ.scheduled, today)}"),
        bk.input_block("notes", "Notes", bk.text_input("notes", multiline=True,
                                                       max_length=2900), optional=True),
        bk.input_block("decisions", "Decisions (one per line)",
                       bk.text_input("decisions", multiline=True, max_length=2900),
                       optional=True)]
    for n in range(1, ACTION_ROWS + 1):
        blocks += [
            bk.input_block(f"action_{n}", f"Action {n}", bk.text_input(f"action_{n}",
                                                                       max_length=300),
                           optional=True),
            bk.input_block(f"owner_{n}", f"Action {n}: owner",
                           {"type": "users_select", "action_id": f"owner_{n}"}, optional=True),
            bk.input_block(f"due_{n}", f"Action {n}: due",
                           {"type": "datepicker", "action_id": f"due_{n}"}, optional=True)]
    return bk.modal("Meeting notes", blocks, callback_id=NOTES_CALLBACK, submit="Save",
                    private_metadata=occ.key)


@dataclass
class Recorded:
    occurrence_key: str
    channel: str
    meeting_name: str
    notes: str
    decisions: list[str]
    actions: list[tuple[int, str, str, date | None]] = field(default_factory=list)


def _value(values: dict[str, Any], block: str, key: str = "value") -> Any:
    return ((values.get(block) or {}).get(block) or {}).get(key)


def record_notes(session: Session, caller: Caller, occ_key: str, values: dict[str, Any],
                 today: date, now: datetime) -> Recorded:
    """Every action checked and written, or a UserError naming the block (`block: reason`)."""
    found, _ = _occurrences(session, now)
    occ = next((o for o in found if o.key == occ_key), None)
    if occ is None:
        raise UserError("notes: this meeting is no longer in the calendar.")
    if not (caller.is_admin or occ.meeting.includes(partners_of(session, caller.user_id),
                                                    admin=False)):
        raise UserError("notes: only this meeting's partners and the backbone team record "
                        "its notes.")
    recorded = Recorded(occ.key, occ.meeting.channel, occ.meeting.name,
                        str(_value(values, "notes") or "").strip(),
                        [line.strip() for line in str(_value(values, "decisions") or "")
                         .splitlines() if line.strip()])
    for n in range(1, ACTION_ROWS + 1):
        title = str(_value(values, f"action_{n}") or "").strip()
        if not title:
            continue
        request = ActionRequest(title, _value(values, f"owner_{n}", "selected_user"),
                                _value(values, f"due_{n}", "selected_date"), None)
        try:
            action = add_action(session, caller, request, today, now, source="meeting",
                                meeting_key=occ.meeting.key)
        except UserError as exc:
            block = f"due_{n}" if request.due_text and request.due_text in str(exc) \
                else f"owner_{n}"
            raise UserError(f"{block}: {exc}") from None
        recorded.actions.append((action.id, action.title, action.owner_id, action.due_date))
    return recorded


def follow_up(services: Services, client: WebClient, recorded: Recorded,
              now: datetime) -> None:
    """The notes in the meeting's channel, and one DM per owner listing their actions."""
    name = bk.escape(recorded.meeting_name)
    today = now.date()
    decisions = "\n".join(f"• {bk.safe_user_text(d)}" for d in recorded.decisions) or "_None._"
    actions = "\n".join(f"• *#{i}* {bk.safe_user_text(t)} — <@{o}>"
                        + (f", due {dates.action_day(d, today)}" if d else "")
                        for i, t, o, d in recorded.actions) or "_None._"
    first = recorded.actions[0][0] if recorded.actions else 0
    send_once(services, client, f"notes:{recorded.occurrence_key}:{first}", recorded.channel,
              bk.message(f"Notes from {name}: {len(recorded.decisions)} decision(s), "
                         f"{len(recorded.actions)} action(s)", [
                  bk.header(f"Notes: {recorded.meeting_name}"),
                  bk.section(bk.safe_user_text(recorded.notes) or "_No notes._"),
                  bk.section(f"*Decisions*\n{decisions}"),
                  bk.section(f"*Actions*\n{actions}")]), now)
    mine: dict[str, list[tuple[int, str, date | None]]] = defaultdict(list)
    for action_id, title, owner, due in recorded.actions:
        mine[owner].append((action_id, title, due))
    for owner, theirs in sorted(mine.items()):
        listing = "\n".join(f"• *#{i}* {bk.safe_user_text(t)}"
                            + (f" (due {dates.action_day(d, today)})" if d else "")
                            for i, t, d in theirs)
        send_once(services, client, f"followup:{recorded.occurrence_key}:{owner}:{theirs[0][0]}",
                  owner, bk.message(f"From {name}: {len(theirs)} action(s) for you", [
                      bk.section(f":clipboard: From *{name}*, your action(s):\n{listing}"),
                      bk.context("`/impact actions` lists them; `/impact action done ID` "
                                 "closes one.")]), now)
