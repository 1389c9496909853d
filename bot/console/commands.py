"""The console's small language: what a typed line means, durations, buttons, modal answers.

Pure functions only (no emulator, no app), so they can be tested directly.
"""

from __future__ import annotations

import re
import shlex
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.runtime.errors import UserError

# name -> (arguments, one-line help). The order is the order `:help` shows.
COMMANDS: dict[str, tuple[str, str]] = {
    "help": ("", "this list"),
    "as": ("USER", "become someone else, by id or name (:as ben)"),
    "in": ("CHANNEL", "move to a channel, by #name or id (:in #wins)"),
    "react": ("EMOJI [TS|last]", "react to the last message in this channel (or the one at TS)"),
    "share": ("[TS|last]", "use the message shortcut “Share as a win” on the last message"),
    "advance": ("DURATION", "move the clock (2d, 3h, 30m, 1d12h) and run the work that falls due"),
    "time": ("", "show the clock, in UTC and in your time zone"),
    "click": ("N", "press button N of the last message or view shown"),
    "submit": ("FIELD=VALUE …", "submit the open modal (fields by block_id or action_id)"),
    "close": ("", "close the open modal without submitting"),
    "home": ("", "open your App Home tab"),
    "who": ("", "the people in this workspace and their roles"),
    "tz": ("ZONE", "set your time zone, as Slack's profile would (:tz Europe/Berlin)"),
    "quit": ("", "leave (Ctrl-D does too)"),
}
ALIASES = {"q": "quit", "exit": "quit", "h": "help", "?": "help"}
# Bare words people type first in any REPL; they mean the console, not a message.
BARE_WORDS = {"help": "help", "quit": "quit", "exit": "quit"}


class ConsoleInputError(UserError):
    """A line the console cannot act on; the message says what to type instead."""


@dataclass(frozen=True)
class Line:
    """One typed line: a slash command, a console command, a plain message, or nothing."""

    kind: str  # "slash" | "command" | "message" | "blank"
    name: str = ""  # "/impact" for slash commands, the console command's name otherwise
    args: str = ""


def parse_line(text: str) -> Line:
    stripped = text.strip()
    if not stripped:
        return Line("blank")
    if stripped.startswith("/"):
        command, _, args = stripped.partition(" ")
        return Line("slash", command.lower(), args.strip())
    if stripped.startswith(":") and len(stripped) > 1 and not stripped[1].isspace():
        word, _, args = stripped[1:].partition(" ")
        name = ALIASES.get(word.lower(), word.lower())
        if name not in COMMANDS:
            raise ConsoleInputError(f"There is no console command :{word}. "
                                    "Type :help for the list.")
        return Line("command", name, args.strip())
    if stripped.lower() in BARE_WORDS:
        return Line("command", BARE_WORDS[stripped.lower()])
    return Line("message", "", stripped)


def help_text() -> str:
    usage = {name: f":{name} {args}".rstrip() for name, (args, _) in COMMANDS.items()}
    width = max(len(u) for u in usage.values())
    lines = ["/impact …".ljust(width) + "  send a slash command to the bot (/impact help)",
             "any other text".ljust(width) + "  post it as you in this channel"]
    lines += [f"{usage[name].ljust(width)}  {what}" for name, (_, what) in COMMANDS.items()]
    return "\n".join(lines)


_DURATION_PART = re.compile(r"(\d+)\s*(w|d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """`2d`, `3h`, `30m`, `1w`, `1d12h`: a positive amount of time."""
    compact = text.strip().replace(" ", "")
    if not compact or _DURATION_PART.sub("", compact):
        raise ConsoleInputError(
            f"{text.strip() or 'nothing'!r} is not a duration: try 2d, 3h, 30m or 1d12h.")
    seconds = sum(int(n) * _UNIT_SECONDS[unit.lower()]
                  for n, unit in _DURATION_PART.findall(compact))
    if seconds <= 0:
        raise ConsoleInputError("The clock only moves forward: give a duration above zero.")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    parts = []
    for unit in ("d", "h", "m", "s"):
        amount, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0m"


def parse_assignments(text: str) -> dict[str, str]:
    """`value=42 note="went well"` -> {"value": "42", "note": "went well"}."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ConsoleInputError(f"Could not read that: {exc}. Quote values with spaces.") from None
    answers: dict[str, str] = {}
    for word in words:
        field, sep, value = word.partition("=")
        if not sep or not field:
            raise ConsoleInputError(f"{word!r} is not FIELD=VALUE (quote values with spaces).")
        answers[field] = value
    return answers


# --------------------------------------------------------------------------- buttons


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    block_id: str | None
    value: str | None


def plain(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def buttons(blocks: list[dict[str, Any]] | None) -> list[Button]:
    """Every button, in the order the renderer shows them (what `:click N` counts)."""
    found: list[Button] = []
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        candidates = [block.get("accessory"), *(block.get("elements") or [])]
        for el in candidates:
            if isinstance(el, dict) and el.get("type") == "button" and el.get("action_id"):
                found.append(Button(plain(el.get("text")), str(el["action_id"]),
                                    block.get("block_id"), el.get("value")))
    return found


def click_hint(found: list[Button], whose: str = "") -> str:
    """`(:click 1 = Report, …)`; `whose` ("@ben, ") when only someone else can press them."""
    return f"({whose}" + ", ".join(f":click {i} = {b.label}" for i, b in enumerate(found, 1)) + ")"


# --------------------------------------------------------------------------- modal answers


@dataclass(frozen=True)
class Field:
    """One input block of a modal, as `:submit` addresses it."""

    block_id: str
    action_id: str
    element: dict[str, Any]
    optional: bool

    @property
    def name(self) -> str:
        return self.block_id or self.action_id

    @property
    def kind(self) -> str:
        return str(self.element.get("type", ""))


_SINGLE_OPTION = ("static_select", "radio_buttons", "external_select")
_MULTI_OPTION = ("multi_static_select", "checkboxes", "multi_external_select")


def fields(view: dict[str, Any]) -> list[Field]:
    out = []
    for i, block in enumerate(view.get("blocks") or []):
        if isinstance(block, dict) and block.get("type") == "input":
            element = block.get("element") or {}
            action_id = str(element.get("action_id") or f"input{i}")
            out.append(Field(str(block.get("block_id") or action_id), action_id, element,
                             bool(block.get("optional"))))
    return out


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def fields_hint(view: dict[str, Any]) -> str:
    parts = []
    for f in fields(view):
        choices = [str(o.get("value")) for o in _options(f.element)]
        shown = "|".join(choices[:6]) + ("|…" if len(choices) > 6 else "") if choices else "…"
        parts.append(f"{f.name}={shown}" + ("?" if f.optional else ""))
    return "(:submit " + " ".join(parts) + "  ·  ? = optional  ·  :close to cancel)"


def _option(f: Field, wanted: str) -> dict[str, Any]:
    for option in _options(f.element):
        if wanted == str(option.get("value")) or wanted.lower() == plain(
                option.get("text")).lower():
            return dict(option)
    choices = ", ".join(str(o.get("value")) for o in _options(f.element))
    raise ConsoleInputError(f"{f.name}: {wanted!r} is not one of: {choices}")


def _initial_state(f: Field) -> dict[str, Any]:
    el = f.element
    state: dict[str, Any] = {"type": f.kind}
    if f.kind in _SINGLE_OPTION:
        state["selected_option"] = el.get("initial_option")
    elif f.kind in _MULTI_OPTION:
        state["selected_options"] = list(el.get("initial_options") or [])
    elif f.kind == "datepicker":
        state["selected_date"] = el.get("initial_date")
    elif f.kind == "timepicker":
        state["selected_time"] = el.get("initial_time")
    elif f.kind in ("users_select", "conversations_select", "channels_select"):
        key = {"users_select": "user", "conversations_select": "conversation",
               "channels_select": "channel"}[f.kind]
        state[f"selected_{key}"] = el.get(f"initial_{key}")
    else:
        state["value"] = el.get("initial_value")
    return state


def _answered_state(f: Field, answer: str) -> dict[str, Any]:
    state = _initial_state(f)
    if f.kind in _SINGLE_OPTION:
        state["selected_option"] = _option(f, answer)
    elif f.kind in _MULTI_OPTION:
        state["selected_options"] = [_option(f, a.strip()) for a in answer.split(",") if a.strip()]
    elif f.kind == "datepicker":
        state["selected_date"] = answer
    elif f.kind == "timepicker":
        state["selected_time"] = answer
    elif f.kind in ("users_select", "conversations_select", "channels_select"):
        key = next(k for k in state if k.startswith("selected_"))
        state[key] = answer
    else:
        state["value"] = answer
    return state


def submission_values(view: dict[str, Any],
                      answers: dict[str, str]) -> dict[str, dict[str, Any]]:
    """`view.state.values` for a view_submission: answered fields, the rest as left."""
    known = fields(view)
    by_name = {f.block_id: f for f in known} | {f.action_id: f for f in known}
    unknown = [name for name in answers if name not in by_name]
    if unknown:
        names = ", ".join(f.name for f in known) or "none"
        raise ConsoleInputError(f"This modal has no field {unknown[0]!r}. Its fields: {names}.")
    chosen = {by_name[name].block_id: answer for name, answer in answers.items()}
    return {f.block_id: {f.action_id: (_answered_state(f, chosen[f.block_id])
                                       if f.block_id in chosen else _initial_state(f))}
            for f in known}


# --------------------------------------------------------------------------- what to show

# Web API calls a person would see the result of (reads like users.info stay silent).
VISIBLE_METHODS = frozenset({
    "chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete", "views.open",
    "views.push", "views.update", "views.publish", "files.completeUploadExternal",
})


def snippet(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def save_binary(data: bytes, filename: str) -> Path | None:
    """A shared file that is not text (the digest's chart), or a calendar invitation (a
    meeting's .ics, to open in a calendar), is written to a file the person can open; its
    path, or None for other text (previewed instead)."""
    try:
        data.decode("utf-8")
        if not filename.lower().endswith(".ics"):
            return None
    except UnicodeDecodeError:
        pass
    folder = Path(tempfile.gettempdir()) / "impactbot-console"
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name) or "file"
    path = folder / safe
    path.write_bytes(data)
    return path


def preview(data: bytes, lines: int = 5) -> list[str]:
    """The first lines of a shared text file (an export), or its size when it is not text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [f"({len(data)} bytes)"]
    shown = text.splitlines()
    more = len(shown) - lines
    return shown[:lines] + ([f"… {more} more line(s)"] if more > 0 else [])


_MENTION = re.compile(r"<([@#])([UWCG][A-Z0-9]+)>")


def name_mentions(obj: Any, names: dict[str, str]) -> Any:
    """Give bare `<@U…>` / `<#C…>` mentions their names, in text, blocks or a view."""
    if isinstance(obj, str):
        return _MENTION.sub(lambda m: f"<{m[1]}{m[2]}|{names[m[2]]}>" if m[2] in names
                            else m[0], obj)
    if isinstance(obj, list):
        return [name_mentions(item, names) for item in obj]
    if isinstance(obj, dict):
        return {key: name_mentions(value, names) for key, value in obj.items()}
    return obj


# Slack's emphasis: markers hug the text and sit between spaces or punctuation.
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
BOLD_ON, BOLD_OFF = "\x1b[1m", "\x1b[0m"


def emphasis(text: str, *, ansi: bool) -> str:
    """*bold* and _italic_ as a terminal shows them: bold on a TTY, plain otherwise."""
    text = _BOLD.sub(lambda m: f"{BOLD_ON}{m[1]}{BOLD_OFF}" if ansi else m[1], text)
    return _ITALIC.sub(lambda m: m[1], text)


_TYPED_MENTION = re.compile(r"(?<![\w@#])([@#])([a-z0-9][\w.-]*)", re.IGNORECASE)
_BROADCASTS = ("here", "channel", "everyone")


def slack_text(typed: str, users: dict[str, str], channels: dict[str, str]) -> str:
    """What Slack's client stores for a typed message: &<> escaped, @name and #channel linked.

    `users` and `channels` map lower-case names to ids.
    """
    text = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def link(m: re.Match[str]) -> str:
        sigil, name = m[1], m[2].lower()
        if sigil == "@" and name in _BROADCASTS:
            return f"<!{name}>"
        if sigil == "@" and name in users:
            return f"<@{users[name]}>"
        if sigil == "#" and name in channels:
            return f"<#{channels[name]}|{name}>"
        return m[0]

    return _TYPED_MENTION.sub(link, text)
