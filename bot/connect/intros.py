"""Intros (SPEC §12): `/impact connect [KEY]`, scheduled rounds (`initiative.connect`), and
the check-back a week later.

Each intro is a row claimed before its group DM is opened and posted (`intros`: round and
the pair are unique, so a pair is introduced once per round, and by hand at most once a
day), recorded after; the check-back is claimed and recorded on the same row
(`checkback_lease`, `checkback_sent_at`), so it is asked once. What fails is released and
retried by the `connect` due-work job, which the rows it watches make due
(storage/due.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import and_, delete, func, select, true
from sqlalchemy.orm import Session

from bot.connect import messages as cm
from bot.connect.at_work import calendars_of, moment_for, working_moment
from bot.connect.rules import Person, pair, rounds_around
from bot.connect.who import action_mates, people, why
from bot.exactly_once import Ledger, lease_free
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.runtime.caller import identify, load_initiative
from bot.runtime.errors import UserError
from bot.runtime.services import Services
from bot.wins.links import measure_by_key
from storage.models import (
    ConnectOptOut,
    Initiative,
    Intro,
    Member,
    Partner,
)
from storage.upserts import upsert

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
CHECK_BACK = timedelta(days=7)
LATE = timedelta(days=7)  # a round the scheduler missed by more than this is skipped
KEY = ("team_id", "round", "user_a", "user_b")
UNSENT = and_(Intro.sent_at.is_(None), Intro.cancelled_at.is_(None))
SENDING = Ledger(Intro, Intro.id, Intro.lease_until, UNSENT, key=KEY)
CHECKING = Ledger(Intro, Intro.id, Intro.checkback_lease,
                  and_(Intro.sent_at.is_not(None), Intro.checkback_sent_at.is_(None)), key=KEY)


def _claim(session: Session, round_key: str, a: str, b: str, why_text: str, now: datetime,
           *, scheduled: bool, held_until: datetime | None = None) -> int | None:
    """The intro's row: held until `held_until` (a day off of one of them); else a
    scheduled one is free for the senders, a requested one leased to the caller's
    request, which sends it at once."""
    first, second = sorted((a, b))
    lease = held_until or (None if scheduled else now + LEASE)
    return SENDING.insert(session, {
        "round": round_key, "scheduled": scheduled, "user_a": first, "user_b": second,
        "why": why_text, "created_at": now, "lease_until": lease})


def send(services: Services, client: WebClient, intro_id: int) -> str | None:
    """Open the pair's group DM and introduce them (the row is claimed); its channel."""
    with services.store.session() as session:
        intro = session.get(Intro, intro_id)
        if intro is None or intro.sent_at is not None:
            return None
        users, message = f"{intro.user_a},{intro.user_b}", cm.intro_message(
            intro.user_a, intro.user_b, intro.why)
    try:
        channel = str(client.conversations_open(users=users)["channel"]["id"])
        client.chat_postMessage(channel=channel, **message)
    except SlackApiError as exc:
        log.warning("intro %s not sent: %s", intro_id, exc.response.get("error"))
        with services.store.session() as session:
            SENDING.release(session, Intro.id == intro_id, retry_at=services.clock.now())
        return None
    with services.store.session() as session:
        SENDING.record(session, Intro.id == intro_id,
                       {"sent_at": services.clock.now(), "channel": channel})
    return channel


def connect_command(services: Services, client: WebClient, user_id: str, args: str) -> str:
    """`/impact connect [KEY]`, `/impact connect off` / `on`: the answer to the caller."""
    arg = args.strip().lower()
    now = services.clock.now()
    with services.store.session() as session:
        if arg in ("off", "on"):
            return _opt(session, user_id, arg == "off", now)
        caller = identify(session, user_id)
        if caller.partner_id is None:
            raise UserError("Intros are between partner members, and you are not a member "
                            "of any partner yet. Ask your backbone team to add you.")
        measure = measure_by_key(session, arg) if arg else None
        if arg and measure is None:
            raise UserError(f"There is no measure `{bk.escape(arg[:64])}`. "
                            "`/impact measures` lists them.")
        everyone = people(session, opted_in=False)
        mine = next((p.measures for p in everyone if p.user_id == user_id), frozenset())
        wanted = frozenset([measure.id]) if measure else mine
        # Without a measure, working on the same action counts too (SPEC §12).
        mates = {} if measure else action_mates(session, user_id)
        candidates = [p for p in people(session) if p.partner_id != caller.partner_id
                      and (p.measures & wanted or p.user_id in mates)]
        initiative = load_initiative(session)
        assert initiative is not None  # identify() found the caller's partner in it
        calendars = calendars_of(session, initiative,
                                 [user_id, *(p.user_id for p in candidates)])
        # Someone at work today first; an intro never reaches a person on a day off.
        at_work = [p for p in candidates
                   if moment_for(calendars, (user_id, p.user_id), now) == now]
        chosen = _choose(session, user_id, at_work or candidates)
        if chosen is None:
            raise UserError("Nobody from another partner works on "
                            + (f"*{bk.escape(measure.name)}*" if measure
                               else "your measures or actions")
                            + " yet (or they have turned intros off).")
        shared = chosen.measures & (wanted if measure else mine)
        zone = calendars[user_id][1]  # the caller's
        today = now.astimezone(zone).date()
        hold = moment_for(calendars, (user_id, chosen.user_id), now)
        pair_ = sorted((user_id, chosen.user_id))
        waiting = session.execute(select(Intro.lease_until).where(
            UNSENT, Intro.user_a == pair_[0], Intro.user_b == pair_[1]).limit(1)).first()
        if waiting is not None:  # an intro of this pair not sent yet: one is enough
            held = waiting[0]
            when = (f"set for {dates.action_day(held.astimezone(zone).date(), today)}"
                    if held is not None and held > now + LEASE else "on its way")
            raise UserError(f"Your intro to <@{chosen.user_id}> is already {when}.")
        # Keyed by the day it goes out: one intro of a pair a day, however it was asked.
        intro_id = _claim(session, f"manual:{hold.astimezone(zone).date().isoformat()}",
                          user_id, chosen.user_id,
                          why(session, user_id, chosen.user_id, shared,
                              mates.get(chosen.user_id)), now,
                          scheduled=False, held_until=hold if hold > now else None)
    if intro_id is None:
        raise UserError(f"You were introduced to <@{chosen.user_id}> today already.")
    if hold > now:
        day = dates.action_day(hold.astimezone(zone).date(), today)
        who = ("You are" if moment_for(calendars, (user_id,), now) > now
               else f"<@{chosen.user_id}> is")
        return (f"{who} off today, so I will introduce you to <@{chosen.user_id}> on {day}, "
                "in a group DM.")
    channel = send(services, client, intro_id)
    if channel is None:
        return (f"Slack did not open the group DM with <@{chosen.user_id}> just now; "
                "I will try again shortly.")
    return f":wave: I introduced you to <@{chosen.user_id}> in a group DM."


def _opt(session: Session, user_id: str, off: bool, now: datetime) -> str:
    if off:
        upsert(session, ConnectOptOut, {"user_id": user_id, "created_at": now}, ("created_at",))
        return ("Scheduled intros are off for you. `/impact connect on` turns them back on; "
                "you can still ask for one with `/impact connect`.")
    session.execute(delete(ConnectOptOut).where(ConnectOptOut.user_id == user_id))
    return "Scheduled intros are on for you again."


def _choose(session: Session, user_id: str, candidates: list[Person]) -> Person | None:
    """Someone the caller has met least (then the least introduced overall)."""
    if not candidates:
        return None
    pairs = session.execute(select(Intro.user_a, Intro.user_b)
                            .where(Intro.cancelled_at.is_(None))).all()
    with_me = Counter(b if a == user_id else a for a, b in pairs if user_id in (a, b))
    overall = Counter(u for pair_ in pairs for u in pair_)
    return min(candidates, key=lambda p: (with_me[p.user_id], overall[p.user_id], p.user_id))


# --- the scheduled job -----------------------------------------------------------------


def due_round(session: Session, initiative: Initiative, now: datetime
              ) -> tuple[str, list[tuple[Person, Person, frozenset[int]]]] | None:
    """This round's key and pairs, when a round is due at `now` and not made yet."""
    if not initiative.connect:
        return None
    current, _ = rounds_around(initiative.connect, ZoneInfo(initiative.timezone), now)
    if now - current.at > LATE or session.scalar(
            select(Intro.id).where(Intro.round == current.key).limit(1)) is not None:
        return None
    last, made = session.execute(
        select(Intro.round, Intro.created_at).where(Intro.scheduled.is_(True))
        .order_by(Intro.created_at.desc(), Intro.id.desc()).limit(1)).first() or (None, None)
    # Not again: the last round's pairs, and pairs introduced by hand since it was made.
    since = (Intro.round == last) | (Intro.scheduled.is_(False)
                                     & (Intro.created_at >= made if made else true()))
    last_pairs = {frozenset(p) for p in session.execute(
        select(Intro.user_a, Intro.user_b).where(since, Intro.cancelled_at.is_(None)))}
    return current.key, pair(people(session), last_pairs)


def run_round(services: Services, now: datetime) -> int:
    """Pair this round's members once (rows claimed for the senders); how many pairs."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        due = due_round(session, initiative, now) if initiative is not None else None
        if initiative is None or due is None:
            return 0
        round_key, made = due
        for a, b, shared in made:
            at_work = working_moment(session, initiative, (a.user_id, b.user_id), now)
            _claim(session, round_key, a.user_id, b.user_id,
                   why(session, a.user_id, b.user_id, shared), now, scheduled=True,
                   held_until=at_work if at_work > now else None)
        return len(made)


def send_due(services: Services, client: WebClient, now: datetime) -> int:
    with services.store.session() as session:
        initiative = load_initiative(session)
        ids = []
        for intro_id, a, b, scheduled in session.execute(
                select(Intro.id, Intro.user_a, Intro.user_b, Intro.scheduled).where(
                    UNSENT, lease_free(Intro.lease_until, now))
                .order_by(Intro.id)):
            if not SENDING.take_over(session, Intro.id == intro_id, now=now, length=LEASE):
                continue
            if not _still_wanted(session, a, b, scheduled):
                # Held for a day off, then one of them turned intros off or left: called
                # off (the row stays, so its round still counts as made).
                SENDING.record(session, Intro.id == intro_id, {"cancelled_at": now})
                continue
            at_work = (working_moment(session, initiative, (a, b), now)
                       if initiative is not None else now)
            if at_work > now:  # the calendar changed since it was held: hold it again
                SENDING.release(session, Intro.id == intro_id, retry_at=at_work)
                continue
            ids.append(intro_id)
    return sum(send(services, client, i) is not None for i in ids)


def _still_wanted(session: Session, a: str, b: str, scheduled: bool) -> bool:
    """Both still members of an active partner, and (a scheduled intro) neither has turned
    scheduled intros off."""
    if scheduled and session.scalar(
            select(ConnectOptOut.user_id).where(ConnectOptOut.user_id.in_((a, b)))
            .limit(1)) is not None:
        return False
    members = set(session.scalars(
        select(Member.user_id).join(Partner, Partner.id == Member.partner_id)
        .where(Member.user_id.in_((a, b)), Partner.active.is_(True))))
    return members == {a, b}


def check_back(services: Services, client: WebClient, now: datetime) -> int:
    """A week after each intro, ask the pair once whether they met."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        due = []
        for intro_id, channel, a, b in session.execute(
                select(Intro.id, Intro.channel, Intro.user_a, Intro.user_b).where(
                    Intro.sent_at <= now - CHECK_BACK, Intro.checkback_sent_at.is_(None),
                    lease_free(Intro.checkback_lease, now))):
            if not CHECKING.take_over(session, Intro.id == intro_id, now=now, length=LEASE):
                continue
            at_work = (working_moment(session, initiative, (a, b), now)
                       if initiative is not None else now)
            if at_work > now:  # a day off for one of them: asked on their next working day
                CHECKING.release(session, Intro.id == intro_id, retry_at=at_work)
                continue
            due.append((intro_id, channel))
    asked = 0
    for intro_id, channel in due:
        try:
            client.chat_postMessage(channel=channel or "", **cm.checkback_message(intro_id))
        except SlackApiError as exc:
            log.warning("check-back %s not sent: %s", intro_id, exc.response.get("error"))
            with services.store.session() as session:
                CHECKING.release(session, Intro.id == intro_id, retry_at=now)
            continue
        with services.store.session() as session:
            CHECKING.record(session, Intro.id == intro_id,
                            {"checkback_sent_at": services.clock.now()})
        asked += 1
    return asked


def answer(services: Services, intro_id: int, user_id: str, met: bool) -> bool:
    """One of the pair answers the check-back (the latest answer counts)."""
    with services.store.session() as session:
        intro = session.get(Intro, intro_id)
        if intro is None or user_id not in (intro.user_a, intro.user_b):
            return False
        intro.met, intro.answered_at = met, services.clock.now()
        return True


def connect_tick(services: Services) -> None:
    """This round's pairs, intros to send, check-backs due (a Slack client only then)."""
    now = services.clock.now()
    run_round(services, now)
    with services.store.session() as session:
        waiting = session.scalar(select(Intro.id).where(
            (UNSENT & lease_free(Intro.lease_until, now))
            | (Intro.sent_at.is_not(None) & (Intro.sent_at <= now - CHECK_BACK)
               & Intro.checkback_sent_at.is_(None)
               & lease_free(Intro.checkback_lease, now))).limit(1))
    if waiting is not None:
        client = services.client()
        send_due(services, client, now)
        check_back(services, client, now)


def connect_next_due(services: Services, now: datetime) -> datetime | None:
    """The next round, an unsent intro's retry, or the next check-back, whichever is first."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        times = []
        if initiative is not None and initiative.connect:
            times.append(rounds_around(initiative.connect, ZoneInfo(initiative.timezone),
                                       now)[1].at)
        unsent, lease = session.execute(select(
            func.count().filter(Intro.lease_until.is_(None)), func.min(Intro.lease_until))
            .where(UNSENT)).one()
        times += [now] if unsent else [lease] if lease else []
        # Each check-back's own time: a week after its intro, or later while it is held
        # for a day off (a week's intros: a few rows).
        for sent, held in session.execute(
                select(Intro.sent_at, Intro.checkback_lease)
                .where(Intro.sent_at.is_not(None), Intro.checkback_sent_at.is_(None))):
            if sent is not None:
                times.append(max(sent + CHECK_BACK, held or sent))
    return min(times, default=None)


def digest_count_columns(start: datetime, until: datetime) -> tuple[Any, Any, Any]:
    """Intros made in the week, check-back answers given in it, and how many said they met:
    three scalar subqueries, for the digest to read with its other counts in one
    statement (bot/digest/data.py)."""
    answered_in_week = and_(Intro.answered_at >= start, Intro.answered_at < until)
    return (
        select(func.count(Intro.id)).where(Intro.sent_at >= start, Intro.sent_at < until)
        .scalar_subquery(),
        select(func.count(Intro.id)).where(answered_in_week).scalar_subquery(),
        select(func.count(Intro.id)).where(answered_in_week, Intro.met.is_(True))
        .scalar_subquery())

