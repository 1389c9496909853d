"""`/impact status`: what the caller's partner still owes, for which period, due when."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.measures.obligations import Obligation, obligations
from bot.measures.periods import DUE_AFTER_DAYS
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.runtime.caller import Caller
from storage.models import Initiative

MAX_LISTED = 40


def status_message(session: Session, initiative: Initiative, caller: Caller,
                   now: datetime) -> dict[str, Any]:
    today = now.astimezone(ZoneInfo(initiative.timezone)).date()
    if caller.partner_id is not None:
        items = obligations(session, initiative, now, [caller.partner_id])
        return _partner_status(caller, items, today, initiative.reminder_day,
                               initiative.start)
    if caller.is_admin:
        return _initiative_status(obligations(session, initiative, now),
                                  due_rule(initiative.reminder_day))
    text = ("You are not a member of any partner in this initiative, so you owe no reports. "
            "`/impact measures` shows where every measure stands.")
    return bk.message(text, [bk.section(text)])


def _due(o: Obligation, today: date) -> str:
    when = dates.action_day(o.due, today)
    return f"overdue since {when}" if o.due < today else f"due {when}"


def due_rule(reminder_day: int, start: date | None = None,
             today: date | None = None) -> str:
    """How due dates are set, in one line (bot/measures/periods.py `due_date` and
    `due_from_start`; docs/handbook.md says the same). `start` is named only when it
    set a listed due date."""
    day = max(reminder_day, 1)
    floor = (f"; as the initiative started on {dates.day(start)}, nothing is due before "
             f"{dates.action_day(start + timedelta(days=DUE_AFTER_DAYS), today)}"
             if start is not None else "")
    return (f"Due dates: a report is due {DUE_AFTER_DAYS} calendar days after its reminder, "
            f"which comes on day {day} of the period after the one reported — so on day "
            f"{day + DUE_AFTER_DAYS} of it, or on its last day if that is sooner (days off do "
            f"not move it){floor}.")


def _partner_status(caller: Caller, items: list[Obligation], today: date,
                    reminder_day: int = 1, start: date | None = None) -> dict[str, Any]:
    name = bk.escape(caller.partner_name or "Your partner")
    owed = [o for o in items if o.owed]
    done = [o for o in items if not o.owed]
    if not items:
        text = f"{name} has no measures assigned."
        return bk.message(text, [bk.section(text)])
    if not owed:
        head = f"{name} is up to date: nothing owed right now."
    else:
        head = f"{name} still owes {len(owed)} report{'s' if len(owed) != 1 else ''}."
    blocks: list[bk.Block] = [bk.section(f"*{head}*")]
    for o in owed[:MAX_LISTED]:
        blocks.append(bk.section(
            f"*{bk.escape(o.measure_name)}* (`{o.measure_key}`) for *{o.period.key}* — "
            f"{_due(o, today)}",
            accessory=bk.button("Report", f"report_open:{o.measure_key}", o.period.key)))
    if done:
        blocks.append(bk.context(
            "Done: " + ", ".join(f"`{o.measure_key}` {o.period.key} ({o.status})"
                                 for o in done)))
    if owed:
        # The start is named only when it set a due date shown here (SPEC §9).
        floor = start + timedelta(days=DUE_AFTER_DAYS) if start is not None else None
        named = start if any(o.due == floor for o in owed) else None
        blocks.append(bk.context(due_rule(reminder_day, named, today)))
    lines = [head] + [f"{o.measure_key} for {o.period.key}, {_due(o, today)}" for o in owed]
    return bk.message("\n".join(lines), blocks)


def _initiative_status(items: list[Obligation], rule: str) -> dict[str, Any]:
    by_partner: dict[str, list[Obligation]] = defaultdict(list)
    for o in items:
        by_partner[o.partner_key].append(o)
    lines = []
    for key, owed_items in by_partner.items():
        owed = [o for o in owed_items if o.owed]
        what = ", ".join(f"`{o.measure_key}` {o.period.key}" for o in owed) or "nothing"
        lines.append(f"`{key}` owes {len(owed)} of {len(owed_items)}: {what}")
    head = ("You are a backbone admin, not a partner member. What each partner still owes:"
            if lines else "No partner has measures assigned yet.")
    text = "\n".join([head, *lines])
    footer = [bk.context(rule)] if lines else []
    if len(text) <= bk.SECTION_LIMIT:
        return bk.message(text, [bk.section(text), *footer])
    # A large initiative: each partner's count, over as many sections as it takes.
    counts = [f"`{key}` owes {sum(1 for o in items if o.owed)} of {len(items)}"
              for key, items in by_partner.items()]
    sections: list[str] = []
    for line in counts:
        if sections and len(sections[-1]) + 1 + len(line) <= bk.SECTION_LIMIT:
            sections[-1] += "\n" + line
        else:
            sections.append(line)
    blocks = [bk.section(head), *(bk.section(chunk) for chunk in
                                  sections[:bk.MESSAGE_BLOCK_LIMIT - 2]), *footer]
    return bk.message("\n".join([head, *counts]), blocks)
