"""The digest's Results-Based Accountability lines (SPEC §10): every measure's verdict
(under its line), headline measures with their verdicts first, one line per broken-down
measure on its largest gap, and the latest story behind each curve. Group figures pass
through `equity.figure_text` (suppression)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.digest.content import GroupPanel, MeasureLine, RbaLines
from bot.measures.periods import Period
from bot.measures.rba_data import rba_extras
from bot.measures.rba_view import gap_line, story_lines
from bot.rendering import blocks as bk
from storage.models import Initiative, Measure


@dataclass(frozen=True)
class _Standing:
    key: str
    name: str
    value: float | None
    value_period: Period | None


def rba_lines(session: Session, initiative: Initiative, lines: list[MeasureLine],
              measures: list[Measure]) -> RbaLines:
    """From the digest's own figures (`lines`) and measure rows: three more statements."""
    statuses = [_Standing(m.key, m.name, m.current, m.current_period) for m in lines]
    extras = rba_extras(session, initiative, statuses, {m.key: m for m in measures})
    headlines, gaps, stories, verdicts, development = [], [], [], [], []
    panels: list[GroupPanel] = []
    for s in statuses:
        e = extras.get(s.key)
        if e is None:
            continue
        if e.measure.development:
            development.append(s.key)
            continue
        verdicts.append((s.key, e.verdict.text))  # each measure's, under its line (SPEC §10)
        if e.measure.headline:
            headlines.append(f"• *{bk.escape(s.name)}*: {e.verdict.text}")
        if e.group_names and s.value is not None:
            gaps.append(gap_line(s, e))
            for dim, dim_name in e.group_names.items():
                rows = [r for r in e.groups if r.dimension == dim]
                panels.append(GroupPanel(
                    f"{s.name} by {dim_name}", e.measure.unit,
                    tuple((r.group, r.value) for r in rows
                          if not r.suppressed and r.value is not None),
                    tuple(r.group for r in rows if r.suppressed), e.measure.min_group))
        stories += [f"• *{bk.escape(s.name)}* — {line}" for line in story_lines(e, 500)]
    return RbaLines(tuple(headlines), tuple(gaps), tuple(stories), tuple(verdicts),
                    tuple(development), tuple(panels))
