"""`impactbot import-values FILE.csv [--dry-run]`: load a history of reports (SPEC §9).

The file has the export's columns, found by header name: `measure_key`, `partner_key`,
`period` and `value` are needed (a rate row may leave `value` empty and give `numerator`
and `denominator`); `note`, `reported_by`, `reported_at`, `source`, `numerator`,
`denominator`, `dimension` and `group` may be empty or absent.

All or nothing: every row is checked first, and one bad row (named by line and column)
changes nothing. Then, in one transaction, a row identical to the stored value changes
nothing; a different value for a stored period is a correction (source `import`, the old
value stays in the history); anything else is added, keeping the file's `reported_by`,
`reported_at` and `source`, so importing an export into an empty initiative and exporting
again gives the same file to the digit.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.measures.export import FORMULA_START as _FORMULA_START
from bot.measures.forecast_history import note_history_written
from bot.measures.groups import GroupRefused, check_group
from bot.measures.periods import as_cadence, parse_period, reporting_period
from bot.measures.values import ValueRefused, allows_negative, check_value, parse_value
from bot.runtime.caller import NO_INITIATIVE_CLI, load_initiative
from bot.runtime.errors import UserError
from storage.db import Store
from storage.kinds import ReportSource
from storage.models import GroupReport, Measure, MeasurePartner, Partner, Report

REQUIRED = ("measure_key", "partner_key", "period")
OPTIONAL = ("value", "note", "reported_by", "reported_at", "source", "numerator",
            "denominator", "dimension", "group")
SOURCES: tuple[ReportSource, ...] = get_args(ReportSource)
MAX_BYTES = 200 * 1024 * 1024
IMPORTER = "import"  # reported_by when the file does not say who


class ImportRefused(UserError):
    """A file that cannot be imported; the message names the line and the column."""


@dataclass(frozen=True)
class Row:
    line: int
    measure_id: int
    partner_id: int
    period: str
    value: float
    note: str
    reported_by: str
    reported_at: datetime | None
    source: ReportSource
    numerator: float | None
    denominator: float | None
    dimension: str = ""  # a group row (SPEC §10): its dimension and group
    group: str = ""


@dataclass
class Summary:
    added: int = 0
    corrected: int = 0
    unchanged: int = 0
    rows: list[Row] = field(default_factory=list)

    def line(self, path: Path, dry_run: bool) -> str:
        what = (f"{self.added} added, {self.corrected} corrected, {self.unchanged} unchanged")
        if dry_run:
            return f"Dry run of {path.name}: would have {what}; nothing was written."
        return f"Imported {path.name}: {what}."


def _fail(path: Path, line: int, column: str | None, problem: str) -> ImportRefused:
    where = f"line {line}" + (f", column {column}" if column else "")
    return ImportRefused(f"{path.name}: {where}: {problem}. Nothing was imported.")


def _number(text: str, path: Path, line: int, column: str, **checks: Any) -> float:
    try:
        return check_value(float(parse_value(text)), **checks) if checks else parse_value(text)
    except ValueRefused as exc:
        raise _fail(path, line, column, str(exc).rstrip(".")) from None


class _Reader:
    """Checks rows against the initiative: measures, partners, assignments, periods."""

    def __init__(self, session: Session, path: Path, now: datetime) -> None:
        initiative = load_initiative(session)
        if initiative is None:
            raise ImportRefused(NO_INITIATIVE_CLI)
        self.path, self.now = path, now
        self.tz = ZoneInfo(initiative.timezone)
        self.fy_start = initiative.fiscal_year_start
        self.measures = {m.key: m for m in session.scalars(select(Measure))}
        self.partners = {p.key: p for p in session.scalars(select(Partner))}
        self.assigned = {(a.measure_id, a.partner_id)
                         for a in session.scalars(select(MeasurePartner))}
        self.seen: dict[tuple[int, int, str, str, str], int] = {}
        self.initiative = initiative

    def row(self, line: int, raw: dict[str, str]) -> Row | None:
        path = self.path
        cell = {k: (raw.get(k) or "").strip() for k in (*REQUIRED, *OPTIONAL)}
        measure = self.measures.get(cell["measure_key"])
        if measure is None:
            raise _fail(path, line, "measure_key", f"no measure `{cell['measure_key']}`; "
                        f"measures: {', '.join(sorted(self.measures)) or 'none'}")
        partner = self.partners.get(cell["partner_key"])
        if partner is None:
            raise _fail(path, line, "partner_key", f"no partner `{cell['partner_key']}`")
        if (measure.id, partner.id) not in self.assigned:
            raise _fail(path, line, "partner_key", f"`{partner.key}` does not report "
                                                   f"`{measure.key}`")
        cadence = as_cadence(measure.cadence)
        try:
            period = parse_period(cadence, cell["period"], self.fy_start)
        except ValueError as exc:
            raise _fail(path, line, "period", str(exc)) from None
        if period.start > reporting_period(cadence, self.now, self.tz, self.fy_start).start:
            raise _fail(path, line, "period", f"{period.key} has not ended yet")
        dimension = group = ""
        if cell["dimension"] or cell["group"]:
            try:
                dimension = cell["dimension"]
                group = check_group(self.initiative, measure, dimension, cell["group"])
            except GroupRefused as exc:
                raise _fail(path, line, exc.field or "dimension", str(exc)) from None
            if not (cell["value"] or cell["numerator"] or cell["denominator"]):
                return None  # a group the export suppressed (fewer than min_group)
        numerator = denominator = None
        if measure.rate:
            if not cell["numerator"] or not cell["denominator"]:
                raise _fail(path, line, "numerator" if not cell["numerator"] else
                            "denominator", f"`{measure.key}` is a rate: give the numerator "
                                           "and the denominator")
            numerator = _number(cell["numerator"], path, line, "numerator")
            denominator = _number(cell["denominator"], path, line, "denominator")
            if denominator == 0 or numerator > denominator:
                raise _fail(path, line, "denominator", f"{cell['numerator']}/"
                            f"{cell['denominator']} is not a rate between 0 and 100%")
            value = 100 * numerator / denominator
        else:
            for column in ("numerator", "denominator"):
                if cell[column]:
                    raise _fail(path, line, column, f"`{measure.key}` is not a rate measure")
            if not cell["value"]:
                raise _fail(path, line, "value", "a value is needed")
            value = _number(cell["value"], path, line, "value", unit=measure.unit,
                            allow_negative=allows_negative(measure.baseline, measure.target))
        key = (measure.id, partner.id, period.key, dimension, group)
        if key in self.seen:
            what = f" ({group})" if group else ""
            raise _fail(path, line, "period", f"`{measure.key}` for `{partner.key}` "
                        f"{period.key}{what} is already on line {self.seen[key]}")
        self.seen[key] = line
        reported_at = None
        if cell["reported_at"]:
            try:
                reported_at = datetime.fromisoformat(cell["reported_at"].replace("Z", "+00:00"))
            except ValueError:
                raise _fail(path, line, "reported_at", "expected a time like "
                                                       "2026-10-03T15:00:00Z") from None
            if reported_at.tzinfo is None:
                reported_at = reported_at.replace(tzinfo=self.tz)
        source = cell["source"] or "import"
        if source not in SOURCES:
            raise _fail(path, line, "source", f"expected one of {', '.join(SOURCES)}")
        if len(cell["note"]) > 1000 or len(cell["reported_by"]) > 32:
            raise _fail(path, line, "note" if len(cell["note"]) > 1000 else "reported_by",
                        "too long")
        note = raw.get("note") or ""
        if note[:1] == "'" and note[1:2] in _FORMULA_START:
            note = note[1:]  # the export's guard against spreadsheet formulas, undone
        return Row(line, measure.id, partner.id, period.key, value, note,
                   cell["reported_by"] or IMPORTER, reported_at, source,
                   numerator, denominator, dimension, group)


def _read_rows(session: Session, path: Path, now: datetime,
               progress: Callable[[int], None]) -> list[Row]:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ImportRefused(f"{path.name}: larger than {MAX_BYTES // 2**20} MB.")
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    except UnicodeDecodeError:
        raise ImportRefused(f"{path.name}: not UTF-8 text.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    for column in (*REQUIRED,):
        if column not in header:
            raise _fail(path, 1, column, "this column is missing from the header")
    unknown = [h for h in header if h not in (*REQUIRED, *OPTIONAL, "current")]
    if unknown:
        raise _fail(path, 1, unknown[0], "unknown column; expected "
                    + ", ".join((*REQUIRED, *OPTIONAL)))
    checker = _Reader(session, path, now)
    rows = []
    try:
        for raw in reader:
            if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
                continue  # a blank line
            row = checker.row(reader.line_num, raw)
            if row is not None:
                rows.append(row)
            progress(reader.line_num - 1)
    except csv.Error as exc:
        raise _fail(path, reader.line_num, None, f"not valid CSV ({exc})") from None
    return rows


def import_values(store: Store, path: Path, now: datetime, *, dry_run: bool = False,
                  progress: Callable[[int], None] = lambda n: None) -> Summary:
    """Check every row, then apply them all in one transaction (or none, on `dry_run`)."""
    summary = Summary()
    with store.session() as session:
        rows = _read_rows(session, path, now, progress)
        measure_ids = sorted({r.measure_id for r in rows})
        stored = {(r.measure_id, r.partner_id, r.period): r
                  for r in session.scalars(select(Report).where(
                      Report.is_current.is_(True), Report.measure_id.in_(measure_ids)))}
        groups = {(g.measure_id, g.partner_id, g.period, g.dimension, g.group_name): g
                  for g in session.scalars(select(GroupReport).where(
                      GroupReport.is_current.is_(True),
                      GroupReport.measure_id.in_(measure_ids)))}
        for row in rows:
            if row.dimension:
                _apply_group(session, row, groups, summary, now, dry_run)
                continue
            prior = stored.get((row.measure_id, row.partner_id, row.period))
            same = prior is not None and (prior.value, prior.numerator, prior.denominator,
                                          prior.note) == (row.value, row.numerator,
                                                          row.denominator, row.note)
            _apply(session, Report, row, prior, same, summary, now, dry_run, note=row.note)
        if dry_run:
            session.rollback()
        else:
            initiative = load_initiative(session)
            if initiative is not None:
                note_history_written(initiative, *{row.period for row in rows})
            session.flush()
    return summary


def _apply_group(session: Session, row: Row, groups: dict[Any, GroupReport], summary: Summary,
                 now: datetime, dry_run: bool) -> None:
    prior = groups.get((row.measure_id, row.partner_id, row.period, row.dimension, row.group))
    same = prior is not None and (prior.value, prior.numerator, prior.denominator) == (
        row.value, row.numerator, row.denominator)
    _apply(session, GroupReport, row, prior, same, summary, now, dry_run,
           dimension=row.dimension, group_name=row.group)


def _apply(session: Session, model: type[Report] | type[GroupReport], row: Row,
           prior: Report | GroupReport | None, same: bool, summary: Summary, now: datetime,
           dry_run: bool, **columns: Any) -> None:
    """A row's figure (a total, or a group's with its `columns`): unchanged, a correction
    (source `import`; the prior row stays in history), or added."""
    if same:
        summary.unchanged += 1
        return
    source: ReportSource = row.source
    if prior is not None:
        summary.corrected += 1
        source = "import"
        if not dry_run:
            session.execute(update(model).where(model.id == prior.id)
                            .values(is_current=False))
    else:
        summary.added += 1
    if not dry_run:
        session.add(model(
            measure_id=row.measure_id, partner_id=row.partner_id, period=row.period,
            value=row.value, numerator=row.numerator, denominator=row.denominator,
            reported_by=row.reported_by, reported_at=row.reported_at or now, source=source,
            is_current=True, **columns))


class Progress:
    """Rows done, rate and time left, on one terminal line (nothing when not a terminal)."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream, self.total = stream, total
        self.started = time.monotonic()
        self.shown = 0.0
        self.live = stream.isatty()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if not self.live or (now - self.shown < 0.2 and done < self.total):
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-6)
        left = (self.total - done) / rate if rate else 0
        self.stream.write(f"\r{done:,} of {self.total:,} rows checked · {rate:,.0f} rows/s · "
                          f"about {left:,.0f} s left ")
        self.stream.flush()

    def end(self) -> None:
        if self.live:
            self.stream.write("\n")


def run_import_values_command(store: Store, path: Path, now: datetime,
                              dry_run: bool) -> int:
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as stream:
            total = max(sum(1 for _ in stream) - 1, 0)
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    progress = Progress(sys.stderr, total)
    try:
        summary = import_values(store, path, now, dry_run=dry_run, progress=progress)
    finally:
        progress.end()
    print(summary.line(path, dry_run))
    return 0
