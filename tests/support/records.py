"""Rows written straight into the database: what another feature would have recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.runtime.caller import load_initiative
from storage.db import Store
from storage.models import Measure, Partner, Report


def ids(session: Session, model: Any) -> dict[str, int]:
    """Key -> id of every row of a keyed table (partners, measures)."""
    return {key: id_ for key, id_ in session.execute(select(model.key, model.id))}


def add_report(store: Store, partner_key: str, measure_key: str, period: str,
               at: datetime, value: float = 1.0) -> None:
    """A partner's report, as `/impact report` would have stored it (by U0AAA, by slash)."""
    with store.session() as session:
        partner = session.scalar(select(Partner).where(Partner.key == partner_key))
        measure = session.scalar(select(Measure).where(Measure.key == measure_key))
        assert partner is not None and measure is not None
        session.add(Report(measure_id=measure.id, partner_id=partner.id, period=period,
                           value=value, reported_by="U0AAA", reported_at=at, source="slash"))


def set_threshold(store: Store, threshold: int) -> None:
    """How many people must react before a win is shared."""
    with store.session() as session:
        initiative = load_initiative(session)
        assert initiative is not None
        initiative.win_threshold = threshold
