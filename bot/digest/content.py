"""What a weekly digest holds, as plain values: no session, no Slack.

`bot/digest/data.py` fills these from the store; `blocks.py` and `chart.py` render them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bot.actions.digest import ActionLines
from bot.digest.week import IsoWeek
from bot.measures.periods import Cadence, Period
from bot.measures.progress import Trend, pooled, progress_fraction, trend

# Where a partner stands for its measures' reporting periods, worst first.
PartnerStatus = Literal["missing", "skipped", "reported"]

# How many periods the sparkline and the chart show, per measure.
HISTORY_PERIODS = 12
# On-time reporting is judged over this many most recent periods whose due date has passed.
ON_TIME_PERIODS = 3
# A partner's data on a measure is fresh when it has a value for one of this many periods.
FRESH_PERIODS = 2


@dataclass(frozen=True)
class MeasureLine:
    """One shared measure: where the initiative stands and how it got there."""

    key: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    target: float | None
    target_date: date | None
    cadence: Cadence
    periods: list[Period]  # the recent periods, oldest first (the sparkline's x axis)
    values: list[float | None]  # the aggregate for each of them; None where nobody reported
    reporting_period: Period  # the period partners are reporting now
    reported: int  # partners with a value for the reporting period
    skipped: int  # partners that skipped it, with a reason
    assigned: int
    aggregate_rule: str = "sum"
    # Partners with a value for each of `periods` (coverage; a chart marks partial ones).
    coverage: list[int] = field(default_factory=list)
    # The like-for-like change from the period before the latest one with a value, over
    # the partners that reported in both, and how many those are (SPEC §9).
    change: float | None = None
    change_partners: int = 0

    @property
    def latest_index(self) -> int | None:
        known = [i for i, v in enumerate(self.values) if v is not None]
        return known[-1] if known else None

    @property
    def current(self) -> float | None:
        index = self.latest_index
        return None if index is None else self.values[index]

    @property
    def current_period(self) -> Period | None:
        index = self.latest_index
        return None if index is None else self.periods[index]

    @property
    def current_coverage(self) -> int:
        index = self.latest_index
        return 0 if index is None or index >= len(self.coverage) else self.coverage[index]

    @property
    def previous(self) -> float | None:
        """The value the trend compares with: the period before, like for like."""
        if self.current is None or self.change is None:
            return None
        return self.current - self.change

    @property
    def progress(self) -> float | None:
        return progress_fraction(self.current, self.baseline, self.target)

    @property
    def trend(self) -> Trend:
        return trend(self.current, self.previous, self.direction)


@dataclass(frozen=True)
class Owed:
    measure_name: str
    period: Period
    due: date


@dataclass(frozen=True)
class Skipped:
    measure_name: str
    period: Period
    reason: str


@dataclass
class PartnerLine:
    """Reporting completeness of one partner for its measures' reporting periods."""

    key: str
    name: str
    reported: list[str] = field(default_factory=list)
    missing: list[Owed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def assigned(self) -> int:
        return len(self.reported) + len(self.missing) + len(self.skipped)

    @property
    def status(self) -> PartnerStatus:
        """missing if anything is outstanding; else skipped if anything was skipped."""
        if self.missing:
            return "missing"
        return "skipped" if self.skipped else "reported"


@dataclass(frozen=True)
class WinLine:
    text: str
    permalink: str | None
    author_id: str
    partner_name: str | None
    posted_at: datetime
    posted_channel: str | None
    measure_name: str | None = None  # the measure it is linked to (SPEC §12)


@dataclass(frozen=True)
class CommitmentLine:
    partner_name: str
    resources: str
    data: str
    activities: str
    signed_agenda: bool
    signed_by: str
    signed_at: datetime


@dataclass(frozen=True)
class Engagement:
    """Clear Impact-style engagement: punctuality of owed reports and freshness of data."""

    owed: int  # reports owed for closed periods (skips excused)
    on_time: int  # of those, first reported by the due date
    assignments: int  # partner × measure pairs with a period due since the start (or data)
    fresh: int  # of those, with a value for one of the last FRESH_PERIODS periods

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.owed if self.owed else None

    @property
    def freshness(self) -> float | None:
        return self.fresh / self.assignments if self.assignments else None

    @property
    def score(self) -> int | None:
        parts = [p for p in (self.on_time_share, self.freshness) if p is not None]
        return round(100 * sum(parts) / len(parts)) if parts else None


@dataclass(frozen=True)
class RbaLines:
    headlines: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    stories: tuple[str, ...] = ()
    verdicts: tuple[tuple[str, str], ...] = ()  # (measure key, verdict text), every measure
    development: tuple[str, ...] = ()  # keys on the data development agenda
    # The chart's small multiples: one per broken-down measure and dimension.
    panels: tuple[GroupPanel, ...] = ()


@dataclass(frozen=True)
class GroupPanel:
    """A broken-down measure's groups for the chart: only shown (not suppressed) figures."""

    title: str
    unit: str
    shown: tuple[tuple[str, float], ...]
    suppressed: tuple[str, ...]
    min_group: int | None


@dataclass(frozen=True)
class DigestData:
    initiative_name: str
    timezone: str
    backbone_channel: str | None
    wins_channel: str | None
    week: IsoWeek
    now: datetime
    partners: list[PartnerLine]
    measures: list[MeasureLine]
    wins: list[WinLine]
    commitments: list[CommitmentLine]
    voice_count: int
    engagement: Engagement
    initiative_start: date | None = None
    # Intros (SPEC §12): made this week, check-back answers this week, of which "we met"
    intros: tuple[int, int, int] = (0, 0, 0)
    rba: RbaLines = field(default_factory=RbaLines)  # SPEC §10: verdicts, gaps, stories
    actions: ActionLines = field(default_factory=ActionLines)

    @property
    def missing_partners(self) -> list[PartnerLine]:
        return [p for p in self.partners if p.status == "missing"]

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()


@dataclass(frozen=True)
class PeriodAggregate:
    """What the database summed up for one measure and period."""

    total: float
    count: int
    latest: float
    numerators: float = 0.0  # rate measures: Σ numerators and Σ denominators
    denominators: float = 0.0


def aggregate_value(found: PeriodAggregate | None, rule: str) -> float | None:
    """Apply the measure's rule; the same arithmetic as bot.measures.progress.aggregate."""
    if found is None or found.count == 0:
        return None
    if rule == "sum":
        return found.total
    if rule == "avg":
        return found.total / found.count
    if rule == "latest":
        return found.latest
    if rule == "pooled":
        return pooled(found.numerators, found.denominators)
    raise ValueError(f"unknown aggregate rule {rule!r}")
