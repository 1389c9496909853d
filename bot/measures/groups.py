"""Disaggregated reports (SPEC §10): a partner's figure per group of a measure's breakdowns.

A group's figure is read and checked like the total (a rate's group is `NUMERATOR/
DENOMINATOR`), stored in `group_reports` with the same history and provenance as a total
(a second figure for the same group supersedes the first, which stays), and never added up
into the total: the total stays the measure's figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.measures.values import ValueRefused, allows_negative, parse_rate, parse_value
from bot.runtime.errors import UserError
from storage.kinds import ReportSource
from storage.models import GroupReport, Initiative, Measure

BLOCK_PREFIX = "grp"  # the modal's block ids: grp|DIMENSION|INDEX


@dataclass(frozen=True)
class GroupFigure:
    dimension: str
    group: str
    value: float
    numerator: float | None = None
    denominator: float | None = None


class GroupRefused(UserError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def dimensions_of(initiative: Initiative, measure: Measure) -> list[dict[str, Any]]:
    """The measure's breakdowns, each with its name and groups, in the measure's order."""
    known = {d["key"]: d for d in initiative.dimensions or []}
    return [known[key] for key in measure.breakdowns or [] if key in known]


def block_id(dimension: str, index: int) -> str:
    return f"{BLOCK_PREFIX}|{dimension}|{index}"


def read_figure(measure: Measure, dimension: str, group: str, text: str,
                field: str | None = None) -> GroupFigure:
    """`43/60` for a rate's group, a number otherwise; GroupRefused naming the group."""
    try:
        if measure.rate:
            numerator, denominator, value = parse_rate(text)
            return GroupFigure(dimension, group, value, numerator, denominator)
        value = parse_value(text, unit=measure.unit,
                            allow_negative=allows_negative(measure.baseline, measure.target))
    except ValueRefused as exc:
        raise GroupRefused(f"{group}: {exc}", field) from None
    return GroupFigure(dimension, group, value)


def check_group(initiative: Initiative, measure: Measure, dimension: str, group: str) -> str:
    """The group's name as configured (case kept from initiative.yml); GroupRefused if the
    measure is not broken down by that dimension or the dimension has no such group."""
    dims = {d["key"]: d for d in dimensions_of(initiative, measure)}
    if not dims:
        raise GroupRefused(f"`{measure.key}` has no breakdowns, so a row for a group cannot "
                           "be stored", "dimension")
    if dimension not in dims:
        by = ", ".join(f"`{k}`" for k in dims)
        raise GroupRefused(f"`{measure.key}` is not broken down by `{dimension}` "
                           f"(it is broken down by {by})", "dimension")
    groups = dims[dimension]["groups"]
    index = group[1:] if group.startswith("#") else ""
    if index.isdigit() and int(index) < len(groups):
        return str(groups[int(index)])  # the modal's field for that group
    for name in groups:
        if name.lower() == group.strip().lower():
            return str(name)
    raise GroupRefused(f"`{dimension}` has no group `{group}`; its groups: "
                       + ", ".join(dims[dimension]["groups"]), "group")


def store_figures(session: Session, measure_id: int, partner_id: int, period: str,
                  figures: list[GroupFigure], *, user_id: str, now: datetime,
                  source: ReportSource) -> int:
    """Write each group's figure (a correction supersedes the current one); returns how
    many rows were added. A figure identical to the current one adds nothing."""
    current = {(g.dimension, g.group_name): g for g in session.scalars(
        select(GroupReport).where(GroupReport.measure_id == measure_id,
                                  GroupReport.partner_id == partner_id,
                                  GroupReport.period == period,
                                  GroupReport.is_current.is_(True)))}
    added = 0
    for f in figures:
        prior = current.get((f.dimension, f.group))
        if prior is not None and (prior.value, prior.numerator, prior.denominator) == (
                f.value, f.numerator, f.denominator):
            continue
        if prior is not None:
            session.execute(update(GroupReport).where(GroupReport.id == prior.id)
                            .values(is_current=False))
        session.add(GroupReport(
            measure_id=measure_id, partner_id=partner_id, period=period,
            dimension=f.dimension, group_name=f.group, value=f.value,
            numerator=f.numerator, denominator=f.denominator, reported_by=user_id,
            reported_at=now, source=source, is_current=True))
        added += 1
    if added:
        session.flush()
    return added
