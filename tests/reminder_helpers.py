"""Shared steps for the reminder tests: run a tick, read the DMs, set the scene."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.emulator.sandbox import Sandbox
from bot.reminders.messages import EVENT_TYPE
from bot.reminders.tick import TickResult, run_tick
from storage.db import Store
from storage.models import Initiative, Measure, Partner, Report

FOUR_ZONES = {"U0AAA": "America/Chicago", "U0BBB": "Asia/Tokyo",
              "U0CCC": "America/Los_Angeles", "U0DDD": "Europe/Berlin"}


def tick(sandbox: Sandbox, at: datetime, **kwargs: Any) -> TickResult:
    sandbox.clock.set(at)
    return run_tick(sandbox.services, sandbox.services.client(), at, **kwargs)


def reminder_dms(sandbox: Sandbox, user_id: str) -> list[dict[str, Any]]:
    """The reminder and nudge DMs this person received, oldest first."""
    return [m for m in sandbox.emulator.messages_to_user(user_id)
            if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE]


def listed_measures(message: dict[str, Any]) -> list[str]:
    """Measure keys that have a Report button in a reminder DM."""
    keys = []
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            action_id = element.get("action_id", "")
            if action_id.startswith("report_open:"):
                keys.append(action_id.partition(":")[2])
    return keys


def report(store: Store, partner_key: str, measure_key: str, period: str,
           at: datetime, value: float = 1.0) -> None:
    """A partner reports (the report command belongs to the measurement issue)."""
    with store.session() as session:
        partner = session.scalar(select(Partner).where(Partner.key == partner_key))
        measure = session.scalar(select(Measure).where(Measure.key == measure_key))
        assert partner is not None and measure is not None
        session.add(Report(measure_id=measure.id, partner_id=partner.id, period=period,
                           value=value, reported_by="U0AAA", reported_at=at, source="slash"))


def set_reminders(store: Store, **values: Any) -> None:
    with store.session() as session:
        session.execute(update(Initiative).values(**values))
