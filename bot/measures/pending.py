"""Reports held by the data-quality guard until their reporter chooses (SPEC §9).

`hold()` stores the report as asked (in the reporting transaction, so nothing else is
written); `confirm()` resolves it exactly once: one UPDATE … WHERE resolved_at IS NULL
claims it and the report is written in the same transaction, so a double click, a retried
request or two presses at once record the value once and the others are told so.

A question lasts `EXPIRES` (24 hours): a press after that records nothing and asks to
report again, and the housekeeping job (bot/runtime/housekeeping.py) deletes the rows,
answered or not, once they are that old. A value reported directly for the same measure,
partner and period after the question was asked makes the question moot: pressing it then
records nothing (bot/measures/confirmation.py), so an old question never overwrites a newer
report.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.measures.quality import CHOICES
from bot.measures.report_args import ReportError, ReportRequest
from bot.runtime.clock import as_utc
from storage.kinds import ReportSource
from storage.models import PendingReport

GONE = "That question is no longer open: nothing more was recorded."
EXPIRES = timedelta(hours=24)
EXPIRED = ("This confirmation expired (they last 24 hours), so nothing was recorded. To record "
           "the value, report it again with `/impact report`.")
SUPERSEDED = ("A value for this measure and period was reported after this question was "
              "asked, so nothing was recorded from it. `/impact status` shows what is owed.")


@dataclass(frozen=True)
class Held:
    """A report the guard held: the question to ask."""

    message: dict[str, Any]


def hold(session: Session, *, user_id: str, now: datetime, request: dict[str, Any]) -> str:
    token = secrets.token_hex(12)
    session.add(PendingReport(token=token, user_id=user_id, request=request, created_at=now))
    return token


@dataclass(frozen=True)
class Resolution:
    outcome: str  # recorded | cancelled | already | not_yours | expired
    request: ReportRequest | None = None
    source: ReportSource = "slash"
    asked_at: datetime | None = None  # when the question was asked (UTC)


def claim(session: Session, token: str, choice: str, user_id: str,
          now: datetime) -> Resolution:
    """Claim the held report for `choice`, once; the caller writes the report in the same
    transaction. `request` is what to record (None when cancelled or already answered)."""
    if choice not in CHOICES or not token.isalnum() or len(token) > 32:
        return Resolution("already")
    pending = session.scalar(select(PendingReport).where(PendingReport.token == token))
    if pending is None:
        # Deleted by the housekeeping job once a day old (or never asked): expired.
        return Resolution("expired")
    if pending.user_id != user_id:
        return Resolution("not_yours")
    asked_at = as_utc(pending.created_at)
    if pending.resolved_at is None and now - asked_at >= EXPIRES:
        return Resolution("expired")
    claimed = session.execute(
        update(PendingReport)
        .where(PendingReport.id == pending.id, PendingReport.resolved_at.is_(None))
        .values(resolved_at=now, choice=choice)
        .execution_options(synchronize_session=False))
    if getattr(claimed, "rowcount", 0) != 1:
        return Resolution("already")
    if choice == "cancel":
        return Resolution("cancelled")
    asked = pending.request
    value = asked["value_text"] if choice == "typed" else asked.get("suggested_text")
    if not value:
        raise ReportError("There is no suggested value to record; nothing was recorded.")
    return Resolution("recorded", ReportRequest(
        asked["measure_key"], value, asked.get("note", ""), asked["period"],
        asked.get("partner_key")), asked.get("source", "slash"), asked_at)
