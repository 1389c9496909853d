"""Common agenda, community voice, and events kept through a Slack outage (re-exported
by storage/models.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.tenancy import Tenant

# --- common agenda and community voice --------------------------------------------------


class Commitment(Tenant, Base):
    """What a partner commits to the common agenda. Re-committing keeps the history."""

    __tablename__ = "commitments"
    __table_args__ = (
        Index("uq_commitments_current", "team_id", "partner_id", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        Index("ix_commitments_team_id_signed_at", "team_id", "signed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    resources: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[str] = mapped_column(Text, default="")
    activities: Mapped[str] = mapped_column(Text, default="")
    signed_agenda: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_by: Mapped[str] = mapped_column(String(32))
    signed_at: Mapped[datetime]
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    announced_at: Mapped[datetime | None]  # set once the announcement is posted
    lease_until: Mapped[datetime | None]  # a poster's claim on announcing it


class DeferredEvent(Tenant, Base):
    """An event that could not be handled because Slack was briefly unavailable (a 5xx,
    a rate limit, a timeout while reading the message): kept here and handled again by a
    scheduled tick, since Slack will not redeliver an event it saw acknowledged."""

    __tablename__ = "deferred_events"
    __table_args__ = (Index("ix_deferred_events_team_id_next_attempt_at", "team_id",
                            "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # reaction
    payload: Mapped[dict[str, Any]] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
