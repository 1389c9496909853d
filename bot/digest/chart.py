"""The digest's turn-the-curve chart: each measure's recent values against its target.

Small multiples, one panel per measure: the initiative's aggregate (one neutral colour,
never a partner's), the baseline, the target, and where the recent trend points if nothing
changes — the "curve" Results-Based Accountability asks the partners to turn.
matplotlib is imported lazily with the Agg backend (no display, safe in threads through the
object API); without matplotlib the digest is posted without a chart.
"""

from __future__ import annotations

import io
import logging
import math
import textwrap
from typing import Any

from bot.digest.content import DigestData, GroupPanel, MeasureLine
from bot.measures.periods import Period
from bot.measures.progress import format_value
from bot.rendering import dates

log = logging.getLogger(__name__)

MAX_PANELS = 12
COLUMNS = 3
# Partner-neutral palette: no colour stands for a partner; colour-blind-safe tones.
ACTUAL = "#1f4e79"  # dark blue: what happened
FORECAST = "#7f7f7f"  # grey, dotted: where the curve goes if nothing changes
TARGET = "#1b9e77"  # teal-green: where we want to be
BASELINE = "#b0b0b0"  # light grey: where we started
FORECAST_PERIODS = 3
MIN_FORECAST_POINTS = 3  # two points are a line, not a trend
MIN_PERIODS = 4


def chart_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def render_chart(data: DigestData) -> bytes | None:
    """The chart as PNG bytes; None when there is nothing to draw or matplotlib is missing."""
    measures = [m for m in data.measures if any(v is not None for v in m.values)
                and m.key not in data.rba.development]
    groups = list(data.rba.panels)
    if not measures and not groups:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        log.info("matplotlib is not installed: the digest is posted without its chart")
        return None

    shown = measures[:MAX_PANELS]
    groups = groups[:max(0, MAX_PANELS - len(shown))]
    verdicts = dict(data.rba.verdicts)
    columns = min(COLUMNS, len(shown) + len(groups))
    rows = math.ceil((len(shown) + len(groups)) / columns)
    figure = Figure(figsize=(4.6 * columns, 3.4 * rows + 0.9), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, measure in enumerate(shown):
        _panel(axes[index // columns][index % columns], measure)
        if measure.key in verdicts:  # SPEC §10: the verdict under each curve
            axes[index // columns][index % columns].set_xlabel(verdicts[measure.key],
                                                               fontsize=8)
    for offset, panel in enumerate(groups):
        index = len(shown) + offset
        _groups_panel(axes[index // columns][index % columns], panel)
    for index in range(len(shown) + len(groups), rows * columns):
        axes[index // columns][index % columns].set_visible(False)

    title = f"{data.initiative_name}: shared measures against their targets ({data.week.key})"
    if len(measures) > len(shown):
        title += f"\nfirst {len(shown)} of {len(measures)} measures"
    figure.suptitle(title, fontsize=13, fontweight="bold")
    legend: dict[str, Any] = {}
    for ax in figure.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    figure.legend(list(legend.values()), list(legend), loc="lower center", ncol=len(legend),
                  frameon=False, fontsize=9)
    figure.tight_layout(rect=(0, 0.05, 1, 0.95 if len(measures) == len(shown) else 0.92))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _groups_panel(ax: Any, panel: GroupPanel) -> None:
    """A broken-down measure's groups, side by side: suppressed groups are not drawn, and
    the panel says which (never with a figure)."""
    names = [name for name, _ in panel.shown]
    ax.bar(range(len(names)), [value for _, value in panel.shown], color="#4c78a8")
    ax.set_xticks(range(len(names)), [textwrap.shorten(n, 12) for n in names], fontsize=7)
    ax.set_title("\n".join(textwrap.wrap(panel.title, 38)[:2]), fontsize=10)
    if panel.suppressed:
        ax.set_xlabel(f"fewer than {panel.min_group}, not drawn: "
                      + ", ".join(panel.suppressed), fontsize=7)


def _panel(ax: Any, m: MeasureLine) -> None:
    # Start at the first period with a value (at least MIN_PERIODS back), as the sparkline does.
    first = next(i for i, v in enumerate(m.values) if v is not None)
    first = max(0, min(first, len(m.values) - MIN_PERIODS))
    periods, values = m.periods[first:], m.values[first:]
    coverage = (m.coverage[first:] if len(m.coverage) == len(m.values)
                else [m.assigned] * len(values))
    xs = list(range(len(periods)))
    known = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
    ax.plot([x for x, _ in known], [v for _, v in known], color=ACTUAL, marker="o",
            markersize=3.5, linewidth=2, label="Actual (all partners)")
    partial = [(x, v) for x, v in known if coverage[x] < m.assigned]
    if partial:
        # Not every partner reported: the point is a different mix of partners, not a trend.
        ax.plot([x for x, _ in partial], [v for _, v in partial], linestyle="none",
                marker="o", markersize=7, markerfacecolor="white", markeredgecolor=ACTUAL,
                markeredgewidth=1.5, label="Partial coverage (not every partner reported)")
    last_x = len(xs) - 1
    known = _same_partners_run(known, coverage)
    if len(known) >= MIN_FORECAST_POINTS:
        # Least-squares line through the recent values, extended a few periods ahead.
        n = len(known)
        mean_x = sum(x for x, _ in known) / n
        mean_y = sum(v for _, v in known) / n
        var = sum((x - mean_x) ** 2 for x, _ in known)
        slope = sum((x - mean_x) * (v - mean_y) for x, v in known) / var if var else 0.0
        start_x, start_y = known[-1]
        end_x = last_x + FORECAST_PERIODS
        ax.plot([start_x, end_x], [start_y, start_y + slope * (end_x - start_x)],
                color=FORECAST, linestyle=":", linewidth=2, label="Forecast if nothing changes")
    if m.target is not None:
        ax.axhline(m.target, color=TARGET, linestyle="--", linewidth=1.8, label="Target")
        ax.annotate(f"target {format_value(m.target, m.unit)}", xy=(0, m.target),
                    xytext=(2, 3), textcoords="offset points", color=TARGET, fontsize=8)
    if m.baseline is not None:
        ax.axhline(m.baseline, color=BASELINE, linestyle="-.", linewidth=1.2, label="Baseline")

    ax.set_title("\n".join(textwrap.wrap(m.name, 38)[:2]), fontsize=10)
    better = "higher" if m.direction == "up" else "lower"
    ax.set_ylabel(f"{m.unit or 'value'} ({better} is better)", fontsize=8)
    ticks = xs if len(xs) <= 6 else sorted({0, last_x // 2, last_x})
    ax.set_xticks(ticks)
    ax.set_xticklabels([_short(periods[t], with_year=t == ticks[0]) for t in ticks], fontsize=8)
    ax.set_xlim(-0.5, last_x + FORECAST_PERIODS + 0.5)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _same_partners_run(known: list[tuple[int, float]], coverage: list[int]
                       ) -> list[tuple[int, float]]:
    """The latest points made of as many partners as the latest one: the forecast follows
    what those partners did, not a jump where another partner started or stopped."""
    if not known:
        return known
    latest = coverage[known[-1][0]]
    run: list[tuple[int, float]] = []
    for x, v in reversed(known):
        if coverage[x] != latest:
            break
        run.append((x, v))
    return run[::-1]


def _short(period: Period, *, with_year: bool) -> str:
    """A compact tick label: 'Oct', 'Q3', 'W45', with the year under the first and January."""
    if period.cadence == "weekly":
        label = "W" + period.key.split("-W")[1]
        starts_year = period.key.endswith("-W01")
    elif period.cadence == "quarterly":
        label = period.key.split("-")[1]
        starts_year = label == "Q1"
    elif period.cadence == "annual":
        return period.key  # '2026' or 'FY2027': the year is the label
    else:
        label = dates.month(period.start.month)
        starts_year = period.start.month == 1
    year = period.key[:4]
    return f"{label}\n{year}" if with_year or starts_year else label


def chart_filename(data: DigestData) -> str:
    return f"digest-{data.week.key}.png"
