"""The `wins` table: moving rows through the state machine, claiming, recording, reading.

Side effects are claimed before they happen (bot/exactly_once.py): a worker sets
`lease_until` in the same transaction that moves the row, acts, then records the outcome.
Rows are locked for each decision, so concurrent deliveries are serialised and exactly one
of them gets the claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, false, or_, select, true
from sqlalchemy.orm import Session

from bot.exactly_once import Ledger, claimed_since, lease_free
from bot.runtime.caller import load_initiative
from bot.wins import messages as wm
from bot.wins import states
from bot.wins.states import Action, Move, WinState, WinStatus
from storage.models import Measure, Partner, Win

LEASE = timedelta(minutes=2)
RECENT = 10

# An approved win is posted once; a pending win's author is asked once.
POSTING = Ledger(Win, Win.id, Win.lease_until, Win.status == WinStatus.APPROVED,
                 key=("team_id", "channel_id", "message_ts"))
ASKING = Ledger(Win, Win.id, Win.lease_until, Win.status == WinStatus.PENDING,
                key=("team_id", "channel_id", "message_ts"))


@dataclass(frozen=True)
class Step:
    """What a worker must do after moving a win: post it, ask its author, or nothing."""

    win_id: int | None
    action: Action
    status: WinStatus | None
    retry: bool = False  # took over an expired claim: an earlier attempt may have posted
    since: datetime | None = None  # then: when that attempt's claim began (exactly_once.py)


NOTHING = Step(None, Action.NONE, None)


def _state(win: Win) -> WinState:
    return WinState(WinStatus(win.status), win.author_id, tuple(win.reactors), win.lease_until)


def _apply(win: Win, move: Move) -> Step:
    """Write a move onto its locked row; what the worker must do next."""
    if list(move.state.reactors) != list(win.reactors):
        win.reactors = list(move.state.reactors)
    win.status, win.lease_until = move.state.status, move.state.lease_until
    return Step(win.id, move.action, move.state.status, retry=move.retry)


def _locked(session: Session, channel_id: str, message_ts: str) -> Win:
    return session.execute(
        select(Win).where(Win.channel_id == channel_id, Win.message_ts == message_ts)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def nominate(session: Session, *, channel_id: str, message_ts: str, author_id: str,
             partner_id: int | None, text: str, source: str, nominator: str | None,
             private: bool, threshold: int, now: datetime) -> Step:
    """Count one more person for a message and claim whatever that makes due.

    The row is created on the first qualifying reaction and locked for the decision.
    """
    POSTING.insert(session, {
        "source": source, "channel_id": channel_id, "message_ts": message_ts,
        "author_id": author_id, "partner_id": partner_id, "text": text, "reactors": [],
        "status": WinStatus.COUNTING, "created_at": now, "lease_until": None,
    })
    win = _locked(session, channel_id, message_ts)
    return _apply(win, states.nominate(_state(win), nominator=nominator, private=private,
                                       threshold=threshold, now=now, lease=LEASE))


def claim_unfinished(session: Session, now: datetime, *, posts: bool = True,
                     parked_authors: Sequence[str] = ()) -> list[Step]:
    """Every win a dead or failed worker left half done, claimed for this worker. Not the
    approved ones while the wins channel is parked (`posts` False), nor the questions to
    authors whose DMs are parked (bot/parking.py): nothing is claimed that would wait."""
    stale = or_(
        and_(Win.status == WinStatus.APPROVED, lease_free(Win.lease_until, now),
             true() if posts else false()),
        and_(Win.status == WinStatus.PENDING, Win.lease_until.is_not(None),
             Win.lease_until <= now, Win.author_id.not_in(list(parked_authors))),
    )
    query = select(Win).where(stale).order_by(Win.id).with_for_update(skip_locked=True)
    steps = []
    for win in session.scalars(query).all():
        held = win.lease_until
        step = _apply(win, states.resume(_state(win), now=now, lease=LEASE))
        steps.append(replace(step, since=claimed_since(held, LEASE)) if step.retry else step)
    return steps


def answer(session: Session, win_id: int, *, user_id: str, approve: bool, now: datetime
           ) -> tuple[states.AnswerOutcome, Step]:
    """The author's answer on the locked row."""
    win = session.execute(select(Win).where(Win.id == win_id).with_for_update()
                          .execution_options(populate_existing=True)).scalar_one_or_none()
    if win is None:
        return "gone", NOTHING
    outcome, move = states.answer(_state(win), user_id=user_id, approve=approve, now=now,
                                  lease=LEASE)
    return outcome, _apply(win, move)


def add_typed(session: Session, *, user_id: str, partner_id: int | None, text: str,
              now: datetime, measure_id: int | None = None) -> int:
    """A `/impact win [KEY:] TEXT` row, approved and claimed for posting at once."""
    win = Win(source="command", author_id=user_id, text=text, reactors=[],
              partner_id=partner_id, measure_id=measure_id, status=WinStatus.APPROVED,
              created_at=now,
              lease_until=now + LEASE)
    session.add(win)
    session.flush()
    return win.id


def discard_refused(session: Session, win_id: int) -> bool:
    """After a typed win failed to post: delete it if Slack refused it (nothing is half
    written); keep it when the answer left that unknown (an expired claim the tick checks).
    True when it was deleted."""
    left = session.get(Win, win_id)
    if left is not None and left.lease_until is not None:
        return False
    session.execute(delete(Win).where(Win.id == win_id, Win.status != WinStatus.POSTED))
    return True


def record_posted(session: Session, win_id: int, *, now: datetime, channel: str, ts: str,
                  permalink: str | None) -> None:
    POSTING.record(session, Win.id == win_id, {
        "status": WinStatus.POSTED, "posted_at": now, "posted_channel": channel,
        "posted_ts": ts, "permalink": permalink})


def release_post(session: Session, win_id: int, *, now: datetime, unsure: bool) -> None:
    """Give an approved win back so the next reaction or tick tries again.

    After an answer that leaves it unknown whether Slack posted (a 5xx), the claim is left
    expired rather than cleared: whoever takes it over looks for the post first.
    """
    POSTING.release(session, Win.id == win_id, retry_at=now if unsure else None)


def record_asked(session: Session, win_id: int, permalink: str | None) -> None:
    """The author was asked: a NULL lease on a pending win says so."""
    ASKING.record(session, Win.id == win_id, {"permalink": permalink})


def release_ask(session: Session, win_id: int, now: datetime) -> None:
    """Asking failed: expired at once, so the tick asks again."""
    ASKING.release(session, Win.id == win_id, retry_at=now)


def settled_status(session: Session, channel_id: str, message_ts: str) -> str | None:
    return session.scalar(select(Win.status).where(Win.channel_id == channel_id,
                                                   Win.message_ts == message_ts))


def view(session: Session, win: Win) -> wm.WinView:
    partner = session.get(Partner, win.partner_id) if win.partner_id else None
    measures = session.execute(select(Measure.id, Measure.key, Measure.name)
                               .where(Measure.active.is_(True))
                               .order_by(Measure.position, Measure.id)).all()
    linked = next((m for m in measures if m.id == win.measure_id), None)
    return wm.WinView(win.author_id, partner.name if partner else None, win.text,
                      tuple(win.reactors), win.permalink, win.source, win.id,
                      linked.key if linked else None, linked.name if linked else None,
                      tuple((m.key, m.name) for m in measures))


def wins_channel(session: Session) -> str | None:
    initiative = load_initiative(session)
    return initiative.wins_channel if initiative else None


def recent(session: Session, limit: int = RECENT,
           measure_id: int | None = None) -> list[wm.WinLine]:
    """The latest posted wins, newest first (for `/impact wins [KEY]`, Home and the digest)."""
    query = (select(Win, Partner.name, Measure.name)
             .outerjoin(Partner, Partner.id == Win.partner_id)
             .outerjoin(Measure, Measure.id == Win.measure_id)
             .where(Win.status == WinStatus.POSTED))
    if measure_id is not None:
        query = query.where(Win.measure_id == measure_id)
    rows = session.execute(query.order_by(Win.posted_at.desc(), Win.id.desc()).limit(limit))
    return [wm.WinLine(win.author_id, name, win.text, win.permalink, win.posted_at,
                       win.posted_channel, win.posted_ts, measure)
            for win, name, measure in rows if win.posted_at is not None]
