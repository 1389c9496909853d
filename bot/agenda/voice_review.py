"""The backbone's review of community voice from the public form (SPEC §13).

A voice from the form is stored "pending" and posted to the backbone channel with Approve /
Discard buttons. The first decision wins, exactly once: a conditional update from "pending"
(a double click, or two admins at once, find it decided and change nothing). Only an
approved voice counts as community voice (`counted_at`, the digest's and the scorecard's
count). Who decided is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import update

from bot.agenda.voice import voice_message
from bot.rendering import blocks as bk
from storage.db import Store
from storage.models import Voice

Decision = Literal["approved", "discarded"]


@dataclass(frozen=True)
class Review:
    outcome: Literal["decided", "already", "gone"]
    status: str  # the voice's status after the click
    text: str


def review_voice(store: Store, voice_id: int, decision: Decision, now: datetime) -> Review:
    with store.session() as session:
        result: Any = session.execute(
            update(Voice)
            .where(Voice.id == voice_id, Voice.source == "web", Voice.status == "pending")
            .values(status=decision, counted_at=now if decision == "approved" else None)
            .execution_options(synchronize_session=False))
        changed = result.rowcount
        row = session.get(Voice, voice_id)
        if row is None or row.source != "web":
            return Review("gone", "", "")
        session.refresh(row)
        return Review("decided" if changed == 1 else "already", row.status, row.text)


def reviewed_message(text: str, status: str, reviewer: str | None) -> dict[str, Any]:
    """The backbone message once decided: the buttons give way to the decision."""
    base = voice_message(text, source="web")
    blocks = [b for b in base["blocks"] if b.get("type") != "actions"]
    by = f" by <@{reviewer}>" if reviewer else ""
    if status == "approved":
        note = f":white_check_mark: Approved{by}: it counts as community voice."
    else:
        note = f":wastebasket: Discarded{by}: it does not count as community voice."
    blocks.append(bk.context(note))
    return bk.message(f"Community voice from the public form ({status}): "
                      f"{bk.safe_user_text(text)[:200]}", blocks)
