"""Block Kit builders: every message and view is made here, always with fallback text."""

from __future__ import annotations

import re
from typing import Any

Block = dict[str, Any]

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
ELLIPSIS = "…"


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def escape(text: str) -> str:
    """Escape Slack's control characters in user text (https://api.slack.com/reference/surfaces/formatting)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_BROADCAST = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>", re.IGNORECASE)
_AT_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def neutralise_mentions(text: str) -> str:
    """Reposted text must never ping a channel: defuse <!here> and @here alike."""
    text = _BROADCAST.sub(lambda m: f"@\u200b{m.group(1)}", text)
    return _AT_BROADCAST.sub(lambda m: f"@\u200b{m.group(1)}", text)


_SPECIAL = re.compile(r"<!(channel|here|everyone|subteam\^[^>|]*)(\|[^>]*)?>", re.IGNORECASE)


def neutralise_fallback(text: str) -> str:
    """A message's fallback `text` (what notifications show) with any broadcast or user-group
    mention defused: names are escaped where they are put in, this is the last guard (the
    app itself never broadcasts; `<!date^…>` stays)."""
    return _SPECIAL.sub(lambda m: "&lt;!" + m.group(0)[2:-1] + "&gt;", text)


def safe_user_text(text: str) -> str:
    """User text as it will be reposted by the bot: no broadcast mentions, escaped."""
    return escape(neutralise_mentions(text))


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_LIMIT),
                                       "emoji": True}}


def section(text: str, *, accessory: Block | None = None, block_id: str | None = None) -> Block:
    block: Block = {"type": "section",
                    "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}
    if accessory is not None:
        block["accessory"] = accessory
    if block_id is not None:
        block["block_id"] = block_id
    return block


def fields(items: list[str]) -> Block:
    return {"type": "section",
            "fields": [{"type": "mrkdwn", "text": truncate(item, 2000)} for item in items[:10]]}


def context(*texts: str) -> Block:
    return {"type": "context",
            "elements": [{"type": "mrkdwn", "text": truncate(t, 2000)} for t in texts[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str | None = None, *, style: str | None = None,
           url: str | None = None) -> Block:
    element: Block = {"type": "button", "action_id": action_id,
                      "text": {"type": "plain_text", "text": truncate(text, 75), "emoji": True}}
    if value is not None:
        element["value"] = value[:2000]
    if style is not None:
        element["style"] = style
    if url is not None:
        element["url"] = url
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements[:25])}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def message(text: str, blocks: list[Block] | None = None) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage / respond(): fallback text plus blocks."""
    payload: dict[str, Any] = {"text": truncate(neutralise_fallback(text), 3000)}
    if blocks:
        if len(blocks) > MESSAGE_BLOCK_LIMIT:
            raise ValueError(f"{len(blocks)} blocks; Slack allows {MESSAGE_BLOCK_LIMIT}")
        payload["blocks"] = blocks
    return payload


# --- modals ------------------------------------------------------------------------------


def plain_text(text: str, limit: int = 3000) -> Block:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def option(text: str, value: str, description: str | None = None) -> Block:
    opt: Block = {"text": plain_text(text, 75), "value": value[:150]}
    if description:
        opt["description"] = plain_text(description, 75)
    return opt


def static_select(action_id: str, placeholder: str, *, options: list[Block] | None = None,
                  option_groups: list[tuple[str, list[Block]]] | None = None,
                  initial: Block | None = None) -> Block:
    """A select menu; `option_groups` are (label, options) pairs, empty groups dropped."""
    element: Block = {"type": "static_select", "action_id": action_id,
                      "placeholder": plain_text(placeholder, 150)}
    if option_groups is not None:
        element["option_groups"] = [{"label": plain_text(label, 75), "options": opts[:100]}
                                    for label, opts in option_groups if opts][:100]
    else:
        element["options"] = (options or [])[:100]
    if initial is not None:
        element["initial_option"] = initial
    return element


def text_input(action_id: str, *, placeholder: str | None = None, initial: str | None = None,
               multiline: bool = False, max_length: int | None = None) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": action_id,
                      "multiline": multiline}
    if placeholder:
        element["placeholder"] = plain_text(placeholder, 150)
    if initial:
        element["initial_value"] = initial
    if max_length is not None:
        element["max_length"] = max_length
    return element


def input_block(block_id: str, label: str, element: Block, *, hint: str | None = None,
                optional: bool = False) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain_text(label, 2000),
                    "element": element, "optional": optional}
    if hint:
        block["hint"] = plain_text(hint, 2000)
    return block


def modal(title: str, blocks: list[Block], *, callback_id: str, submit: str | None = None,
          close: str = "Cancel", private_metadata: str = "") -> dict[str, Any]:
    if len(blocks) > VIEW_BLOCK_LIMIT:
        raise ValueError(f"{len(blocks)} blocks; a view allows {VIEW_BLOCK_LIMIT}")
    view: dict[str, Any] = {"type": "modal", "callback_id": callback_id,
                            "title": plain_text(title, 24), "close": plain_text(close, 24),
                            "blocks": blocks, "private_metadata": private_metadata[:3000]}
    if submit:
        view["submit"] = plain_text(submit, 24)
    return view
