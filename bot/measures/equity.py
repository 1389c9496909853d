"""Equity gaps and small-n suppression (SPEC §10): plain functions, no store, no Slack.

A group's figure for a period pools every partner's figure for that group: a rate is
Σ numerators / Σ denominators (its size is Σ denominators), any other measure is the sum
of the partners' values (its size is that sum). A group whose size is below the measure's
`min_group` is *suppressed*: it carries no figure at all, only "fewer than N", so nothing
downstream (messages, Home, digest, chart, export, logs) can show it.

The gap is measured to the best shown group (the highest, or the lowest for a measure
whose direction is down): in percentage points for rates and percentages, as a ratio
for counts ("2.0×"). Its direction compares the gap with the previous period's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.measures.progress import format_value

Figure = tuple[float, float | None, float | None]  # value, numerator, denominator


@dataclass(frozen=True)
class GroupStanding:
    dimension: str
    group: str
    value: float | None  # None when suppressed or not reported
    suppressed: bool
    gap: float | None = None  # points (rates, %) or a ratio (counts); None for the best
    previous_gap: float | None = None

    @property
    def trend(self) -> str:
        if self.gap is None or self.previous_gap is None:
            return ""
        if abs(self.gap - self.previous_gap) < 1e-9:
            return "unchanged"
        return "narrowing" if abs(self.gap) < abs(self.previous_gap) else "widening"


def pool(figures: Iterable[Figure], *, rate: bool, min_group: int | None
         ) -> tuple[float | None, bool]:
    """One group's figure across partners, and whether it is suppressed."""
    rows = list(figures)
    if not rows:
        return None, False
    if rate:
        numerator = sum(n or 0.0 for _, n, d in rows if d)
        size = sum(d or 0.0 for _, _, d in rows if d)
        value = 100 * numerator / size if size > 0 else None
    else:
        size = value = sum(v for v, _, _ in rows)
    if min_group is not None and size < min_group:
        return None, True
    return value, False


def points_based(rate: bool, unit: str) -> bool:
    return rate or unit == "%"


def gap_to(best: float, value: float, *, points: bool, direction: str) -> float | None:
    """How far `value` is behind `best`: points, or the ratio best/value (value/best for a
    measure whose direction is down)."""
    if points:
        return best - value if direction == "up" else value - best
    low, high = (value, best) if direction == "up" else (best, value)
    return None if low <= 0 else high / low


def standings(groups: Sequence[tuple[str, str]], now: dict[tuple[str, str], tuple[float | None,
              bool]], before: dict[tuple[str, str], tuple[float | None, bool]], *,
              points: bool, direction: str) -> list[GroupStanding]:
    """Each group's figure and its gap to the best shown group of its dimension, now and
    the period before; `now`/`before` map (dimension, group) to (figure, suppressed)."""
    out = []
    for dimension in dict.fromkeys(d for d, _ in groups):
        names = [g for d, g in groups if d == dimension]
        best_now = _best([now.get((dimension, g), (None, False)) for g in names], direction)
        best_before = _best([before.get((dimension, g), (None, False)) for g in names],
                            direction)
        for name in names:
            value, hidden = now.get((dimension, name), (None, False))
            old, old_hidden = before.get((dimension, name), (None, False))
            gap = (None if value is None or best_now is None
                   else gap_to(best_now, value, points=points, direction=direction))
            previous = (None if old is None or old_hidden or best_before is None
                        else gap_to(best_before, old, points=points, direction=direction))
            out.append(GroupStanding(dimension, name, None if hidden else value, hidden,
                                     gap, previous))
    return out


def _best(figures: list[tuple[float | None, bool]], direction: str) -> float | None:
    shown = [v for v, hidden in figures if v is not None and not hidden]
    if not shown:
        return None
    return max(shown) if direction == "up" else min(shown)


def largest_gap(rows: Sequence[GroupStanding], points: bool) -> GroupStanding | None:
    """The shown group furthest behind the best (None when no group is behind)."""
    behind = [r for r in rows if r.gap is not None and r.gap > (0 if points else 1) + 1e-9]
    return max(behind, key=lambda r: r.gap or 0.0, default=None)


def gap_text(row: GroupStanding, *, points: bool) -> str:
    """`12.5 pts behind the best group, narrowing` / `2.0× the best group`."""
    if row.gap is None:
        return ""
    if points:
        if row.gap <= 1e-9:
            return "the best group"
        text = f"{format_value(row.gap)} pts behind the best group"
    else:
        if row.gap <= 1 + 1e-9:
            return "the best group"
        text = f"{row.gap:.1f}× apart from the best group"
    return f"{text}, {row.trend}" if row.trend else text


def figure_text(row: GroupStanding, unit: str, min_group: int | None) -> str:
    """The group's figure, or `fewer than N` for a suppressed group (never its value)."""
    if row.suppressed:
        return f"fewer than {min_group}"
    return format_value(row.value, unit) if row.value is not None else "not reported"
