"""A win's states and transitions: pure rules, no Slack and no database.

Each celebrated message has one `wins` row whose status is the whole story:

    counting  → reactions so far are below the threshold (`reactors` lists who reacted)
    pending   → the message is from a private place: its author was asked, no answer yet
    approved  → to be posted (public message, or the author said yes)
    declined  → the author said no: nothing is posted and nobody asks again
    posted    → in the wins channel

Who counts: distinct people, never the message's author (nor bots: the flow asks Slack who
is a person). Messages from private channels, group DMs and DMs need their author's consent.

A move that makes a side effect due also claims it, with a lease (bot/exactly_once.py):
for `approved`, a NULL lease means nobody is posting right now; for `pending`, it means the
author has been asked. A claim whose lease ran out is taken over, looking first (`retry`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from bot.exactly_once import take_lease
from storage.models import WinStatus

__all__ = ["Action", "Move", "WinState", "WinStatus", "answer", "counted", "emoji_name",
           "is_bot_message", "is_win_emoji", "needs_consent", "nominate", "resume",
           "shared_outcome"]

COUNTING, PENDING, APPROVED = WinStatus.COUNTING, WinStatus.PENDING, WinStatus.APPROVED
DECLINED, POSTED = WinStatus.DECLINED, WinStatus.POSTED


class Action(StrEnum):
    """What a worker must do after a move: post the win, ask its author, or nothing."""

    POST = "post"
    ASK = "ask"
    NONE = "none"


@dataclass(frozen=True)
class WinState:
    status: WinStatus
    author_id: str
    reactors: tuple[str, ...] = ()
    lease_until: datetime | None = None


@dataclass(frozen=True)
class Move:
    state: WinState  # after the move
    action: Action = Action.NONE
    retry: bool = False  # took over an expired claim: an earlier attempt may have acted


# --- which reactions and messages count -------------------------------------------------


def emoji_name(reaction: str) -> str:
    """`thumbsup::skin-tone-2` counts as `thumbsup`."""
    return reaction.split("::", 1)[0]


def is_win_emoji(win_emoji: Iterable[str] | None, reaction: str) -> bool:
    return emoji_name(reaction) in (win_emoji or [])


def is_bot_message(message: dict[str, Any]) -> bool:
    return bool(message.get("bot_id")) or message.get("subtype") == "bot_message" \
        or not message.get("user")


def is_external(message: dict[str, Any] | None, info: dict[str, Any] | None) -> bool:
    """A message by a person of another organisation (Slack Connect): its author's team
    (`user_team`, else `team`) is not the team the app sees the channel from
    (`context_team_id` in conversations.info; docs.slack.dev/apis/slack-connect)."""
    if not message or not info:
        return False
    home = info.get("context_team_id")
    author_team = message.get("user_team") or message.get("team")
    return bool(home and author_team and author_team != home)


def needs_consent(channel_id: str, info: dict[str, Any] | None,
                  message: dict[str, Any] | None = None) -> bool:
    """DMs, group DMs, private channels, and messages by people of another organisation in a
    shared channel are shared only when the author agrees."""
    if channel_id.startswith("D") or info is None:
        return True
    return bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim")
                or is_external(message, info))


def counted(reactors: Sequence[str], author_id: str, nominator: str | None) -> tuple[str, ...]:
    """The people celebrating after `nominator` reacts: each person once, never the author."""
    if nominator and nominator != author_id and nominator not in reactors:
        return (*reactors, nominator)
    return tuple(reactors)


# --- transitions ----------------------------------------------------------------------------


def nominate(state: WinState, *, nominator: str | None, private: bool, threshold: int,
             now: datetime, lease: timedelta) -> Move:
    """One more person celebrates the message (a reaction, or the share shortcut)."""
    state = replace(state, reactors=counted(state.reactors, state.author_id, nominator))
    if state.status == PENDING and not private and nominator == state.author_id:
        # The author shared it themselves: that is their consent.
        return Move(replace(state, status=APPROVED, lease_until=now + lease), Action.POST)
    if state.status == COUNTING and len(state.reactors) >= threshold:
        status, action = (PENDING, Action.ASK) if private else (APPROVED, Action.POST)
        return Move(replace(state, status=status, lease_until=now + lease), action)
    return resume(state, now=now, lease=lease)


def resume(state: WinState, *, now: datetime, lease: timedelta) -> Move:
    """Claim a win whose earlier worker failed or died; else nothing to do."""
    if state.status == APPROVED:
        taken = take_lease(state.lease_until, now, lease)
        if taken is not None:
            return Move(replace(state, lease_until=taken.until), Action.POST,
                        retry=taken.taken_over)
    if state.status == PENDING and state.lease_until is not None:
        taken = take_lease(state.lease_until, now, lease)
        if taken is not None:
            return Move(replace(state, lease_until=taken.until), Action.ASK, retry=True)
    return Move(state)


AnswerOutcome = Literal["approved", "declined", "already_posted", "already_declined",
                        "not_author", "gone"]


def answer(state: WinState, *, user_id: str, approve: bool, now: datetime,
           lease: timedelta) -> tuple[AnswerOutcome, Move]:
    """The author's Approve or Decline. Only the author's first answer counts."""
    if state.author_id != user_id:
        return "not_author", Move(state)
    if state.status == POSTED:
        return "already_posted", Move(state)
    if state.status == DECLINED:
        return "already_declined", Move(state)
    if state.status != PENDING:
        return "approved", Move(state)  # posting already under way
    if approve:
        return "approved", Move(replace(state, status=APPROVED, lease_until=now + lease),
                                Action.POST)
    return "declined", Move(replace(state, status=DECLINED, lease_until=None))


SharedOutcome = Literal["posted", "asked", "already_posted", "awaiting", "sharing",
                        "declined", "bot", "failed", "no_channel", "waiting"]


def shared_outcome(status: str, action: Action) -> SharedOutcome:
    """What to tell someone who used "Share as a win", from where the win ended up."""
    if status == POSTED:
        return "posted" if action == Action.POST else "already_posted"
    if status == PENDING:
        return "asked" if action == Action.ASK else "awaiting"
    if status == APPROVED:
        return "failed" if action == Action.POST else "sharing"
    if status == DECLINED:
        return "declined"
    return "failed"
