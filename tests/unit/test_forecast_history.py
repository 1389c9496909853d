"""When the forecasts' kept history must be read again: a report for a period before the
initiative's start changes the history token; reports after it do not."""

from __future__ import annotations

from datetime import date

from bot.measures.forecast_history import note_history_written
from bot.measures.periods import period_containing
from storage.models import Initiative


def _initiative() -> Initiative:
    return Initiative(start=date(2026, 1, 1), history_token="kept")


def test_reports_after_the_start_keep_the_history() -> None:
    initiative = _initiative()
    note_history_written(initiative, "2026-10", "2026-Q3", "FY2028",
                         period_containing("monthly", date(2026, 3, 1)))
    assert initiative.history_token == "kept"


def test_any_report_before_the_start_among_many_renews_the_history() -> None:
    # An import names many periods; one fiscal year before the start is enough, whatever
    # the others (keys of several spellings do not sort together).
    for before in ("FY2025", "2025-12", "2024-Q4",
                   period_containing("monthly", date(2025, 12, 1))):
        initiative = _initiative()
        note_history_written(initiative, "2026-10", before, "2026-11")
        assert initiative.history_token != "kept", before
