"""The story behind the curve (SPEC §10): what's helping, what's hurting, partners with a
role, what works, what we propose. One current story per partner, measure and period (the
measure's reporting period when it is told); a second supersedes the first, which stays in
the history. `/impact story KEY TEXT` records a short one, `/impact story KEY` opens the
modal, and the confirmation of a report offers it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.measures.periods import as_cadence, reporting_period
from bot.measures.reporting import find_measure
from bot.rendering import blocks as bk
from bot.runtime.caller import identify, require_initiative
from bot.runtime.errors import UserError
from storage.db import Store
from storage.models import Story

CALLBACK_ID = "story_submit"
OPEN_ACTION = "story_open"
FIELDS = (("helping", "What's helping?"), ("hurting", "What's hurting?"),
          ("partners_role", "Partners with a role to play"), ("what_works", "What works?"),
          ("proposal", "What do we propose to do?"))
LIMIT = 1000


def _measure_and_partner(session: Session, user_id: str, key: str) -> tuple[Any, Any, Any]:
    initiative = require_initiative(session)
    caller = identify(session, user_id, initiative)
    if caller.partner_id is None:
        raise UserError("Only partner members can tell the story behind a curve, for "
                        "their partner: you are not a member of any partner here.")
    measure = find_measure(session, key)
    if measure.development:
        raise UserError(f"`{measure.key}` is on the data development agenda: there is no "
                        "curve yet to tell the story of.")
    return initiative, caller, measure


def record_story(store: Store, user_id: str, key: str, parts: dict[str, str],
                 now: datetime) -> str:
    """Store the partner's story for the measure's reporting period; returns the answer."""
    parts = {k: v.strip() for k, v in parts.items() if k in dict(FIELDS) and v and v.strip()}
    if not parts:
        raise UserError("Tell the story in a few words: `/impact story KEY what's helping, "
                        "what's hurting…`, or `/impact story KEY` for the form.")
    for name, text in parts.items():
        if len(text) > LIMIT:
            raise UserError(f"{dict(FIELDS)[name]} is {len(text)} characters; keep it "
                            f"under {LIMIT}.")
    with store.session() as session:
        initiative, caller, measure = _measure_and_partner(session, user_id, key)
        period = reporting_period(as_cadence(measure.cadence), now,
                                  ZoneInfo(initiative.timezone), initiative.fiscal_year_start).key
        key_of = (Story.measure_id == measure.id, Story.partner_id == caller.partner_id,
                  Story.period == period, Story.is_current.is_(True))
        replaced = session.scalar(select(Story.id).where(*key_of).with_for_update())
        session.execute(update(Story).where(*key_of).values(is_current=False))
        session.add(Story(measure_id=measure.id, partner_id=caller.partner_id, period=period,
                          written_by=user_id, written_at=now, is_current=True,
                          **{name: parts.get(name, "") for name, _ in FIELDS}))
    again = " It replaces the earlier one, which stays in the history." if replaced else ""
    return (f"Kept the story behind the curve of *{bk.escape(measure.name)}* for "
            f"{bk.escape(caller.partner_name or '')}, period {period}.{again} It shows in the "
            f"digest and on `/impact measures {measure.key}`.")


def story_modal(store: Store, user_id: str, key: str) -> dict[str, Any]:
    with store.session() as session:
        _, caller, measure = _measure_and_partner(session, user_id, key)
        current = session.scalar(select(Story).where(
            Story.measure_id == measure.id, Story.partner_id == caller.partner_id,
            Story.is_current.is_(True)).order_by(Story.written_at.desc()).limit(1))
    blocks = [bk.section(f"The story behind the curve of *{bk.escape(measure.name)}* "
                         f"(`{measure.key}`), for {bk.escape(caller.partner_name or '')}.")]
    for name, label in FIELDS:
        initial = getattr(current, name) if current is not None else None
        blocks.append(bk.input_block(name, label, bk.text_input(
            name, multiline=True, max_length=LIMIT, initial=initial or None), optional=True))
    return bk.modal("Story behind the curve", blocks, callback_id=CALLBACK_ID, submit="Keep",
                    private_metadata=json.dumps({"measure": measure.key}))


def parts_from_view(view: dict[str, Any]) -> tuple[str, dict[str, str]]:
    values = (view.get("state") or {}).get("values") or {}
    try:
        key = str(json.loads(view.get("private_metadata") or "{}").get("measure") or "")
    except (ValueError, AttributeError):
        key = ""
    parts = {}
    for name, _ in FIELDS:
        element = (values.get(name) or {}).get(name) or {}
        text = element.get("value") if isinstance(element, dict) else None
        if isinstance(text, str):
            parts[name] = text
    return key, parts


def offer(measure_key: str) -> bk.Block:
    """The button a report's confirmation carries."""
    return bk.actions(bk.button("Tell the story behind the curve",
                                f"{OPEN_ACTION}:{measure_key}", measure_key))
