"""Wins: celebrations in Slack become posts in the wins channel, once, with credit and consent.

A message becomes a win when enough people (not its author, not bots) react with one of the
initiative's win emoji, when someone uses the "Share as a win" shortcut on it, or when a
person types `/impact win TEXT`. This module orchestrates: the rules are in
`bot/wins/states.py`, the Slack reads in `slack_reads.py`, the table in `queries.py`, the
claim-and-lease rules in `bot/exactly_once.py`. A claim whose lease ran out (the process
died mid-send) is taken over by the next reaction or by the `wins` tick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import parking
from bot.exactly_once import post_marked
from bot.runtime.caller import identify, load_initiative
from bot.runtime.errors import UserError
from bot.runtime.services import Services
from bot.runtime.slack_client import SlackUnavailable
from bot.wins import deferred, queries
from bot.wins import messages as wm
from bot.wins.queries import LEASE, NOTHING, Step, claim_unfinished, nominate, recent
from bot.wins.slack_reads import channel_info, fetch_message, is_person, permalink
from bot.wins.states import (
    Action,
    AnswerOutcome,
    SharedOutcome,
    WinStatus,
    is_bot_message,
    is_win_emoji,
    needs_consent,
    shared_outcome,
)
from storage.models import Win

__all__ = [
    "LEASE", "Step", "answer_consent", "claim_unfinished", "handle_kept_reaction",
    "handle_reaction", "needs_consent", "nominate", "recent", "recent_wins",
    "resume_unfinished", "share_message", "share_text", "wins_tick",
]

log = logging.getLogger(__name__)

WIN_EVENT = "impact_win"  # message metadata on wins posts: finds a post a crash forgot
WAITING_WINS = "wins"
WAITING_QUESTION = "the question whether their win may be shared"
MAX_COMMAND_TEXT = 3000
REACTION = "reaction"


# --- acting ------------------------------------------------------------------------------------


def deliver(services: Services, client: WebClient, step: Step) -> None:
    if step.win_id is None:
        return
    if step.action == Action.POST:
        post_win(services, client, step.win_id, retry=step.retry, since=step.since)
    elif step.action == Action.ASK:
        ask_author(services, client, step.win_id)


def post_win(services: Services, client: WebClient, win_id: int, *, retry: bool = False,
             since: datetime | None = None) -> bool:
    """Post a claimed, approved win to the wins channel and record where it went. While the
    wins channel is parked (bot/parking.py) the claim is given back untried."""
    now = services.clock.now()
    with services.store.session() as session:
        win = session.get(Win, win_id)
        wins_channel = queries.wins_channel(session)
        if win is None or win.status != WinStatus.APPROVED:
            return False
        source_channel, source_ts, link = win.channel_id, win.message_ts, win.permalink
        since = since or win.created_at
        gate = parking.enter(session, wins_channel, now) if wins_channel else "open"
    if not wins_channel or gate == "parked":
        if not wins_channel:
            log.warning("win %s not posted: the initiative has no wins channel", win_id)
        _release(services, win_id)
        return False
    if link is None and source_channel and source_ts:
        link = permalink(client, source_channel, source_ts)
    with services.store.session() as session:
        win = session.get(Win, win_id)
        assert win is not None
        win.permalink = link
        view = queries.view(session, win)
    try:
        posted = post_marked(client, wins_channel, WIN_EVENT, {"win_id": win_id},
                             wm.win_post(view), look=retry, since=since)
    except SlackApiError as exc:
        if parking.refused_for_good(wins_channel, parking.error_of(exc)):
            _release(services, win_id)
            return _park(services, client, wins_channel, parking.error_of(exc), WAITING_WINS)
        unsure = exc.response.status_code >= 500
        log.warning("posting win %s failed: %s%s", win_id, exc.response.get("error"),
                    " (Slack may have posted it; the retry checks first)" if unsure else "")
        _release(services, win_id, unsure=unsure)
        return False
    if link is None:  # a typed win: its link is the wins post itself
        link = permalink(client, posted.channel, posted.ts)
    with services.store.session() as session:
        queries.record_posted(session, win_id, now=services.clock.now(),
                              channel=posted.channel, ts=posted.ts, permalink=link)
    if gate == "recheck":
        parking.unpark(services.store, wins_channel)
    log.info("win %s posted to %s", win_id, posted.channel)
    return True


def _park(services: Services, client: WebClient, destination: str, error: str,
          waiting: str) -> bool:
    """Slack refuses `destination` for good: park what waits, tell the backbone once."""
    now = services.clock.now()
    parking.park_store(services.store, destination, error, waiting, now)
    parking.tell_untold(services.store, client, now)
    return False


def _release(services: Services, win_id: int, *, unsure: bool = False) -> None:
    with services.store.session() as session:
        queries.release_post(session, win_id, now=services.clock.now(), unsure=unsure)


def ask_author(services: Services, client: WebClient, win_id: int) -> bool:
    """DM the author of a private message: may it be shared? Nothing is posted yet."""
    with services.store.session() as session:
        win = session.get(Win, win_id)
        initiative = load_initiative(session)
        if win is None or win.status != WinStatus.PENDING or initiative is None:
            return False
        wins_channel = initiative.wins_channel or ""
        author, text, reactors = win.author_id, win.text, list(win.reactors)
        channel_id, ts, link = win.channel_id, win.message_ts, win.permalink
    if link is None and channel_id and ts and not channel_id.startswith("D"):
        link = permalink(client, channel_id, ts)
    message = wm.consent_request(win_id, text, channel_id, reactors, wins_channel, link)
    now = services.clock.now()
    gate = parking.enter_store(services.store, author, now)
    error = "parked" if gate == "parked" else _dm(client, author, message)
    if error is not None:
        log.warning("asking %s about win %s failed: %s", author, win_id, error)
        with services.store.session() as session:
            queries.release_ask(session, win_id, now)
        if parking.refused_for_good(author, error):
            _park(services, client, author, error, WAITING_QUESTION)
        return False
    with services.store.session() as session:
        queries.record_asked(session, win_id, link)
    if gate == "recheck":
        parking.unpark(services.store, author)
    return True


def _dm(client: WebClient, user: str, message: dict[str, Any]) -> str | None:
    """Slack's error for a DM it refused, None once it is sent."""
    try:
        client.chat_postMessage(channel=user, **message)
    except SlackApiError as exc:
        return parking.error_of(exc)
    return None


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


def handle_kept_reaction(services: Services, client: WebClient, kept_id: int) -> None:
    """A `reaction_added` event kept when its id was claimed (bot/runtime/events.py): handle
    it now. If this fails midway (the database drops), the kept event stays and the wins
    tick handles it again once its lease runs out; counting a reactor twice is a no-op."""
    replay = deferred.claim_one(services, kept_id)
    if replay is None:
        return
    try:
        _handle_reaction(services, client, replay.payload["event"],
                         replay.payload.get("bot_user_id"))
    except SlackUnavailable:  # first try: kept, and replayed like any deferred event
        deferred.postpone(services, replay)
    else:
        deferred.handled(services, replay)


def _replay(services: Services, client: WebClient, replay: deferred.Replay) -> None:
    try:
        _handle_reaction(services, client, replay.payload["event"],
                         replay.payload.get("bot_user_id"))
    except SlackUnavailable:
        deferred.still_unavailable(services, replay)
    else:
        deferred.handled(services, replay)


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
        if initiative is None or not is_win_emoji(initiative.win_emoji,
                                                  str(event.get("reaction", ""))):
            return NOTHING
        threshold, wins_channel = initiative.win_threshold, initiative.wins_channel
        settled = queries.settled_status(session, channel_id, ts)
    if settled in (WinStatus.POSTED, WinStatus.DECLINED):
        return NOTHING  # shared or refused already; removing and re-adding changes nothing
    if not wins_channel:
        log.warning("a win reaction arrived but the initiative has no wins channel")
        return NOTHING
    if event.get("item_user") == reactor or not is_person(services, client, reactor,
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
                        nominator=reactor, private=needs_consent(channel_id, info, message),
                        threshold=threshold, now=services.clock.now())
    deliver(services, client, step)
    return step


@dataclass(frozen=True)
class Shared:
    """What happened to a message someone asked to share (for the answer to them)."""

    outcome: SharedOutcome
    author_id: str | None = None
    link: str | None = None
    wins_channel: str | None = None


def share_message(services: Services, client: WebClient, *, channel_id: str,
                  message: dict[str, Any], nominator: str) -> Shared:
    """The "Share as a win" shortcut: the same flow as reactions, without the threshold."""
    wins_channel, ts = _wins_channel(services), str(message.get("ts") or "")
    if not wins_channel or is_bot_message(message) or not ts:
        return Shared("bot" if wins_channel else "no_channel", wins_channel=wins_channel)
    author = str(message["user"])
    # Someone sharing their own message is their consent.
    try:
        private = author != nominator and needs_consent(
            channel_id, None if channel_id.startswith("D") else channel_info(client, channel_id),
            message)
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
        outcome = shared_outcome(win.status, step.action)
        if outcome == "failed" and parking.is_parked(session, wins_channel, services.clock.now()):
            outcome = "waiting"  # kept: shared as soon as the channel works (bot/parking.py)
        return Shared(outcome, author, win.permalink, wins_channel)


def share_text(services: Services, client: WebClient, user_id: str, text: str,
               measure_id: int | None = None) -> Win:
    """`/impact win [KEY:] TEXT`: the caller's own win (linked to KEY), posted at once."""
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
        win_id = queries.add_typed(session, user_id=user_id, text=text,
                                   partner_id=identify(session, user_id).partner_id,
                                   now=services.clock.now(), measure_id=measure_id)
    if not post_win(services, client, win_id):
        with services.store.session() as session:
            if parking.is_parked(session, wins_channel, services.clock.now()):
                raise UserError(f"<#{wins_channel}> can't take posts right now, so your win is "
                                "kept and will be shared as soon as it works (the backbone "
                                "team has been told). There is no need to send it again.")
            unsure = not queries.discard_refused(session, win_id)
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
    outcome: AnswerOutcome
    wins_channel: str | None = None
    posted: bool = False


def answer_consent(services: Services, client: WebClient, win_id: int, user_id: str,
                   approve: bool) -> Answer:
    """The author's Approve or Decline. Only the first answer counts."""
    now = services.clock.now()
    wins_channel = _wins_channel(services)
    with services.store.session() as session:
        outcome, step = queries.answer(session, win_id, user_id=user_id, approve=approve,
                                       now=now)
    if step.action != Action.POST:
        return Answer(outcome, wins_channel, posted=outcome == "already_posted")
    # If Slack refuses now, the claim is released and the next reaction or tick posts it.
    return Answer(outcome, wins_channel, posted=post_win(services, client, win_id))


def _wins_channel(services: Services) -> str | None:
    with services.store.session() as session:
        return queries.wins_channel(session)


def recent_wins(services: Services, client: WebClient,
                limit: int = queries.RECENT) -> dict[str, Any]:
    """`/impact wins`: links go to the wins posts (everyone can open those)."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        lines = recent(session, limit)
    linked = [replace(line, link=permalink(client, line.posted_channel, line.posted_ts)
                      or line.link) if line.posted_channel and line.posted_ts else line
              for line in lines]
    return wm.recent_wins(linked, initiative.wins_channel if initiative else None,
                          today=services.clock.now().date())


def resume_unfinished(services: Services, client: WebClient) -> int:
    """Finish what crashed or failed workers left: post approved wins, ask pending authors
    (none of what waits for a parked channel or DM, bot/parking.py)."""
    now = services.clock.now()
    with services.store.session() as session:
        posts = not parking.is_parked(session, queries.wins_channel(session), now)
        steps = [s for s in claim_unfinished(session, now, posts=posts,
                                             parked_authors=parking.parked_people(session, now))
                 if s.action != Action.NONE]
    for step in steps:
        deliver(services, client, step)
    return len(steps)


def replay_deferred(services: Services, client: WebClient) -> int:
    """Handle again the reactions that arrived while Slack was unavailable."""
    replays = deferred.claim_due(services, REACTION)
    for replay in replays:
        try:
            _replay(services, client, replay)
        except Exception:  # the database again: the lease runs out, the next tick retries
            log.warning("a kept reaction failed again; it will be retried", exc_info=True)
    return len(replays)


def wins_tick(services: Services) -> None:
    client = services.client()
    replay_deferred(services, client)
    resume_unfinished(services, client)
