"""Block Kit validation shared by the Slack emulator, the console and the tests.

`problems()` answers a list of human-readable reasons a payload would be refused by
Slack (empty list = valid).  It combines slack_sdk's model validators (which check most
per-element limits) with the message/view-level limits slack_sdk does not enforce.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.emulator.blockkit_strict import strict_problems

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BLOCK_ID = 255
MAX_MESSAGE_TEXT = 40000

# slack_sdk logs a warning (and returns None) for unknown block types; we report it instead.
logging.getLogger(Block.__module__).setLevel(logging.ERROR)


def _text_of(obj: Any) -> str | None:
    if isinstance(obj, dict):
        value = obj.get("text")
        return value if isinstance(value, str) else None
    if isinstance(obj, str):
        return obj
    return None


def _elements(block: dict[str, Any], where: str, most: int, out: list[str]) -> list[Any]:
    """A context or actions block's `elements` (empty if missing), noting what is wrong."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        out.append(f"{where}: {block.get('type')} needs a non-empty `elements` list")
        return []
    if len(elements) > most:
        out.append(f"{where}: {len(elements)} elements (max {most})")
    return elements


def _block_specific(i: int, block: dict[str, Any]) -> list[str]:
    out: list[str] = []
    where = f"blocks[{i}] ({block.get('type')})"
    btype = block.get("type")
    if btype == "section":
        text = block.get("text")
        fields = block.get("fields")
        if text is None and not fields:
            out.append(f"{where}: a section needs `text` or `fields`")
        if text is not None:
            s = _text_of(text)
            if s is None or s == "":
                out.append(f"{where}: section text must be a non-empty text object")
            elif len(s) > MAX_SECTION_TEXT:
                out.append(
                    f"{where}: section text is {len(s)} characters (max {MAX_SECTION_TEXT})"
                )
        if fields is not None:
            if not isinstance(fields, list) or not fields:
                out.append(f"{where}: fields must be a non-empty list")
            else:
                if len(fields) > MAX_FIELDS:
                    out.append(f"{where}: {len(fields)} fields (max {MAX_FIELDS})")
                for j, f in enumerate(fields):
                    s = _text_of(f)
                    if not s:
                        out.append(f"{where}: fields[{j}] must be a non-empty text object")
                    elif len(s) > MAX_FIELD_TEXT:
                        out.append(
                            f"{where}: fields[{j}] is {len(s)} characters (max {MAX_FIELD_TEXT})"
                        )
    elif btype == "header":
        s = _text_of(block.get("text"))
        if not s:
            out.append(f"{where}: header needs non-empty plain_text")
        elif len(s) > MAX_HEADER_TEXT:
            out.append(f"{where}: header text is {len(s)} characters (max {MAX_HEADER_TEXT})")
        text = block.get("text")
        if isinstance(text, dict) and text.get("type") != "plain_text":
            out.append(f"{where}: header text must be plain_text")
    elif btype == "context":
        for j, el in enumerate(_elements(block, where, MAX_CONTEXT_ELEMENTS, out)):
            if (
                isinstance(el, dict)
                and el.get("type") in ("mrkdwn", "plain_text")
                and not el.get("text")
            ):
                out.append(f"{where}: elements[{j}] text must be non-empty")
    elif btype == "actions":
        seen: set[str] = set()
        for el in _elements(block, where, MAX_ACTIONS_ELEMENTS, out):
            aid = el.get("action_id") if isinstance(el, dict) else None
            if isinstance(aid, str):
                if aid in seen:
                    out.append(f"{where}: duplicate action_id {aid!r}")
                seen.add(aid)
    elif btype == "input":
        if "element" not in block or "label" not in block:
            out.append(f"{where}: input needs `label` and `element`")
    elif btype == "image" and not block.get("alt_text"):
        out.append(f"{where}: image needs `alt_text`")
    return out


def problems(
    blocks: list[dict[str, Any]] | None,
    *,
    kind: Literal["message", "view"],
    text: str | None,
    pointer: str | None = None,
) -> list[str]:
    """Everything Slack would reject in these blocks; an empty list means valid.

    `kind="message"` applies message limits (50 blocks, non-empty fallback `text` when
    blocks are present); `kind="view"` applies view limits (100 blocks) and ignores `text`.
    """
    out: list[str] = []
    if blocks is None:
        return out
    if not isinstance(blocks, list):
        return [f"blocks must be a list, got {type(blocks).__name__}"]
    limit = MAX_MESSAGE_BLOCKS if kind == "message" else MAX_VIEW_BLOCKS
    if len(blocks) > limit:
        out.append(f"{len(blocks)} blocks in a {kind} (max {limit})")
    if kind == "message" and blocks and (text is None or not str(text).strip()):
        out.append("a message with blocks needs a non-empty fallback `text`")
    if kind == "message" and text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
        out.append(f"text is {len(str(text))} characters (max {MAX_MESSAGE_TEXT})")
    out.extend(strict_problems(blocks, kind=kind, pointer=pointer or (
        "/blocks" if kind == "message" else "/view/blocks")))
    block_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        if not isinstance(raw, dict):
            out.append(f"blocks[{i}]: must be an object, got {type(raw).__name__}")
            continue
        if "type" not in raw:
            out.append(f"blocks[{i}]: missing `type`")
            continue
        bid = raw.get("block_id")
        if bid is not None:
            if not isinstance(bid, str) or not bid or len(bid) > MAX_BLOCK_ID:
                out.append(f"blocks[{i}]: block_id must be 1-{MAX_BLOCK_ID} characters")
            elif bid in block_ids:
                out.append(f"blocks[{i}]: duplicate block_id {bid!r}")
            else:
                block_ids.add(bid)
        out.extend(_block_specific(i, raw))
        try:
            model = Block.parse(raw)
        except Exception as exc:  # the models raise various errors on bad shapes
            out.append(f"blocks[{i}] ({raw.get('type')}): {type(exc).__name__}: {exc}")
            continue
        if model is None:
            out.append(f"blocks[{i}]: unknown block type {raw.get('type')!r}")
            continue
        try:
            model.validate_json()
            model.to_dict()  # validates nested elements and text objects too
        except Exception as exc:
            out.append(f"blocks[{i}] ({raw.get('type')}): {exc}")
    return out


def view_problems(view: Any) -> list[str]:
    """Everything Slack would reject in a view payload (modal or home tab)."""
    if not isinstance(view, dict):
        return [f"view must be an object, got {type(view).__name__}"]
    out: list[str] = []
    vtype = view.get("type")
    if vtype not in ("modal", "home"):
        out.append(f"view type must be 'modal' or 'home', got {vtype!r}")
    if vtype == "modal" and not view.get("title"):
        out.append("a modal needs a `title`")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        out.append("a view needs a `blocks` list")
        return out
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if vtype == "modal" and not view.get("submit") and has_input:
        out.append("a modal with input blocks needs a `submit` button")
    pm = view.get("private_metadata")
    if pm is not None and (not isinstance(pm, str) or len(pm) > 3000):
        out.append("private_metadata must be a string of at most 3000 characters")
    out.extend(problems(blocks, kind="view", text=None))
    if not out:
        try:
            model = View(**view)
            model.validate_json()
            model.to_dict()
        except Exception as exc:
            out.append(f"view: {exc}")
    return out
