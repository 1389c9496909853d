"""Wins the wins channel cannot take: parked, the backbone told once, resumed when it works.

`chat.postMessage` answers `is_archived`, `restricted_action`, `not_in_channel` or
`channel_not_found` when the bot cannot post in a channel (docs.slack.dev/reference/methods/
chat.postMessage, "Errors"); retrying every tick only repeats the refusal. Instead every
approved win waiting for that channel is parked until `RECHECK` from now (its claim's lease
runs until then, so no tick touches it), the backbone channel hears why once (a marked post:
found in its history, it is not said again), and after `RECHECK` one attempt tells whether
the channel works again — if so the waiting wins go out, otherwise they park again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.exactly_once import post_marked
from bot.rendering import blocks as bk
from bot.wins.states import WinStatus
from storage.models import Win

log = logging.getLogger(__name__)

CANNOT_POST = ("is_archived", "restricted_action", "not_in_channel", "channel_not_found")
RECHECK = timedelta(hours=1)
TOLD_EVENT = "impact_wins_channel_blocked"
TOLD_HISTORY = 50  # backbone messages searched for an earlier notice

_WHY = {
    "is_archived": "it is archived. Unarchive it, or name another `wins_channel` in "
                   "initiative.yml",
    "restricted_action": "posting there is limited to admins. Let the app post there, or name "
                         "another `wins_channel`",
    "not_in_channel": "I am not a member. Invite me with `/invite @Impact Bot`",
    "channel_not_found": "I cannot find it. Name another `wins_channel` in initiative.yml",
}


def park_waiting(session: Session, now: datetime) -> int:
    """Every approved, unposted win waits until `now + RECHECK`; how many."""
    result = session.execute(update(Win).where(Win.status == WinStatus.APPROVED)
                             .values(lease_until=now + RECHECK))
    return int(getattr(result, "rowcount", 0) or 0)


def notice(wins_channel: str, error: str, waiting: int) -> dict[str, object]:
    why = _WHY.get(error, f"Slack answers `{error}`")
    text = (f":warning: I can't post wins in <#{wins_channel}>: {why}. {waiting} "
            f"win{'s are' if waiting != 1 else ' is'} waiting; I'll try again every hour and "
            "post them as soon as it works.")
    return bk.message(text, [bk.section(text)])


def tell_backbone_once(client: WebClient, backbone: str | None, wins_channel: str,
                       error: str, waiting: int) -> None:
    """Tell the backbone channel why wins are parked, unless it was told already."""
    if not backbone:
        log.warning("wins for %s parked (%s); no backbone channel to tell", wins_channel, error)
        return
    try:
        post_marked(client, backbone, TOLD_EVENT, {"channel": wins_channel, "error": error},
                    notice(wins_channel, error, waiting), look=True, limit=TOLD_HISTORY)
    except SlackApiError as exc:
        log.warning("could not tell the backbone that wins are parked: %s",
                    exc.response.get("error"))
