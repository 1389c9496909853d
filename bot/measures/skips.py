"""Skipping a measure for a period, with the reason: it is then no longer owed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.measures.periods import Cadence, Period, as_cadence, parse_period, reporting_period
from bot.runtime.caller import identify, load_initiative
from bot.runtime.errors import UserError
from storage.db import Store
from storage.models import Measure, MeasurePartner, Report, Skip

MAX_REASON = 500
MAX_PERIODS_BACK = 12


@dataclass(frozen=True)
class Skipped:
    measure_name: str
    period: str
    reason: str
    new: bool  # False when the period had already been skipped


def measure_name(store: Store, measure_key: str) -> str | None:
    with store.session() as session:
        return session.scalar(select(Measure.name).where(Measure.key == measure_key))


def skippable_period(session: Session, cadence: Cadence, text: str, now: datetime) -> Period:
    """The period a skip may name: one that has ended (the period owed, as the reminder's
    button says) or one of the MAX_PERIODS_BACK before it. The form carries the period,
    and a forged form could name 2099 or 1900. ValueError says why not."""
    initiative = load_initiative(session)
    zone = ZoneInfo(initiative.timezone if initiative is not None else "UTC")
    fy_start = initiative.fiscal_year_start if initiative is not None else 1
    period = parse_period(cadence, text, fy_start)
    latest = reporting_period(cadence, now, zone, fy_start)
    earliest = latest
    for _ in range(MAX_PERIODS_BACK):
        earliest = earliest.prev()
    if period.start > latest.start:
        raise ValueError(f"{period.key} has not ended yet: a period can be skipped once it "
                         f"is owed (the latest is {latest.key}).")
    if period.start < earliest.start:
        raise ValueError(f"{period.key} is too far back: skips reach back to {earliest.key}.")
    return period


def skip_period(store: Store, user_id: str, measure_key: str, period_text: str, reason: str,
                now: datetime) -> Skipped:
    """Record that the user's partner skips `measure_key` for the period. UserError if not."""
    reason = " ".join(reason.split())
    if not reason:
        raise UserError("Please say why, so the backbone team knows.")
    if len(reason) > MAX_REASON:
        raise UserError(f"Please keep the reason under {MAX_REASON} characters.")
    try:
        with store.session() as session:
            caller = identify(session, user_id)
            if caller.partner_id is None:
                raise UserError("Only partner members can skip a measure for their partner.")
            measure = session.scalar(select(Measure).where(Measure.key == measure_key,
                                                           Measure.active.is_(True)))
            assigned = measure is not None and session.get(
                MeasurePartner, (measure.id, caller.partner_id)) is not None
            if measure is None or not assigned:
                raise UserError(f"{caller.partner_name} does not report `{measure_key}`.")
            try:
                period = skippable_period(session, as_cadence(measure.cadence), period_text,
                                          now).key
            except ValueError as exc:
                raise UserError(str(exc)) from None
            reported = session.scalar(select(Report.id).where(
                Report.measure_id == measure.id, Report.partner_id == caller.partner_id,
                Report.period == period, Report.is_current.is_(True)))
            if reported is not None:
                raise UserError(f"{measure.name} is already reported for {period}; "
                                "nothing to skip.")
            existing = session.scalar(select(Skip).where(
                Skip.measure_id == measure.id, Skip.partner_id == caller.partner_id,
                Skip.period == period))
            if existing is not None:
                return Skipped(measure.name, period, existing.reason, new=False)
            session.add(Skip(measure_id=measure.id, partner_id=caller.partner_id,
                             period=period, reason=reason, skipped_by=user_id, skipped_at=now))
            name = measure.name
    except IntegrityError:
        # A colleague skipped the same period at the same moment: it is skipped either way.
        return Skipped(measure_key, period_text, reason, new=False)
    return Skipped(name, period, reason, new=True)
