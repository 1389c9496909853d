"""The weekly backbone digest: built from the store, posted once per ISO week.

Exactly-once comes from the `digests` table (unique week + attempt) and the claim rules of
bot/exactly_once.py: a poster first claims the row with a lease, then posts, then records
the message ts. Two schedulers, a tick and a CLI `--post` racing, or a retry all find the
row taken. A claim whose lease ran out without a ts (the process died mid-post) is taken
over; the new holder first looks in the channel for a digest message carrying that claim's
metadata, so a post that went out just before a crash is recorded rather than repeated.
`--force` claims the next attempt number.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot import parking
from bot.digest.blocks import DigestMessage, digest_message
from bot.digest.data import DigestData, build_digest, digest_due, iso_week
from bot.exactly_once import REAL_TIME, Ledger, claimed_since, find_marked, post_marked
from bot.runtime.caller import INITIATIVE_ID, NO_INITIATIVE_CLI
from bot.runtime.clock import Clock
from bot.runtime.errors import UserError
from bot.runtime.services import Services
from storage.db import tenant_key
from storage.models import Digest, Initiative

__all__ = ["DigestData", "build_digest", "post_digest", "run_digest_command"]

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
METADATA_EVENT = "impactbot_digest"
FORCE_CLAIM_TRIES = 5


DigestStatus = Literal["posted", "recovered", "already_posted", "in_progress", "not_due",
                       "no_initiative", "no_channel", "parked"]


@dataclass(frozen=True)
class PostOutcome:
    status: DigestStatus
    week: str | None = None
    attempt: int | None = None
    channel: str | None = None
    ts: str | None = None
    chart: bool = False
    error: str | None = None  # parked: Slack's reason (bot/parking.py)

    @property
    def posted(self) -> bool:
        return self.status in ("posted", "recovered")


@dataclass(frozen=True)
class _Claim:
    id: int
    attempt: int
    taken_over: bool  # an earlier holder's lease ran out
    since: datetime | None = None  # then: when its claim began (look at the channel since)


# --- claiming (bot/exactly_once.py) ------------------------------------------------------

DIGESTS = Ledger(Digest, Digest.id, Digest.lease_until, Digest.posted_at.is_(None),
                 key=("team_id", "week", "attempt"))


def _claim(services: Services, week: str, attempt: int, now: datetime,
           lease_clock: Clock) -> _Claim | None:
    """Take (week, attempt): a new row, or an unposted one whose lease has run out.

    `now` is the digest's "as of" instant for what is recorded; the lease measures whether
    the poster is still alive, so it runs on `lease_clock`, real time (a crashed `digest
    --post --at <later>` must not block this week's catch-up).
    """
    wall = lease_clock.now()
    with services.store.session() as session:
        row_id = DIGESTS.insert(session, {"week": week, "attempt": attempt,
                                          "created_at": now, "lease_until": wall + LEASE})
        if row_id is not None:
            return _Claim(row_id, attempt, taken_over=False)
        # The row exists: take it over only if unposted and its holder's lease ran out.
        row = and_(Digest.week == week, Digest.attempt == attempt)
        held = session.scalar(select(Digest.lease_until).where(row).with_for_update())
        row_id = DIGESTS.take_over(session, row, now=wall, length=LEASE)
    return None if row_id is None else _Claim(row_id, attempt, taken_over=True,
                                              since=claimed_since(held, LEASE))


def _record(services: Services, claim: _Claim, now: datetime, channel: str, ts: str) -> None:
    with services.store.session() as session:
        DIGESTS.record(session, Digest.id == claim.id,
                       {"posted_at": now, "channel": channel, "ts": ts})


def _release(services: Services, claim: _Claim) -> None:
    """Give the claim back after a failed post, so the next tick retries at once."""
    with services.store.session() as session:
        DIGESTS.release(session, Digest.id == claim.id, retry_at=None)


def posted_digest(session: Session, week: str) -> Digest | None:
    return session.scalars(select(Digest).where(Digest.week == week,
                                                Digest.posted_at.is_not(None))
                           .order_by(Digest.attempt).limit(1)).first()


def _next_attempt(services: Services, week: str) -> int:
    with services.store.session() as session:
        highest = session.scalar(select(func.max(Digest.attempt)).where(Digest.week == week))
    return 0 if highest is None else highest + 1


# --- posting -----------------------------------------------------------------------------


def post_digest(services: Services, now: datetime, *, force: bool = False,
                when_due: bool = False, lease_clock: Clock = REAL_TIME) -> PostOutcome:
    """Post this ISO week's digest once (again with `force`).

    `when_due`: only once the initiative's digest weekday and time have passed this week
    (the scheduled tick); a digest missed while the bot was down goes out on the first
    tick after it comes back, within the same week.
    """
    with services.store.session() as session:
        initiative = session.get(Initiative, tenant_key(session, INITIATIVE_ID))
        if initiative is None:
            return PostOutcome("no_initiative")
        channel = initiative.backbone_channel
        week = iso_week(now, ZoneInfo(initiative.timezone)).key
        if when_due and now < digest_due(initiative, now):
            return PostOutcome("not_due", week)
        if not force:
            done = posted_digest(session, week)
            if done is not None:
                return PostOutcome("already_posted", week, done.attempt, done.channel, done.ts)
        # The tick waits while the channel is parked (bot/parking.py); a person asking
        # (`digest --post`) gets an attempt.
        gate = parking.enter(session, channel, now) if channel else "open"
        if gate == "parked" and when_due:
            return PostOutcome("parked", week, channel=channel)
        data = build_digest(session, now)
    if data is None:
        return PostOutcome("no_initiative")
    if not channel:
        return PostOutcome("no_channel", week)

    claim = _claim_for(services, week, now, lease_clock, force=force)
    if claim is None:
        with services.store.session() as session:
            done = posted_digest(session, week)
        if done is not None:
            return PostOutcome("already_posted", week, done.attempt, done.channel, done.ts)
        return PostOutcome("in_progress", week)

    client = services.client()
    payload: dict[str, Any] = {"week": week, "attempt": claim.attempt}
    if claim.taken_over:
        try:
            # The crash happened within one lease of now: the message is among the latest.
            ts = find_marked(client, channel, METADATA_EVENT, payload, since=claim.since)
        except SlackApiError as exc:
            if parking.refused_for_good(channel, parking.error_of(exc)):
                return _park(services, client, claim, week, channel, parking.error_of(exc),
                             now)
            # Unknown whether the earlier poster got through: never guess "no".
            _release(services, claim)
            log.warning("could not read %s to check for an earlier digest (%s); will retry",
                        channel, exc.response.get("error"))
            return PostOutcome("in_progress", week)
        if ts is not None:
            _record(services, claim, now, channel, ts)
            log.info("digest %s attempt %s was posted before a crash; recorded it",
                     week, claim.attempt)
            # The crash may have come before the thread (details, chart) was posted: an
            # empty thread gets it now. A thread cut off half-way is left as it is.
            chart = False
            if not _has_replies(client, channel, ts):
                rendered = digest_message(data)
                _post_thread(client, channel, ts, rendered)
                chart = _upload_chart(client, channel, ts, data)
            return PostOutcome("recovered", week, claim.attempt, channel, ts, chart)

    rendered = digest_message(data)
    try:
        ts = post_marked(client, channel, METADATA_EVENT, payload,
                         {"text": rendered.main.text, "blocks": rendered.main.blocks},
                         look=False).ts
    except SlackApiError as exc:
        if parking.refused_for_good(channel, parking.error_of(exc)):
            return _park(services, client, claim, week, channel, parking.error_of(exc), now)
        _release(services, claim)
        raise
    except Exception:
        _release(services, claim)
        raise
    _record(services, claim, now, channel, ts)
    if gate != "open":
        parking.unpark(services.store, channel)
    log.info("posted the %s digest (attempt %s) to %s", week, claim.attempt, channel)

    # The rest goes in the thread; the digest itself is recorded, so a failure here is
    # logged and never causes the digest to be posted twice.
    _post_thread(client, channel, ts, rendered)
    chart = _upload_chart(client, channel, ts, data)
    return PostOutcome("posted", week, claim.attempt, channel, ts, chart)


def _park(services: Services, client: WebClient, claim: _Claim, week: str, channel: str,
          error: str, now: datetime) -> PostOutcome:
    """Slack refuses the channel for good: the claim is given back, the digest waits for
    the channel's recheck (or its `channel_unarchive`), the backbone is told once."""
    _release(services, claim)
    parking.park_store(services.store, channel, error, parking.BACKBONE_POSTS, now)
    parking.tell_untold(services.store, client, now)
    return PostOutcome("parked", week, claim.attempt, channel, error=error)


def _claim_for(services: Services, week: str, now: datetime, lease_clock: Clock, *,
               force: bool) -> _Claim | None:
    if not force:
        return _claim(services, week, 0, now, lease_clock)
    for _ in range(FORCE_CLAIM_TRIES):
        claim = _claim(services, week, _next_attempt(services, week), now, lease_clock)
        if claim is not None:
            return claim
    return None


def _has_replies(client: WebClient, channel: str, ts: str) -> bool:
    """Whether anything was posted in the digest's thread (True when Slack cannot say, so
    that nothing is posted twice)."""
    try:
        replies = client.conversations_replies(channel=channel, ts=ts, limit=2)
    except SlackApiError as exc:
        log.warning("could not read the digest thread: %s", exc.response.get("error"))
        return True
    return any(m.get("ts") != ts for m in replies.get("messages") or [])


def _post_thread(client: WebClient, channel: str, ts: str, rendered: DigestMessage) -> None:
    for part in rendered.thread:
        try:
            client.chat_postMessage(channel=channel, thread_ts=ts, unfurl_links=False,
                                    unfurl_media=False, text=part.text, blocks=part.blocks)
        except SlackApiError as exc:
            log.error("could not post part of the digest thread: %s",
                      exc.response.get("error"))
            return


def _upload_chart(client: WebClient, channel: str, ts: str, data: DigestData) -> bool:
    from bot.digest.chart import chart_filename, render_chart

    try:
        png = render_chart(data)
    except Exception:
        log.exception("could not draw the digest chart; the digest went out without it")
        return False
    if png is None:
        return False
    try:
        client.files_upload_v2(
            channel=channel, thread_ts=ts, file=png, filename=chart_filename(data),
            title=f"{data.initiative_name}: measures against targets, {data.week.key}",
            alt_txt="Turn-the-curve chart: each shared measure's recent values, "
                    "baseline and target",
            initial_comment="📊 Turn-the-curve chart: each measure against its target.",
            request_file_info=False)
    except SlackApiError as exc:
        log.error("could not upload the digest chart: %s", exc.response.get("error"))
        return False
    return True


# --- the scheduled tick ------------------------------------------------------------------


def digest_tick(services: Services) -> None:
    """Post this week's digest once its weekday and time have passed (or on catching up)."""
    from bot.runtime.slack_client import is_transient

    try:
        outcome = post_digest(services, services.clock.now(), when_due=True)
    except Exception as exc:
        if not is_transient(exc):
            raise  # the scheduler logs it with its traceback
        # Slack was briefly unavailable; the claim was given back and the next tick
        # retries (looking at the channel first): one line, not an ERROR traceback.
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
        log.warning("could not post the digest just now (%s); the next tick retries",
                    error or type(exc).__name__)
        return
    if outcome.posted:
        log.info("digest tick: posted %s", outcome.week)
    elif outcome.status == "parked":
        log.info("the %s digest waits: %s refuses posts (bot/parking.py)", outcome.week,
                 outcome.channel)
    elif outcome.status == "no_channel":
        log.warning("the %s digest is due but the initiative has no backbone channel "
                    "(channels.backbone in initiative.yml)", outcome.week)


def digest_would_post(services: Services, now: datetime) -> tuple[str, str] | None:
    """(week, channel) when the scheduled tick would post this week's digest at `now`:
    due, not posted yet, a backbone channel named and not parked (`impactbot tick
    --dry-run`)."""
    with services.store.session() as session:
        initiative = session.get(Initiative, tenant_key(session, INITIATIVE_ID))
        if initiative is None or not initiative.backbone_channel:
            return None
        if now < digest_due(initiative, now):
            return None
        week = iso_week(now, ZoneInfo(initiative.timezone)).key
        if posted_digest(session, week) is not None:
            return None
        if parking.is_parked(session, initiative.backbone_channel, now):
            return None  # the tick waits while Slack refuses posts there (bot/parking.py)
        return week, initiative.backbone_channel


# --- preview and the CLI -----------------------------------------------------------------


def preview_message(services: Services, now: datetime) -> tuple[DigestData, DigestMessage]:
    with services.store.session() as session:
        data = build_digest(session, now)
    if data is None:
        raise UserError(NO_INITIATIVE_CLI)
    return data, digest_message(data)


def preview_text(data: DigestData, rendered: DigestMessage) -> str:
    from bot.digest.chart import chart_available, chart_filename
    from bot.emulator.render import render_blocks

    parts = [render_blocks(rendered.main.blocks, rendered.main.text)]
    for part in rendered.thread:
        parts.append("↳ in the thread\n" + render_blocks(part.blocks, part.text))
    charted = sum(1 for m in data.measures if any(v is not None for v in m.values))
    if not charted:
        parts.append("(no chart: no measure has values yet)")
    elif chart_available():
        parts.append(f"↳ in the thread: chart {chart_filename(data)} "
                     f"({charted} measure{'s' if charted != 1 else ''})")
    else:
        parts.append("(no chart: matplotlib is not installed)")
    return "\n\n".join(parts)


def run_digest_command(services: Services, args: argparse.Namespace) -> int:
    """`impactbot digest [--at] [--preview|--post] [--force]`; returns the exit status."""
    now = services.clock.now()
    if args.force and not args.post:
        raise UserError("--force goes with --post: `impactbot digest --post --force` "
                        "posts this week's digest again.")
    if not args.post:
        data, rendered = preview_message(services, now)
        print(preview_text(data, rendered))
        print(f"\n(preview of the {data.week.key} digest: nothing was posted)")
        return 0
    if not services.can_post():
        from bot.reminders.tick import NO_TOKEN

        raise UserError(NO_TOKEN)
    outcome = post_digest(services, now, force=args.force)
    if outcome.status == "no_initiative":
        raise UserError(NO_INITIATIVE_CLI)
    if outcome.status == "no_channel":
        raise UserError("The initiative has no backbone channel to post to: set "
                        "channels.backbone in initiative.yml and import it again.")
    if outcome.status == "parked":
        raise UserError(f"Slack refuses posts in {outcome.channel} ({outcome.error}): the "
                        f"{outcome.week} digest waits, and the scheduler posts it once the "
                        "channel works again.")
    if outcome.posted:
        chart = " with its chart" if outcome.chart else ""
        how = "Recorded the" if outcome.status == "recovered" else "Posted the"
        print(f"{how} {outcome.week} digest{chart} to {outcome.channel} (ts {outcome.ts}).")
        return 0
    if outcome.status == "already_posted":
        print(f"The {outcome.week} digest was already posted (ts {outcome.ts}); "
              "use --post --force to post it again.")
        return 0
    print(f"The {outcome.week} digest is being posted by another process right now.")
    return 0
