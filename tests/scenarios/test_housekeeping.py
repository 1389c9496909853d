from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from bot.runtime import scheduler
from storage.models import SlackEvent
from tests.support.world import NOW


def test_event_ids_are_forgotten_after_slack_stops_retrying(sandbox: Sandbox) -> None:
    with sandbox.store.session() as session:
        session.add_all([SlackEvent(event_id="EvOLD", received_at=NOW - timedelta(days=3)),
                         SlackEvent(event_id="EvNEW", received_at=NOW - timedelta(hours=1))])

    scheduler.run_due_now(sandbox.services, only={"forget-old-events"})

    with sandbox.store.session() as session:
        assert session.scalars(select(SlackEvent.event_id)).all() == ["EvNEW"]
