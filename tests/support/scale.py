"""A large initiative written straight into the database (fast), and what it owes.

200 partners × 100 measures, every partner assigned every measure: 20,000 assignments.
Measures are monthly, quarterly and weekly; a few partners and measures are inactive. For
the reporting period at `at`, each assignment is reported, corrected (an old value not
current plus a current one), skipped, or owed by a fixed rule (`expected_status`), and
older periods hold reports too, so a query that ignored the period would be wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bot.measures.periods import Period, reporting_period
from storage import due, report_totals
from storage.db import Store
from storage.kinds import Cadence
from storage.models import Initiative, Measure, MeasurePartner, Member, Partner, Report, Skip
from storage.tenancy import current_scope

PARTNERS, MEASURES = 200, 100
TIMEZONE = "America/Chicago"
CHUNK = 5_000


def cadence_of(measure: int) -> Cadence:
    return "quarterly" if measure % 10 == 3 else "weekly" if measure % 10 == 7 else "monthly"


def partner_active(partner: int) -> bool:
    return partner % 50 != 49


def measure_active(measure: int) -> bool:
    return measure % 40 != 39


def expected_status(partner: int, measure: int) -> str:
    """What the partner owes for the measure's reporting period (by construction)."""
    rule = (partner * 7 + measure * 3) % 5
    return {0: "reported", 1: "reported", 2: "skipped"}.get(rule, "owed")


@dataclass(frozen=True)
class LargeInitiative:
    partners: int
    measures: int
    periods: dict[str, Period]  # cadence -> reporting period at `at`

    def expected(self, partner_filter: Iterable[int] | None = None
                 ) -> dict[tuple[str, str], tuple[str, str]]:
        """(partner key, measure key) -> (period key, status), active ones only."""
        wanted = set(partner_filter) if partner_filter is not None else None
        return {
            (partner_key(p), measure_key(m)): (self.periods[cadence_of(m)].key,
                                               expected_status(p, m))
            for p in range(self.partners) if partner_active(p)
            and (wanted is None or p + 1 in wanted)
            for m in range(self.measures) if measure_active(m)
        }


def partner_key(partner: int) -> str:
    return f"partner-{partner:03d}"


def measure_key(measure: int) -> str:
    return f"measure-{measure:03d}"


def seed(store: Store, at: datetime, *, partners: int = PARTNERS, measures: int = MEASURES,
         members: dict[int, list[str]] | None = None, admins: list[str] | None = None,
         history: int = 1) -> LargeInitiative:
    """Write the initiative into the current tenant of an empty store (partner n has id
    n + 1). `members`: partner index -> Slack user ids; `history`: how many earlier
    periods every partner reported."""
    tz = ZoneInfo(TIMEZONE)
    periods: dict[str, Period] = {c: reporting_period(c, at, tz)
                                  for c in ("weekly", "monthly", "quarterly")}
    rows: dict[Any, list[dict[str, Any]]] = {model: [] for model in
                                             (Partner, Measure, MeasurePartner, Report, Skip)}
    rows[Partner] = [dict(id=p + 1, key=partner_key(p), name=f"Partner {p}", position=p,
                          active=partner_active(p)) for p in range(partners)]
    rows[Measure] = [dict(id=m + 1, key=measure_key(m), name=f"Shared measure {m}",
                          unit="people", cadence=cadence_of(m), aggregate="sum",
                          position=m, active=measure_active(m)) for m in range(measures)]
    for p in range(partners):
        for m in range(measures):
            rows[MeasurePartner].append(dict(measure_id=m + 1, partner_id=p + 1))
            period = periods[cadence_of(m)]
            # Earlier periods' values, whatever this period's status (they must not count).
            earlier = period
            for _ in range(history):
                earlier = earlier.prev()
                rows[Report].append(_report(p, m, earlier.key, at, current=True))
            status = expected_status(p, m)
            if status == "reported":
                if (p + m) % 2:  # corrected: the first value is kept, not current
                    rows[Report].append(_report(p, m, period.key, at, current=False))
                rows[Report].append(_report(p, m, period.key, at, current=True))
            elif status == "skipped":
                rows[Skip].append(dict(measure_id=m + 1, partner_id=p + 1, period=period.key,
                                       reason="no data", skipped_by="U0P", skipped_at=at))
            elif (p + m) % 3 == 0:  # owed, though a value was withdrawn by a correction
                rows[Report].append(_report(p, m, period.key, at, current=False))
    with store.engine.begin() as connection:
        connection.execute(insert(Initiative), [dict(
            id=1, name="Large Collective", agenda="Everyone reports.", timezone=TIMEZONE,
            admins=admins or ["U0BACKBONE1"], backbone_channel="C0BACKBONE",
            wins_channel="C0WINS", reminder_day=1, reminder_time="09:00",
            nudge_after_days=3, max_nudges=2, digest_weekday=4, digest_time="15:00",
            win_emoji=["tada"], win_threshold=3, updated_at=at)])
        for model, items in rows.items():
            for i in range(0, len(items), CHUNK):
                connection.execute(insert(model), items[i:i + CHUNK])
        people = [dict(partner_id=p + 1, user_id=user)
                  for p, users in (members or {}).items() for user in users]
        if people:
            connection.execute(insert(Member), people)
        # What an import's session would have marked: every job due now (storage/due.py).
        due.mark_due(connection, current_scope(), due.WATCHES)
    with store.session() as session:  # what the writers of reports keep beside them
        report_totals.rebuild(session)
    return LargeInitiative(partners, measures, periods)


def _report(partner: int, measure: int, period: str, at: datetime, *,
            current: bool) -> dict[str, Any]:
    return dict(measure_id=measure + 1, partner_id=partner + 1, period=period,
                value=float(partner + measure), note="", reported_by="U0P",
                reported_at=at - timedelta(days=1), source="slash", is_current=current)
