"""Recording a partner's value for a measure and period, and corrections of it.

One report is one transaction: the earlier current row for the same (measure, partner,
period), if any, is marked superseded and the new row becomes current. The partial
unique index `uq_reports_current` guarantees at most one current row even when two
people report at the same instant; the loser of such a race retries as a correction.

`/impact report KEY VALUE [note…] [for PERIOD] [as PARTNER-KEY]` (read by
`bot.measures.report_args`):
- `for PERIOD` backfills an earlier period (`2026-09`, `September 2026`, `last month`, see
  `bot.measures.phrases`); the running period, future ones and ones more than
  `BACKFILL_YEARS` back (history is loaded with `impactbot import-values`) are refused;
- `as PARTNER-KEY` is for backbone admins reporting on a partner's behalf (a member may
  name their own partner, nothing else). From a member, `as WORD` naming no partner is
  prose kept in the note, unless it is shaped like a key (`as clinic-nort`): that is a
  typo, refused.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import get_args
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.measures import phrases
from bot.measures.forecast_history import note_history_written
from bot.measures.groups import GroupFigure, GroupRefused, check_group, read_figure, store_figures
from bot.measures.pending import Held, hold
from bot.measures.periods import Period, local_date, reporting_period, years_before
from bot.measures.phrases import PhraseRefused, period_label, period_words, read_phrase, resolve
from bot.measures.progress import number_text
from bot.measures.quality import question, suspicion
from bot.measures.report_args import ReportError, ReportRequest, parse_report_args
from bot.measures.values import ValueRefused, allows_negative, parse_rate, parse_value
from bot.rendering import blocks as bk
from bot.runtime.caller import NO_INITIATIVE, Caller, identify, load_initiative
from storage.db import Store
from storage.kinds import ReportSource
from storage.models import Initiative, Measure, MeasurePartner, Partner, Report

# Reading the command line lives in report_args; importable from here too.
__all__ = ["NeedsConfirmation", "Recorded", "ReportError", "ReportRequest", "find_measure",
           "parse_report_args", "record_report", "resolve_period"]

SOURCES: tuple[ReportSource, ...] = get_args(ReportSource)
NOTE_LIMIT = 1000
RACE_RETRIES = 3
BACKFILL_YEARS = 2  # a report further back than this is most likely a typo (2020 for 2026)
_DOT_THOUSANDS = re.compile(r"^\d{1,3}\.\d{3}$")  # `1.250`: a decimal here, thousands elsewhere
DROP_BACKOFF = 0.05  # seconds before the first retry after a dropped connection

@dataclass(frozen=True)
class Superseded:
    value: float
    reported_by: str
    reported_at: datetime
    source: ReportSource


@dataclass(frozen=True)
class Recorded:
    """What was stored, with what the confirmation shows."""

    report_id: int
    measure_key: str
    measure_name: str
    unit: str
    partner_key: str
    partner_name: str
    period: str
    value: float
    note: str
    reported_by: str
    source: ReportSource
    on_behalf: bool  # an admin (or someone) reporting for a partner they are not in
    replaced: Superseded | None  # the value this corrects
    previous_period: str
    previous_value: float | None
    already: bool = False  # this exact value was recorded before: no new history row
    period_label: str = ""  # the period in words: `September 2026`
    typed: str = ""  # the value as typed, when it reads differently from `value` (`1.250`)
    fraction: str = ""  # a rate's numerator/denominator: `43/60`


# --- resolving who, what, when and how much ---------------------------------------------


@dataclass(frozen=True)
class _Resolved:
    measure: Measure
    partner: Partner
    period: Period
    value: float
    note: str
    on_behalf: bool
    typed: str = ""
    numerator: float | None = None
    denominator: float | None = None
    figures: tuple[GroupFigure, ...] = ()  # per group, from the modal


def find_measure(session: Session, key: str) -> Measure:
    measure = session.scalar(select(Measure).where(Measure.key == key.strip().lower(),
                                                   Measure.active.is_(True)))
    if measure is None:
        keys = session.scalars(select(Measure.key).where(Measure.active.is_(True))
                               .order_by(Measure.position)).all()
        known = ", ".join(f"`{k}`" for k in keys) or "none yet"
        raise ReportError(f"There is no measure `{bk.escape(key.strip()[:64])}`. "
                          f"Measures: {known}.", field="measure")
    return measure


def _partner_for(session: Session, caller: Caller, partner_key: str | None) -> tuple[Partner, bool]:
    """The partner this report is for, and whether the caller reports on its behalf."""
    if partner_key is None or partner_key == caller.partner_key:
        if caller.partner_id is not None:
            partner = session.get(Partner, caller.partner_id)
            assert partner is not None
            return partner, False
        if caller.is_admin:
            raise ReportError("You are a backbone admin, not a partner member: add "
                              "`as PARTNER-KEY` to report on a partner's behalf.",
                              field="partner")
        raise ReportError("You are not a member of any partner in this initiative, so "
                          "there is nothing for you to report. Ask the backbone team to "
                          "add you to your partner.")
    if not caller.is_admin:
        own = f"; you report for {caller.partner_name}" if caller.partner_name else ""
        if not _partner_exists(session, partner_key):
            raise ReportError(f"There is no partner `{bk.escape(partner_key[:64])}` (and "
                              f"only backbone admins can report on another partner's "
                              f"behalf{own}). Nothing was recorded.", field="partner")
        raise ReportError(f"Only backbone admins can report on another partner's "
                          f"behalf{own}.", field="partner")
    partner = session.scalar(select(Partner).where(Partner.key == partner_key,
                                                   Partner.active.is_(True)))
    if partner is None:
        keys = session.scalars(select(Partner.key).where(Partner.active.is_(True))
                               .order_by(Partner.position)).all()
        raise ReportError(f"There is no partner `{bk.escape(partner_key[:64])}`. Partners: "
                          + ", ".join(f"`{k}`" for k in keys) + ".", field="partner")
    return partner, True


def _key_shaped(word: str) -> bool:
    """`clinic-north`, `unit2`: what a partner key looks like, unlike an ordinary word."""
    return any(c.isdigit() or c in "-_" for c in word)


def _partner_exists(session: Session, key: str) -> bool:
    return session.scalar(select(Partner.id).where(Partner.key == key)) is not None


def _check_assigned(session: Session, measure: Measure, partner: Partner) -> None:
    # Locking the assignment row makes reports for one (measure, partner) take turns on
    # PostgreSQL, so each one sees the value it corrects (SQLite writers take turns anyway).
    assigned = session.scalar(select(MeasurePartner).where(
        MeasurePartner.measure_id == measure.id, MeasurePartner.partner_id == partner.id)
        .with_for_update())
    if assigned is not None:
        return
    keys = session.scalars(
        select(Measure.key).join(MeasurePartner, MeasurePartner.measure_id == Measure.id)
        .where(MeasurePartner.partner_id == partner.id, Measure.active.is_(True))
        .order_by(Measure.position)).all()
    theirs = ", ".join(f"`{k}`" for k in keys) or "none"
    raise ReportError(f"{bk.escape(partner.name)} does not report `{measure.key}` "
                      f"({bk.escape(measure.name)}). It reports: {theirs}.", field="measure")


def resolve_period(measure: Measure, text: str | None, now: datetime, tz: ZoneInfo,
                   fy_start: int = 1) -> Period:
    """The measure's reporting period at `now`, or an earlier period being backfilled;
    `text` is a key (`2026-09`) or a phrase in words (`September 2026`, `last month`);
    annual periods start in month `fy_start` (the initiative's fiscal_year_start)."""
    cadence = measure.cadence
    latest = reporting_period(cadence, now, tz, fy_start)
    if text is None or not text.strip():
        return latest
    words = text.split()
    try:
        found = read_phrase(words)
        if found is None or found[0] != len(words):
            raise PhraseRefused(f"I could not tell which period `{text.strip()[:40]}` means. "
                                f"Write it like {phrases.examples(cadence, fy_start)} "
                                f"(`{measure.key}` is reported {phrases.adverb(cadence)}).")
        period = resolve(found[1], cadence, local_date(now, tz), fy_start)
    except PhraseRefused as exc:
        raise ReportError(str(exc), field="period") from None
    if period.start > latest.start:
        when = "is still running" if period == latest.next() else "is in the future"
        raise ReportError(f"{period_words(period)} {when}: you can report a "
                          f"period once it has ended. The latest period for "
                          f"`{measure.key}` is {period_words(latest)}. "
                          "Nothing was recorded.", field="period")
    oldest = years_before(latest.start, BACKFILL_YEARS)
    if period.start < oldest:
        raise ReportError(f"{period_words(period)} is more than "
                          f"{BACKFILL_YEARS} years back, so I did not record it: was it a "
                          f"typo? Older history is loaded by the backbone team with "
                          "`impactbot import-values`.", field="period")
    return period


def _resolve(session: Session, initiative: Initiative, request: ReportRequest, user_id: str,
             now: datetime) -> _Resolved:
    caller = identify(session, user_id, initiative)
    if not caller.is_member and not caller.is_admin:
        _partner_for(session, caller, None)  # raises the not-a-member reason
    measure = find_measure(session, request.measure_key)
    partner_key, note = request.partner_key, request.note.strip()
    if (partner_key is not None and not caller.is_admin
            and not _partner_exists(session, partner_key) and not _key_shaped(partner_key)):
        # `… 72 as expected` from a member is prose, not a partner: the note keeps it, in
        # place. (`as clinic-nort` is shaped like a key: a typo, refused below.)
        partner_key, note = None, (request.note_with_as or note).strip()
    partner, on_behalf = _partner_for(session, caller, partner_key)
    _check_assigned(session, measure, partner)
    period = resolve_period(measure, request.period_text, now, ZoneInfo(initiative.timezone),
                            initiative.fiscal_year_start)
    numerator = denominator = None
    try:
        if measure.rate:
            numerator, denominator, value = parse_rate(request.value_text)
        elif "/" in request.value_text:
            raise ValueRefused(f"`{bk.escape(request.value_text[:30])}` is a fraction, but "
                               f"`{measure.key}` is not a rate measure: give one number.")
        else:
            value = parse_value(request.value_text, unit=measure.unit,
                                allow_negative=allows_negative(measure.baseline,
                                                               measure.target))
    except ValueRefused as exc:
        raise ReportError(str(exc), field="value") from None
    note = _without_unit(note, measure.unit)
    if len(note) > NOTE_LIMIT:
        raise ReportError(f"The note is {len(note)} characters; keep it under {NOTE_LIMIT}.",
                          field="note")
    try:
        figures = tuple(read_figure(measure, dim, check_group(initiative, measure, dim, group),
                                    text, field) for dim, group, text, field in
                        ((d, g, t, f"grp|{d}|{i}") for i, (d, g, t) in enumerate(request.groups)))
    except GroupRefused as exc:
        raise ReportError(str(exc), field=exc.field) from None
    return _Resolved(measure, partner, period, value, note, on_behalf,
                     "" if measure.rate else typed_differently(request.value_text, value),
                     numerator, denominator, figures)


def typed_differently(text: str, value: float) -> str:
    """The value as typed when showing the number would read differently (`1.250` is
    one and a quarter, not one thousand two hundred fifty): empty otherwise."""
    cleaned = text.strip().rstrip("%").strip()
    return cleaned if _DOT_THOUSANDS.match(cleaned) else ""


def _without_unit(note: str, unit: str) -> str:
    """`/impact report home-visits 250 families` — the unit is not a note."""
    first, _, rest = note.partition(" ")
    if unit and unit != "%" and first.lower().rstrip(".,;:") == unit.lower():
        return rest.strip()
    return note


# --- writing -----------------------------------------------------------------------------


def record_report(store: Store, request: ReportRequest, *, user_id: str, now: datetime,
                  source: ReportSource, drop_retries: int = 0) -> Recorded:
    """Check and store one report (or correction) in one transaction; ReportError if bad.

    `drop_retries`: how often to run the transaction again after the database connection
    failed (for work after the ack; a modal's ack must not wait). That is safe even when
    the failure hid a commit: the same person's same value is not stored twice."""
    if source not in SOURCES:
        raise ValueError(f"unknown report source {source!r}")
    for drop in range(drop_retries + 1):
        try:
            recorded = _record_racing(store, request, user_id=user_id, now=now, source=source)
            # After a drop, "already there" is most likely our own commit whose answer was
            # lost: the person sent it once, so the confirmation says nothing of a repeat.
            return replace(recorded, already=False) if drop else recorded
        except OperationalError:
            if drop == drop_retries:
                raise
            time.sleep(DROP_BACKOFF * 2**drop)
    raise AssertionError("unreachable")


class NeedsConfirmation(ReportError):
    """The data-quality guard held the report: `message` asks which value was meant."""

    def __init__(self, held: Held) -> None:
        super().__init__(str(held.message.get("text", "")), field="value")
        self.message = held.message


def _record_racing(store: Store, request: ReportRequest, *, user_id: str, now: datetime,
                   source: ReportSource) -> Recorded:
    for attempt in range(RACE_RETRIES):
        try:
            with store.session() as session:
                result = record_in(session, request, user_id=user_id, now=now, source=source)
            if isinstance(result, Held):
                raise NeedsConfirmation(result)  # after the hold was committed
            return result
        except IntegrityError:
            # Someone stored a current value for the same key between our read and write:
            # run again, and this report becomes a correction of theirs.
            if attempt == RACE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def record_in(session: Session, request: ReportRequest, *, user_id: str, now: datetime,
              source: ReportSource, guard: bool = True) -> Recorded | Held:
    """Check and store one report in `session`; Held when the data-quality guard asks."""
    initiative = load_initiative(session)
    if initiative is None:
        raise ReportError(NO_INITIATIVE)
    r = _resolve(session, initiative, request, user_id, now)
    if guard and (held := _guard(session, r, request, user_id, now, source)) is not None:
        return held
    key = (Report.measure_id == r.measure.id, Report.partner_id == r.partner.id,
           Report.period == r.period.key)
    prior = session.scalar(select(Report).where(*key, Report.is_current.is_(True))
                           .with_for_update())
    if (prior is not None and prior.value == r.value and prior.note == r.note
            and prior.denominator == r.denominator
            and prior.reported_by == user_id and prior.source == source):
        store_figures(session, r.measure.id, r.partner.id, r.period.key, list(r.figures),
                      user_id=user_id, now=now, source=source)
        # The same person sending the same value again (a retry after a lost answer, a
        # double submit): it is stored already, and the history gets no duplicate row.
        return _recorded(session, r, prior, None, already=True)
    replaced = None
    if prior is not None:
        replaced = Superseded(prior.value, prior.reported_by, prior.reported_at, prior.source)
        session.execute(update(Report).where(Report.id == prior.id,
                                             Report.is_current.is_(True))
                        .values(is_current=False))
    report = Report(measure_id=r.measure.id, partner_id=r.partner.id, period=r.period.key,
                    value=r.value, numerator=r.numerator, denominator=r.denominator,
                    note=r.note, reported_by=user_id, reported_at=now,
                    source=source, is_current=True)
    session.add(report)
    note_history_written(initiative, r.period)
    session.flush()
    store_figures(session, r.measure.id, r.partner.id, r.period.key, list(r.figures),
                  user_id=user_id, now=now, source=source)
    return _recorded(session, r, report, replaced)


def _guard(session: Session, r: _Resolved, request: ReportRequest, user_id: str,
           now: datetime, source: ReportSource) -> Held | None:
    before = session.execute(
        select(Report.value, Report.period).where(
            Report.measure_id == r.measure.id, Report.partner_id == r.partner.id,
            Report.is_current.is_(True), Report.period < r.period.key)
        .order_by(Report.period.desc()).limit(1)).first()
    found = suspicion(r.value, unit=r.measure.unit, previous=before[0] if before else None,
                      previous_period=before[1] if before else None,
                      baseline=r.measure.baseline, percent_sign="%" in request.value_text,
                      rate=r.measure.rate)
    if found is None:
        return None
    typed = " ".join(request.value_text.split())
    token = hold(session, user_id=user_id, now=now, request={
        "measure_key": r.measure.key, "value_text": typed,
        "suggested_text": None if found.suggested is None else number_text(found.suggested),
        "note": r.note, "period": r.period.key, "source": source,
        "partner_key": r.partner.key if r.on_behalf else None})
    return Held(question(token, typed, found, r.measure.unit, r.measure.name,
                         period_words(r.period)))


def _recorded(session: Session, r: _Resolved, report: Report, replaced: Superseded | None,
              *, already: bool = False) -> Recorded:
    previous = r.period.prev()
    previous_value = session.scalar(select(Report.value).where(
        Report.measure_id == r.measure.id, Report.partner_id == r.partner.id,
        Report.period == previous.key, Report.is_current.is_(True)))
    return Recorded(
        report_id=report.id, measure_key=r.measure.key, measure_name=r.measure.name,
        unit=r.measure.unit, partner_key=r.partner.key, partner_name=r.partner.name,
        period=r.period.key, value=r.value, note=r.note, reported_by=report.reported_by,
        source=report.source, on_behalf=r.on_behalf, replaced=replaced,
        previous_period=previous.key, previous_value=previous_value, already=already,
        typed=r.typed, period_label=period_label(r.period),
        fraction=("" if r.numerator is None or r.denominator is None
                  else f"{number_text(r.numerator)}/{number_text(r.denominator)}"),
    )
