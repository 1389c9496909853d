"""The initiative's calendar (SPEC §11): actions with their status log, and the claims that
make each action reminder DM exactly-once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.kinds import ActionSource, ActionStatus
from storage.tenancy import Tenant


class Action(Tenant, Base):
    """A mutually reinforcing activity: who does what, by when, toward which measure."""

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_team_id_owner_id", "team_id", "owner_id"),
                      Index("ix_actions_team_id_status", "team_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(32))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id",
                                                              ondelete="SET NULL"))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(String(8), default="open")
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measures.id",
                                                              ondelete="SET NULL"))
    source: Mapped[ActionSource] = mapped_column(String(16), default="slash")
    meeting_key: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class ActionUpdate(Tenant, Base):
    """One line of an action's status log: who said what, when (and the status it set)."""

    __tablename__ = "action_updates"
    __table_args__ = (Index("ix_action_updates_team_id_action_id", "team_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ActionStatus | None] = mapped_column(String(8))
    created_at: Mapped[datetime]


class ActionDelivery(Tenant, Base):
    """One action reminder DM (3 days before, due day, overdue 1..4), claimed before it is
    sent: `dedupe_key` (action, step) is found taken by a second tick or scheduler."""

    __tablename__ = "action_deliveries"
    __table_args__ = (UniqueConstraint("team_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128))
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))


class MeetingItem(Tenant, Base):
    """An agenda item someone added for one occurrence of a meeting (`/impact meeting add`)."""

    __tablename__ = "meeting_items"
    __table_args__ = (Index("ix_meeting_items_team_id_meeting_key", "team_id", "meeting_key",
                            "occurs_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_key: Mapped[str] = mapped_column(String(64))
    occurs_on: Mapped[date] = mapped_column(Date)
    user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class MeetingPost(Tenant, Base):
    """One meeting step's message (an agenda request to one person, the agenda post, a
    follow-up DM), claimed under its key before it is sent (bot/exactly_once.py)."""

    __tablename__ = "meeting_posts"
    __table_args__ = (UniqueConstraint("team_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
