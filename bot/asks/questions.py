"""Ask the initiative (SPEC §12): `/impact ask TEXT [for KEY]` posts the question with its
asker in the wins channel (or the backbone channel), DMs each member of the partners that
report KEY once, and keeps the replies in its thread as answers.

Each DM is claimed before it is sent (`question_dms`: question, user is unique) and
recorded after; a DM that failed is released and sent by the `asks` job
(bot/runtime/scheduler.py), which the new rows make due (storage/due.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select, update

from bot import parking
from bot.asks import messages as am
from bot.exactly_once import Ledger, lease_free
from bot.runtime.caller import identify, load_initiative
from bot.runtime.errors import UserError
from bot.runtime.services import Services
from bot.wins.links import measure_by_key
from bot.wins.slack_reads import permalink
from storage.models import Answer, Measure, MeasurePartner, Member, Partner, Question, QuestionDM
from storage.upserts import insert_new

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
RETRY_REFUSED = timedelta(days=1)  # a person Slack will not DM: tried again a day later
MAX_TEXT = 2500
_FOR_KEY = re.compile(r"^(.*\S)\s+for\s+([A-Za-z0-9][A-Za-z0-9_-]{0,63})\s*$", re.DOTALL)

DMS = Ledger(QuestionDM, QuestionDM.id, QuestionDM.lease_until, QuestionDM.sent_at.is_(None),
             key=("team_id", "question_id", "user_id"))


@dataclass(frozen=True)
class Asked:
    channel: str
    link: str | None
    measure_name: str | None
    told: int  # members DMed


def split_for(text: str, known: set[str]) -> tuple[str, str | None]:
    """`TEXT for KEY` → (TEXT, KEY) when KEY is a measure; else (text, None)."""
    found = _FOR_KEY.match(text)
    if found and found.group(2).lower() in known:
        return found.group(1).strip(), found.group(2).lower()
    return text, None


def ask(services: Services, client: WebClient, user_id: str, args: str) -> Asked:
    text = args.strip()
    if not text:
        raise UserError("Ask something: `/impact ask How do you reach families without a "
                        "phone? for home-visits`")
    if len(text) > MAX_TEXT:
        raise UserError(f"Please keep the question under {MAX_TEXT} characters.")
    with services.store.session() as session:
        initiative = load_initiative(session)
        channel = initiative and (initiative.wins_channel or initiative.backbone_channel)
        if not channel:
            raise UserError("No wins or backbone channel is set up yet. Ask your backbone "
                            "team to add one.")
        keys = set(session.scalars(select(Measure.key).where(Measure.active.is_(True))))
        text, key = split_for(text, keys)
        measure = measure_by_key(session, key) if key else None
        caller = identify(session, user_id, initiative)
        question = Question(asker_id=user_id, text=text, created_at=services.clock.now(),
                            measure_id=measure.id if measure else None)
        session.add(question)
        session.flush()
        question_id, measure_name = question.id, measure.name if measure else None
    message = am.question_post(user_id, caller.partner_name, text, measure_name)
    try:
        posted = client.chat_postMessage(channel=channel, unfurl_links=False,
                                         metadata={"event_type": am.EVENT_TYPE,
                                                   "event_payload": {"question": question_id}},
                                         **message)
    except SlackApiError as exc:
        with services.store.session() as session:
            session.delete(session.get(Question, question_id))
        log.warning("posting question %s failed: %s", question_id, parking.error_of(exc))
        raise UserError("Slack did not accept the question, so nothing was asked. Please "
                        "try again in a minute.") from None
    ts = str(posted.get("ts"))
    link = permalink(client, channel, ts)
    with services.store.session() as session:
        session.execute(update(Question).where(Question.id == question_id).values(
            posted_channel=channel, posted_ts=ts, permalink=link))
        told = _claim_dms(session, question_id, user_id, services.clock.now())  # leased
    send_claimed(services, client, question_id)
    return Asked(channel, link, measure_name, len(told))


def _claim_dms(session: Any, question_id: int, asker: str, now: datetime) -> list[str]:
    """One row per member of the partners that report the question's measure (not the
    asker), inserted with a live lease: this worker sends them."""
    question = session.get(Question, question_id)
    if question is None or question.measure_id is None:
        return []
    members = session.scalars(
        select(Member.user_id).join(Partner, Partner.id == Member.partner_id)
        .join(MeasurePartner, MeasurePartner.partner_id == Partner.id)
        .where(MeasurePartner.measure_id == question.measure_id, Partner.active.is_(True),
               Member.user_id != asker).order_by(Member.user_id)).all()
    for user in dict.fromkeys(members):
        DMS.insert(session, {"question_id": question_id, "user_id": user, "created_at": now,
                             "lease_until": now + LEASE})
    return list(dict.fromkeys(members))


def send_claimed(services: Services, client: WebClient, question_id: int | None = None) -> int:
    """Send the DMs this worker holds (just claimed), or, from the job, take over those whose
    lease ran out and send them. Each is recorded once it is sent. Leases run on the
    services' clock, as wins' do."""
    now = services.clock.now()
    with services.store.session() as session:
        query = (select(QuestionDM, Question, Measure.name)
                 .join(Question, Question.id == QuestionDM.question_id)
                 .join(Measure, Measure.id == Question.measure_id)
                 .where(QuestionDM.sent_at.is_(None)))
        if question_id is not None:
            query = query.where(QuestionDM.question_id == question_id,
                                QuestionDM.lease_until > now)
        else:
            query = query.where(lease_free(QuestionDM.lease_until, now))
        rows = session.execute(query.order_by(QuestionDM.id)).all()
        work = []
        for dm, question, measure_name in rows:
            if question_id is None and DMS.take_over(
                    session, QuestionDM.id == dm.id, now=now, length=LEASE) is None:
                continue
            work.append((dm.id, dm.user_id, question.asker_id, question.text, measure_name,
                         question.posted_channel or "", question.permalink))
    sent = 0
    for dm_id, user, asker, text, measure_name, channel, link in work:
        try:
            client.chat_postMessage(channel=user, **am.question_dm(asker, text, measure_name,
                                                                  channel, link))
        except SlackApiError as exc:
            error = parking.error_of(exc)
            log.warning("question DM to %s failed: %s", user, error)
            retry = now + RETRY_REFUSED if parking.refused_for_good(user, error) else now
            with services.store.session() as session:
                DMS.release(session, QuestionDM.id == dm_id, retry_at=retry)
            continue
        with services.store.session() as session:
            DMS.record(session, QuestionDM.id == dm_id, {"sent_at": services.clock.now()})
        sent += 1
    return sent


def asks_tick(services: Services) -> None:
    """Send the question DMs that failed or were abandoned (no Slack client without any)."""
    now = services.clock.now()
    with services.store.session() as session:
        waiting = session.scalar(select(QuestionDM.id).where(
            QuestionDM.sent_at.is_(None), lease_free(QuestionDM.lease_until, now)).limit(1))
    if waiting is not None:
        send_claimed(services, services.client())


def asks_next_due(services: Services, now: datetime) -> datetime | None:
    """When a released or abandoned question DM is due again (None: nothing waits)."""
    with services.store.session() as session:
        unclaimed, lease = session.execute(select(
            func.count().filter(QuestionDM.lease_until.is_(None)),
            func.min(QuestionDM.lease_until)).where(QuestionDM.sent_at.is_(None))).one()
    if unclaimed:
        return now
    return lease


# --- answers ------------------------------------------------------------------------------


def is_thread_reply(event: dict[str, Any]) -> bool:
    """A person's new reply in a thread of a channel (not an edit, a bot, or the parent)."""
    return (event.get("type") == "message" and event.get("channel_type") in ("channel", "group")
            and not event.get("subtype") and not event.get("bot_id")
            and bool(event.get("user")) and bool(event.get("thread_ts"))
            and event.get("thread_ts") != event.get("ts"))


def collect_answer(services: Services, event: dict[str, Any]) -> bool:
    """Keep a reply in a question's thread as an answer (once: its channel and ts)."""
    channel, ts = str(event.get("channel") or ""), str(event.get("ts") or "")
    with services.store.session() as session:
        question_id = session.scalar(select(Question.id).where(
            Question.posted_channel == channel, Question.posted_ts == event.get("thread_ts")))
        if question_id is None:
            return False
        return insert_new(session, Answer, {
            "question_id": question_id, "user_id": str(event.get("user")),
            "text": str(event.get("text") or "")[:40000], "channel": channel, "ts": ts,
            "created_at": services.clock.now()}, key=("team_id", "channel", "ts"))
