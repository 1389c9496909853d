"""Recording a partner's value for a measure and period, and corrections of it.

One report is one transaction: the earlier current row for the same (measure, partner,
period), if any, is marked superseded and the new row becomes current. The partial
unique index `uq_reports_current` guarantees at most one current row even when two
people report at the same instant; the loser of such a race retries as a correction.

`/impact report KEY VALUE [note…] [for PERIOD] [as PARTNER-KEY]`:
- `for PERIOD` backfills an earlier period (`2026-09`, `2026-W38`, `2026-Q3`); the
  running period and future ones are refused;
- `as PARTNER-KEY` is for backbone admins reporting on a partner's behalf (a member may
  name their own partner, nothing else);
- VALUE may contain thousands groups separated by spaces (`1 250`), see `bot.measures.values`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.measures.periods import Period, parse_period, reporting_period
from bot.measures.progress import format_value
from bot.measures.values import ValueRefused, allows_negative, parse_value
from bot.rendering import blocks as bk
from bot.runtime.caller import NO_INITIATIVE, Caller, identify, load_initiative
from bot.runtime.errors import UserError
from storage.db import Store
from storage.kinds import ReportSource
from storage.models import Initiative, Measure, MeasurePartner, Partner, Report

SOURCES: tuple[ReportSource, ...] = get_args(ReportSource)
NOTE_LIMIT = 1000
RACE_RETRIES = 3
DROP_BACKOFF = 0.05  # seconds before the first retry after a dropped connection

_PERIODISH = re.compile(r"^\d{4}-(W?\d{1,2}|Q\d)$", re.IGNORECASE)
_KEYISH = re.compile(r"^[a-z0-9][a-z0-9_-]*$", re.IGNORECASE)
_FIRST_GROUP = re.compile(r"^[+\-\u2212]?\d{1,3}$")
_NEXT_GROUP = re.compile(r"^\d{3}(\.\d*)?%?$")


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


def parse_report_args(args: str) -> ReportRequest:
    """Split `KEY VALUE [note…] [for PERIOD] [as PARTNER-KEY]` as a person types it."""
    tokens = args.split()
    if not tokens:
        raise ReportError("Tell me which measure and value, like "
                          "`/impact report prenatal-visits 72`.")
    key = tokens[0].lower()
    if len(tokens) < 2:
        raise ReportError(f"Give a value for `{bk.escape(key[:64])}`, like "
                          f"`/impact report {bk.escape(key[:64])} 72`.", field="value")
    value_tokens, rest = _take_value(tokens[1:])
    period_text: str | None = None
    partner_key: str | None = None

    def take_modifier(word: str, arg: str) -> bool:
        nonlocal period_text, partner_key
        if word == "for" and period_text is None and _PERIODISH.match(arg):
            period_text = arg
            return True
        if word == "as" and partner_key is None and _KEYISH.match(arg):
            partner_key = arg.lower()
            return True
        return False

    # Modifiers are read from the end of the line, and also straight after the value.
    while len(rest) >= 2 and take_modifier(rest[-2].lower(), rest[-1]):
        rest = rest[:-2]
    while len(rest) >= 2 and take_modifier(rest[0].lower(), rest[1]):
        rest = rest[2:]
    return ReportRequest(key, " ".join(value_tokens), " ".join(rest), period_text, partner_key)


def _take_value(tokens: list[str]) -> tuple[list[str], list[str]]:
    """The value's tokens (`1 250` is one value) and what follows it."""
    first = tokens[0]
    if len(first) > 1 and first[-1] in ",;:":
        return [first.rstrip(",;:")], tokens[1:]  # `72, from the EHR`
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
    return taken, tokens[i:]


# --- resolving who, what, when and how much ---------------------------------------------


@dataclass(frozen=True)
class _Resolved:
    measure: Measure
    partner: Partner
    period: Period
    value: float
    note: str
    on_behalf: bool


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


def resolve_period(measure: Measure, text: str | None, now: datetime, tz: ZoneInfo) -> Period:
    """The measure's reporting period at `now`, or an earlier period being backfilled."""
    cadence = measure.cadence
    latest = reporting_period(cadence, now, tz)
    if text is None or not text.strip():
        return latest
    try:
        period = parse_period(cadence, text)
    except ValueError as exc:
        raise ReportError(f"{exc} (`{measure.key}` is reported {cadence}).",
                          field="period") from None
    if period.start > latest.start:
        when = "is still running" if period == latest.next() else "is in the future"
        raise ReportError(f"{period.key} {when}: you can report a period once it has "
                          f"ended. The latest period for `{measure.key}` is {latest.key}.",
                          field="period")
    return period


def _resolve(session: Session, initiative: Initiative, request: ReportRequest, user_id: str,
             now: datetime) -> _Resolved:
    caller = identify(session, user_id, initiative)
    if not caller.is_member and not caller.is_admin:
        _partner_for(session, caller, None)  # raises the not-a-member reason
    measure = find_measure(session, request.measure_key)
    partner_key, note = request.partner_key, request.note.strip()
    if partner_key is not None and not caller.is_admin and not _partner_exists(session,
                                                                               partner_key):
        # `… 72 as expected` from a member is prose, not a partner: keep it in the note.
        partner_key, note = None, f"{note} as {partner_key}".strip()
    partner, on_behalf = _partner_for(session, caller, partner_key)
    _check_assigned(session, measure, partner)
    period = resolve_period(measure, request.period_text, now, ZoneInfo(initiative.timezone))
    try:
        value = parse_value(request.value_text, unit=measure.unit,
                            allow_negative=allows_negative(measure.baseline, measure.target))
    except ValueRefused as exc:
        raise ReportError(str(exc), field="value") from None
    note = _without_unit(note, measure.unit)
    if len(note) > NOTE_LIMIT:
        raise ReportError(f"The note is {len(note)} characters; keep it under {NOTE_LIMIT}.",
                          field="note")
    return _Resolved(measure, partner, period, value, note, on_behalf)


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


def _record_racing(store: Store, request: ReportRequest, *, user_id: str, now: datetime,
                   source: ReportSource) -> Recorded:
    for attempt in range(RACE_RETRIES):
        try:
            with store.session() as session:
                return _record_in(session, request, user_id=user_id, now=now, source=source)
        except IntegrityError:
            # Someone stored a current value for the same key between our read and write:
            # run again, and this report becomes a correction of theirs.
            if attempt == RACE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _record_in(session: Session, request: ReportRequest, *, user_id: str, now: datetime,
               source: ReportSource) -> Recorded:
    initiative = load_initiative(session)
    if initiative is None:
        raise ReportError(NO_INITIATIVE)
    r = _resolve(session, initiative, request, user_id, now)
    key = (Report.measure_id == r.measure.id, Report.partner_id == r.partner.id,
           Report.period == r.period.key)
    prior = session.scalar(select(Report).where(*key, Report.is_current.is_(True))
                           .with_for_update())
    if (prior is not None and prior.value == r.value and prior.note == r.note
            and prior.reported_by == user_id and prior.source == source):
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
                    value=r.value, note=r.note, reported_by=user_id, reported_at=now,
                    source=source, is_current=True)
    session.add(report)
    session.flush()
    return _recorded(session, r, report, replaced)


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
    )


# --- the confirmation -------------------------------------------------------------------


def confirmation(rec: Recorded) -> dict[str, Any]:
    """The message that tells the reporter exactly what was stored."""
    value = format_value(rec.value, rec.unit)
    head = (f"Recorded *{value}* for *{bk.escape(rec.measure_name)}* (`{rec.measure_key}`), "
            f"{bk.escape(rec.partner_name)}, period *{rec.period}*.")
    lines = [head]
    if rec.previous_value is not None:
        lines.append(f"Previous period ({rec.previous_period}): "
                     f"{format_value(rec.previous_value, rec.unit)}.")
    else:
        lines.append(f"No value was reported for the previous period ({rec.previous_period}).")
    if rec.replaced is not None:
        when = rec.replaced.reported_at
        # Slack shows the date in each reader's own time zone; the fallback is UTC.
        stamp = f"<!date^{int(when.timestamp())}^{{date_short_pretty}}|{when:%Y-%m-%d}>"
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
    plain = " ".join(lines).replace("*", "")
    return bk.message(plain, blocks)
