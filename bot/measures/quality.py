"""The data-quality guard (SPEC §9): rules and the question, pure (no session, no Slack).

A value is held for confirmation, not recorded, when it is
- at least 10× or at most 1/10 of the same partner's previous value for the measure (an
  extra zero, a missing one, `1.250` meaning 1,250), or
- at most 1 on a `%` measure whose history is above 1 (a fraction, 0.7, meaning 70%); with
  no history, the baseline stands for it, and a bare `0.7` (no `%` sign) is held anyway;
- zero, after a positive value (or on a `%` measure whose history is above 1): it may be
  true, so the question offers it as typed, with no other reading.
The question offers the value as typed and the likely intended one (the typed value moved
by the power of ten that brings it next to the previous value, or × 100 for a fraction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bot.measures.progress import format_value, number_text
from bot.rendering import blocks as bk

CONFIRM_ACTION = "quality_confirm"  # the buttons' action ids: quality_confirm:<choice>
FACTOR = 10.0
CHOICES = ("typed", "suggested", "cancel")


@dataclass(frozen=True)
class Suspicion:
    reason: str
    suggested: float | None  # the likely intended value, if there is one


def suspicion(value: float, *, unit: str, previous: float | None, previous_period: str | None,
              baseline: float | None, percent_sign: bool, rate: bool) -> Suspicion | None:
    """Why `value` looks like a slip, or None when it looks like data."""
    shown = format_value(value, unit)
    if unit == "%" and 0 < value <= 1:
        history = previous if previous is not None else baseline
        if (history is not None and history > 1) or (history is None and not percent_sign):
            before = (f"the previous value was {format_value(previous, unit)} "
                      f"({previous_period})" if previous is not None and previous_period
                      else f"the baseline is {format_value(baseline, unit)}"
                      if baseline is not None else "it reads like a fraction")
            return Suspicion(f"{shown} looks like a fraction: {before}.",
                             None if rate else value * 100)
    if value == 0:
        # Zero is at most 1/10 of any positive previous value (and at most 1 on a % measure
        # whose history is above 1): it can be true, so it is asked, with no other reading.
        history = previous if previous is not None else baseline if unit == "%" else None
        if history is None or history <= (1 if unit == "%" else 0):
            return None
        when = f" ({previous_period})" if previous_period else ""
        before = (f"the previous value was {format_value(previous, unit)}{when}"
                  if previous is not None else f"the baseline is {format_value(history, unit)}")
        return Suspicion(f"{shown} would be a drop to zero: {before}.", None)
    if previous is None or previous <= 0 or value < 0:
        return None
    ratio = value / previous
    if 1 / FACTOR < ratio < FACTOR:
        return None
    times = f"{ratio:,.0f}×" if ratio >= FACTOR else f"1/{1 / ratio:,.0f}"
    why = (f"{shown} is {times} the previous value, {format_value(previous, unit)} "
           f"({previous_period}).")
    if rate:
        return Suspicion(why, None)
    power = round(math.log10(previous / value))
    suggested = value * 10.0 ** power
    if power == 0 or (unit == "%" and suggested > 100):
        return Suspicion(why, None)
    return Suspicion(why, float(number_text(round(suggested, 6))))


def question(token: str, typed: str, s: Suspicion, unit: str, measure_name: str,
             period: str) -> dict[str, Any]:
    """The held report's question: record as typed, record the likely value, or cancel."""
    head = (f"I have not recorded *{bk.escape(typed)}* for *{bk.escape(measure_name)}* "
            f"({period}) yet: {s.reason} Which did you mean?")
    # action_ids are unique within a block (Slack's reference, "Button element").
    buttons = [bk.button(f"Record {typed[:40]}", f"{CONFIRM_ACTION}:typed", token)]
    if s.suggested is not None:
        buttons.append(bk.button(f"Record {format_value(s.suggested, unit)}",
                                 f"{CONFIRM_ACTION}:suggested", token, style="primary"))
    buttons.append(bk.button("Cancel", f"{CONFIRM_ACTION}:cancel", token))
    plain = head.replace("*", "") + " Nothing is stored until you choose."
    return bk.message(plain, [bk.section(head),
                              bk.actions(*buttons),
                              bk.context("Nothing is stored until you choose.")])
