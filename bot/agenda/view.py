"""The common agenda as partners see it: the agenda text, the shared measures and who has
committed to what, so that everyone sees who does what and activities can reinforce."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.agenda.commitments import FIELD_LABELS, FIELDS, current_commitments
from bot.measures.progress import format_value
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.runtime.caller import require_initiative
from storage.models import Commitment, Measure, MeasurePartner, Partner


@dataclass(frozen=True)
class MeasureLine:
    key: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    target: float | None
    target_date: date | None
    cadence: str
    partner_names: tuple[str, ...]


@dataclass(frozen=True)
class PartnerCommitment:
    partner_id: int
    key: str
    name: str
    commitment: Commitment | None

    @property
    def committed(self) -> bool:
        return self.commitment is not None


@dataclass(frozen=True)
class Agenda:
    initiative_name: str
    text: str
    timezone: str
    measures: tuple[MeasureLine, ...]
    partners: tuple[PartnerCommitment, ...]

    @property
    def committed_count(self) -> int:
        return sum(1 for p in self.partners if p.committed)

    def partner(self, partner_id: int) -> PartnerCommitment | None:
        return next((p for p in self.partners if p.partner_id == partner_id), None)


def load_agenda(session: Session) -> Agenda:
    initiative = require_initiative(session)
    partners = list(session.scalars(select(Partner).where(Partner.active.is_(True))
                                    .order_by(Partner.position, Partner.id)))
    names = {p.id: p.name for p in partners}
    assigned: dict[int, list[str]] = defaultdict(list)
    for measure_id, partner_id in session.execute(
            select(MeasurePartner.measure_id, MeasurePartner.partner_id)):
        if partner_id in names:
            assigned[measure_id].append(names[partner_id])
    measures = tuple(
        MeasureLine(m.key, m.name, m.unit, m.direction, m.baseline, m.target, m.target_date,
                    m.cadence, tuple(assigned.get(m.id, ())))
        for m in session.scalars(select(Measure).where(Measure.active.is_(True))
                                 .order_by(Measure.position, Measure.id)))
    commitments = current_commitments(session)
    return Agenda(
        initiative_name=initiative.name,
        text=(initiative.agenda or "").strip(),
        timezone=initiative.timezone,
        measures=measures,
        partners=tuple(PartnerCommitment(p.id, p.key, p.name, commitments.get(p.id))
                       for p in partners),
    )


# --- rendering ------------------------------------------------------------------------------

def measure_line(m: MeasureLine) -> str:
    target = ""
    if m.target is not None:
        target = f" — target {format_value(m.target, m.unit)}"
        if m.target_date is not None:
            target += f" by {dates.day(m.target_date)}"
    better = "higher is better" if m.direction == "up" else "lower is better"
    who = ", ".join(bk.escape(n) for n in m.partner_names) or "no partner yet"
    return f"• *{bk.escape(m.name)}*{target} _({m.cadence}, {better}; reported by {who})_"


def commitment_line(p: PartnerCommitment, tz: str = "UTC") -> str:
    if p.commitment is None:
        return f"⬜ *{bk.escape(p.name)}* has not committed yet"
    c = p.commitment
    parts = [f"✅ *{bk.escape(p.name)}* committed on {local_day(c.signed_at, tz)} "
             f"(signed by <@{c.signed_by}>)"]
    for name in FIELDS:
        value = getattr(c, name)
        if value:
            said = bk.safe_user_text(bk.truncate(value, 600))
            parts.append(f"    _{FIELD_LABELS[name]}:_ {said}")
    return "\n".join(parts)


def pack_lines(lines: list[str], limit: int = bk.SECTION_LIMIT) -> list[str]:
    """Join lines into as few section texts as fit Slack's section limit."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = bk.truncate(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def agenda_summary(agenda: Agenda) -> str:
    return (f"{agenda.committed_count} of {len(agenda.partners)} partners have committed "
            "to the common agenda.")


def agenda_message(agenda: Agenda, command: str = "/impact") -> dict[str, Any]:
    """`/impact agenda`: the agenda, the shared measures and each partner's commitment."""
    blocks: list[bk.Block] = [bk.header(f"Common agenda · {agenda.initiative_name}")]
    blocks.append(bk.section(bk.safe_user_text(agenda.text) if agenda.text
                             else "_The backbone has not written the agenda yet._"))
    if agenda.measures:
        blocks += [bk.divider(), bk.section("*Shared measures*")]
        blocks += [bk.section(t) for t in pack_lines([measure_line(m) for m in agenda.measures])]
    blocks += [bk.divider(), bk.section(f"*Partners* — {agenda_summary(agenda)}")]
    lines = [commitment_line(p, agenda.timezone) for p in agenda.partners]
    blocks += [bk.section(t) for t in pack_lines(lines or ["_No partners yet._"])]
    tail = bk.context(f"Partner members can commit (or update a commitment) with "
                      f"`{command} commit`.")
    blocks = [*cap_blocks(blocks, bk.MESSAGE_BLOCK_LIMIT - 1), tail]
    text = (f"Common agenda of {bk.escape(agenda.initiative_name)}: "
            f"{bk.safe_user_text(agenda.text)}\n"
            f"{agenda_summary(agenda)}")
    return bk.message(text, blocks)


def cap_blocks(blocks: list[bk.Block], limit: int) -> list[bk.Block]:
    """At most `limit` blocks; when cut, the last one says so."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1],
            bk.context("…and more that does not fit in one Slack message. "
                       "The backbone team has the full list.")]


def local_day(value: datetime, tz: str) -> str:
    """The calendar day of an instant in the initiative's time zone, e.g. 10 Nov 2026."""
    return dates.day(value.astimezone(ZoneInfo(tz)).date())
