"""Every measure report, as CSV (SPEC §3 fixes the columns) or JSON.

Current values by default; with `history` the superseded rows (corrections) too, in the
order they were reported. Values are written in full precision (`72.25`, `1250`), so the
numbers `/impact measures` shows can be recomputed from the file exactly.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.measures.periods import Period, annual_example, as_cadence, parse_period
from bot.measures.progress import number_text
from bot.runtime.caller import load_initiative
from bot.runtime.errors import UserError
from bot.runtime.services import Services
from storage.models import GroupReport, Measure, Partner, Report

# SPEC §3's columns, then SPEC §9's: a rate's numerator and denominator, and the group of
# a disaggregated report (empty for a total, which every report is until breakdowns exist).
COLUMNS = ("measure_key", "partner_key", "period", "value", "note", "reported_by",
           "reported_at", "source", "numerator", "denominator", "dimension", "group")


@dataclass(frozen=True)
class ExportRow:
    measure_key: str
    partner_key: str
    period: str
    value: float
    note: str
    reported_by: str
    reported_at: datetime
    source: str
    current: bool
    numerator: float | None = None
    denominator: float | None = None
    dimension: str = ""  # a group's row (SPEC §10); empty for the total
    group: str = ""
    suppressed: bool = False  # fewer than min_group: no figure is written


@dataclass(frozen=True)
class Filters:
    """`--measure KEY`, `--partner KEY`, `--from PERIOD`, `--to PERIOD` (SPEC §9)."""

    measure: str | None = None
    partner: str | None = None
    start: date | None = None  # periods starting on or after this day
    end: date | None = None  # periods starting before this day
    fy_start: int = 1  # the month the initiative's years start in (annual keys)


def filters_from(args: argparse.Namespace, fy_start: int = 1) -> Filters:
    """The export's filters from the command line; UserError for a malformed period.
    Annual bounds (`2026`, `FY2027`) are years starting in month `fy_start`."""
    def bound(option: str, text: str | None) -> Period | None:
        if text is None:
            return None
        upper = text.strip().upper()
        cadence = "weekly" if "-W" in upper else "quarterly" if "-Q" in upper \
            else "annual" if upper.isdigit() or upper.startswith("FY") else "monthly"
        try:
            return parse_period(cadence, text, fy_start)  # type: ignore[arg-type]
        except ValueError as exc:
            raise UserError(f"{option}: {exc} (a period like 2026-09, 2026-Q3, "
                            f"2026-W38 or {annual_example(fy_start)})") from None
    first = bound("--from", getattr(args, "period_from", None))
    last = bound("--to", getattr(args, "period_to", None))
    if first is not None and last is not None and first.start >= last.end:
        raise UserError(f"--from {first.key} is after --to {last.key}")
    return Filters(getattr(args, "measure", None), getattr(args, "partner", None),
                   first.start if first else None, last.end if last else None, fy_start)


def export_rows(session: Session, *, history: bool = False,
                filters: Filters = Filters()) -> list[ExportRow]:
    f = filters
    for model, key, what in ((Measure, f.measure, "measure"), (Partner, f.partner, "partner")):
        if key is not None and session.scalar(select(model.id).where(model.key == key)) is None:
            raise UserError(f"--{what}: there is no {what} `{key}`")
    query = (
        select(Measure.key, Partner.key, Report, Measure.cadence)
        .join(Measure, Measure.id == Report.measure_id)
        .join(Partner, Partner.id == Report.partner_id)
        .order_by(Measure.position, Measure.key, Report.period, Partner.position, Partner.key,
                  Report.reported_at, Report.id)
    )
    if not history:
        query = query.where(Report.is_current.is_(True))
    if f.measure is not None:
        query = query.where(Measure.key == f.measure)
    if f.partner is not None:
        query = query.where(Partner.key == f.partner)
    totals = [
        ExportRow(measure_key, partner_key, r.period, r.value, r.note, r.reported_by,
                  r.reported_at, r.source, r.is_current, r.numerator, r.denominator)
        for measure_key, partner_key, r, cadence in session.execute(query)
        if _within(r.period, cadence, f)
    ]
    return totals + group_rows(session, history=history, filters=f)


def group_rows(session: Session, *, history: bool, filters: Filters) -> list[ExportRow]:
    """The figures per group (SPEC §10), after the totals. A group whose denominator (or
    count) is below the measure's `min_group` is written without any figure: its note says
    so, and nothing in the file can identify the group's people."""
    f = filters
    query = (
        select(Measure.key, Partner.key, GroupReport, Measure.cadence, Measure.min_group,
               Measure.rate)
        .join(Measure, Measure.id == GroupReport.measure_id)
        .join(Partner, Partner.id == GroupReport.partner_id)
        .order_by(Measure.position, Measure.key, GroupReport.period, Partner.position,
                  Partner.key, GroupReport.dimension, GroupReport.group_name,
                  GroupReport.reported_at, GroupReport.id))
    if not history:
        query = query.where(GroupReport.is_current.is_(True))
    if f.measure is not None:
        query = query.where(Measure.key == f.measure)
    if f.partner is not None:
        query = query.where(Partner.key == f.partner)
    out = []
    for measure_key, partner_key, g, cadence, min_group, rate in session.execute(query):
        if not _within(g.period, cadence, f):
            continue
        size = g.denominator if rate else g.value
        hidden = min_group is not None and (size is None or size < min_group)
        out.append(ExportRow(
            measure_key, partner_key, g.period, 0.0 if hidden else g.value,
            f"fewer than {min_group} (suppressed)" if hidden else "", g.reported_by,
            g.reported_at, g.source, g.is_current, None if hidden else g.numerator,
            None if hidden else g.denominator, g.dimension, g.group_name, hidden))
    return out


def _within(period: str, cadence: str, f: Filters) -> bool:
    if f.start is None and f.end is None:
        return True
    start = parse_period(as_cadence(cadence), period, f.fy_start).start
    return (f.start is None or start >= f.start) and (f.end is None or start < f.end)


def fiscal_year_start(session: Session) -> int:
    """The month the initiative's years start in (1 before any import)."""
    initiative = load_initiative(session)
    return initiative.fiscal_year_start if initiative is not None else 1


def instant_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Notes are typed by anyone; a note starting like a formula (`=HYPERLINK(…)`) would run
    when the CSV is opened in a spreadsheet, so it gets a leading apostrophe (OWASP's
    advice for CSV injection). JSON keeps the note exactly as typed."""
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(rows: list[ExportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.measure_key, r.partner_key, r.period,
                         "" if r.suppressed else number_text(r.value),
                         spreadsheet_safe(r.note),
                         r.reported_by, instant_text(r.reported_at), r.source,
                         _optional(r.numerator), _optional(r.denominator), r.dimension,
                         r.group])
    return out.getvalue()


def _optional(value: float | None) -> str:
    return "" if value is None else number_text(value)


def to_json(rows: list[ExportRow]) -> str:
    items: list[dict[str, Any]] = []
    for r in rows:
        item = asdict(r)
        item["reported_at"] = instant_text(r.reported_at)
        if item.pop("suppressed"):
            item["value"] = None
        if not r.dimension:  # a total: the JSON keeps its earlier shape
            del item["dimension"], item["group"]
        items.append(item)
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def csv_bytes(services: Services, *, history: bool = False) -> tuple[bytes, int]:
    """The CSV export as UTF-8 bytes (for `/impact export`) and how many rows it holds."""
    with services.store.session() as session:
        rows = export_rows(session, history=history)
    return to_csv(rows).encode("utf-8"), len(rows)


def run_export_command(services: Services, args: argparse.Namespace) -> int:
    """`impactbot export [--format csv|json] [--out PATH] [--history]`."""
    with services.store.session() as session:
        filters = filters_from(args, fiscal_year_start(session))
        rows = export_rows(session, history=bool(getattr(args, "history", False)),
                           filters=filters)
    text = to_json(rows) if getattr(args, "format", "csv") == "json" else to_csv(rows)
    out = getattr(args, "out", None)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomically(out, text)
        print(f"Wrote {len(rows)} reports to {out}.", file=sys.stderr)
    return 0


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename it into place: a reader (or a
    crash half-way) never sees half an export, and a failed write leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private; an export keeps the mode of the file it replaces
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
