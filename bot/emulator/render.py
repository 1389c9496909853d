"""Plain-terminal rendering of Block Kit messages and views (used by the console)."""

from __future__ import annotations

import re
from typing import Any

RULE = "─" * 40

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]+))?>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^|>]+)>")


def mrkdwn_to_text(text: str) -> str:
    """Make Slack mrkdwn readable on a terminal (links, mentions, entities)."""
    s = _USER.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    s = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), s)
    s = _SPECIAL.sub(lambda m: "@" + m.group(1), s)
    s = _DATE.sub(lambda m: m.group(1), s)
    s = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", s)
    s = _BARE_LINK.sub(lambda m: m.group(1), s)
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        t = obj.get("text")
        if isinstance(t, str):
            return mrkdwn_to_text(t) if obj.get("type") == "mrkdwn" else t
    return ""


def _element(el: Any) -> str:
    if not isinstance(el, dict):
        return ""
    etype = el.get("type")
    if etype == "button":
        label = f"[ {_text(el.get('text'))} ]"
        style = el.get("style")
        return f"{label}{'!' if style == 'danger' else ''}"
    if etype == "image":
        return f"[image: {el.get('alt_text', '')}]"
    if etype in ("mrkdwn", "plain_text"):
        return _text(el)
    if etype in ("static_select", "external_select", "users_select", "conversations_select",
                 "channels_select", "multi_static_select", "multi_users_select"):
        chosen = el.get("initial_option") or {}
        shown = _text(chosen.get("text")) if chosen else _text(el.get("placeholder")) or "choose"
        return f"[ {shown} ▾ ]"
    if etype == "overflow":
        return "[ … ]"
    if etype == "datepicker":
        return f"[ {el.get('initial_date') or _text(el.get('placeholder')) or 'pick a date'} ▾ ]"
    if etype == "plain_text_input":
        return f"[ {el.get('initial_value') or _text(el.get('placeholder')) or '…'} ]"
    if etype in ("checkboxes", "radio_buttons"):
        return "  ".join(f"( ) {_text(o.get('text'))}" for o in el.get("options", []))
    return f"[{etype}]"


def _rich_text(block: dict[str, Any]) -> str:
    def walk(node: Any) -> str:
        if isinstance(node, list):
            return "".join(walk(n) for n in node)
        if not isinstance(node, dict):
            return ""
        t = node.get("type")
        if t == "text":
            return str(node.get("text", ""))
        if t == "link":
            return str(node.get("text") or node.get("url", ""))
        if t == "user":
            return "@" + str(node.get("user_id", ""))
        if t == "channel":
            return "#" + str(node.get("channel_id", ""))
        if t == "emoji":
            return f":{node.get('name', '')}:"
        if t == "rich_text_list":
            return "\n".join("• " + walk(e) for e in node.get("elements", []))
        return walk(node.get("elements", []))

    return walk(block.get("elements", []))


def _block(block: dict[str, Any]) -> list[str]:
    btype = block.get("type")
    if btype == "header":
        title = _text(block.get("text")).upper()
        return [title, "═" * min(max(len(title), 3), 60)]
    if btype == "divider":
        return [RULE]
    if btype == "section":
        lines: list[str] = []
        if block.get("text"):
            lines.extend(_text(block["text"]).splitlines() or [""])
        fields = [_text(f) for f in block.get("fields") or []]
        for i in range(0, len(fields), 2):
            pair = fields[i : i + 2]
            if all("\n" not in f for f in pair):
                lines.append("    ".join(f.ljust(28) for f in pair).rstrip())
            else:
                lines.append(" · ".join(f.replace("\n", " ") for f in pair))
        acc = block.get("accessory")
        if acc:
            if lines:
                lines[0] = f"{lines[0]}    {_element(acc)}"
            else:
                lines.append(_element(acc))
        return lines
    if btype == "context":
        parts = [_element(e) for e in block.get("elements") or []]
        return ["(" + " · ".join(p for p in parts if p) + ")"]
    if btype == "actions":
        return ["  ".join(_element(e) for e in block.get("elements") or [])]
    if btype == "image":
        title = _text(block.get("title"))
        return [f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else "")]
    if btype == "input":
        label = _text(block.get("label"))
        opt = " (optional)" if block.get("optional") else ""
        return [f"{label}{opt}:", "  " + _element(block.get("element"))]
    if btype == "rich_text":
        return _rich_text(block).splitlines()
    if btype == "markdown":
        return str(block.get("text", "")).splitlines()
    return [f"[{btype} block]"]


def render_blocks(blocks: list[dict[str, Any]] | None, text: str | None) -> str:
    """A readable plain-text rendering; falls back to `text` when there are no blocks."""
    if not blocks:
        return mrkdwn_to_text(text or "")
    lines: list[str] = []
    for b in blocks:
        if isinstance(b, dict):
            lines.extend(_block(b))
    return "\n".join(lines)


def render_view(view: dict[str, Any]) -> str:
    """A modal or Home tab as text: title bar, blocks, then the submit/close buttons."""
    title = _text(view.get("title")) or ("Home" if view.get("type") == "home" else "Modal")
    bar = "┌" + "─" * (len(title) + 2) + "┐"
    out = [bar, f"│ {title} │", "└" + "─" * (len(title) + 2) + "┘"]
    body = render_blocks(view.get("blocks") or [], None)
    if body:
        out.append(body)
    buttons = []
    if view.get("close"):
        buttons.append(f"[ {_text(view['close'])} ]")
    if view.get("submit"):
        buttons.append(f"[ {_text(view['submit'])} ]")
    if buttons:
        out.append("  ".join(buttons))
    return "\n".join(out)
