"""Reading `/impact report KEY VALUE [note…] [for PERIOD] [as PARTNER-KEY]` as people type it.

Pure: no session, no Slack. What each part becomes:
- VALUE may contain thousands groups separated by spaces (`1 250`), see `bot.measures.values`;
- `for PERIOD` may stand anywhere after the value (`estimate for 2026-09 from staff`) and
  may be written in words (`for September 2026`, `for sept`, `for last month`), see
  `bot.measures.phrases`; words after `for` that look like a period but are not understood
  are refused, so nothing is filed under a period the bot guessed;
- `as PARTNER-KEY` is read only at the end of the line (after removing the period clause);
  `as reported by county staff` in the middle of a note is prose;
- the note is what is left, exactly as typed: runs of words keep their own spacing, and
  only the seams where a clause was taken out become one space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.measures.phrases import read_phrase
from bot.rendering import blocks as bk
from bot.runtime.errors import UserError

_KEYISH = re.compile(r"^[a-z0-9][a-z0-9_-]*$", re.IGNORECASE)
_FIRST_GROUP = re.compile(r"^[+\-\u2212]?\d{1,3}$")
_NEXT_GROUP = re.compile(r"^\d{3}(\.\d*)?%?$")
_WORD = re.compile(r"\S+")


class ReportError(UserError):
    """A report that cannot be recorded. `field` is the modal input it is about, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ReportRequest:
    measure_key: str
    value_text: str
    note: str = ""
    period_text: str | None = None
    partner_key: str | None = None  # `as PARTNER-KEY`
    # The note with `as PARTNER-KEY` left in place, for when those words turn out to be
    # prose (`as expected` from a partner member): None when there was no `as` clause.
    note_with_as: str | None = field(default=None, compare=False)
    # The report modal's figures per group (SPEC §10): (dimension, group, value as typed).
    groups: tuple[tuple[str, str, str], ...] = ()


def parse_report_args(args: str) -> ReportRequest:
    """Split `KEY VALUE [note…] [for PERIOD] [as PARTNER-KEY]` as a person types it."""
    spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(args)]
    if not spans:
        raise ReportError("Tell me which measure and value, like "
                          "`/impact report prenatal-visits 72`.")
    key = spans[0][2].lower()
    if len(spans) < 2:
        raise ReportError(f"Give a value for `{bk.escape(key[:64])}`, like "
                          f"`/impact report {bk.escape(key[:64])} 72`.", field="value")
    value_tokens, rest_count = _take_value([s[2] for s in spans[1:]])
    rest = spans[len(spans) - rest_count:]
    words = [s[2] for s in rest]

    period_text: str | None = None
    taken: set[int] = set()
    i = 0
    while i < len(rest):
        if words[i].lower() == "for" and (found := read_phrase(words[i + 1:])) is not None:
            length, phrase = found
            if period_text is not None:
                raise ReportError(f"Two periods (`for {bk.escape(period_text)}` and "
                                  f"`for {bk.escape(phrase.text)}`): give one. Nothing was "
                                  "recorded.", field="period")
            period_text = phrase.text
            taken.update(range(i, i + length + 1))
            i += length + 1
            continue
        i += 1
    kept = [n for n in range(len(rest)) if n not in taken]

    partner_key: str | None = None
    note_with_as: str | None = field(default=None, compare=False)
    if (len(kept) >= 2 and words[kept[-2]].lower() == "as"
            and _KEYISH.match(words[kept[-1]].strip(".,;:!"))):
        partner_key = words[kept[-1]].strip(".,;:!").lower()
        note_with_as = _verbatim(args, rest, kept)
        kept = kept[:-2]
    return ReportRequest(key, " ".join(value_tokens), _verbatim(args, rest, kept), period_text,
                         partner_key, note_with_as)


def _verbatim(args: str, spans: list[tuple[int, int, str]], kept: list[int]) -> str:
    """The kept words as typed: each run of adjacent words is copied from the line."""
    runs: list[str] = []
    start = previous = None
    for n in kept:
        if start is None or previous is None or n != previous + 1:
            if start is not None and previous is not None:
                runs.append(args[spans[start][0]:spans[previous][1]])
            start = n
        previous = n
    if start is not None and previous is not None:
        runs.append(args[spans[start][0]:spans[previous][1]])
    return " ".join(runs).strip()


def _take_value(tokens: list[str]) -> tuple[list[str], int]:
    """The value's tokens (`1 250` is one value) and how many tokens follow it."""
    first = tokens[0]
    if len(first) > 1 and first[-1] in ",;:":
        return [first.rstrip(",;:")], len(tokens) - 1  # `72, from the EHR`
    # `43 / 60`, `43/ 60`: a rate written with spaces
    if len(tokens) > 2 and tokens[1] == "/":
        return [first + "/" + tokens[2]], len(tokens) - 3
    if len(tokens) > 1 and len(first) > 1 and first.endswith("/"):
        return [first + tokens[1]], len(tokens) - 2
    taken = [first]
    i = 1
    if _FIRST_GROUP.match(first):
        while i < len(tokens) and _NEXT_GROUP.match(tokens[i]):
            taken.append(tokens[i])
            i += 1
            if not tokens[i - 1].isdigit():
                break  # a decimal part or % ends the number
    if i < len(tokens) and tokens[i] == "%":
        taken.append("%")
        i += 1
    return taken, len(tokens) - i
