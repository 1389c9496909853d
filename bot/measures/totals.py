"""`impactbot export --totals`: the initiative's figure per measure and period, computed by
the same rule `/impact measures`, the digest and the App Home use (pooled for rates), with
its coverage, so a funder's spreadsheet shows what Slack shows."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.measures.export import (
    ExportRow,
    Filters,
    export_rows,
    filters_from,
    fiscal_year_start,
    write_atomically,
)
from bot.measures.progress import PartnerValue, aggregate, number_text
from bot.runtime.services import Services
from storage.models import Measure, MeasurePartner

TOTAL_COLUMNS = ("measure_key", "period", "value", "aggregate", "partners", "assigned",
                 "numerator", "denominator")


def export_totals(session: Session, filters: Filters | None = None) -> list[dict[str, Any]]:
    filters = filters or Filters()
    rows = export_rows(session, filters=Filters(filters.measure, None, filters.start,
                                                filters.end, filters.fy_start))
    measures = {m.key: m for m in session.scalars(select(Measure))}
    assigned = dict(session.execute(select(MeasurePartner.measure_id,
                                           func.count(MeasurePartner.partner_id))
                                    .group_by(MeasurePartner.measure_id)).all())
    grouped: dict[tuple[str, str], list[ExportRow]] = defaultdict(list)
    for row in rows:
        if row.dimension:  # a group's figure: the total stays the measure's (SPEC §10)
            continue
        grouped[(row.measure_key, row.period)].append(row)
    out = []
    for (key, period), found in grouped.items():
        measure = measures[key]
        values = [PartnerValue(i, r.value, r.reported_at, r.numerator, r.denominator)
                  for i, r in enumerate(found)]
        value = aggregate(values, measure.aggregate)
        pooled = measure.aggregate == "pooled"
        out.append({
            "measure_key": key, "period": period,
            "value": None if value is None else value, "aggregate": measure.aggregate,
            "partners": len(found), "assigned": int(assigned.get(measure.id, 0)),
            "numerator": sum(r.numerator or 0 for r in found) if pooled else None,
            "denominator": sum(r.denominator or 0 for r in found) if pooled else None,
        })
    return out


def totals_csv(totals: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TOTAL_COLUMNS)
    for t in totals:
        writer.writerow(["" if t[c] is None else number_text(t[c])
                         if isinstance(t[c], float) else t[c] for c in TOTAL_COLUMNS])
    return out.getvalue()


def totals_json(totals: list[dict[str, Any]]) -> str:
    return json.dumps(totals, indent=2, ensure_ascii=False) + "\n"


def run_totals_command(services: Services, args: argparse.Namespace) -> int:
    """`impactbot export --totals [--format csv|json] [--out PATH] [filters]`."""
    with services.store.session() as session:
        filters = filters_from(args, fiscal_year_start(session))
        totals = export_totals(session, filters)
    text = totals_json(totals) if args.format == "json" else totals_csv(totals)
    if args.out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomically(args.out, text)
        print(f"Wrote {len(totals)} totals to {args.out}.", file=sys.stderr)
    return 0
