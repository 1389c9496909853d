"""Apply a checked initiative.yml to the store, in one transaction, idempotently."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.initiative.checker import InitiativeFileError
from bot.initiative.file import InitiativeSpec, load_initiative_file
from bot.initiative.strict_yaml import MAX_FILE_BYTES
from bot.runtime.caller import INITIATIVE_ID
from bot.runtime.errors import UserError
from bot.tenancy.oauth import register_workspace, tenant_of
from storage.db import Store, tenant_key
from storage.models import Initiative, Measure, MeasurePartner, Member, Partner, Report, Skip
from storage.tenancy import current_team


@dataclass
class ImportResult:
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def summary(self) -> str:
        if not self.changes:
            return "Nothing to change: the store already matches the file."
        return f"{len(self.changes)} change(s): " + "; ".join(self.changes)


def file_digest(path: Path | str) -> str | None:
    """SHA-256 of the file's bytes (None when it cannot be read or is over the size cap:
    the import then says why)."""
    try:
        if Path(path).stat().st_size > MAX_FILE_BYTES:
            return None
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def unchanged_since_import(store: Store, path: Path | str) -> bool:
    """True when the store's initiative came from exactly this file's bytes."""
    digest = file_digest(path)
    if digest is None:
        return False
    with store.session() as session:
        stored = session.scalar(select(Initiative.file_sha256)
                                .where(Initiative.id == INITIATIVE_ID))
    return stored == digest


def import_file(store: Store, path: Path | str, now: datetime) -> ImportResult:
    """Check the whole file, then apply it. Raises InitiativeFileError; writes nothing then."""
    digest = file_digest(path)
    spec = load_initiative_file(path)
    from storage.tenancy import current_team

    if spec.workspaces and current_team.get() is None:
        raise UserError("initiative.workspaces needs multi-workspace mode: import with "
                        "--team HOME_TEAM_ID")
    # Processes starting together each import the same file: one at a time, so the second
    # finds the rows in place instead of racing to insert them (storage/locks.py).
    with store.provisioning():
        with store.session() as session:
            result = apply_initiative(session, spec, now, source=Path(path).name)
            initiative = session.get(Initiative, tenant_key(session, INITIATIVE_ID))
            if initiative is not None:
                initiative.file_sha256 = digest
        _share_with_workspaces(store, spec, now, result)
    return result


def _share_with_workspaces(store: Store, spec: InitiativeSpec, now: datetime,
                           result: ImportResult) -> None:
    """Multi-workspace mode: requests from the listed partner workspaces (Slack Connect)
    work in this initiative's tenant."""
    home = current_team.get()
    if not spec.workspaces or home is None:
        return
    for team_id in spec.workspaces:
        if team_id != home and tenant_of(store, team_id) != home:
            register_workspace(store, team_id, None, now, tenant_team_id=home)
            result.changes.append(f"workspace {team_id} shares this initiative")


def _retire(rows: Mapping[str, Partner | Measure], wanted: set[str], noun: str,
            result: ImportResult) -> None:
    """Retire, not delete, what the file no longer lists: its reports stay in the history."""
    for key, row in rows.items():
        if key not in wanted and row.active:
            row.active = False
            result.changes.append(f"retired {noun} {key}")


def _keep_recorded_years(session: Session, stored: int, source: str) -> None:
    """Annual values already recorded are filed under years that start in the stored month:
    moving the start would refile them under other dates, so the file may not (SPEC §9)."""
    annual = select(Measure.id).where(Measure.cadence == "annual")
    recorded = session.scalar(select(Report.id).where(Report.measure_id.in_(annual)).limit(1))
    if recorded is None:
        recorded = session.scalar(select(Skip.id).where(Skip.measure_id.in_(annual)).limit(1))
    if recorded is not None:
        raise InitiativeFileError(
            source, "initiative.fiscal_year_start",
            f"annual values are already recorded for years starting in month {stored}; "
            f"keep fiscal_year_start: {stored} (changing it would refile them)")


def _assign(obj: Any, values: dict[str, Any], label: str, result: ImportResult) -> None:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        result.changes.append(f"{label}: {', '.join(changed)}")


def apply_initiative(session: Session, spec: InitiativeSpec, now: datetime, *,
                     source: str = "initiative.yml") -> ImportResult:
    result = ImportResult()
    initiative = session.get(Initiative, tenant_key(session, INITIATIVE_ID))
    if initiative is not None and initiative.fiscal_year_start != spec.fiscal_year_start:
        _keep_recorded_years(session, initiative.fiscal_year_start, source)
    values: dict[str, Any] = {
        "name": spec.name,
        "agenda": spec.agenda,
        "timezone": spec.timezone,
        "admins": list(spec.admins),
        "backbone_channel": spec.backbone_channel,
        "wins_channel": spec.wins_channel,
        "reminder_day": spec.reminder_day,
        "reminder_time": spec.reminder_time,
        "nudge_after_days": spec.nudge_after_days,
        "max_nudges": spec.max_nudges,
        "digest_weekday": spec.digest_weekday,
        "digest_time": spec.digest_time,
        "win_emoji": list(spec.win_emoji),
        "win_threshold": spec.win_threshold,
        "connect": spec.connect,
        "public_scorecard": spec.public.scorecard,
        "public_voice": spec.public.voice,
        "public_languages": list(spec.public.languages),
        "dimensions": [{"key": d.key, "name": d.name, "groups": list(d.groups)}
                       for d in spec.dimensions],
        "results": [{"key": r.key, "name": r.name, "indicators": list(r.indicators)}
                    for r in spec.results],
        "calendar": dict(spec.calendar),
        "fiscal_year_start": spec.fiscal_year_start,
    }
    # `initiative.start`: as written, else the day of the first import (kept after that).
    if spec.start is not None:
        values["start"] = spec.start
    elif initiative is None or initiative.start is None:
        values["start"] = now.astimezone(ZoneInfo(spec.timezone)).date()
    if initiative is None:
        initiative = Initiative(id=INITIATIVE_ID, updated_at=now, **values)
        session.add(initiative)
        result.changes.append(f"created initiative {spec.name!r}")
    else:
        _assign(initiative, values, "initiative", result)

    partners = {p.key: p for p in session.scalars(select(Partner))}
    for position, p_spec in enumerate(spec.partners):
        partner = partners.get(p_spec.key)
        if partner is None:
            partner = Partner(key=p_spec.key, name=p_spec.name, position=position, active=True,
                              holidays=list(p_spec.holidays))
            session.add(partner)
            partners[p_spec.key] = partner
            result.changes.append(f"added partner {p_spec.key}")
        else:
            _assign(partner, {"name": p_spec.name, "position": position, "active": True,
                              "holidays": list(p_spec.holidays)},
                    f"partner {p_spec.key}", result)
    _retire(partners, {p.key for p in spec.partners}, "partner", result)
    session.flush()

    # Members: a person belongs to one partner; moves and removals follow the file.
    wanted_members = {user: partners[p.key].id for p in spec.partners for user in p.members}
    existing_members = {m.user_id: m for m in session.scalars(select(Member))}
    for user, member in existing_members.items():
        if user not in wanted_members:
            session.delete(member)
            result.changes.append(f"removed member {user}")
        elif member.partner_id != wanted_members[user]:
            member.partner_id = wanted_members[user]
            result.changes.append(f"moved member {user}")
    for user, partner_id in wanted_members.items():
        if user not in existing_members:
            session.add(Member(user_id=user, partner_id=partner_id))
            result.changes.append(f"added member {user}")

    measures = {m.key: m for m in session.scalars(select(Measure))}
    for position, m_spec in enumerate(spec.measures):
        m_values: dict[str, Any] = {
            "name": m_spec.name,
            "unit": m_spec.unit,
            "direction": m_spec.direction,
            "baseline": m_spec.baseline,
            "target": m_spec.target,
            "target_date": m_spec.target_date,
            "cadence": m_spec.cadence,
            "aggregate": m_spec.aggregate,
            "rate": m_spec.rate,
            "kind": m_spec.rba.kind,
            "quadrant": m_spec.rba.quadrant,
            "result": m_spec.rba.result,
            "headline": m_spec.rba.headline,
            "source": m_spec.rba.source,
            "breakdowns": list(m_spec.rba.breakdowns),
            "min_group": m_spec.rba.min_group,
            "development": m_spec.rba.development,
            "forecast": dict(m_spec.rba.forecast),
            "position": position,
            "active": True,
        }
        measure = measures.get(m_spec.key)
        if measure is None:
            measure = Measure(key=m_spec.key, **m_values)
            session.add(measure)
            measures[m_spec.key] = measure
            result.changes.append(f"added measure {m_spec.key}")
        else:
            _assign(measure, m_values, f"measure {m_spec.key}", result)
    _retire(measures, {m.key for m in spec.measures}, "measure", result)
    session.flush()

    # A development measure (data development agenda) has no data yet: nobody reports it,
    # so it is never owed nor reminded, whatever partners the file names.
    wanted_links = {(measures[m.key].id, partners[p].id) for m in spec.measures
                    for p in m.partners if not m.rba.development}
    existing_links = {(link.measure_id, link.partner_id)
                      for link in session.scalars(select(MeasurePartner))}
    for measure_id, partner_id in existing_links - wanted_links:
        session.execute(delete(MeasurePartner).where(MeasurePartner.measure_id == measure_id,
                                                     MeasurePartner.partner_id == partner_id))
    for measure_id, partner_id in sorted(wanted_links - existing_links):
        session.add(MeasurePartner(measure_id=measure_id, partner_id=partner_id))
    if existing_links != wanted_links:
        result.changes.append("updated which partners report which measures")

    if result.changed:
        initiative.updated_at = now
    return result
