"""A loopback fake of the Slack Web API (plus response URLs and file upload URLs).

`SlackEmulator` serves `http://127.0.0.1:PORT/api/<method>` from a daemon thread; point
slack_sdk's `WebClient(base_url=emu.api_url)` at it.  All state lives in memory behind one
lock; every request notifies a condition so tests can `wait_for(...)` instead of sleeping.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import email.parser
import email.policy
import hashlib
import itertools
import json
import math
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

from bot.emulator import oauth
from bot.emulator.blockkit import problems, view_problems

JSON_PARAMS = ("blocks", "view", "metadata", "files", "attachments", "users_list")


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
class _Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    bot_is_member: bool = True
    user: str | None = None  # the other party of an IM


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """Take one token; answer 0 if granted, else seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class _RateLimit:
    per_second: float
    burst: int
    per_channel_per_second: float | None
    bucket: _Bucket
    channel_buckets: dict[str, _Bucket] = field(default_factory=dict)


class Hold:
    """A call the emulator completes and then holds open: the client never hears back.

    `hold(method, nth=n)`: the n-th successful call to `method` is processed (a message is
    stored) and its answer withheld until `release()`; every later call to the method is
    withheld *unprocessed* and, once released, answered 503 without being processed. A test
    can then kill the caller between "Slack did it" and "the caller recorded it".
    """

    def __init__(self, method: str, nth: int, timeout: float) -> None:
        self.method = method
        self.nth = nth
        self.timeout = timeout
        self.seen = 0
        self.tripped = False
        self.reached = threading.Event()
        self.released = threading.Event()

    def release(self) -> None:
        self.released.set()


class _Fail(Exception):
    """Raised inside a method implementation to answer {"ok": false, "error": ...}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).lower() in ("1", "true", "yes")


def _ts_key(ts: str) -> tuple[int, int]:
    sec, _, frac = str(ts).partition(".")
    return int(sec or 0), int((frac + "000000")[:6])


class SlackEmulator:
    """A fake Slack workspace with a Web API over HTTP on 127.0.0.1."""

    def __init__(
        self,
        *,
        team_id: str = "T0IMPACT",
        team_name: str = "Impact",
        bot_user_id: str = "U0IMPACTBOT",
        bot_id: str = "B0IMPACTBOT",
        bot_token: str = "xoxb-emulator-token",
        app_id: str = "A0IMPACT",
        ts_base: float | None = None,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = "".join(c for c in team_name.lower() if c.isalnum()) or "workspace"
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_token = bot_token
        self.oauth = oauth.OAuthState()
        self._faults_after: dict[str, list[int]] = {}
        self._caller_team: str | None = None
        self.app_id = app_id
        self._ts_base = ts_base
        self._last_ts_us = 0

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)

        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, _Channel] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}

        self.calls: list[Call] = []
        self.response_posts: list[ResponsePost] = []
        self.invalid_payloads: list[tuple[str, str]] = []
        self.ephemeral_messages: list[dict[str, Any]] = []
        self.uploaded_files: list[UploadedFile] = []
        self.views: dict[str, dict[str, Any]] = {}  # view id -> current view
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> published home view

        self._response_urls: dict[str, str | None] = {}  # id -> channel
        self._triggers: dict[str, bool] = {}  # trigger id -> used
        self._pending_uploads: dict[str, dict[str, Any]] = {}  # file id -> info
        self._faults: dict[str, list[tuple[int, int, str | None]]] = {}
        self._failure_rates: dict[str, tuple[float, int, random.Random]] = {}
        self._rate_limits: dict[str, _RateLimit] = {}
        self._bursts: dict[str, float] = {}  # method -> monotonic end of a 429 burst
        self._holds: dict[str, Hold] = {}

        self.add_user(bot_user_id, name="impactbot", real_name="Impact Bot", is_bot=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> SlackEmulator:
        if self._server is not None:
            return self
        emulator = self

        class Handler(_Handler):
            emu = emulator

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("SlackEmulator is not started")
        _host, port = self._server.server_address[:2]
        return f"http://127.0.0.1:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

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
            ch = _Channel(
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

    def _next_ts(self) -> str:
        if self._ts_base is None:
            now_us = int(time.time() * 1_000_000)
        else:
            now_us = int(self._ts_base * 1_000_000)
        us = max(now_us, self._last_ts_us + 100)
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _note_ts(self, ts: str) -> None:
        sec, frac = _ts_key(ts)
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
    ) -> str:
        """Put a message into a channel (as if a person or another app posted it)."""
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
            msg["team"] = self.team_id
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
        msgs.sort(key=lambda m: _ts_key(m["ts"]))

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
    def add_team(self, team_id: str, name: str) -> None:
        """Another workspace that can install the app (multi-workspace mode)."""
        with self._lock:
            self.oauth.teams[team_id] = name

    def issue_oauth_code(self, team_id: str, *, user: str = "U0INSTALLER",
                         rotating: bool = False) -> str:
        """The code Slack would hand the app's redirect URL after an install."""
        with self._lock:
            return oauth.issue_code(self.oauth, team_id, user, rotating)

    def revoke_team_tokens(self, team_id: str) -> None:
        """The workspace uninstalled the app: its tokens stop working."""
        with self._lock:
            oauth.revoke_team(self.oauth, team_id)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def clear_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.response_posts.clear()
            self.invalid_payloads.clear()

    def new_response_url(self, channel: str | None = None) -> str:
        with self._lock:
            rid = f"R{next(self._ids):08d}"
            self._response_urls[rid] = channel
            return f"{self.base_url}/response/{rid}"

    def new_trigger_id(self) -> str:
        with self._lock:
            n = next(self._ids)
            tid = f"{n}.{int(time.time())}.{hashlib.sha1(str(n).encode()).hexdigest()[:24]}"
            self._triggers[tid] = False
            return tid

    def register_trigger_id(self, trigger_id: str) -> None:
        with self._lock:
            self._triggers.setdefault(trigger_id, False)

    def wait_for(self, predicate: Callable[[SlackEmulator], bool], timeout: float = 5.0) -> bool:
        """Block until predicate(self) is true (re-checked after every request) or timeout."""
        with self._cond:
            return bool(self._cond.wait_for(lambda: predicate(self), timeout=timeout))

    def notify(self) -> None:
        """Wake wait_for() callers (e.g. after changing state from outside a request)."""
        with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------------ fault injection
    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        count: int = 1,
        retry_after: int = 1,
        error: str | None = None,
    ) -> None:
        with self._lock:
            self._faults.setdefault(method, []).extend([(status, retry_after, error)] * count)

    def fail_after(self, method: str, *, status: int = 500, count: int = 1) -> None:
        """The next `count` calls of `method` take effect (a message IS posted) and then
        answer HTTP `status`: Slack's worst case, a side effect the caller cannot see."""
        with self._lock:
            self._faults_after.setdefault(method, []).extend([status] * count)

    def set_failure_rate(
        self, method: str, rate: float, *, status: int = 500, seed: int = 0
    ) -> None:
        with self._lock:
            if rate <= 0:
                self._failure_rates.pop(method, None)
            else:
                self._failure_rates[method] = (rate, status, random.Random(seed))

    def set_rate_limit(
        self,
        method: str,
        *,
        per_second: float,
        burst: int = 1,
        per_channel_per_second: float | None = None,
    ) -> None:
        with self._lock:
            now = time.monotonic()
            self._rate_limits[method] = _RateLimit(
                per_second=per_second,
                burst=burst,
                per_channel_per_second=per_channel_per_second,
                bucket=_Bucket(per_second, float(burst), float(burst), now),
            )

    def rate_limit_burst(self, method: str, seconds: float) -> None:
        """For the next `seconds`, every call to `method` gets 429 with the remaining
        time as Retry-After (Slack throttling a workspace for a while)."""
        with self._lock:
            end = time.monotonic() + seconds
            self._bursts[method] = max(self._bursts.get(method, 0.0), end)

    def hold(self, method: str, *, nth: int = 1, timeout: float = 60.0) -> Hold:
        """Complete the nth successful call to `method`, then withhold answers (see Hold)."""
        with self._lock:
            hold = Hold(method, nth, timeout)
            self._holds[method] = hold
            return hold

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._faults_after.clear()
            self._failure_rates.clear()
            self._rate_limits.clear()
            self._bursts.clear()
            for hold in self._holds.values():
                hold.release()
            self._holds.clear()

    def _injected_fault(
        self, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        queue = self._faults.get(method)
        if queue:
            status, retry_after, error = queue.pop(0)
            return self._fault_response(status, retry_after, error)
        fr = self._failure_rates.get(method)
        if fr is not None:
            rate, status, rng = fr
            if rng.random() < rate:
                return self._fault_response(status, 1, None)
        burst_end = self._bursts.get(method)
        if burst_end is not None and burst_end > time.monotonic():
            return self._fault_response(429, math.ceil(burst_end - time.monotonic()), None)
        rl = self._rate_limits.get(method)
        if rl is not None:
            now = time.monotonic()
            wait = rl.bucket.take(now)
            if wait == 0 and rl.per_channel_per_second:
                ch = str(params.get("channel") or params.get("channel_id") or "")
                b = rl.channel_buckets.get(ch)
                if b is None:
                    b = _Bucket(rl.per_channel_per_second, float(rl.burst), float(rl.burst), now)
                    rl.channel_buckets[ch] = b
                wait = b.take(now)
                if wait > 0:  # give the workspace token back: the call did not happen
                    rl.bucket.tokens = min(rl.bucket.capacity, rl.bucket.tokens + 1)
            if wait > 0:
                return self._fault_response(429, max(1, math.ceil(wait)), None)
        return None

    @staticmethod
    def _fault_response(
        status: int, retry_after: int, error: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if status == 429:
            return (
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(max(1, int(retry_after)))},
            )
        if status == 200:
            return 200, {"ok": False, "error": error or "internal_error"}, {}
        return status, {"ok": False, "error": error or "internal_error"}, {}

    # ------------------------------------------------------------------ dispatch
    def _handle_api(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        hold = self._holds.get(method)
        with self._cond:
            withheld = hold is not None and hold.tripped
        if withheld:
            assert hold is not None
            hold.released.wait(hold.timeout)
            return 503, {"ok": False, "error": "service_unavailable"}, {}
        with self._cond:
            status, resp, headers = self._dispatch(method, params, token)
            self.calls.append(
                Call(
                    method=method,
                    params=copy.deepcopy(params),
                    token=token,
                    response=copy.deepcopy(resp),
                    status=status,
                )
            )
            trip = False
            if hold is not None and not hold.tripped and status == 200 and resp.get("ok"):
                hold.seen += 1
                trip = hold.tripped = hold.seen >= hold.nth
            self._cond.notify_all()
        if trip:
            assert hold is not None
            hold.reached.set()
            self.notify()
            hold.released.wait(hold.timeout)
        return status, resp, headers

    def _dispatch(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "oauth.v2.access":  # client credentials, not a token
            try:
                return 200, {"ok": True, **oauth.access(self, params)}, {}
            except oauth.OAuthFailure as failure:
                return 200, {"ok": False, "error": failure.error}, {}
        impl = _METHODS.get(method)
        if impl is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        if token is None:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if oauth.team_of_token(self, token) is None:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        self._caller_team = oauth.team_of_token(self, token)
        fault = self._injected_fault(method, params)
        if fault is not None:
            return fault
        try:
            body = impl(self, params)
            after = self._faults_after.get(method)
            if after:
                return self._fault_response(after.pop(0), 1, None)
        except _Fail as f:
            if f.error == "invalid_blocks":
                self.invalid_payloads.append((method, "; ".join(f.extra.get("errors", []))))
            return 200, {"ok": False, "error": f.error, **f.extra}, {}
        return 200, {"ok": True, **body}, {}

    # ------------------------------------------------------------------ helpers
    def _user(self, user_id: Any) -> dict[str, Any]:
        if not isinstance(user_id, str) or user_id not in self.users:
            raise _Fail("user_not_found")
        return self.users[user_id]

    def _resolve_channel(self, channel: Any, *, allow_user: bool) -> _Channel:
        if not isinstance(channel, str) or not channel:
            raise _Fail("channel_not_found")
        if allow_user and channel[0] in "UW" and channel not in self.channels:
            if channel not in self.users or self.users[channel].get("deleted"):
                raise _Fail("channel_not_found")
            return self.channels[self.dm_channel_for(channel)]
        ch = self.channels.get(channel)
        if ch is None:
            raise _Fail("channel_not_found")
        return ch

    def _check_blocks(self, params: dict[str, Any], kind: str = "message") -> None:
        blocks = params.get("blocks")
        if blocks is None:
            return
        text = params.get("text")
        found = problems(blocks, kind="message", text=text if isinstance(text, str) else None)
        if found:
            raise _Fail("invalid_blocks", errors=found)

    def _check_view(self, view: Any) -> dict[str, Any]:
        if view is None:
            raise _Fail("invalid_arguments")
        found = view_problems(view)
        if found:
            raise _Fail("invalid_blocks", errors=found)
        assert isinstance(view, dict)
        return view

    def _use_trigger(self, trigger_id: Any) -> None:
        if not isinstance(trigger_id, str) or not trigger_id:
            raise _Fail("invalid_arguments")
        used = self._triggers.get(trigger_id)
        if used is None:
            raise _Fail("invalid_trigger_id")
        if used:
            raise _Fail("trigger_exchanged")
        self._triggers[trigger_id] = True

    def _bot_message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": params.get("text") or "",
            "team": self.team_id,
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.users[self.bot_user_id]["real_name"],
                "deleted": False,
                "team_id": self.team_id,
            },
        }
        if params.get("blocks") is not None:
            msg["blocks"] = copy.deepcopy(params["blocks"])
        if params.get("attachments") is not None:
            msg["attachments"] = copy.deepcopy(params["attachments"])
        if isinstance(params.get("metadata"), dict):
            msg["metadata"] = copy.deepcopy(params["metadata"])
        return msg

    def _public_message(self, msg: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
        out = copy.deepcopy(msg)
        if not include_metadata:
            out.pop("metadata", None)
        return out

    def _view_record(self, view: dict[str, Any], *, view_id: str | None = None) -> dict[str, Any]:
        vid = view_id or f"V{next(self._ids):010d}"
        rec = copy.deepcopy(view)
        rec.update(
            {
                "id": vid,
                "team_id": self.team_id,
                "app_id": self.app_id,
                "bot_id": self.bot_id,
                "app_installed_team_id": self.team_id,
                "state": {"values": {}},
                "hash": hashlib.sha1(f"{vid}:{next(self._ids)}".encode()).hexdigest()[:20],
                "root_view_id": vid,
                "previous_view_id": None,
            }
        )
        rec.setdefault("private_metadata", "")
        rec.setdefault("callback_id", "")
        rec.setdefault("external_id", "")
        rec.setdefault("clear_on_close", False)
        rec.setdefault("notify_on_close", False)
        for key in ("title", "submit", "close"):
            rec.setdefault(key, None)
        self.views[vid] = rec
        return rec

    # ------------------------------------------------------------------ methods
    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        team_id = self._caller_team or self.team_id
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.oauth.teams.get(team_id, self.team_name),
            "user": self.users[self.bot_user_id]["name"],
            "team_id": team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._resolve_channel(params.get("channel"), allow_user=True)
        if not ch.bot_is_member:
            raise _Fail("not_in_channel")
        text = params.get("text")
        if not text and params.get("blocks") is None and params.get("attachments") is None:
            raise _Fail("no_text")
        self._check_blocks(params)
        meta = params.get("metadata")
        if meta is not None and (
            not isinstance(meta, dict) or "event_type" not in meta or "event_payload" not in meta
        ):
            raise _Fail("invalid_metadata_format")
        thread_ts = params.get("thread_ts") or None
        ts = self._next_ts()
        msg = self._bot_message(params, ts)
        self._store(ch.id, msg, str(thread_ts) if thread_ts else None)
        return {"channel": ch.id, "ts": ts, "message": copy.deepcopy(msg)}

    def _m_chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._resolve_channel(params.get("channel"), allow_user=True)
        user = params.get("user")
        self._user(user)
        if not params.get("text") and params.get("blocks") is None:
            raise _Fail("no_text")
        self._check_blocks(params)
        ts = self._next_ts()
        self.ephemeral_messages.append(
            {
                "channel": ch.id,
                "user": user,
                "text": params.get("text") or "",
                "blocks": copy.deepcopy(params.get("blocks")),
                "thread_ts": params.get("thread_ts"),
                "message_ts": ts,
            }
        )
        return {"message_ts": ts}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._resolve_channel(params.get("channel"), allow_user=False)
        ts = str(params.get("ts") or "")
        msg = self._find(ch.id, ts)
        if msg is None:
            raise _Fail("message_not_found")
        if msg.get("bot_id") != self.bot_id:
            raise _Fail("cant_update_message")
        if "blocks" in params:
            self._check_blocks(params)
        if "text" in params and params["text"] is not None:
            msg["text"] = params["text"]
        if "blocks" in params and params["blocks"] is not None:
            msg["blocks"] = copy.deepcopy(params["blocks"])
        if isinstance(params.get("metadata"), dict):
            msg["metadata"] = copy.deepcopy(params["metadata"])
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "channel": ch.id,
            "ts": ts,
            "text": msg.get("text", ""),
            "message": copy.deepcopy(msg),
        }

    def _m_chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._resolve_channel(params.get("channel"), allow_user=False)
        ts = str(params.get("ts") or "")
        msg = self._find(ch.id, ts)
        if msg is None:
            raise _Fail("message_not_found")
        self._messages[ch.id].remove(msg)
        return {"channel": ch.id, "ts": ts}

    def _m_chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._resolve_channel(params.get("channel"), allow_user=False)
        ts = str(params.get("message_ts") or "")
        msg = self._find(ch.id, ts)
        if msg is None:
            raise _Fail("message_not_found")
        link = f"https://{self.team_domain}.slack.com/archives/{ch.id}/p{ts.replace('.', '')}"
        if msg.get("thread_ts") and msg["thread_ts"] != ts:
            link += f"?thread_ts={msg['thread_ts']}&cid={ch.id}"
        return {"channel": ch.id, "permalink": link}

    def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = params.get("users")
        if params.get("channel"):
            ch = self._resolve_channel(params["channel"], allow_user=False)
            return {"channel": {"id": ch.id}}
        if isinstance(users, list):
            ids = [str(u) for u in users]
        else:
            ids = [u.strip() for u in str(users or "").split(",") if u.strip()]
        if not ids:
            raise _Fail("users_list_not_supplied")
        for u in ids:
            if u not in self.users or self.users[u].get("deleted"):
                raise _Fail("user_not_found")
        if len(ids) > 1:
            raise _Fail("not_supported")  # mpims are not emulated
        cid = self.dm_channel_for(ids[0])
        out: dict[str, Any] = {"channel": {"id": cid}}
        if _truthy(params.get("return_im")):
            out["channel"] = self._channel_info(self.channels[cid])
        return out

    def _channel_info(self, ch: _Channel) -> dict[str, Any]:
        if ch.is_im:
            return {
                "id": ch.id,
                "created": 1700000000,
                "is_im": True,
                "is_org_shared": False,
                "user": ch.user,
                "is_user_deleted": bool(ch.user and self.users.get(ch.user, {}).get("deleted")),
                "priority": 0,
            }
        return {
            "id": ch.id,
            "name": ch.name,
            "is_channel": not ch.is_private,
            "is_group": ch.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": ch.is_private,
            "created": 1700000000,
            "is_archived": False,
            "is_general": ch.name == "general",
            "unlinked": 0,
            "name_normalized": ch.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "creator": "",
            "is_ext_shared": False,
            "shared_team_ids": [self.team_id],
            "is_member": ch.bot_is_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
            "num_members": len(ch.members),
        }

    def _m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._resolve_channel(params.get("channel"), allow_user=False)
        if ch.is_private and not ch.bot_is_member:
            raise _Fail("channel_not_found")
        return {"channel": self._channel_info(ch)}

    def _m_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._resolve_channel(params.get("channel"), allow_user=False)
        return {"members": sorted(ch.members), "response_metadata": {"next_cursor": ""}}

    @staticmethod
    def _window(
        msgs: list[dict[str, Any]], params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        inclusive = _truthy(params.get("inclusive"))
        latest = params.get("latest")
        oldest = params.get("oldest")
        out = []
        for m in msgs:
            k = _ts_key(m["ts"])
            if latest not in (None, ""):
                lk = _ts_key(str(latest))
                if k > lk or (k == lk and not inclusive):
                    continue
            if oldest not in (None, ""):
                ok = _ts_key(str(oldest))
                if k < ok or (k == ok and not inclusive):
                    continue
            out.append(m)
        return out

    @staticmethod
    def _page(items: list[Any], params: dict[str, Any], default: int) -> tuple[list[Any], str]:
        try:
            limit = int(params.get("limit") or default)
        except (TypeError, ValueError):
            limit = default
        limit = max(1, min(limit, 1000))
        cursor = params.get("cursor")
        start = int(cursor) if isinstance(cursor, str) and cursor.isdigit() else 0
        page = items[start : start + limit]
        nxt = str(start + limit) if start + limit < len(items) else ""
        return page, nxt

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._resolve_channel(params.get("channel"), allow_user=False)
        if not ch.bot_is_member:
            raise _Fail("not_in_channel")
        top = [
            m
            for m in self._messages.get(ch.id, [])
            if not m.get("thread_ts") or m["thread_ts"] == m["ts"] or m.get("subtype")
            == "thread_broadcast"
        ]
        window = list(reversed(self._window(top, params)))
        page, nxt = self._page(window, params, 100)
        meta = _truthy(params.get("include_all_metadata"))
        return {
            "messages": [self._public_message(m, meta) for m in page],
            "has_more": bool(nxt),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": nxt},
        }

    def _m_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._resolve_channel(params.get("channel"), allow_user=False)
        if not ch.bot_is_member:
            raise _Fail("not_in_channel")
        ts = str(params.get("ts") or "")
        msg = self._find(ch.id, ts)
        if msg is None:
            raise _Fail("thread_not_found")
        root = msg.get("thread_ts") or msg["ts"]
        thread = [
            m
            for m in self._messages.get(ch.id, [])
            if m["ts"] == root or m.get("thread_ts") == root
        ]
        window = self._window(thread, params)
        page, nxt = self._page(window, params, 1000)
        meta = _truthy(params.get("include_all_metadata"))
        return {
            "messages": [self._public_message(m, meta) for m in page],
            "has_more": bool(nxt),
            "response_metadata": {"next_cursor": nxt},
        }

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = copy.deepcopy(self._user(params.get("user")))
        try:
            zone = ZoneInfo(user["tz"])
            now = datetime.now(zone)
            offset = now.utcoffset()
            user["tz_offset"] = int(offset.total_seconds()) if offset else 0
            user["tz_label"] = now.tzname() or user["tz"]
        except Exception:
            user["tz_offset"] = 0
            user["tz_label"] = user["tz"]
        return {"user": user}

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._check_view(params.get("view"))
        self._use_trigger(params.get("trigger_id") or params.get("interactivity_pointer"))
        return {"view": copy.deepcopy(self._view_record(view))}

    def _m_views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._m_views_open(params)

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user = params.get("user_id")
        self._user(user)
        view = self._check_view(params.get("view"))
        if view.get("type") != "home":
            raise _Fail("invalid_arguments")
        current = self.home_views.get(str(user))
        if params.get("hash") and current is not None and current["hash"] != params["hash"]:
            raise _Fail("hash_conflict")
        rec = self._view_record(view, view_id=current["id"] if current else None)
        self.home_views[str(user)] = rec
        return {"view": copy.deepcopy(rec)}

    def _m_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._check_view(params.get("view"))
        vid = params.get("view_id")
        current: dict[str, Any] | None = None
        if vid:
            current = self.views.get(str(vid))
        elif params.get("external_id"):
            for v in self.views.values():
                if v.get("external_id") == params["external_id"]:
                    current = v
        if current is None:
            raise _Fail("not_found")
        if params.get("hash") and current["hash"] != params["hash"]:
            raise _Fail("hash_conflict")
        rec = self._view_record(view, view_id=current["id"])
        for uid, home in list(self.home_views.items()):
            if home["id"] == rec["id"]:
                self.home_views[uid] = rec
        return {"view": copy.deepcopy(rec)}

    def _m_files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = params.get("filename")
        length = params.get("length")
        if not filename or length in (None, ""):
            raise _Fail("invalid_arguments")
        fid = f"F{next(self._ids):010d}"
        self._pending_uploads[fid] = {"filename": str(filename), "length": int(length)}
        return {"upload_url": f"{self.base_url}/upload/v1/{fid}", "file_id": fid}

    def _upload(self, fid: str, data: bytes) -> bool:
        with self._cond:
            pending = self._pending_uploads.get(fid)
            if pending is None:
                return False
            pending["data"] = data
            self._cond.notify_all()
            return True

    def _m_files_complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            raise _Fail("invalid_arguments")
        channel_id = params.get("channel_id") or None
        channels = params.get("channels")
        if not channel_id and channels:
            channel_id = str(channels).split(",")[0]
        ch: _Channel | None = None
        if channel_id:
            ch = self._resolve_channel(channel_id, allow_user=False)
            if not ch.bot_is_member:
                raise _Fail("not_in_channel")
        entries = []
        for f in files:
            fid = f.get("id") if isinstance(f, dict) else None
            pending = self._pending_uploads.get(str(fid))
            if pending is None or "data" not in pending:
                raise _Fail("file_not_found")
            entries.append((str(fid), f, pending))
        out = []
        thread_ts = params.get("thread_ts") or None
        comment = params.get("initial_comment") or None
        for fid, f, pending in entries:
            del self._pending_uploads[fid]
            title = f.get("title") or pending["filename"]
            self.uploaded_files.append(
                UploadedFile(
                    file_id=fid,
                    filename=pending["filename"],
                    title=title,
                    bytes=pending["data"],
                    channel_id=ch.id if ch else None,
                    initial_comment=comment,
                    thread_ts=thread_ts,
                )
            )
            _, dot, ext = str(pending["filename"]).rpartition(".")
            ext = ext.lower() if dot else ""
            out.append(
                {
                    "id": fid,
                    "created": int(time.time()),
                    "timestamp": int(time.time()),
                    "name": pending["filename"],
                    "title": title,
                    "mimetype": "",
                    "filetype": ext,
                    "pretty_type": ext.upper(),
                    "user": self.bot_user_id,
                    "user_team": self.team_id,
                    "editable": False,
                    "size": len(pending["data"]),
                    "mode": "hosted",
                    "is_external": False,
                    "external_type": "",
                    "is_public": bool(ch and not ch.is_private),
                    "public_url_shared": False,
                    "display_as_bot": False,
                    "username": "",
                    "url_private": f"{self.base_url}/files/{fid}/{pending['filename']}",
                    "url_private_download": f"{self.base_url}/files/{fid}/download",
                    "permalink": f"https://{self.team_domain}.slack.com/files/"
                    f"{self.bot_user_id}/{fid}/{pending['filename']}",
                    "comments_count": 0,
                    "shares": {},
                    "channels": [],
                    "groups": [],
                    "ims": [],
                    "has_more_shares": False,
                    "has_rich_preview": False,
                    "file_access": "visible",
                }
            )
        if ch is not None:
            ts = self._next_ts()
            msg = self._bot_message({"text": comment or ""}, ts)
            msg["files"] = copy.deepcopy(out)
            msg["upload"] = True
            self._store(ch.id, msg, str(thread_ts) if thread_ts else None)
        return {"files": out}

    # ------------------------------------------------------------------ response URLs
    def _handle_response_url(
        self, rid: str, url: str, payload: Any
    ) -> tuple[int, dict[str, Any]]:
        with self._cond:
            try:
                if rid not in self._response_urls:
                    return 404, {"ok": False, "error": "expired_url"}
                if not isinstance(payload, dict):
                    return 400, {"ok": False, "error": "invalid_payload"}
                blocks = payload.get("blocks")
                if blocks is not None:
                    text = payload.get("text")
                    found = problems(
                        blocks, kind="message", text=text if isinstance(text, str) else None
                    )
                    if found:
                        self.invalid_payloads.append(("response_url", "; ".join(found)))
                        return 400, {"ok": False, "error": "invalid_blocks", "errors": found}
                elif not payload.get("text") and not _truthy(payload.get("delete_original")):
                    return 400, {"ok": False, "error": "no_text"}
                self.response_posts.append(ResponsePost(url=url, payload=copy.deepcopy(payload)))
                channel = self._response_urls[rid]
                if (
                    channel
                    and payload.get("response_type") == "in_channel"
                    and not _truthy(payload.get("replace_original"))
                    and channel in self.channels
                ):
                    ts = self._next_ts()
                    self._store(channel, self._bot_message(payload, ts), payload.get("thread_ts"))
                return 200, {"ok": True}
            finally:
                self._cond.notify_all()


_METHODS: dict[str, Callable[[SlackEmulator, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": SlackEmulator._m_auth_test,
    "chat.postMessage": SlackEmulator._m_chat_post_message,
    "chat.postEphemeral": SlackEmulator._m_chat_post_ephemeral,
    "chat.update": SlackEmulator._m_chat_update,
    "chat.delete": SlackEmulator._m_chat_delete,
    "chat.getPermalink": SlackEmulator._m_chat_get_permalink,
    "conversations.open": SlackEmulator._m_conversations_open,
    "conversations.info": SlackEmulator._m_conversations_info,
    "conversations.members": SlackEmulator._m_conversations_members,
    "conversations.history": SlackEmulator._m_conversations_history,
    "conversations.replies": SlackEmulator._m_conversations_replies,
    "users.info": SlackEmulator._m_users_info,
    "views.open": SlackEmulator._m_views_open,
    "views.push": SlackEmulator._m_views_push,
    "views.publish": SlackEmulator._m_views_publish,
    "views.update": SlackEmulator._m_views_update,
    "files.getUploadURLExternal": SlackEmulator._m_files_get_upload_url_external,
    "files.completeUploadExternal": SlackEmulator._m_files_complete_upload_external,
}


def _decode_params(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
        params[k] = v
    ctype = content_type.split(";")[0].strip().lower()
    if body:
        if ctype == "application/json":
            data = json.loads(body.decode("utf-8"))
            if isinstance(data, dict):
                params.update(data)
        elif ctype == "multipart/form-data":
            for name, (_, part) in _multipart(content_type, body).items():
                params[name] = part.decode("utf-8", "replace")
        else:
            for k, v in urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True):
                params[k] = v
    for key in JSON_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    out: dict[str, tuple[str | None, bytes]] = {}
    for part in msg.iter_parts() if msg.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            out[name] = (part.get_filename(), payload)
    return out


class _Handler(BaseHTTPRequestHandler):
    emu: SlackEmulator
    server_version = "SlackEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr logging
        return

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self, status: int, body: Any, headers: dict[str, str] | None = None, *, raw: bool = False
    ) -> None:
        data = body.encode() if raw else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if raw else "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._route(b"")

    def do_POST(self) -> None:
        self._route(self._body())

    def _route(self, body: bytes) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        emu = self.emu
        if path.startswith("/api/"):
            method = path[len("/api/") :]
            try:
                params = _decode_params(self.headers.get("Content-Type", ""), body, parsed.query)
            except (ValueError, UnicodeDecodeError):
                self._send(200, {"ok": False, "error": "invalid_json"})
                return
            auth = self.headers.get("Authorization") or ""
            token: str | None = auth[7:].strip() if auth.lower().startswith("bearer ") else None
            if auth.lower().startswith("basic "):  # oauth.v2.access sends client credentials
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                params.setdefault("client_id", user)
                params.setdefault("client_secret", password)
            if token is None and isinstance(params.get("token"), str):
                token = params.pop("token")
            status, resp, headers = emu._handle_api(method, params, token)
            self._send(status, resp, headers)
        elif path.startswith("/response/") and self.command == "POST":
            rid = path[len("/response/") :]
            try:
                payload = json.loads(body.decode("utf-8")) if body else None
            except ValueError:
                payload = None
            status, resp = emu._handle_response_url(rid, emu.base_url + path, payload)
            self._send(status, resp)
        elif path.startswith("/upload/v1/") and self.command == "POST":
            fid = path[len("/upload/v1/") :]
            data: bytes = body
            ctype = self.headers.get("Content-Type", "")
            if ctype.lower().startswith("multipart/form-data"):
                parts = _multipart(ctype, body)
                for _filename, part_bytes in parts.values():
                    data = part_bytes
                    break
            if emu._upload(fid, data):
                self._send(200, f"OK - {len(data)}", raw=True)
            else:
                self._send(404, "file_not_found", raw=True)
        else:
            self._send(404, {"ok": False, "error": "not_found"})
        with emu._cond:
            emu._cond.notify_all()
