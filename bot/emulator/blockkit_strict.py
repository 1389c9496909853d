"""The Block Kit limits slack_sdk's models do not check, answered the way Slack answers them.

Each problem reads like the lines of Slack's `response_metadata.messages`:
`[ERROR] must be less than 76 characters [json-pointer:/view/blocks/0/element/options/1/...]`.

Sources (Slack's Block Kit reference, docs.slack.dev/reference/block-kit/...):
- composition-objects/option-object: `text` and `description` at most 75 characters,
  `value` at most 150; option groups: `label` at most 75, at most 100 options each.
- block-elements/checkboxes-element and radio-button-group-element: at most 10 options;
  `initial_options`/`initial_option` must exactly match options of the element.
- block-elements/select-menu-element (static): at most 100 options or option groups,
  `initial_option(s)` among them; placeholder at most 150 characters.
- block-elements/overflow-menu-element: 1 to 5 options.
- block-elements/plain-text-input-element: `max_length` at most 3000, `initial_value`
  no longer than `max_length`, `min_length` not above `max_length`.
- block-elements/button-element: `text` at most 75, `value` at most 2000, `url` at most 3000.
- `action_id` at most 255 characters, unique among the action_ids of its containing block.
- blocks/image-block and block-elements/image-element: `image_url` at most 3000 characters,
  a publicly reachable https URL.
- blocks/input-block: input blocks appear in modals and Home tabs, not in messages.
FACTS.md ("Block Kit limits slack_sdk's models do not check") lists the same rules.
"""

from __future__ import annotations

from typing import Any

MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_CHOICE_OPTIONS = 10  # checkboxes, radio buttons
MAX_SELECT_OPTIONS = 100
MAX_OVERFLOW_OPTIONS = 5
MAX_PLACEHOLDER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ACTION_ID = 255
MAX_INPUT_LENGTH = 3000

_SELECTS = ("static_select", "multi_static_select")
_CHOICES = ("checkboxes", "radio_buttons")


class _Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, what: str, pointer: str) -> None:
        self.lines.append(f"[ERROR] {what} [json-pointer:{pointer}]")

    def text_limit(self, obj: Any, most: int, pointer: str) -> None:
        """A text object (or a bare string) no longer than `most` characters."""
        text = obj.get("text") if isinstance(obj, dict) else obj
        if isinstance(text, str) and len(text) > most:
            self.add(f"must be less than {most + 1} characters", f"{pointer}/text"
                     if isinstance(obj, dict) else pointer)


def _text(obj: Any) -> Any:
    return obj.get("text") if isinstance(obj, dict) else None


def _options(el: dict[str, Any], ptr: str, rep: _Report) -> list[dict[str, Any]]:
    """The element's options (flattening option groups), each checked, values unique."""
    found: list[tuple[dict[str, Any], str]] = []
    if isinstance(el.get("options"), list):
        found += [(o, f"{ptr}/options/{i}") for i, o in enumerate(el["options"])]
    if isinstance(el.get("option_groups"), list):
        for g, group in enumerate(el["option_groups"]):
            if not isinstance(group, dict):
                continue
            rep.text_limit(group.get("label"), MAX_OPTION_TEXT, f"{ptr}/option_groups/{g}/label")
            opts = group.get("options")
            if isinstance(opts, list):
                if len(opts) > MAX_SELECT_OPTIONS:
                    rep.add(f"must provide no more than {MAX_SELECT_OPTIONS} items",
                            f"{ptr}/option_groups/{g}/options")
                found += [(o, f"{ptr}/option_groups/{g}/options/{i}") for i, o in enumerate(opts)]
    values: set[str] = set()
    out = []
    for opt, optr in found:
        if not isinstance(opt, dict):
            continue
        rep.text_limit(opt.get("text"), MAX_OPTION_TEXT, f"{optr}/text")
        if opt.get("description") is not None:
            rep.text_limit(opt["description"], MAX_OPTION_TEXT, f"{optr}/description")
        value = opt.get("value")
        if isinstance(value, str):
            if len(value) > MAX_OPTION_VALUE:
                rep.add(f"must be less than {MAX_OPTION_VALUE + 1} characters", f"{optr}/value")
            if value in values:
                rep.add("duplicate option value", f"{optr}/value")
            values.add(value)
        if el.get("type") in (*_SELECTS, "overflow"):
            text = opt.get("text")
            if isinstance(text, dict) and text.get("type") != "plain_text":
                rep.add("must be a plain_text object", f"{optr}/text")
        out.append(opt)
    return out


def _same_option(a: Any, b: Any) -> bool:
    return isinstance(a, dict) and isinstance(b, dict) and a.get("value") == b.get("value") \
        and _text(a.get("text")) == _text(b.get("text"))


def _initial_among(el: dict[str, Any], options: list[dict[str, Any]], ptr: str,
                   rep: _Report) -> None:
    if "initial_option" in el and not any(_same_option(el["initial_option"], o)
                                          for o in options):
        rep.add("must match one of the options", f"{ptr}/initial_option")
    initial = el.get("initial_options")
    if isinstance(initial, list):
        for i, chosen in enumerate(initial):
            if not any(_same_option(chosen, o) for o in options):
                rep.add("must match one of the options", f"{ptr}/initial_options/{i}")


def _https(url: Any, pointer: str, rep: _Report) -> None:
    if not isinstance(url, str) or not url.startswith("https://") or len(url) > MAX_URL:
        rep.add("must be a public https URL of at most 3000 characters", pointer)


def _element(el: Any, ptr: str, rep: _Report) -> None:
    if not isinstance(el, dict):
        return
    etype = el.get("type")
    aid = el.get("action_id")
    if isinstance(aid, str) and len(aid) > MAX_ACTION_ID:
        rep.add(f"must be less than {MAX_ACTION_ID + 1} characters", f"{ptr}/action_id")
    if el.get("placeholder") is not None:
        rep.text_limit(el["placeholder"], MAX_PLACEHOLDER, f"{ptr}/placeholder")
    if etype in (*_SELECTS, *_CHOICES, "overflow"):
        options = _options(el, ptr, rep)
        most = (MAX_CHOICE_OPTIONS if etype in _CHOICES
                else MAX_OVERFLOW_OPTIONS if etype == "overflow" else MAX_SELECT_OPTIONS)
        if len(el.get("options") or []) > most or len(el.get("option_groups") or []) > most:
            rep.add(f"must provide no more than {most} items", f"{ptr}/options")
        _initial_among(el, options, ptr, rep)
    elif etype == "plain_text_input":
        most = el.get("max_length", MAX_INPUT_LENGTH)
        if isinstance(most, int) and most > MAX_INPUT_LENGTH:
            rep.add(f"must be at most {MAX_INPUT_LENGTH}", f"{ptr}/max_length")
        least = el.get("min_length")
        if isinstance(most, int) and isinstance(least, int) and least > most:
            rep.add("must not be above max_length", f"{ptr}/min_length")
        value = el.get("initial_value")
        if isinstance(value, str) and isinstance(most, int) and len(value) > most:
            rep.add(f"must be less than {most + 1} characters", f"{ptr}/initial_value")
    elif etype == "button":
        rep.text_limit(el.get("text"), MAX_BUTTON_TEXT, f"{ptr}/text")
        value = el.get("value")
        if isinstance(value, str) and len(value) > MAX_BUTTON_VALUE:
            rep.add(f"must be less than {MAX_BUTTON_VALUE + 1} characters", f"{ptr}/value")
        url = el.get("url")
        if isinstance(url, str) and len(url) > MAX_URL:
            rep.add(f"must be less than {MAX_URL + 1} characters", f"{ptr}/url")
    elif etype == "image" and "image_url" in el:
        _https(el.get("image_url"), f"{ptr}/image_url", rep)


def _block(block: dict[str, Any], ptr: str, kind: str, rep: _Report) -> None:
    btype = block.get("type")
    if btype == "input" and kind == "message":
        rep.add("input blocks are only allowed in modals and Home tabs", ptr)
    if btype == "image":
        _https(block.get("image_url"), f"{ptr}/image_url", rep)
    if isinstance(block.get("accessory"), dict):
        _element(block["accessory"], f"{ptr}/accessory", rep)
    if isinstance(block.get("element"), dict):
        _element(block["element"], f"{ptr}/element", rep)
    if isinstance(block.get("elements"), list):
        seen: set[str] = set()
        for i, el in enumerate(block["elements"]):
            _element(el, f"{ptr}/elements/{i}", rep)
            aid = el.get("action_id") if isinstance(el, dict) else None
            if isinstance(aid, str):
                if aid in seen:
                    rep.add("action_id must be unique in its block",
                            f"{ptr}/elements/{i}/action_id")
                seen.add(aid)


def strict_problems(blocks: list[Any], *, kind: str, pointer: str) -> list[str]:
    """Slack-style `[ERROR] … [json-pointer:…]` lines for what slack_sdk lets through."""
    rep = _Report()
    for i, block in enumerate(blocks):
        if isinstance(block, dict):
            _block(block, f"{pointer}/{i}", kind, rep)
    return rep.lines
