"""Response URLs: the app POSTs a reply to an interaction; in_channel replies are posted."""

from __future__ import annotations

import copy
from typing import Any

from bot.emulator.api import bot_message, truthy
from bot.emulator.blockkit import problems
from bot.emulator.state import ResponsePost, Workspace

# A response_url takes up to 5 replies within 30 minutes of the interaction
# (docs.slack.dev/interactivity/handling-user-interaction, "Message responses").
MAX_USES = 5
LIFETIME = 30 * 60.0


def new_response_url(ws: Workspace, channel: str | None) -> str:
    rid = f"R{next(ws._ids):08d}"
    ws._response_urls[rid] = channel
    ws._response_url_uses[rid] = (ws._clock, 0)
    return f"{ws.base_url}/response/{rid}"


def handle_post(ws: Workspace, rid: str, url: str, payload: Any) -> tuple[int, dict[str, Any]]:
    """A POST to response URL `rid`: (HTTP status, JSON answer)."""
    with ws._cond:
        try:
            if rid not in ws._response_urls:
                return 404, {"ok": False, "error": "expired_url"}
            issued, uses = ws._response_url_uses.get(rid, (ws._clock, 0))
            if uses >= MAX_USES:
                return 404, {"ok": False, "error": "used_url"}
            if ws._clock - issued > LIFETIME:
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
                    ws.invalid_payloads.append(("response_url", "; ".join(found)))
                    return 400, {"ok": False, "error": "invalid_blocks", "errors": found}
            elif not payload.get("text") and not truthy(payload.get("delete_original")):
                return 400, {"ok": False, "error": "no_text"}
            ws._response_url_uses[rid] = (issued, uses + 1)
            ws.response_posts.append(ResponsePost(url=url, payload=copy.deepcopy(payload)))
            channel = ws._response_urls[rid]
            if (
                channel
                and payload.get("response_type") == "in_channel"
                and not truthy(payload.get("replace_original"))
                and channel in ws.channels
            ):
                ts = ws._next_ts()
                ws._store(channel, bot_message(ws, payload, ts), payload.get("thread_ts"))
            return 200, {"ok": True}
        finally:
            ws._cond.notify_all()
