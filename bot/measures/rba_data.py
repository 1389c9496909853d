"""What Results-Based Accountability adds to each measure's standing (SPEC §10), read in a
fixed number of statements whatever the size of the initiative: the verdict against the
forecast, each group's figure and gap (small groups suppressed), and the latest story."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot.measures.equity import GroupStanding, largest_gap, points_based, pool, standings
from bot.measures.forecast import YEARS, Verdict, forecast_at, verdict
from bot.measures.groups import dimensions_of
from bot.measures.periods import Period, as_cadence, parse_period
from bot.measures.progress import pooled
from storage.models import GroupReport, Initiative, Measure, Partner, Report, Story


@dataclass(frozen=True)
class StoryText:
    partner: str
    period: str
    parts: tuple[tuple[str, str], ...]  # (heading, text), the filled-in ones


@dataclass(frozen=True)
class Extras:
    measure: Measure
    verdict: Verdict
    groups: tuple[GroupStanding, ...] = ()
    largest: GroupStanding | None = None
    points: bool = True
    group_names: dict[str, str] = field(default_factory=dict)  # dimension key -> name
    story: StoryText | None = None


class Standing(Protocol):
    """What a verdict and the groups need of a measure's standing (`MeasureStatus`, or
    the digest's own figures)."""

    @property
    def key(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def value_period(self) -> Period | None: ...


STORY_HEADINGS = (("helping", "What's helping"), ("hurting", "What's hurting"),
                  ("partners_role", "Partners with a role"), ("what_works", "What works"),
                  ("proposal", "What we propose"))


def rba_extras(session: Session, initiative: Initiative, statuses: Sequence[Standing],
               measures: dict[str, Measure] | None = None, *, headline_only: bool = False
               ) -> dict[str, Extras]:
    """Three statements (four without `measures`, the active measures by key).
    `headline_only`: forecasts (and so verdicts) for headline measures alone, the others
    'not enough data' (the digest: its history look is then a few measures' worth)."""
    if measures is None:
        measures = {m.key: m for m in session.scalars(
            select(Measure).where(Measure.active.is_(True)))}
    history = _history(session, initiative, headline_only)
    figures = _group_figures(session, measures, statuses)
    stories = _stories(session)
    out: dict[str, Extras] = {}
    for s in statuses:
        m = measures.get(s.key)
        if m is None:
            continue
        points = points_based(m.rate, m.unit)
        judged = Verdict("not enough data")
        if s.value_period is not None and (m.headline or not headline_only):
            forecast, source = forecast_at(s.value_period.start, s.value_period.key,
                                           history.get(m.id, []), initiative.start,
                                           m.forecast or {})
            judged = verdict(s.value, forecast, direction=m.direction, unit=m.unit,
                             rate=m.rate, source=source)
        rows: list[GroupStanding] = []
        dims = dimensions_of(initiative, m)
        if dims and s.value_period is not None:
            pairs = [(d["key"], g) for d in dims for g in d["groups"]]
            now = {key: pool(figures.get((m.id, s.value_period.key, *key), []), rate=m.rate,
                             min_group=m.min_group) for key in pairs}
            before = {key: pool(figures.get((m.id, s.value_period.prev().key, *key), []),
                                rate=m.rate, min_group=m.min_group) for key in pairs}
            rows = standings(pairs, now, before, points=points, direction=m.direction)
        out[s.key] = Extras(m, judged, tuple(rows), largest_gap(rows, points), points,
                            {d["key"]: d["name"] for d in dims}, stories.get(m.id))
    return out


def _history(session: Session, initiative: Initiative, headline_only: bool = False
             ) -> dict[int, list[tuple[date, float]]]:
    """Each measure's figure per period over the years a forecast is fitted on: pooled for
    rates, summed for `sum`, averaged otherwise (`latest` is read as the average here)."""
    start = initiative.start
    if start is None:
        return {}
    ends = start.year + (0 if (start.month, start.day) == (1, 1) else 1)
    query = (
        select(Report.measure_id, Measure.cadence, Measure.aggregate, Report.period,
               func.sum(Report.value), func.avg(Report.value), func.sum(Report.numerator),
               func.sum(Report.denominator))
        .join(Measure, Measure.id == Report.measure_id)
        .where(Report.is_current.is_(True), Measure.active.is_(True),
               # Keys sort by year first: a start on 1 January needs no period of its year;
               # fiscal years (`FY2027`, the year ending in 2027) sort among themselves.
               or_(and_(Report.period >= f"{start.year - YEARS:04d}",
                        Report.period < f"{ends}"),
                   and_(Report.period >= f"FY{start.year - YEARS:04d}",
                        Report.period < f"FY{start.year + 2:04d}")))
        .group_by(Report.measure_id, Measure.cadence, Measure.aggregate, Report.period))
    if headline_only:
        query = query.where(Measure.headline.is_(True))
    rows = session.execute(query)
    out: dict[int, list[tuple[date, float]]] = defaultdict(list)
    for measure_id, cadence, rule, period, total, mean, num, den in rows:
        try:
            begins = parse_period(as_cadence(cadence), period,
                                  initiative.fiscal_year_start).start
        except ValueError:
            continue
        value = (pooled(num or 0.0, den or 0.0) if rule == "pooled"
                 else total if rule == "sum" else mean)
        if value is not None and begins < start:
            out[measure_id].append((begins, float(value)))
    return out


def _group_figures(session: Session, measures: dict[str, Measure],
                   statuses: Sequence[Standing]
                   ) -> dict[tuple[int, str, str, str], list[tuple[float, float | None,
                                                                   float | None]]]:
    wanted = {(measures[s.key].id, p.key) for s in statuses if s.key in measures
              and measures[s.key].breakdowns and s.value_period is not None
              for p in (s.value_period, s.value_period.prev())}
    out: dict[tuple[int, str, str, str], list[tuple[float, float | None, float | None]]] = \
        defaultdict(list)
    if not wanted:
        return out
    rows = session.execute(
        select(GroupReport.measure_id, GroupReport.period, GroupReport.dimension,
               GroupReport.group_name, GroupReport.value, GroupReport.numerator,
               GroupReport.denominator)
        .where(GroupReport.is_current.is_(True),
               GroupReport.measure_id.in_(sorted({m for m, _ in wanted})),
               GroupReport.period.in_(sorted({p for _, p in wanted}))))
    for measure_id, period, dimension, group, value, num, den in rows:
        out[(measure_id, period, dimension, group)].append((value, num, den))
    return out


def _stories(session: Session) -> dict[int, StoryText]:
    """The latest current story of each measure."""
    out: dict[int, StoryText] = {}
    for story, partner in session.execute(
            select(Story, Partner.name).join(Partner, Partner.id == Story.partner_id)
            .where(Story.is_current.is_(True)).order_by(Story.written_at.desc(), Story.id.desc())):
        if story.measure_id in out:
            continue
        parts = tuple((heading, str(getattr(story, column))) for column, heading in STORY_HEADINGS
                      if getattr(story, column))
        out[story.measure_id] = StoryText(partner, story.period, parts)
    return out
