"""Wins: celebrations in Slack become posts in the wins channel, once, with credit and consent.

A message becomes a win when enough people (not its author, not bots) react with one of the
initiative's win emoji, when someone uses the "Share as a win" shortcut on it, or when a
person types `/impact win TEXT`. Each message has one `wins` row, keyed on (channel, ts),
whose `status` is the whole story:

    counting  → reactions so far are below the threshold (`reactors` lists who reacted)
    pending   → the message is from a private place: its author was asked, no answer yet
    approved  → to be posted (public message, or the author said yes)
    declined  → the author said no: nothing is posted and nobody asks again
    posted    → in the wins channel (`posted_channel`, `posted_ts`)

Side effects are claimed before they happen: a worker sets `lease_until` in the same
transaction that moves the row, acts, then records the outcome. A claim whose lease ran out
(the process died mid-send) is taken over by the next reaction or by the `wins` tick.
For `pending`, a NULL lease means the author has been asked; for `approved`, it means
nobody is posting right now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.exactly_once import find_marked, marker
from bot.runtime.caller import identify, load_initiative
from bot.runtime.errors import UserError
from bot.runtime.services import Services
from bot.wins import deferred
from bot.wins import messages as wm
from bot.wins.deferred import SlackUnavailable, is_transient
from storage.models import Initiative, Partner, SlackUser, Win

log = logging.getLogger(__name__)

COUNTING = "counting"
PENDING = "pending"
APPROVED = "approved"
DECLINED = "declined"
POSTED = "posted"

LEASE = timedelta(minutes=2)
RECENT = 10
WIN_EVENT = "impact_win"  # message metadata on wins posts: finds a post a crash forgot
RECOVERY_HISTORY = 200  # latest wins-channel messages searched for such a post
MAX_COMMAND_TEXT = 3000


# --- pure decisions -----------------------------------------------------------------------


def emoji_name(reaction: str) -> str:
    """`thumbsup::skin-tone-2` counts as `thumbsup`."""
    return reaction.split("::", 1)[0]


def is_win_emoji(initiative: Initiative, reaction: str) -> bool:
    return emoji_name(reaction) in (initiative.win_emoji or [])


def is_bot_message(message: dict[str, Any]) -> bool:
    return bool(message.get("bot_id")) or message.get("subtype") == "bot_message" \
        or not message.get("user")


def needs_consent(channel_id: str, info: dict[str, Any] | None) -> bool:
    """DMs, group DMs and private channels are shared only when the author agrees."""
    if channel_id.startswith("D") or info is None:
        return True
    return bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim"))


# --- the state machine (database only) ------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """What a worker must do after moving a win: post it, ask its author, or nothing."""

    win_id: int | None
    action: str  # post | ask | none
    status: str
    retry: bool = False  # took over an expired claim: an earlier attempt may have posted


NOTHING = Step(None, "none", "")


def _insert_if_absent(session: Session, values: dict[str, Any]) -> None:
    """INSERT … ON CONFLICT (channel_id, message_ts) DO NOTHING, on either database."""
    from sqlalchemy.dialects import postgresql, sqlite

    key = ["channel_id", "message_ts"]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(Win).values(**values)
                        .on_conflict_do_nothing(index_elements=key))
    else:
        session.execute(sqlite.insert(Win).values(**values)
                        .on_conflict_do_nothing(index_elements=key))


def _locked(session: Session, channel_id: str, message_ts: str) -> Win:
    return session.execute(
        select(Win).where(Win.channel_id == channel_id, Win.message_ts == message_ts)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def nominate(session: Session, *, channel_id: str, message_ts: str, author_id: str,
             partner_id: int | None, text: str, source: str, nominator: str | None,
             private: bool, threshold: int, now: datetime) -> Step:
    """Count one more person for a message and claim whatever that makes due.

    The row is created on the first qualifying reaction and locked for the decision, so
    concurrent deliveries are serialised and exactly one of them gets the claim.
    """
    _insert_if_absent(session, {
        "source": source, "channel_id": channel_id, "message_ts": message_ts,
        "author_id": author_id, "partner_id": partner_id, "text": text, "reactors": [],
        "status": COUNTING, "created_at": now, "lease_until": None,
    })
    win = _locked(session, channel_id, message_ts)
    if nominator and nominator != win.author_id and nominator not in win.reactors:
        win.reactors = [*win.reactors, nominator]
    if win.status == PENDING and not private and nominator == win.author_id:
        win.status, win.lease_until = APPROVED, now + LEASE  # the author shared it: consent
        return Step(win.id, "post", win.status)
    if win.status == COUNTING and len(win.reactors) >= threshold:
        win.status = PENDING if private else APPROVED
        win.lease_until = now + LEASE
        return Step(win.id, "ask" if private else "post", win.status)
    return _take_over(win, now)


def _take_over(win: Win, now: datetime) -> Step:
    """Claim a win whose earlier worker failed or died; else nothing to do."""
    if win.status == APPROVED and (win.lease_until is None or win.lease_until <= now):
        retry = win.lease_until is not None
        win.lease_until = now + LEASE
        return Step(win.id, "post", win.status, retry=retry)
    if win.status == PENDING and win.lease_until is not None and win.lease_until <= now:
        win.lease_until = now + LEASE
        return Step(win.id, "ask", win.status, retry=True)
    return Step(win.id, "none", win.status)


def claim_unfinished(session: Session, now: datetime) -> list[Step]:
    """Every win a dead or failed worker left half done, claimed for this worker."""
    stale = or_(
        and_(Win.status == APPROVED, or_(Win.lease_until.is_(None), Win.lease_until <= now)),
        and_(Win.status == PENDING, Win.lease_until.is_not(None), Win.lease_until <= now),
    )
    query = select(Win).where(stale).order_by(Win.id).with_for_update(skip_locked=True)
    return [_take_over(win, now) for win in session.scalars(query).all()]


# --- reading Slack ---------------------------------------------------------------------------


def channel_info(client: WebClient, channel_id: str) -> dict[str, Any] | None:
    try:
        info = client.conversations_info(channel=channel_id).get("channel")
    except (SlackApiError, OSError) as exc:
        if is_transient(exc):
            raise SlackUnavailable(str(exc)) from exc
        log.info("cannot see channel %s: %s", channel_id, _error(exc))
        return None
    return info if isinstance(info, dict) else None


def fetch_message(client: WebClient, channel_id: str, ts: str) -> dict[str, Any] | None:
    """The message at `ts`, top-level or a thread reply; None when the bot cannot read it."""
    try:
        history = client.conversations_history(channel=channel_id, latest=ts, inclusive=True,
                                               limit=1)
        for message in history.get("messages") or []:
            if message.get("ts") == ts:
                return dict(message)
        # Not top level: a reply in a thread. `conversations.replies` accepts a reply's ts.
        replies = client.conversations_replies(channel=channel_id, ts=ts, latest=ts,
                                               oldest=ts, inclusive=True, limit=10)
        for message in replies.get("messages") or []:
            if message.get("ts") == ts:
                return dict(message)
    except (SlackApiError, OSError) as exc:
        if is_transient(exc):
            raise SlackUnavailable(str(exc)) from exc
        log.info("cannot read message %s in %s: %s", ts, channel_id, _error(exc))
    return None


def _error(exc: Exception) -> str:
    return str(exc.response.get("error")) if isinstance(exc, SlackApiError) else type(exc).__name__


def _permalink(client: WebClient, channel_id: str, ts: str) -> str | None:
    try:
        link = client.chat_getPermalink(channel=channel_id, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        log.info("no permalink for %s/%s: %s", channel_id, ts, exc.response.get("error"))
        return None
    return link if isinstance(link, str) else None


def _is_person(services: Services, client: WebClient, user_id: str,
               bot_user_id: str | None) -> bool:
    """Bots' reactions never count (people's are the celebration)."""
    if user_id == bot_user_id:
        return False
    with services.store.session() as session:
        cached = session.get(SlackUser, user_id)
        if cached is not None:
            return not cached.is_bot
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except (SlackApiError, OSError) as exc:
        if is_transient(exc):
            raise SlackUnavailable(str(exc)) from exc
        log.info("users.info %s failed (%s); not counting the reaction", user_id, _error(exc))
        return False
    return not (user.get("is_bot") or user.get("is_app_user") or user.get("deleted"))


# --- acting ------------------------------------------------------------------------------------


def deliver(services: Services, client: WebClient, step: Step) -> None:
    if step.win_id is None:
        return
    if step.action == "post":
        post_win(services, client, step.win_id, retry=step.retry)
    elif step.action == "ask":
        ask_author(services, client, step.win_id)


def _view(session: Session, win: Win) -> wm.WinView:
    partner = session.get(Partner, win.partner_id) if win.partner_id else None
    return wm.WinView(win.author_id, partner.name if partner else None, win.text,
                      tuple(win.reactors), win.permalink, win.source)


def post_win(services: Services, client: WebClient, win_id: int, *, retry: bool = False) -> bool:
    """Post a claimed, approved win to the wins channel and record where it went."""
    with services.store.session() as session:
        win = session.get(Win, win_id)
        initiative = load_initiative(session)
        if win is None or win.status != APPROVED:
            return False
        wins_channel = initiative.wins_channel if initiative else None
        source_channel, source_ts, permalink = win.channel_id, win.message_ts, win.permalink
    if not wins_channel:
        log.warning("win %s not posted: the initiative has no wins channel", win_id)
        _release(services, win_id)
        return False
    if permalink is None and source_channel and source_ts:
        permalink = _permalink(client, source_channel, source_ts)
    with services.store.session() as session:
        win = session.get(Win, win_id)
        assert win is not None
        win.permalink = permalink
        view = _view(session, win)
    try:
        posted_channel = wins_channel
        ts = (find_marked(client, wins_channel, WIN_EVENT, {"win_id": win_id},
                          limit=RECOVERY_HISTORY) if retry else None)
        if ts is None:
            response = client.chat_postMessage(
                channel=wins_channel, unfurl_links=False, unfurl_media=False,
                metadata=marker(WIN_EVENT, {"win_id": win_id}),
                **wm.win_post(view))
            posted_channel = str(response.get("channel") or wins_channel)
            ts = str(response.get("ts"))
    except SlackApiError as exc:
        unsure = exc.response.status_code >= 500
        log.warning("posting win %s failed: %s%s", win_id, exc.response.get("error"),
                    " (Slack may have posted it; the retry checks first)" if unsure else "")
        _release(services, win_id, unsure=unsure)
        return False
    posted_ts = ts
    if permalink is None:  # a typed win: its link is the wins post itself
        permalink = _permalink(client, posted_channel, posted_ts)
    with services.store.session() as session:
        session.execute(update(Win).where(Win.id == win_id, Win.status == APPROVED).values(
            status=POSTED, posted_at=services.clock.now(), posted_channel=posted_channel,
            posted_ts=posted_ts, lease_until=None, permalink=permalink))
    log.info("win %s posted to %s", win_id, posted_channel)
    return True


def _release(services: Services, win_id: int, *, unsure: bool = False) -> None:
    """Give an approved win back so the next reaction or tick tries again.

    After an answer that leaves it unknown whether Slack posted (a 5xx), the claim is left
    expired rather than cleared: whoever takes it over looks for the post first.
    """
    with services.store.session() as session:
        session.execute(update(Win).where(Win.id == win_id, Win.status == APPROVED)
                        .values(lease_until=services.clock.now() if unsure else None))


def ask_author(services: Services, client: WebClient, win_id: int) -> bool:
    """DM the author of a private message: may it be shared? Nothing is posted yet."""
    with services.store.session() as session:
        win = session.get(Win, win_id)
        initiative = load_initiative(session)
        if win is None or win.status != PENDING or initiative is None:
            return False
        wins_channel = initiative.wins_channel or ""
        author, text, reactors = win.author_id, win.text, list(win.reactors)
        channel_id, ts, permalink = win.channel_id, win.message_ts, win.permalink
    if permalink is None and channel_id and ts and not channel_id.startswith("D"):
        permalink = _permalink(client, channel_id, ts)
    message = wm.consent_request(win_id, text, channel_id, reactors, wins_channel, permalink)
    now = services.clock.now()
    try:
        client.chat_postMessage(channel=author, **message)
    except SlackApiError as exc:
        log.warning("asking %s about win %s failed: %s", author, win_id,
                    exc.response.get("error"))
        done: dict[str, Any] = {"lease_until": now}  # expired at once: retried later
    else:
        done = {"lease_until": None, "permalink": permalink}
    with services.store.session() as session:
        session.execute(update(Win).where(Win.id == win_id, Win.status == PENDING)
                        .values(**done))
    return "permalink" in done


# --- the three ways in -----------------------------------------------------------------------


def handle_reaction(services: Services, client: WebClient, event: dict[str, Any],
                    bot_user_id: str | None = None) -> Step:
    """A `reaction_added` event: count it, and share the message once it has enough.

    When Slack cannot answer the reads this needs (an outage, a rate limit), the event is
    kept and handled again by the wins tick, rather than lost.
    """
    try:
        return _handle_reaction(services, client, event, bot_user_id)
    except SlackUnavailable:
        deferred.defer(services, REACTION, {"event": event, "bot_user_id": bot_user_id})
        return NOTHING


def _handle_reaction(services: Services, client: WebClient, event: dict[str, Any],
                     bot_user_id: str | None) -> Step:
    item = event.get("item")
    if not isinstance(item, dict) or item.get("type") != "message":
        return NOTHING
    channel_id, ts, reactor = item.get("channel"), item.get("ts"), event.get("user")
    if not (isinstance(channel_id, str) and isinstance(ts, str) and isinstance(reactor, str)
            and channel_id and ts and reactor):
        return NOTHING
    with services.store.session() as session:
        initiative = load_initiative(session)
        if initiative is None or not is_win_emoji(initiative, str(event.get("reaction", ""))):
            return NOTHING
        threshold, wins_channel = initiative.win_threshold, initiative.wins_channel
        settled = session.scalar(select(Win.status).where(Win.channel_id == channel_id,
                                                          Win.message_ts == ts))
    if settled in (POSTED, DECLINED):
        return NOTHING  # shared or refused already; removing and re-adding changes nothing
    if not wins_channel:
        log.warning("a win reaction arrived but the initiative has no wins channel")
        return NOTHING
    if event.get("item_user") == reactor or not _is_person(services, client, reactor,
                                                           bot_user_id):
        return NOTHING
    info = None if channel_id.startswith("D") else channel_info(client, channel_id)
    if info is None and not channel_id.startswith("D"):
        log.info("win reaction in %s ignored: the bot cannot see that channel", channel_id)
        return NOTHING
    message = fetch_message(client, channel_id, ts)
    if message is None:
        log.info("win reaction on %s/%s ignored: the bot cannot read it", channel_id, ts)
        return NOTHING
    if is_bot_message(message) or message.get("user") == reactor:
        return NOTHING
    author = str(message["user"])
    with services.store.session() as session:
        step = nominate(session, channel_id=channel_id, message_ts=ts, author_id=author,
                        partner_id=identify(session, author).partner_id,
                        text=str(message.get("text") or ""), source="reaction",
                        nominator=reactor, private=needs_consent(channel_id, info),
                        threshold=threshold, now=services.clock.now())
    deliver(services, client, step)
    return step


@dataclass(frozen=True)
class Shared:
    """What happened to a message someone asked to share (for the answer to them)."""

    outcome: str  # posted | asked | already_posted | awaiting | sharing | declined | bot
    #              | failed | no_channel
    author_id: str | None = None
    link: str | None = None
    wins_channel: str | None = None


def share_message(services: Services, client: WebClient, *, channel_id: str,
                  message: dict[str, Any], nominator: str) -> Shared:
    """The "Share as a win" shortcut: the same flow as reactions, without the threshold."""
    wins_channel = _wins_channel(services)
    if not wins_channel:
        return Shared("no_channel")
    ts = str(message.get("ts") or "")
    if is_bot_message(message) or not ts:
        return Shared("bot", wins_channel=wins_channel)
    author = str(message["user"])
    # Someone sharing their own message is their consent.
    try:
        private = author != nominator and needs_consent(
            channel_id, None if channel_id.startswith("D") else channel_info(client, channel_id))
    except SlackUnavailable:  # the person is right there: they can simply try again
        return Shared("failed", wins_channel=wins_channel)
    with services.store.session() as session:
        step = nominate(session, channel_id=channel_id, message_ts=ts, author_id=author,
                        partner_id=identify(session, author).partner_id,
                        text=str(message.get("text") or ""), source="shortcut",
                        nominator=nominator, private=private, threshold=0,
                        now=services.clock.now())
    deliver(services, client, step)
    with services.store.session() as session:
        win = session.get(Win, step.win_id)
        assert win is not None
        status, link = win.status, win.permalink
    outcome = {POSTED: "posted" if step.action == "post" else "already_posted",
               PENDING: "asked" if step.action == "ask" else "awaiting",
               APPROVED: "failed" if step.action == "post" else "sharing",
               DECLINED: "declined"}.get(status, "failed")
    return Shared(outcome, author, link, wins_channel)


def share_text(services: Services, client: WebClient, user_id: str, text: str) -> Win:
    """`/impact win TEXT`: the caller's own win, posted at once."""
    text = text.strip()
    if not text:
        raise UserError("Tell us what the win is: `/impact win We enrolled 40 new families!`")
    if len(text) > MAX_COMMAND_TEXT:
        raise UserError(f"That is a long win! Please keep it under {MAX_COMMAND_TEXT} "
                        "characters.")
    wins_channel = _wins_channel(services)
    if not wins_channel:
        raise UserError("No wins channel is set up yet. Ask your backbone team to add one.")
    with services.store.session() as session:
        win = Win(source="command", author_id=user_id, text=text, reactors=[],
                  partner_id=identify(session, user_id).partner_id, status=APPROVED,
                  created_at=services.clock.now(),
                  lease_until=services.clock.now() + LEASE)
        session.add(win)
        session.flush()
        win_id = win.id
    if not post_win(services, client, win_id):
        with services.store.session() as session:
            left = session.get(Win, win_id)
            unsure = left is not None and left.lease_until is not None
            if not unsure:  # Slack refused it: nothing half-written
                session.execute(delete(Win).where(Win.id == win_id, Win.status != POSTED))
        if unsure:
            raise UserError("Slack did not confirm the post. Impact Bot will check and share "
                            "your win once Slack answers; there is no need to send it again.")
        raise UserError("Slack did not accept the post, so nothing was shared. "
                        "Please try again in a minute.")
    with services.store.session() as session:
        posted = session.get(Win, win_id)
        assert posted is not None
        return posted


@dataclass(frozen=True)
class Answer:
    outcome: str  # approved | declined | already_posted | already_declined | not_author | gone
    wins_channel: str | None = None
    posted: bool = False


def answer_consent(services: Services, client: WebClient, win_id: int, user_id: str,
                   approve: bool) -> Answer:
    """The author's Approve or Decline. Only the first answer counts."""
    now = services.clock.now()
    wins_channel = _wins_channel(services)
    with services.store.session() as session:
        win = session.execute(select(Win).where(Win.id == win_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one_or_none()
        if win is None:
            return Answer("gone", wins_channel)
        if win.author_id != user_id:
            return Answer("not_author", wins_channel)
        if win.status == POSTED:
            return Answer("already_posted", wins_channel, posted=True)
        if win.status == DECLINED:
            return Answer("already_declined", wins_channel)
        if win.status != PENDING:
            return Answer("approved", wins_channel)  # posting already under way
        if approve:
            win.status, win.lease_until = APPROVED, now + LEASE
        else:
            win.status, win.lease_until = DECLINED, None
    if not approve:
        return Answer("declined", wins_channel)
    # If Slack refuses now, the claim is released and the next reaction or tick posts it.
    return Answer("approved", wins_channel, posted=post_win(services, client, win_id))


def _wins_channel(services: Services) -> str | None:
    with services.store.session() as session:
        initiative = load_initiative(session)
        return initiative.wins_channel if initiative else None


def recent(session: Session, limit: int = RECENT) -> list[wm.WinLine]:
    """The latest posted wins, newest first (for `/impact wins`, Home and the digest)."""
    rows = session.execute(
        select(Win, Partner.name).outerjoin(Partner, Partner.id == Win.partner_id)
        .where(Win.status == POSTED).order_by(Win.posted_at.desc(), Win.id.desc()).limit(limit)
    ).all()
    return [wm.WinLine(win.author_id, name, win.text, win.permalink, win.posted_at,
                       win.posted_channel, win.posted_ts)
            for win, name in rows if win.posted_at is not None]


def recent_wins(services: Services, client: WebClient, limit: int = RECENT) -> dict[str, Any]:
    """The `/impact wins` answer. Links go to the wins posts, which everyone can open
    (the original may sit in a private channel)."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        lines = recent(session, limit)
    linked = [replace(line, link=_permalink(client, line.posted_channel, line.posted_ts)
                      or line.link) if line.posted_channel and line.posted_ts else line
              for line in lines]
    return wm.recent_wins(linked, initiative.wins_channel if initiative else None)


def resume_unfinished(services: Services, client: WebClient) -> int:
    """Finish what crashed or failed workers left: post approved wins, ask pending authors."""
    with services.store.session() as session:
        steps = [s for s in claim_unfinished(session, services.clock.now())
                 if s.action != "none"]
    for step in steps:
        deliver(services, client, step)
    return len(steps)


REACTION = "reaction"


def replay_deferred(services: Services, client: WebClient) -> int:
    """Handle again the reactions that arrived while Slack was unavailable."""
    replays = deferred.claim_due(services, REACTION)
    for replay in replays:
        try:
            _handle_reaction(services, client, replay.payload["event"],
                             replay.payload.get("bot_user_id"))
        except SlackUnavailable:
            deferred.still_unavailable(services, replay)
        else:
            deferred.handled(services, replay)
    return len(replays)


def wins_tick(services: Services) -> None:
    client = services.client()
    replay_deferred(services, client)
    resume_unfinished(services, client)
