"""What Results-Based Accountability adds to each measure's standing (SPEC §10), read in a
fixed number of statements whatever the size of the initiative: the verdict against the
forecast, each group's figure and gap (small groups suppressed), and the latest story."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.measures.equity import GroupStanding, largest_gap, points_based, pool, standings
from bot.measures.forecast import Verdict, forecast_at, verdict
from bot.measures.forecast_history import forecast_history
from bot.measures.groups import dimensions_of
from bot.measures.periods import Period
from storage.models import GroupReport, Initiative, Measure, Partner, Story


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
               measures: dict[str, Measure] | None = None) -> dict[str, Extras]:
    """Three statements (four without `measures`, the active measures by key); none for
    the forecasts' history once it is kept (bot/measures/forecast_history.py)."""
    if measures is None:
        measures = {m.key: m for m in session.scalars(
            select(Measure).where(Measure.active.is_(True)))}
    history = forecast_history(session, initiative, [m.id for m in measures.values()])
    figures = _group_figures(session, measures, statuses)
    stories = _stories(session)
    out: dict[str, Extras] = {}
    for s in statuses:
        m = measures.get(s.key)
        if m is None:
            continue
        points = points_based(m.rate, m.unit)
        judged = Verdict("not enough data")
        if s.value_period is not None:
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
    # Summed per group by the database: `pool` of one (Σ values, Σ numerators, Σ
    # denominators) triple is `pool` of the partners' rows (rates count the rows with a
    # denominator), so 10,000s of rows become one per group and period.
    rated = GroupReport.denominator != 0
    rows = session.execute(
        select(GroupReport.measure_id, GroupReport.period, GroupReport.dimension,
               GroupReport.group_name, func.sum(GroupReport.value),
               func.sum(case((rated, func.coalesce(GroupReport.numerator, 0.0)))),
               func.sum(case((rated, GroupReport.denominator))))
        .where(GroupReport.is_current.is_(True),
               GroupReport.measure_id.in_(sorted({m for m, _ in wanted})),
               GroupReport.period.in_(sorted({p for _, p in wanted})))
        .group_by(GroupReport.measure_id, GroupReport.period, GroupReport.dimension,
                  GroupReport.group_name))
    for measure_id, period, dimension, group, value, num, den in rows:
        out[(measure_id, period, dimension, group)].append((float(value), num, den))
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
