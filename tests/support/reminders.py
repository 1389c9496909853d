"""Shared steps for the reminder tests: run a tick, read the DMs, set the scene."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update

from bot.emulator.sandbox import Sandbox
from bot.reminders.messages import EVENT_TYPE
from bot.reminders.tick import TickResult, run_tick
from storage.db import Store
from storage.models import Initiative

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


def set_reminders(store: Store, **values: Any) -> None:
    with store.session() as session:
        session.execute(update(Initiative).values(**values))
