"""A loopback fake of the Slack Web API (plus response URLs and file upload URLs).

`SlackEmulator` serves `http://127.0.0.1:PORT/api/<method>` from a daemon thread; point
slack_sdk's `WebClient(base_url=emu.api_url)` at it.  All state lives in memory behind one
lock; every request notifies a condition so tests can `wait_for(...)` instead of sleeping.

The pieces: `state` (the workspace and what it saw), `faults` (what a test makes go wrong),
one module per Web API area (`users`, `chat`, `conversations`, `views`, `files`, `oauth`,
`response_urls`), and `http` (the request handler). This class composes them.
"""

from __future__ import annotations

import copy
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from bot.emulator import chat, conversations, files, oauth, response_urls, users, views
from bot.emulator.api import Answer, ApiError, Method
from bot.emulator.faults import FaultInjection, Faults, Hold
from bot.emulator.http import handler_for
from bot.emulator.state import Call, ResponsePost, UploadedFile, Workspace

__all__ = ["Call", "Hold", "ResponsePost", "SlackEmulator", "UploadedFile"]

METHODS: dict[str, Method] = {
    **users.METHODS,
    **chat.METHODS,
    **conversations.METHODS,
    **views.METHODS,
    **files.METHODS,
}


class _Server(ThreadingHTTPServer):
    # Slack takes bursts: the default listen backlog of 5 would reset connections instead.
    request_queue_size = 2048

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout, a killed process) is not the emulator's error:
        # no traceback for a reply nobody reads.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class SlackEmulator(Workspace, FaultInjection):
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
        super().__init__(
            team_id=team_id,
            team_name=team_name,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            bot_token=bot_token,
            app_id=app_id,
            ts_base=ts_base,
        )
        self._faults = Faults()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> SlackEmulator:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), handler_for(self))
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

    # ------------------------------------------------------------------ test helpers
    def add_team(self, team_id: str, name: str) -> None:
        """Another workspace that can install the app (multi-workspace mode)."""
        with self._lock:
            self.oauth.teams[team_id] = name

    def issue_oauth_code(self, team_id: str, *, user: str = "U0INSTALLER",
                         rotating: bool = False) -> str:
        """The code Slack would hand the app's redirect URL after an install."""
        with self._lock:
            return oauth.issue_code(self.oauth, team_id, user, rotating)

    def join_enterprise(self, team_id: str, enterprise_id: str, name: str) -> None:
        """Make `team_id` a workspace of an Enterprise Grid organisation."""
        with self._lock:
            self.oauth.enterprises[team_id] = (enterprise_id, name)

    def revoke_team_tokens(self, team_id: str) -> None:
        """The workspace uninstalled the app: its tokens stop working."""
        with self._lock:
            oauth.revoke_team(self.oauth, team_id)

    def set_channel(self, channel_id: str, *, archived: bool | None = None,
                    restricted: bool | None = None, bot_member: bool | None = None) -> None:
        """Archive (or unarchive) a channel, restrict posting in it to admins, or remove the
        bot from it (or add it back): chat.postMessage then answers `is_archived`,
        `restricted_action` or `not_in_channel` as Slack does."""
        with self._cond:
            ch = self.channels[channel_id]
            if archived is not None:
                ch.is_archived = archived
            if restricted is not None:
                ch.posting_restricted = restricted
            if bot_member is not None:
                ch.bot_is_member = bot_member
                (ch.members.add if bot_member else ch.members.discard)(self.bot_user_id)
            self._cond.notify_all()

    def set_user(self, user_id: str, *, deleted: bool) -> None:
        """Deactivate (or reactivate) a person: a DM to them is then refused
        (`channel_not_found`, as api.resolve_channel answers for a deleted user)."""
        with self._cond:
            self.users[user_id]["deleted"] = deleted
            self._cond.notify_all()

    def new_response_url(self, channel: str | None = None) -> str:
        with self._lock:
            return response_urls.new_response_url(self, channel)

    def new_trigger_id(self) -> str:
        with self._lock:
            return views.new_trigger_id(self)

    def register_trigger_id(self, trigger_id: str) -> None:
        with self._lock:
            self._triggers.setdefault(trigger_id, (self._clock, False))

    # ------------------------------------------------------------------ requests (http)
    def _handle_api(self, method: str, params: dict[str, Any], token: str | None) -> Answer:
        hold = self._faults.holds.get(method)
        with self._cond:
            withheld = hold is not None and hold.tripped
        if withheld:
            assert hold is not None
            hold.released.wait(hold.timeout)
            return 503, {"ok": False, "error": "service_unavailable"}, {}
        if self._faults.latency:  # slow Slack (faults.set_latency), outside the lock
            time.sleep(self._faults.latency)
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

    def _dispatch(self, method: str, params: dict[str, Any], token: str | None) -> Answer:
        if method == "oauth.v2.access":  # client credentials, not a token
            try:
                return 200, {"ok": True, **oauth.access(self, params)}, {}
            except oauth.OAuthFailure as failure:
                return 200, {"ok": False, "error": failure.error}, {}
        impl = METHODS.get(method)
        if impl is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        if token is None:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if oauth.team_of_token(self, token) is None:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        self._caller_team = oauth.team_of_token(self, token)
        fault = self._faults.before(method, params, self._caller_team or "",
                                    self._conversation_of(params))
        if fault is not None:
            return fault
        self._faults.cap_limit(method, params)
        try:
            body = impl(self, params)
            after = self._faults.after(method)
            if after is not None:
                return after
        except ApiError as f:
            if "errors" in f.extra:  # invalid Block Kit (invalid_blocks / invalid_arguments)
                self.invalid_payloads.append((method, "; ".join(f.extra.get("errors", []))))
            return 200, {"ok": False, "error": f.error, **f.extra}, {}
        return 200, {"ok": True, **body}, {}

    def _conversation_of(self, params: dict[str, Any]) -> str:
        """The conversation a call names; a user id (chat.postMessage to a person) is the
        bot's DM with them, as Slack counts it (without opening one)."""
        channel = str(params.get("channel") or params.get("channel_id") or "")
        if channel[:1] in ("U", "W") and channel in self.users:
            for ch in self.channels.values():
                if ch.is_im and ch.user == channel:
                    return ch.id
            return "D" + channel[1:]
        return channel

    def _handle_response_url(
        self, rid: str, url: str, payload: Any
    ) -> tuple[int, dict[str, Any]]:
        return response_urls.handle_post(self, rid, url, payload)

    def _upload(self, fid: str, data: bytes) -> bool:
        return files.receive_upload(self, fid, data)
