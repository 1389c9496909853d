"""Wins linked to measures (SPEC §12): `/impact win KEY: TEXT`, the wins post's "link to a
measure" select (its author or a backbone admin may change it), `/impact wins KEY`."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.rendering import blocks as bk
from bot.runtime.caller import identify, load_initiative
from bot.runtime.errors import UserError
from bot.runtime.services import Services
from bot.wins import messages as wm
from bot.wins import queries
from bot.wins.slack_reads import permalink
from storage.models import Measure, Win, WinStatus

log = logging.getLogger(__name__)

_KEYED = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_-]{0,63})\s*:\s*(.*)$", re.DOTALL)

LinkOutcome = Literal["linked", "not_allowed", "gone", "unknown_measure"]


def measure_by_key(session: Session, key: str) -> Measure | None:
    return session.scalars(select(Measure).where(Measure.key == key.lower(),
                                                 Measure.active.is_(True))).first()


def split_key(session: Session, text: str) -> tuple[int | None, str]:
    """`KEY: TEXT` → (the measure's id, TEXT) when KEY names an active measure; otherwise
    the whole text is the win ("Great news: …" stays as written)."""
    found = _KEYED.match(text)
    if found is None:
        return None, text
    measure = measure_by_key(session, found.group(1))
    if measure is None:
        return None, text
    return measure.id, found.group(2).strip()


def link(services: Services, client: WebClient, win_id: int, user_id: str,
         key: str) -> LinkOutcome:
    """Link a posted win to measure `key` (its author or an admin), and show it on the post."""
    with services.store.session() as session:
        win = session.get(Win, win_id)
        if win is None or win.status != WinStatus.POSTED:
            return "gone"
        if win.author_id != user_id and not identify(session, user_id).is_admin:
            return "not_allowed"
        measure = measure_by_key(session, key)
        if measure is None:
            return "unknown_measure"
        win.measure_id = measure.id
        session.flush()
        channel, ts, view = win.posted_channel, win.posted_ts, queries.view(session, win)
    if channel and ts:
        try:
            client.chat_update(channel=channel, ts=ts, **wm.win_post(view))
        except SlackApiError as exc:  # the link is stored; the post shows it next time
            log.info("could not update win %s's post: %s", win_id, exc.response.get("error"))
    return "linked"


def link_answer(outcome: LinkOutcome) -> str | None:
    """What to tell the person who used the select (None: the updated post says it)."""
    return {
        "linked": None,
        "not_allowed": "Only the win's author or a backbone admin can link it to a measure.",
        "gone": "That win is no longer in the wins channel.",
        "unknown_measure": "That measure no longer exists.",
    }[outcome]


def wins_for(services: Services, client: WebClient, key: str) -> dict[str, Any]:
    """`/impact wins KEY`: the recent wins linked to measure KEY, newest first."""
    with services.store.session() as session:
        measure = measure_by_key(session, key)
        if measure is None:
            raise UserError(f"There is no measure `{bk.escape(key[:64])}`. "
                            "`/impact measures` lists them.")
        initiative = load_initiative(session)
        lines = queries.recent(session, measure_id=measure.id)
        name = measure.name
    linked = [replace(line, link=permalink(client, line.posted_channel, line.posted_ts)
                      or line.link) if line.posted_channel and line.posted_ts else line
              for line in lines]
    return wm.recent_wins(linked, initiative.wins_channel if initiative else None, name,
                          today=services.clock.now().date())
