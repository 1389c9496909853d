"""`SlackDriver` sends signed requests INTO the app exactly as Slack does.

Slash commands and interactivity are form-encoded, events are JSON; all are v0-signed.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from bot.emulator import users
from bot.emulator.server import SlackEmulator

VERIFICATION_TOKEN = "emulator-verification-token"


@dataclass
class Reply:
    """What the app answered to one request."""

    status: int
    body: str
    json: Any | None
    elapsed: float

    @property
    def text(self) -> str | None:
        """The text of an ack with a message body (e.g. `ack("...")`), else None."""
        if isinstance(self.json, dict):
            t = self.json.get("text")
            return t if isinstance(t, str) else None
        if self.json is None and self.body.strip():
            return self.body
        return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class SlackDriver:
    """Plays Slack's side of the HTTP conversation with the app under test."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        emulator: SlackEmulator,
        *,
        team_id: str = "T0IMPACT",
        api_app_id: str = "A0IMPACT",
        timeout: float = 10.0,
    ) -> None:
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.emu = emulator
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.timeout = timeout
        self._seq = itertools.count(time.time_ns() // 1_000_000)  # unique for good, as Slack's are

    # ------------------------------------------------------------------ transport
    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        base = b"v0:" + ts.encode() + b":" + body
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": ts}

    def raw(self, body: bytes, headers: dict[str, str]) -> Reply:
        req = urllib.request.Request(self.app_url, data=body, headers=headers, method="POST")
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status = resp.status
                data = resp.read()
        except urllib.error.HTTPError as err:
            status = err.code
            data = err.read()
        elapsed = time.monotonic() - start
        text = data.decode("utf-8", "replace")
        parsed: Any | None = None
        if text.strip():
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
        return Reply(status=status, body=text, json=parsed, elapsed=elapsed)

    def _post(self, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> Reply:
        headers = {"Content-Type": content_type, **self.sign(body), **(extra or {})}
        return self.raw(body, headers)

    def _form(self, fields: dict[str, str]) -> Reply:
        return self._post(
            urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
        )

    def _interactive(self, payload: dict[str, Any]) -> Reply:
        return self._form({"payload": json.dumps(payload)})

    # ------------------------------------------------------------------ helpers
    def _user_obj(self, user: str) -> dict[str, Any]:
        name = self.emu.users.get(user, {}).get("name", user.lower())
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, Any]:
        grid = self._enterprise()
        return {"id": self.team_id, "domain": self.emu.team_domain,
                **({"enterprise_id": grid["id"]} if grid else {})}

    def _enterprise(self) -> dict[str, str] | None:
        """The Enterprise Grid organisation of the driver's workspace (None outside one):
        Slack names it in every request from such a workspace."""
        grid = self.emu.oauth.enterprises.get(self.team_id)
        return None if grid is None else {"id": grid[0], "name": grid[1]}

    def _channel_name(self, channel: str) -> str:
        ch = self.emu.channels.get(channel)
        if channel.startswith("D") or (ch is not None and ch.is_im):
            return "directmessage"
        return ch.name if ch is not None else channel.lower()

    def _trigger(self, trigger_id: str | None = None) -> str:
        if trigger_id is None:
            return self.emu.new_trigger_id()
        self.emu.register_trigger_id(trigger_id)
        return trigger_id

    def _action_ts(self) -> str:
        return f"{time.time():.6f}"

    # ------------------------------------------------------------------ requests
    def command(self, user: str, text: str = "", *, command: str = "/impact",
                channel: str = "C0GENERAL", trigger_id: str | None = None) -> Reply:
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.emu.team_domain,
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user,
            "user_name": self.emu.users.get(user, {}).get("name", user.lower()),
            "command": command,
            # Slack sends what the person typed with &, < and > as HTML entities.
            "text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            **({"enterprise_id": grid["id"], "enterprise_name": grid["name"]}
               if (grid := self._enterprise()) else {}),
            "response_url": self.emu.new_response_url(channel),
            "trigger_id": self._trigger(trigger_id),
        }
        return self._form(fields)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> Reply:
        ev = dict(event)
        ev.setdefault("event_ts", self.emu.new_ts())
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": (grid := self._enterprise()) and grid["id"],
            **({"enterprise_id": grid["id"]} if grid else {}),
            "api_app_id": self.api_app_id,
            "event": ev,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._seq):08d}EMU",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": grid and grid["id"],
                    "team_id": self.team_id,
                    "user_id": self.emu.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-emulator-{next(self._seq)}",
        }
        extra: dict[str, str] = {}
        if retry_num is not None:
            extra["X-Slack-Retry-Num"] = str(retry_num)
            extra["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return self._post(json.dumps(envelope).encode(), "application/json", extra)

    def reaction(
        self,
        user: str,
        channel: str,
        ts: str,
        *,
        emoji: str = "tada",
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> Reply:
        ev: dict[str, Any] = {
            "type": "reaction_added",
            "user": user,
            "reaction": emoji,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": self.emu.new_ts(),
        }
        msg = self.emu.message(channel, ts)
        if msg is not None and msg.get("user"):
            ev["item_user"] = msg["user"]
        return self.event(ev, event_id=event_id, retry_num=retry_num)

    def app_home_opened(self, user: str) -> Reply:
        ev: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.emu.dm_channel_for(user),
            "tab": "home",
            "event_ts": self.emu.new_ts(),
        }
        home = self.emu.home_views.get(user)
        if home is not None:
            ev["view"] = copy.deepcopy(home)
        return self.event(ev)

    def user_change(self, user: str, **changes: Any) -> Reply:
        """`user` edits their profile (`tz="Europe/Berlin"`): Slack sends user_change."""
        return self.event(users.user_change(self.emu, user, **changes))

    @staticmethod
    def _find_element(blocks: Any, action_id: str) -> tuple[str | None, dict[str, Any] | None]:
        for b in blocks or []:
            if not isinstance(b, dict):
                continue
            candidates: list[Any] = []
            candidates.extend(b.get("elements") or [])
            for key in ("accessory", "element"):
                if b.get(key):
                    candidates.append(b[key])
            for el in candidates:
                if isinstance(el, dict) and el.get("action_id") == action_id:
                    return b.get("block_id"), el
        return None, None

    def block_action(
        self,
        user: str,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str = "b",
        message: dict[str, Any] | None = None,
        channel: str | None = None,
        view: dict[str, Any] | None = None,
        selected_option: dict[str, Any] | None = None,
        trigger_id: str | None = None,
    ) -> Reply:
        source = view.get("blocks") if view is not None else (message or {}).get("blocks")
        found_block, element = self._find_element(source, action_id)
        if found_block and block_id == "b":
            block_id = found_block
        etype = (element or {}).get("type") or ("static_select" if selected_option else "button")
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": etype,
            "action_ts": self._action_ts(),
        }
        if element is not None and isinstance(element.get("text"), dict):
            action["text"] = element["text"]
        if value is None and element is not None and "value" in element:
            value = element["value"]
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action["selected_option"] = selected_option
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_obj(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self._trigger(trigger_id),
            "team": self._team(),
            "enterprise": self._enterprise(),
            "is_enterprise_install": False,
            "actions": [action],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            payload["view"] = copy.deepcopy(view)
            payload["view"].setdefault("state", {"values": {}})
        else:
            if message is not None and channel is None:
                raise ValueError("block_action with a message needs its channel")
            ch = channel or "C0GENERAL"
            payload["channel"] = {"id": ch, "name": self._channel_name(ch)}
            payload["response_url"] = self.emu.new_response_url(ch)
            payload["state"] = {"values": {}}
            if message is not None:
                payload["container"] = {
                    "type": "message",
                    "message_ts": message.get("ts"),
                    "channel_id": ch,
                    "is_ephemeral": False,
                }
                payload["message"] = copy.deepcopy(message)
            else:
                payload["container"] = {
                    "type": "message",
                    "message_ts": self.emu.new_ts(),
                    "channel_id": ch,
                    "is_ephemeral": True,
                }
        return self._interactive(payload)

    def view_submission(
        self,
        user: str,
        view: dict[str, Any],
        values: dict[str, Any],
        *,
        callback_id: str | None = None,
    ) -> Reply:
        v = copy.deepcopy(view)
        v["state"] = {"values": copy.deepcopy(values)}
        if callback_id is not None:
            v["callback_id"] = callback_id
        v.setdefault("private_metadata", "")
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user_obj(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self._trigger(),
            "view": v,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": self._enterprise(),
        }
        return self._interactive(payload)

    def view_closed(self, user: str, view: dict[str, Any]) -> Reply:
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user_obj(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "view": copy.deepcopy(view),
            "is_cleared": False,
            "is_enterprise_install": False,
            "enterprise": self._enterprise(),
        }
        return self._interactive(payload)

    def message_shortcut(self, user: str, callback_id: str, channel: str, ts: str) -> Reply:
        message = self.emu.message(channel, ts) or {"type": "message", "ts": ts, "text": ""}
        payload = {
            "type": "message_action",
            "token": VERIFICATION_TOKEN,
            "action_ts": self._action_ts(),
            "team": self._team(),
            "user": self._user_obj(user),
            "channel": {"id": channel, "name": self._channel_name(channel)},
            "is_enterprise_install": False,
            "enterprise": self._enterprise(),
            "callback_id": callback_id,
            "trigger_id": self._trigger(),
            "response_url": self.emu.new_response_url(channel),
            "message_ts": ts,
            "message": message,
            "api_app_id": self.api_app_id,
        }
        return self._interactive(payload)

    def url_verification(self, challenge: str) -> Reply:
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return self._post(json.dumps(body).encode(), "application/json")

    def last_view(self, method: str = "views.open") -> dict[str, Any]:
        """The view from the app's last successful `method` call (as Slack stored it)."""
        for call in reversed(self.emu.calls_to(method)):
            if call.response.get("ok") and isinstance(call.response.get("view"), dict):
                return copy.deepcopy(call.response["view"])
        raise LookupError(f"the app made no successful {method} call")
