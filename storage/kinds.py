"""The closed sets of values some text columns hold, as types.

The columns stay plain strings in the schema (no migration, no database enum); these
`Literal`s let mypy check every value the code writes or compares against.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Direction = Literal["up", "down"]  # which way is better for a measure
Cadence = Literal["weekly", "monthly", "quarterly", "annual"]
AggregateRule = Literal["sum", "avg", "latest", "pooled"]  # how partners' values combine per period
# pooled: Σ numerators / Σ denominators, for rate measures (SPEC §9)
ReportSource = Literal["slash", "modal", "console", "import"]
PauseReason = Literal["pause", "snooze"]
ParkedKind = Literal["channel", "dm"]  # a channel, or a person's DM (bot/parking.py)

# Not columns, but read off them: where a report for a period stands, and where a request
# came from (the offline console records its reports with source "console").
ObligationStatus = Literal["owed", "reported", "skipped"]
Surface = Literal["slack", "console"]
WinSource = Literal["reaction", "shortcut", "command"]


class WinStatus(StrEnum):
    """Where a win stands (bot/wins/states.py has the transitions)."""

    COUNTING = "counting"  # reactions so far are below the threshold
    PENDING = "pending"  # awaiting its author's consent
    APPROVED = "approved"  # to post
    DECLINED = "declined"  # the author said no
    POSTED = "posted"
ActionStatus = Literal["open", "doing", "done", "dropped"]
ActionSource = Literal["slash", "modal", "meeting", "console"]
