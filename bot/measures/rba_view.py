"""Rendering Results-Based Accountability (SPEC §10): `/impact measures` grouped by result,
`/impact measures KEY` (the measure's page), and the lines the digest and Home share.

Every group figure goes through `equity.figure_text`, which gives a suppressed group as
"fewer than N" and never its value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.measures.equity import figure_text, gap_text
from bot.measures.rba_data import Extras
from bot.measures.view import MAX_LISTED, MeasureStatus, describe
from bot.rendering import blocks as bk

QUADRANT_TITLES = {"how-much": "How much did we do?", "how-well": "How well did we do it?",
                   "better-off": "Is anyone better off?"}


def verdict_line(extras: Extras | None) -> str:
    if extras is None:
        return ""
    v = extras.verdict
    how = "" if v.forecast is None else (
        f" (forecast {v.forecast:,.1f}{'%' if extras.points else ''}"
        f"{', set in initiative.yml' if v.source == 'override' else ', from history'})")
    return f"Verdict: *{v.text}*{how}"


def group_lines(extras: Extras) -> list[str]:
    m = extras.measure
    out = []
    for dim_key, dim_name in extras.group_names.items():
        rows = [r for r in extras.groups if r.dimension == dim_key]
        parts = []
        for r in rows:
            gap = "" if r.suppressed else gap_text(r, points=extras.points)
            parts.append(f"{bk.escape(r.group)} {figure_text(r, m.unit, m.min_group)}"
                         + (f" ({gap})" if gap else ""))
        if parts:  # no group figure reported yet: nothing to say about the groups
            out.append(f"_{bk.escape(dim_name)}:_ " + " · ".join(parts))
    return out


def gap_line(status: Any, extras: Extras) -> str:
    """The digest's one line on a broken-down measure's largest gap."""
    row = extras.largest
    name = bk.escape(status.name)
    if row is None:
        return f"• *{name}*: no gap between the groups shown"
    dim = bk.escape(extras.group_names.get(row.dimension, row.dimension))
    return (f"• *{name}* ({dim}): largest gap *{bk.escape(row.group)}*, "
            f"{figure_text(row, extras.measure.unit, extras.measure.min_group)}, "
            f"{gap_text(row, points=extras.points)}")


def story_lines(extras: Extras, limit: int = 600) -> list[str]:
    story = extras.story
    if story is None:
        return []
    body = " · ".join(f"_{h}:_ {bk.escape(t)}" for h, t in story.parts)
    return [bk.truncate(f"📖 Story behind the curve ({bk.escape(story.partner)}, "
                        f"{story.period}): {body}", limit)]


def _full(status: MeasureStatus, extras: Extras | None) -> str:
    lines = [describe(status)]
    if extras is not None:
        lines.append(verdict_line(extras))
        lines += group_lines(extras)
    return bk.truncate("\n".join(line for line in lines if line), 3000)


def measures_grouped(statuses: list[MeasureStatus], extras: dict[str, Extras],
                     results: list[dict[str, Any]]) -> dict[str, Any]:
    """By result: its indicators, then its performance measures by quadrant; measures of no
    result after; headline measures first in each list; the data development agenda last."""
    if not statuses:
        text = "No shared measures yet: the backbone team defines them in initiative.yml."
        return bk.message(text, [bk.section(text)])
    def measure_of(s: MeasureStatus) -> Any:
        e = extras.get(s.key)
        return e.measure if e is not None else None

    live = [s for s in statuses if not getattr(measure_of(s), "development", False)]
    agenda = [s for s in statuses if getattr(measure_of(s), "development", False)]
    blocks: list[bk.Block] = [bk.header("Shared measures")]
    listed = 0

    def add(title: str, items: list[MeasureStatus]) -> None:
        nonlocal listed
        items = sorted(items, key=lambda s: not getattr(measure_of(s), "headline", False))
        if not items:
            return
        blocks.append(bk.section(title))
        for s in items:
            if listed >= MAX_LISTED - 8:
                continue
            star = "⭐ " if getattr(measure_of(s), "headline", False) else ""
            blocks.append(bk.section(star + _full(s, extras.get(s.key))))
            listed += 1

    def by_quadrant(items: list[MeasureStatus], prefix: str) -> None:
        for quadrant, title in QUADRANT_TITLES.items():
            add(f"{prefix}_{title}_", [s for s in items
                                       if getattr(measure_of(s), "quadrant", None) == quadrant])
        add(f"{prefix}_Other performance measures_",
            [s for s in items if getattr(measure_of(s), "quadrant", None) not in QUADRANT_TITLES])

    for result in results:
        mine = [s for s in live if getattr(measure_of(s), "result", None) == result["key"]]
        if not mine:
            continue
        blocks.append(bk.divider())
        blocks.append(bk.section(f"🎯 *Result: {bk.escape(result['name'])}*"))
        add("*Indicators* (population level)",
            [s for s in mine if getattr(measure_of(s), "kind", "") == "indicator"])
        by_quadrant([s for s in mine if getattr(measure_of(s), "kind", "") != "indicator"],
                    "*Performance measures* · ")
    known = {r["key"] for r in results}
    rest = [s for s in live if getattr(measure_of(s), "result", None) not in known]
    if rest:
        blocks.append(bk.divider())
        add("*Indicators*", [s for s in rest if getattr(measure_of(s), "kind", "") == "indicator"])
        by_quadrant([s for s in rest if getattr(measure_of(s), "kind", "") != "indicator"], "")
    if agenda:
        blocks.append(bk.divider())
        blocks.append(bk.section("🧭 *Data development agenda* (wanted, no data yet; never "
                                 "owed or reminded)\n" + "\n".join(
                                     f"• {bk.escape(s.name)} `{s.key}`" for s in agenda)))
    if listed < len(live):
        blocks.append(bk.context(f"…and {len(live) - listed} more measures: "
                                 "`/impact measures KEY` shows one."))
    text = "Shared measures: " + "; ".join(
        f"{s.name} ({extras[s.key].verdict.word})" if s.key in extras else s.name
        for s in live)
    return bk.message(bk.truncate(text, 3000), blocks[:50])


def measure_page(status: MeasureStatus, extras: Extras | None,
                 actions: Sequence[str] = ()) -> dict[str, Any]:
    """`/impact measures KEY`: the curve, coverage, verdict, groups, the latest story, and
    the open actions toward the measure (SPEC §11; `actions`: one line each)."""
    blocks: list[bk.Block] = [bk.header(bk.truncate(status.name, 150)),
                              bk.section(_full(status, extras))]
    if extras is not None:
        m = extras.measure
        facts = [f"{'Indicator' if m.kind == 'indicator' else 'Performance measure'}"]
        if m.quadrant:
            facts.append(QUADRANT_TITLES.get(m.quadrant, m.quadrant))
        if m.source:
            facts.append(f"source: {bk.escape(m.source)}")
        if m.min_group:
            facts.append(f"groups of fewer than {m.min_group} are not shown")
        blocks.append(bk.context(" · ".join(facts)))
        stories = story_lines(extras, 2900)
        blocks.append(bk.section(stories[0] if stories else
                                 f"_No story behind the curve yet: `/impact story {m.key}`._"))
    blocks.append(bk.section(bk.truncate(
        "*Actions toward this measure*\n" + "\n".join(actions), 2900) if actions else
        f"_No open actions toward this measure: `/impact action add … for {status.key}`._"))
    text = f"{status.name}: " + (extras.verdict.word if extras is not None else "")
    return bk.message(bk.truncate(text, 3000), blocks)
