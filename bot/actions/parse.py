"""Reading `/impact action add TEXT [@owner] [due DATE] [for KEY]`: pure, no store.

Options are read from the end of the text, in any order: a mention (`<@U…>`, as Slack sends
it), `due DATE` (2026-12-04, `today` or `tomorrow`) and `for KEY` (a measure). What is
left is the title. Bad dates are refused with why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.rendering import dates
from bot.runtime.errors import UserError

MAX_TITLE = 300
_MENTION = re.compile(r"\s*<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>\s*$")
_DUE = re.compile(r"\s+due\s+(\S+)\s*$", re.IGNORECASE)
_FOR = re.compile(r"\s+for\s+([A-Za-z0-9_-]{1,64})\s*$", re.IGNORECASE)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")

USAGE = ("Add an action like `/impact action add Draft the referral MOU @owner due "
         "2026-12-04 for prenatal-visits` (owner, due date and measure are optional).")


@dataclass(frozen=True)
class ActionRequest:
    title: str
    owner: str | None  # None: the caller
    due_text: str | None
    measure_key: str | None


def parse_add(text: str) -> ActionRequest:
    rest = " " + text.strip()
    owner = due_text = measure = None
    while True:
        if owner is None and (m := _MENTION.search(rest)):
            owner = m.group(1)
        elif due_text is None and (m := _DUE.search(rest)):
            due_text = m.group(1)
        elif measure is None and (m := _FOR.search(rest)):
            measure = m.group(1).lower()
        else:
            break
        rest = rest[:m.start()]
    title = rest.strip().strip('"').strip()
    if not title:
        raise UserError("An action needs a title: what will be done. " + USAGE)
    if len(title) > MAX_TITLE:
        raise UserError(f"Please keep an action's title under {MAX_TITLE} characters "
                        f"(this one has {len(title)}).")
    return ActionRequest(title, owner, due_text, measure)


def parse_due(text: str, today: date) -> date:
    """A due date, not before `today` (the caller's today)."""
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if not _ISO.match(word):
        raise UserError(f"I could not read the due date {text!r}: write it like "
                        f"{(today + timedelta(days=7)).isoformat()} (or today, tomorrow). "
                        "Nothing was added.")
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise UserError(f"{word} is not a day in the calendar. Nothing was added.") from None
    if day < today:
        raise UserError(f"The due date {word} is in the past (today is "
                        f"{dates.action_day(today, today)}). Nothing was added.")
    return day
