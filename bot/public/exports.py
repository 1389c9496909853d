"""/scorecard.csv and /scorecard.json: the scorecard's aggregated figures, suppressed
groups without their values. Nothing per partner or per person."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from bot.public.scorecard_data import MeasureCard, Scorecard

CSV_COLUMNS = ("measure_key", "measure", "unit", "period", "value", "partners_reporting",
               "partners_assigned", "baseline", "target", "verdict", "dimension", "group",
               "gap", "suppressed_below")


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def csv_bytes(card: Scorecard) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for m in card.measures:
        common = (_cell(m.key), _cell(m.name), _cell(m.unit))
        tail = (m.baseline, m.target, m.verdict)
        for p in m.points:
            writer.writerow([*common, p.period.key, _cell(p.value), p.coverage, p.assigned,
                             *(_cell(v) for v in tail), "", "", "", ""])
        latest = m.latest
        for g in m.groups:
            writer.writerow([*common, latest.period.key if latest else "", _cell(g.value),
                             "", "", *(_cell(v) for v in tail), _cell(g.dimension),
                             _cell(g.name), _cell(g.gap), _cell(g.suppressed_below)])
    return out.getvalue().encode("utf-8")


def _measure(m: MeasureCard) -> dict[str, Any]:
    return {
        "key": m.key, "name": m.name, "unit": m.unit, "direction": m.direction,
        "cadence": m.cadence, "baseline": m.baseline, "target": m.target,
        "target_date": m.target_date, "headline": m.headline, "verdict": m.verdict,
        "change": m.change, "change_partners": m.change_partners,
        "points": [{"period": p.period.key, "value": p.value, "partners_reporting": p.coverage,
                    "partners_assigned": p.assigned} for p in m.points],
        "forecast": [{"index": i, "value": v} for i, v in m.forecast],
        "groups": [{"dimension": g.dimension, "group": g.name, "value": g.value,
                    "gap": g.gap, "suppressed_below": g.suppressed_below} for g in m.groups],
        "story": None if m.story is None else {
            "period": m.story.period, "helping": m.story.helping,
            "hurting": m.story.hurting, "proposal": m.story.proposal},
    }


def json_bytes(card: Scorecard) -> bytes:
    document = {"initiative": card.initiative_name, "agenda": card.agenda,
                "as_of": card.as_of.isoformat(), "community_voice": card.voice_count,
                "measures": [_measure(m) for m in card.measures]}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
