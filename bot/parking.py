"""Channels and DMs the bot cannot post in: parked, the backbone told once, resumed when they work.

`chat.postMessage` refuses a channel that is archived (`is_archived`), where posting is
limited to admins (`restricted_action`), that the bot was removed from (`not_in_channel`) or
that is gone (`channel_not_found`); a DM to a deactivated or unknown person, or to a bot, is
refused the same way (docs.slack.dev/reference/methods/chat.postMessage, "Errors"; the
`conversations.open` errors `user_not_found`, `user_disabled`, `cannot_dm_bot`). Retrying
only repeats the refusal, so every post the bot owes — wins, the weekly digest, community
voice and commitment announcements, reminder DMs, consent questions — goes through one gate:

- `enter` before trying: OPEN (nothing parked), PARKED (wait: nothing is sent), or RECHECK
  (parked, its recheck is due, and this caller took it: one attempt, for everyone).
- `park` when Slack refuses for good: a `parked_destinations` row, rechecked after
  `RECHECK` (an hour for a channel, a day for a person), and `unpark` once a post gets
  through, so what waits goes out at once.
- `recheck_now` when Slack says a channel works again (`channel_unarchive`,
  `group_unarchive`, the bot's own `member_joined_channel`: handlers/channels.py).
- `tell_untold`: every newly parked row, in one notice to the backbone channel (to the
  admins by DM when the backbone channel is the one refusing); each row is told once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.exactly_once import marker
from bot.rendering import blocks as bk
from bot.runtime.caller import load_initiative
from storage.db import Store
from storage.kinds import ParkedKind
from storage.models import ParkedDestination

log = logging.getLogger(__name__)

CANNOT_POST = ("is_archived", "restricted_action", "not_in_channel", "channel_not_found")
# A DM names a person: the account is gone or deactivated, is a bot, or takes no DMs from
# apps. `account_inactive` is listed for DMs too (Slack answers it for deleted accounts).
CANNOT_DM = ("user_not_found", "user_disabled", "account_inactive", "cannot_dm_bot",
             "messages_tab_disabled", "channel_not_found", "is_archived")
RECHECK: dict[ParkedKind, timedelta] = {"channel": timedelta(hours=1), "dm": timedelta(days=1)}
TOLD_EVENT = "impact_cannot_post"
# What waits for the backbone channel, whichever of them found it refusing first.
BACKBONE_POSTS = "the weekly digest, community voice and commitment announcements"
LISTED = 30  # people named on one line of a notice; the rest are counted

Gate = Literal["open", "parked", "recheck"]

_WHY = {
    "is_archived": "it is archived. Unarchive it, or name another channel in initiative.yml",
    "restricted_action": "posting there is limited to admins. Let the app post there, or "
                         "name another channel in initiative.yml",
    "not_in_channel": "I am not a member. Invite me with `/invite @Impact Bot`",
    "channel_not_found": "I cannot find it. Name another channel in initiative.yml",
}


def kind_of(destination: str) -> ParkedKind:
    """A user id (a DM is posted to the person) or a channel id."""
    return "dm" if destination[:1] in ("U", "W") else "channel"


def refused_for_good(destination: str, error: object) -> bool:
    """Whether Slack's `error` for a post to `destination` will not change by retrying."""
    return error in (CANNOT_DM if kind_of(destination) == "dm" else CANNOT_POST)


def error_of(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "") if exc.response is not None else ""


# --- the gate -------------------------------------------------------------------------------


def is_parked(session: Session, destination: str | None, now: datetime) -> bool:
    """Parked and not due for a recheck: nothing should even be claimed for it."""
    if not destination:
        return False
    recheck = session.scalar(select(ParkedDestination.recheck_at)
                             .where(ParkedDestination.destination == destination))
    return recheck is not None and recheck > now


def parked_people(session: Session, now: datetime) -> list[str]:
    """The people whose DMs are parked and not due for a recheck."""
    return list(session.scalars(select(ParkedDestination.destination)
                                .where(ParkedDestination.kind == "dm",
                                       ParkedDestination.recheck_at > now)))


def enter(session: Session, destination: str, now: datetime) -> Gate:
    """May a post to `destination` be tried now? RECHECK means this caller took the one
    attempt due (the next is due a `RECHECK` later, whatever happens to this one)."""
    recheck = session.scalar(select(ParkedDestination.recheck_at)
                             .where(ParkedDestination.destination == destination))
    if recheck is None:
        return "open"
    if recheck > now:
        return "parked"
    result = session.execute(
        update(ParkedDestination)
        .where(ParkedDestination.destination == destination,
               ParkedDestination.recheck_at <= now)
        .values(recheck_at=now + RECHECK[kind_of(destination)]))
    assert isinstance(result, CursorResult)
    return "recheck" if result.rowcount == 1 else "parked"


def enter_store(store: Store, destination: str, now: datetime) -> Gate:
    with store.session() as session:
        return enter(session, destination, now)


def park(session: Session, destination: str, error: str, waiting: str, now: datetime) -> None:
    """Slack refused `destination` for good: nothing more is tried before the recheck. A
    new reason (archived, then the bot removed) is told again."""
    kind = kind_of(destination)
    recheck = now + RECHECK[kind]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.scalar(
        dialect.insert(ParkedDestination)
        .values(destination=destination, kind=kind, error=error[:64], waiting=waiting[:64],
                parked_at=now, recheck_at=recheck, told_at=None)
        .on_conflict_do_nothing(index_elements=["team_id", "destination"])
        .returning(ParkedDestination.id))
    if inserted is None:
        row = session.scalars(select(ParkedDestination)
                              .where(ParkedDestination.destination == destination)
                              .with_for_update()).one()
        row.recheck_at = max(row.recheck_at, recheck)
        if row.error != error[:64]:
            row.error, row.told_at = error[:64], None
    log.warning("Slack refuses posts to %s (%s): %s parked until %s", destination, error,
                waiting, recheck.isoformat())


def park_store(store: Store, destination: str, error: str, waiting: str,
               now: datetime) -> None:
    with store.session() as session:
        park(session, destination, error, waiting, now)


def unpark(store: Store, destination: str) -> None:
    """A post to `destination` got through: whatever else waits for it may go."""
    with store.session() as session:
        result = session.execute(delete(ParkedDestination)
                                 .where(ParkedDestination.destination == destination))
    assert isinstance(result, CursorResult)
    if result.rowcount:
        log.info("posts to %s work again; what waited for it is resumed", destination)


def recheck_now(store: Store, destination: str, now: datetime) -> bool:
    """Slack told us `destination` may work again: its recheck is due now. Whether it was
    parked."""
    with store.session() as session:
        result = session.execute(update(ParkedDestination)
                                 .where(ParkedDestination.destination == destination)
                                 .values(recheck_at=now))
    assert isinstance(result, CursorResult)
    return bool(result.rowcount)


# --- telling the backbone -------------------------------------------------------------------


@dataclass(frozen=True)
class Untold:
    destination: str
    kind: str
    error: str
    waiting: str


def notice(rows: Sequence[Untold]) -> dict[str, Any]:
    """One message naming every destination newly parked, and why."""
    lines = [f"• I can't post {r.waiting} in <#{r.destination}>: "
             f"{_WHY.get(r.error, f'Slack answers `{r.error}`')}."
             for r in rows if r.kind == "channel"]
    people: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r.kind == "dm":
            people.setdefault((r.waiting, r.error), []).append(r.destination)
    for (waiting, error), users in people.items():
        named = ", ".join(f"<@{u}>" for u in users[:LISTED])
        more = f" and {len(users) - LISTED} more" if len(users) > LISTED else ""
        lines.append(f"• I can't send {waiting} to {named}{more}: Slack refuses DMs to "
                     f"{'them' if len(users) > 1 else 'this person'} (`{error}`); the account "
                     "may be deactivated. Update the members in initiative.yml if they left.")
    text = (":warning: *Some messages are waiting*\n" + "\n".join(lines) + "\nThey are kept: "
            "I try channels again every hour and people once a day, and send what waits as "
            "soon as it works.")
    return bk.message(text, [bk.section(text)])


def tell_untold(store: Store, client: WebClient, now: datetime) -> int:
    """Tell the backbone, once, of every destination parked since the last notice; how many
    were told. Nothing to tell costs one UPDATE."""
    with store.session() as session:
        rows = _claim_untold(session, now)
        if not rows:
            return 0
        initiative = load_initiative(session)
        backbone = initiative.backbone_channel if initiative else None
        admins = list(initiative.admins) if initiative else []
        backbone_parked = backbone is not None and session.scalar(
            select(ParkedDestination.id).where(ParkedDestination.destination == backbone)
        ) is not None
    if backbone and not backbone_parked:
        try:
            client.chat_postMessage(channel=backbone, unfurl_links=False, unfurl_media=False,
                                    metadata=marker(TOLD_EVENT, _payload(rows)),
                                    **notice(rows))
            return len(rows)
        except (SlackApiError, OSError) as exc:
            error = error_of(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
            if not refused_for_good(backbone, error):
                log.warning("could not tell the backbone of parked posts (%s); the relay "
                            "tick tells it later", error)
                _untell(store, rows)
                return 0
            with store.session() as session:
                park(session, backbone, error, "notices for the backbone", now)
                rows = [*rows, *_claim_untold(session, now)]
    _tell_admins(client, admins, rows)
    return len(rows)


def _claim_untold(session: Session, now: datetime) -> list[Untold]:
    found = session.execute(
        update(ParkedDestination).where(ParkedDestination.told_at.is_(None))
        .values(told_at=now)
        .returning(ParkedDestination.destination, ParkedDestination.kind,
                   ParkedDestination.error, ParkedDestination.waiting)).all()
    return sorted((Untold(*row) for row in found), key=lambda r: (r.kind, r.destination))


def _untell(store: Store, rows: Sequence[Untold]) -> None:
    with store.session() as session:
        session.execute(update(ParkedDestination)
                        .where(ParkedDestination.destination.in_([r.destination for r in rows]))
                        .values(told_at=None))


def _payload(rows: Sequence[Untold]) -> dict[str, Any]:
    return {"destinations": [r.destination for r in rows[:LISTED]]}


def _tell_admins(client: WebClient, admins: list[str], rows: Sequence[Untold]) -> None:
    """The backbone channel is the one refusing: each admin hears it by DM (once)."""
    told = 0
    for admin in admins:
        try:
            client.chat_postMessage(channel=admin, metadata=marker(TOLD_EVENT, _payload(rows)),
                                    **notice(rows))
            told += 1
        except (SlackApiError, OSError) as exc:
            log.warning("could not tell admin %s of parked posts: %s", admin,
                        error_of(exc) if isinstance(exc, SlackApiError) else exc)
    if not told:
        log.warning("parked posts (%s) and nobody to tell: no backbone channel or admin "
                    "Slack accepts", ", ".join(r.destination for r in rows))
