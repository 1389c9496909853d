"""What the public scorecard shows: aggregated figures only, never a person.

A small view model between the store and the templates. Everything in it is an aggregate
across partners (the pooled figure, how many partners it covers, target, baseline, the
forecast if nothing changes) or text the backbone wrote for the public (initiative name,
agenda, measure names). No Slack id, name, partner or note ever enters it, so no page
rendered from it can show one.

Results-Based Accountability (issue 16) adds a verdict, equity gaps by group (with small
groups suppressed) and the latest story behind the curve. Their slots are here already
(`MeasureCard.verdict`, `.groups`, `.story`) and the templates show them when filled:
`_rba_extras` fills them from issue 16's functions (bot/measures/rba_data.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.digest.content import MeasureLine
from bot.measures.forecast import BEATING, BELOW, ON, UNKNOWN
from bot.measures.periods import Period
from bot.measures.rba_data import rba_extras
from bot.public.figures import measure_lines
from bot.runtime.caller import load_initiative
from storage.models import Initiative, Measure, Report, Voice

FORECAST_PERIODS = 3
# The overview shows the headline measures in full; without any, this many (a page of a
# hundred charts would be slow to draw and to read: the others are rows of one table).
FEATURED_WITHOUT_HEADLINES = 6
MIN_FORECAST_POINTS = 3  # two points are a line, not a trend

# Verdicts against the baseline (SPEC §10), as issue 16 names them.
VERDICTS = ("beating", "on", "below", "not-enough-data")


@dataclass(frozen=True)
class Point:
    period: Period
    value: float | None
    coverage: int  # partners in this figure
    assigned: int  # partners that report the measure

    @property
    def partial(self) -> bool:
        return self.value is not None and self.coverage < self.assigned


@dataclass(frozen=True)
class GroupFigure:
    """One group of a breakdown. A suppressed group has `value` None and says "fewer than
    `suppressed_below`" instead: its figure never reaches this object."""

    dimension: str
    name: str
    value: float | None
    gap: float | None = None  # to the best group: points for rates/%, a ratio for counts
    suppressed_below: int | None = None


@dataclass(frozen=True)
class Story:
    """The latest story behind the curve (its text as written for the public)."""

    period: str
    helping: str = ""
    hurting: str = ""
    proposal: str = ""


@dataclass(frozen=True)
class MeasureCard:
    key: str
    name: str
    unit: str
    direction: str  # up | down: which way is better
    cadence: str
    baseline: float | None
    target: float | None
    target_date: str | None
    points: tuple[Point, ...]
    forecast: tuple[tuple[int, float], ...]  # (index on the x axis, value) ahead
    assigned: int
    change: float | None = None
    change_partners: int = 0
    headline: bool = False
    verdict: str | None = None  # one of VERDICTS once issue 16 provides it
    groups: tuple[GroupFigure, ...] = ()
    story: Story | None = None

    @property
    def latest(self) -> Point | None:
        known = [p for p in self.points if p.value is not None]
        return known[-1] if known else None


@dataclass(frozen=True)
class ResultCard:
    name: str
    indicators: tuple[str, ...]  # keys of its indicators on the scorecard
    chosen: bool  # it has indicators at all (some may be on the data development agenda)


@dataclass(frozen=True)
class Scorecard:
    initiative_name: str
    agenda: str
    measures: tuple[MeasureCard, ...]
    voice_count: int  # approved community voice, all time
    as_of: datetime
    # The results the initiative works toward (SPEC §13), each with its indicators.
    results: tuple[ResultCard, ...] = field(default=())

    def measure(self, key: str) -> MeasureCard | None:
        return next((m for m in self.measures if m.key == key), None)

    @property
    def featured(self) -> tuple[MeasureCard, ...]:
        """Shown in full on the overview (figure, verdict, curve, groups, story): the
        headline measures, or when none is marked headline the first few in file order."""
        headline = tuple(m for m in self.measures if m.headline)
        return headline or self.measures[:FEATURED_WITHOUT_HEADLINES]

    @property
    def listed(self) -> tuple[MeasureCard, ...]:
        """Every other measure: one row each in the overview's table, linking to its page
        (which shows it in full)."""
        featured = {m.key for m in self.featured}
        return tuple(m for m in self.measures if m.key not in featured)


@dataclass(frozen=True)
class Extras:
    verdict: str | None = None
    groups: tuple[GroupFigure, ...] = ()
    story: Story | None = None
    headline: bool = False


def public_settings(session: Session) -> Initiative | None:
    return load_initiative(session)


def version(session: Session, now: datetime) -> tuple[str, datetime | None]:
    """What the scorecard depends on, cheaply (a few index look-ups): an ETag seed and the
    last change. Reports are only ever added (a correction is a new row), so the highest
    report id moves whenever a figure can; the initiative's `updated_at` moves on import;
    the approved voices' count and latest approval; the initiative's day moves the
    reporting periods."""
    initiative = load_initiative(session)
    day = (now.astimezone(ZoneInfo(initiative.timezone)).date().isoformat()
           if initiative is not None else "")
    top_report = session.scalar(select(func.max(Report.id)))
    latest_report = (session.scalar(select(Report.reported_at).where(Report.id == top_report))
                     if top_report is not None else None)
    voices, latest_voice = session.execute(
        select(func.count(Voice.id), func.max(Voice.counted_at))
        .where(Voice.status == "approved")).one()
    updated = initiative.updated_at if initiative is not None else None
    settings = ((initiative.file_sha256, initiative.public_languages)
                if initiative is not None else None)
    seed = "|".join(str(x) for x in (top_report, updated, settings, voices, latest_voice, day))
    stamps = [s for s in (updated, latest_report, latest_voice) if s is not None]
    return hashlib.sha256(seed.encode()).hexdigest()[:32], max(stamps) if stamps else None


def build_scorecard(session: Session, now: datetime) -> Scorecard | None:
    initiative = load_initiative(session)
    if initiative is None:
        return None
    lines = measure_lines(session, initiative, now)
    extras = _rba_extras(session, initiative, lines)
    cards = [_card(line, extras.get(line.key, Extras())) for line in lines]
    # Headline measures lead (SPEC §10); otherwise the file's order.
    cards.sort(key=lambda card: not card.headline)
    voices = session.scalar(select(func.count(Voice.id)).where(Voice.status == "approved"))
    return Scorecard(initiative_name=initiative.name, agenda=initiative.agenda,
                     measures=tuple(cards), voice_count=int(voices or 0), as_of=now,
                     results=_results(session, initiative, {c.key for c in cards}))


def _results(session: Session, initiative: Initiative, shown: set[str]
             ) -> tuple[ResultCard, ...]:
    """Each result with the keys of its indicators on the scorecard, file order."""
    indicators: dict[str, list[str]] = {}
    for key, result in session.execute(
            select(Measure.key, Measure.result)
            .where(Measure.kind == "indicator", Measure.result.is_not(None))
            .order_by(Measure.id)):
        if result is not None:
            indicators.setdefault(result, []).append(key)
    return tuple(ResultCard(str(r["name"]), tuple(k for k in indicators.get(r["key"], ())
                                                  if k in shown),
                            bool(indicators.get(r["key"])))
                 for r in initiative.results or ())


@dataclass(frozen=True)
class _Standing:
    """A measure's latest figure, as issue 16's verdict and groups read it."""

    key: str
    value: float | None
    value_period: Period | None


# Issue 16's verdict words (bot/measures/forecast.py) as the public pages name them.
_VERDICT = {BEATING: "beating", ON: "on", BELOW: "below", UNKNOWN: "not-enough-data"}


def _rba_extras(session: Session, initiative: Initiative, lines: list[MeasureLine]
                ) -> dict[str, Extras]:
    """Verdict, groups (suppressed below `min_group`: the figure never leaves
    bot/measures/equity.py) and the latest story per measure key (SPEC §10)."""
    standings = []
    for line in lines:
        known = [(p, v) for p, v in zip(line.periods, line.values, strict=True)
                 if v is not None]
        standings.append(_Standing(line.key, known[-1][1] if known else None,
                                   known[-1][0] if known else None))
    out: dict[str, Extras] = {}
    for key, extra in rba_extras(session, initiative, standings).items():
        story = extra.story
        parts = dict(story.parts) if story is not None else {}
        out[key] = Extras(
            verdict=_VERDICT.get(extra.verdict.word),
            groups=tuple(GroupFigure(
                extra.group_names.get(g.dimension, g.dimension), g.group,
                None if g.suppressed else g.value, None if g.suppressed else g.gap,
                suppressed_below=extra.measure.min_group if g.suppressed else None)
                for g in extra.groups),
            story=None if story is None else Story(
                story.period, parts.get("What's helping", ""), parts.get("What's hurting", ""),
                parts.get("What we propose", "")),
            headline=bool(extra.measure.headline))
    return out


@dataclass(frozen=True)
class GroupInput:
    """One group's figure as the store knows it, before suppression: `size` is what
    `min_group` is compared with (the denominator for rates, the value for counts)."""

    dimension: str
    name: str
    value: float | None
    size: float


def group_figures(groups: list[GroupInput], *, min_group: int, unit: str, direction: str
                  ) -> tuple[GroupFigure, ...]:
    """Suppress small groups and compute each shown group's gap to the best shown group
    (SPEC §10): points for rates and percentages, a ratio for counts. A suppressed group
    keeps only "fewer than `min_group`": its value is dropped here and goes no further."""
    shown = [g for g in groups if g.value is not None and g.size >= min_group]
    best = None
    if shown:
        values = [g.value for g in shown if g.value is not None]
        best = max(values) if direction == "up" else min(values)
    out = []
    for g in groups:
        if g.value is None or g.size < min_group:
            out.append(GroupFigure(g.dimension, g.name, None, None,
                                   suppressed_below=min_group))
            continue
        if best is None:
            gap = None
        elif unit == "%":
            gap = round(g.value - best, 6)
        else:
            gap = round(g.value / best, 6) if best else None
        out.append(GroupFigure(g.dimension, g.name, g.value, gap))
    return tuple(out)


def _card(line: MeasureLine, extra: Extras) -> MeasureCard:
    coverage = line.coverage if len(line.coverage) == len(line.values) else (
        [line.assigned] * len(line.values))
    first = next((i for i, v in enumerate(line.values) if v is not None), len(line.values))
    first = max(0, min(first, len(line.values) - 4))
    points = tuple(Point(p, v, c, line.assigned) for p, v, c in zip(
        line.periods[first:], line.values[first:], coverage[first:], strict=True))
    return MeasureCard(
        key=line.key, name=line.name, unit=line.unit, direction=line.direction,
        cadence=line.cadence, baseline=line.baseline, target=line.target,
        target_date=line.target_date.isoformat() if line.target_date else None,
        points=points, forecast=forecast(points), assigned=line.assigned,
        change=line.change, change_partners=line.change_partners,
        headline=extra.headline, verdict=extra.verdict, groups=extra.groups, story=extra.story)


def forecast(points: tuple[Point, ...]) -> tuple[tuple[int, float], ...]:
    """Where the curve goes if nothing changes: a least-squares line through the latest run
    of points made of as many partners as the latest one (as the digest's chart draws it),
    from the last point to FORECAST_PERIODS ahead. Empty with too few points."""
    known = [(i, p.value, p.coverage) for i, p in enumerate(points) if p.value is not None]
    if not known:
        return ()
    latest = known[-1][2]
    run: list[tuple[int, float]] = []
    for i, value, coverage in reversed(known):
        if coverage != latest:
            break
        run.append((i, value))
    run.reverse()
    if len(run) < MIN_FORECAST_POINTS:
        return ()
    n = len(run)
    mean_x = sum(x for x, _ in run) / n
    mean_y = sum(v for _, v in run) / n
    var = sum((x - mean_x) ** 2 for x, _ in run)
    slope = sum((x - mean_x) * (v - mean_y) for x, v in run) / var if var else 0.0
    start_x, start_y = run[-1]
    end_x = len(points) - 1 + FORECAST_PERIODS
    return ((start_x, start_y), (end_x, start_y + slope * (end_x - start_x)))


def measure_keys(session: Session) -> set[str]:
    return set(session.scalars(select(Measure.key).where(Measure.active.is_(True))))
