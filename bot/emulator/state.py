"""The emulated workspace: its users, channels and messages, the ts clock, and what it saw.

`Workspace` is the state every Web API area reads and changes (`chat`, `conversations`,
`views`, `files`, ...), and the helpers tests use to arrange and inspect it. All of it lives
behind one lock; every change notifies a condition so tests can `wait_for(...)`. Underscored
members are the emulator package's own: the area modules share them, tests do not.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

EXPIRES_IN = 12 * 60 * 60  # seconds a rotating token lives, as Slack issues them


@dataclass(frozen=True)
class Call:
    """One Web API call as the emulator saw it."""

    method: str
    params: dict[str, Any]
    token: str | None
    response: dict[str, Any]
    status: int


@dataclass(frozen=True)
class ResponsePost:
    """One POST to a response_url."""

    url: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class UploadedFile:
    """A file shared through files.getUploadURLExternal → upload → completeUploadExternal."""

    file_id: str
    filename: str
    title: str
    bytes: bytes
    channel_id: str | None
    initial_comment: str | None = None
    thread_ts: str | None = None


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    bot_is_member: bool = True
    user: str | None = None  # the other party of an IM
    is_archived: bool = False
    posting_restricted: bool = False  # only admins may post (chat.postMessage: restricted_action)
    is_mpim: bool = False  # a group DM (conversations.open with several users)


@dataclass
class OAuthState:
    """Installs of the app (see `oauth`): workspaces, their live tokens, codes not yet used."""

    client_id: str = "1111.2222"
    client_secret: str = "emulator-client-secret"
    teams: dict[str, str] = field(default_factory=dict)  # team id -> name
    tokens: dict[str, str] = field(default_factory=dict)  # live bot token -> team id
    # code -> (team, user, rotating)
    codes: dict[str, tuple[str, str, bool]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> team id
    # Enterprise Grid: team id -> (enterprise id, enterprise name) of its organisation
    enterprises: dict[str, tuple[str, str]] = field(default_factory=dict)
    expires_in: int = EXPIRES_IN


def ts_key(ts: str) -> tuple[int, int]:
    """A Slack ts as (seconds, microseconds), for ordering."""
    sec, _, frac = str(ts).partition(".")
    return int(sec or 0), int((frac + "000000")[:6])


class Workspace(ABC):
    """A fake Slack workspace: the world the Web API methods act on."""

    def __init__(
        self,
        *,
        team_id: str,
        team_name: str,
        bot_user_id: str,
        bot_id: str,
        bot_token: str,
        app_id: str,
        ts_base: float | None,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = "".join(c for c in team_name.lower() if c.isalnum()) or "workspace"
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_token = bot_token
        self.app_id = app_id
        self.oauth = OAuthState()
        self._caller_team: str | None = None  # the workspace the current call acts for
        self._ts_base = ts_base
        self._last_ts_us = 0

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._ids = itertools.count(1)

        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}

        self.calls: list[Call] = []
        self.response_posts: list[ResponsePost] = []
        self.invalid_payloads: list[tuple[str, str]] = []
        self.ephemeral_messages: list[dict[str, Any]] = []
        self.uploaded_files: list[UploadedFile] = []
        self.views: dict[str, dict[str, Any]] = {}  # view id -> current view
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> published home view

        self._response_urls: dict[str, str | None] = {}  # id -> channel
        self._response_url_uses: dict[str, tuple[float, int]] = {}  # id -> (issued at, uses)
        self._triggers: dict[str, tuple[float, bool]] = {}  # trigger id -> (issued at, used)
        # The emulator's own clock (seconds): triggers and response URLs expire by it. It
        # stands still unless a test moves it (`advance`), so expiry tests never sleep.
        self._clock = 0.0
        # Most messages one conversations.history/replies page holds whatever `limit` asks;
        # 15 is Slack's 2025 cap for distributed apps outside the Marketplace.
        self.history_page_cap: int | None = None
        self._pending_uploads: dict[str, dict[str, Any]] = {}  # file id -> info

        self.add_user(bot_user_id, name="impactbot", real_name="Impact Bot", is_bot=True)

    @property
    @abstractmethod
    def base_url(self) -> str:
        """Where the emulator listens (upload and response URLs point there)."""

    # ------------------------------------------------------------------ world state
    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        tz: str = "America/Chicago",
        is_bot: bool = False,
        deleted: bool = False,
    ) -> None:
        uname = name or user_id.lower()
        rname = real_name or uname
        with self._cond:
            self.users[user_id] = {
                "id": user_id,
                "team_id": self.team_id,
                "name": uname,
                "deleted": deleted,
                "color": "9f69e7",
                "real_name": rname,
                "tz": tz,
                "is_admin": False,
                "is_owner": False,
                "is_primary_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": is_bot,
                "is_app_user": False,
                "updated": 1700000000,
                "profile": {
                    "real_name": rname,
                    "real_name_normalized": rname,
                    "display_name": uname,
                    "display_name_normalized": uname,
                    "team": self.team_id,
                    "image_48": f"https://avatars.example/{user_id}_48.png",
                    **({"bot_id": self.bot_id} if is_bot and user_id == self.bot_user_id else {}),
                },
            }
            self._cond.notify_all()

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        is_private: bool = False,
        is_im: bool = False,
        members: Iterable[str] = (),
        bot_is_member: bool = True,
    ) -> None:
        with self._cond:
            ch = Channel(
                id=channel_id,
                name=name,
                is_private=is_private or is_im,
                is_im=is_im,
                members=set(members),
                bot_is_member=bot_is_member,
            )
            if is_im:
                others = [m for m in ch.members if m != self.bot_user_id]
                ch.user = others[0] if others else None
            if bot_is_member:
                ch.members.add(self.bot_user_id)
            self.channels[channel_id] = ch
            self._messages.setdefault(channel_id, [])
            self._cond.notify_all()

    def now(self) -> float:
        """The emulator's clock, in seconds (see `advance`)."""
        with self._lock:
            return self._clock

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock: triggers (3 s) and response URLs (30 min) expire by it."""
        with self._cond:
            self._clock += seconds
            self._cond.notify_all()

    def _next_ts(self) -> str:
        if self._ts_base is None:
            now_us = int(time.time() * 1_000_000)
        else:
            now_us = int(self._ts_base * 1_000_000)
        us = max(now_us, self._last_ts_us + 100)
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _note_ts(self, ts: str) -> None:
        sec, frac = ts_key(ts)
        self._last_ts_us = max(self._last_ts_us, sec * 1_000_000 + frac)

    def new_ts(self) -> str:
        """A fresh, strictly increasing Slack timestamp (e.g. for event_ts)."""
        with self._lock:
            return self._next_ts()

    def add_message(
        self,
        channel: str,
        *,
        user: str | None,
        text: str,
        ts: str | None = None,
        thread_ts: str | None = None,
        bot_id: str | None = None,
        blocks: list[Any] | None = None,
        metadata: dict[str, Any] | None = None,
        files: list[dict[str, Any]] | None = None,
        team: str | None = None,
    ) -> str:
        """Put a message into a channel (as if a person or another app posted it); `team`
        is the author's organisation when it is not this workspace (Slack Connect)."""
        with self._cond:
            if channel not in self.channels:
                if channel.startswith("U") and channel in self.users:
                    channel = self.dm_channel_for(channel)
                else:
                    self.add_channel(channel, name=channel.lower())
            if ts is None:
                ts = self._next_ts()
            else:
                self._note_ts(ts)
            msg: dict[str, Any] = {"type": "message", "text": text, "ts": ts}
            if user is not None:
                msg["user"] = user
            if bot_id is not None:
                msg["bot_id"] = bot_id
                if bot_id == self.bot_id:
                    msg["app_id"] = self.app_id
            if blocks is not None:
                msg["blocks"] = copy.deepcopy(blocks)
            if metadata is not None:
                msg["metadata"] = copy.deepcopy(metadata)
            if files:
                msg["files"] = files
                msg["upload"] = True
            msg["team"] = team or self.team_id
            if team:
                msg["user_team"] = msg["source_team"] = team
            self._store(channel, msg, thread_ts)
            self._cond.notify_all()
            return ts

    def _store(self, channel: str, msg: dict[str, Any], thread_ts: str | None) -> None:
        msgs = self._messages.setdefault(channel, [])
        if thread_ts and thread_ts != msg["ts"]:
            msg["thread_ts"] = thread_ts
            parent = self._find(channel, thread_ts)
            if parent is not None:
                if parent.get("user"):
                    msg["parent_user_id"] = parent["user"]
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                reply_users = list(parent.get("reply_users", []))
                who = msg.get("user") or msg.get("bot_id")
                if who and who not in reply_users:
                    reply_users.append(who)
                parent["reply_users"] = reply_users
                parent["reply_users_count"] = len(reply_users)
                parent["latest_reply"] = msg["ts"]
        msgs.append(msg)
        msgs.sort(key=lambda m: ts_key(m["ts"]))

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        for m in self._messages.get(channel, []):
            if m["ts"] == ts:
                return m
        return None

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            if channel.startswith("U") and channel in self.users:
                channel = self.dm_channel_for(channel)
            m = self._find(channel, ts)
            return copy.deepcopy(m) if m is not None else None

    def messages(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            if channel.startswith("U") and channel in self.users:
                channel = self.dm_channel_for(channel)
            return copy.deepcopy(self._messages.get(channel, []))

    def dm_channel_for(self, user_id: str) -> str:
        with self._cond:
            for ch in self.channels.values():
                if ch.is_im and ch.user == user_id:
                    return ch.id
            cid = "D" + user_id[1:]
            self.add_channel(cid, name=cid, is_im=True, members=[user_id, self.bot_user_id])
            self.channels[cid].user = user_id
            return cid

    def mpim_channel_for(self, user_ids: Iterable[str]) -> str:
        """The group DM of the bot with these people: the same one for the same set, as
        Slack resumes an existing conversation (docs.slack.dev/reference/methods/
        conversations.open, "Using the users parameter")."""
        people = frozenset(user_ids) | {self.bot_user_id}
        with self._cond:
            for ch in self.channels.values():
                if ch.is_mpim and ch.members == people:
                    return ch.id
            cid = f"G0MPIM{len(self.channels):04d}"
            self.add_channel(cid, name=f"mpdm-{'--'.join(sorted(people))}-1", is_private=True,
                             members=people)
            self.channels[cid].is_mpim = True
            return cid

    def messages_to_user(self, user_id: str) -> list[dict[str, Any]]:
        """Bot messages in the bot's DM with this user, oldest first."""
        return [
            m
            for m in self.messages(self.dm_channel_for(user_id))
            if m.get("bot_id") == self.bot_id or m.get("user") == self.bot_user_id
        ]

    def bot_messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages the bot posted in a channel (or DM, given a user id), oldest first."""
        return [m for m in self.messages(channel) if m.get("bot_id") == self.bot_id]

    # ------------------------------------------------------------------ records
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def clear_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.response_posts.clear()
            self.invalid_payloads.clear()

    def wait_for(self, predicate: Callable[[Self], bool], timeout: float = 5.0) -> bool:
        """Block until predicate(self) is true (re-checked after every request) or timeout."""
        with self._cond:
            return bool(self._cond.wait_for(lambda: predicate(self), timeout=timeout))

    def notify(self) -> None:
        """Wake wait_for() callers (e.g. after changing state from outside a request)."""
        with self._cond:
            self._cond.notify_all()
