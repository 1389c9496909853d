"""The message that tells a reporter exactly what was stored: the value (as typed when it
reads differently), the period it was filed under, what it corrects and the period before."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bot.measures.pending import claim
from bot.measures.progress import format_value
from bot.measures.reporting import RACE_RETRIES, Recorded, record_in
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.runtime.clock import as_utc
from storage.db import Store
from storage.models import PendingReport


def confirmation(rec: Recorded) -> dict[str, Any]:
    """The message that tells the reporter exactly what was stored."""
    value = format_value(rec.value, rec.unit)
    if rec.typed:
        value = f"{rec.typed}{'' if rec.unit in ('', '%') else ' '}{rec.unit}"
    if rec.fraction:
        value = f"{value} ({rec.fraction})"
    label = f" ({rec.period_label})" if rec.period_label else ""
    head = (f"Recorded *{value}* for *{bk.escape(rec.measure_name)}* (`{rec.measure_key}`), "
            f"{bk.escape(rec.partner_name)}, filed under period *{rec.period}*{label}.")
    lines = [head]
    if rec.typed:
        lines.append(f"`{rec.typed}` is kept as typed: {rec.value:g}. If you meant "
                     f"{rec.typed.replace('.', ',')}, report `{rec.typed.replace('.', '')}` "
                     "again to correct it.")
    if rec.previous_value is not None:
        lines.append(f"Previous period ({rec.previous_period}): "
                     f"{format_value(rec.previous_value, rec.unit)}.")
    else:
        lines.append(f"No value was reported for the previous period ({rec.previous_period}).")
    if rec.replaced is not None:
        when = rec.replaced.reported_at
        # Slack shows the date in each reader's own time zone; the fallback is UTC.
        stamp = (f"<!date^{int(when.timestamp())}^{{date_short_pretty}}|"
                 f"{dates.day(when.date())}>")
        lines.append(f"This corrects {format_value(rec.replaced.value, rec.unit)}, reported "
                     f"by <@{rec.replaced.reported_by}> {stamp} via {rec.replaced.source}; "
                     "that value stays in the history.")
    if rec.already:
        lines.append("You had already sent this value, so the history is unchanged.")
    if rec.on_behalf:
        lines.append(f"Reported on behalf of {bk.escape(rec.partner_name)}.")
    blocks = [bk.section("\n".join(lines))]
    if rec.note:
        blocks.append(bk.context(f"Note: {bk.safe_user_text(rec.note)}"))
    # SPEC §10: after a report, the story behind the curve is offered.
    blocks.append(bk.actions(bk.button("Tell the story behind the curve",
                                       f"story_open:{rec.measure_key}", rec.measure_key)))
    plain = " ".join(lines).replace("*", "")
    return bk.message(plain, blocks)


class _Superseded(Exception):
    """A newer report for the same period: the claim and the write are rolled back."""


def confirm_held(store: Store, token: str, choice: str, user_id: str,
                 now: datetime) -> tuple[str, Recorded | None]:
    """Answer a report the data-quality guard held: exactly once, however often pressed.
    The claim and the report are one transaction: both happen or neither. Outcomes besides
    `recorded`: cancelled, already, not_yours, expired, superseded (bot/measures/pending.py)."""
    for attempt in range(RACE_RETRIES):
        try:
            with store.session() as session:
                resolution = claim(session, token, choice, user_id, now)
                if resolution.request is None:
                    return resolution.outcome, None
                recorded = record_in(session, resolution.request, user_id=user_id, now=now,
                                     source=resolution.source, guard=False)
                assert isinstance(recorded, Recorded)
                if _newer(recorded, resolution.asked_at):
                    raise _Superseded
                session.execute(update(PendingReport).where(PendingReport.token == token)
                                .values(report_id=recorded.report_id))
            return resolution.outcome, recorded
        except _Superseded:
            return "superseded", None
        except IntegrityError:
            if attempt == RACE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _newer(recorded: Recorded, asked_at: datetime | None) -> bool:
    """Whether the value this press would replace was reported after the question."""
    replaced = recorded.replaced
    return (replaced is not None and asked_at is not None
            and as_utc(replaced.reported_at) > asked_at)
