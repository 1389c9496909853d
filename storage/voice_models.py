"""Community voice (`/impact voice` and the public form, SPEC §13) and the public form's
per-client rate limit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.tenancy import Tenant


class Voice(Tenant, Base):
    """Anonymous community voice: the text and the time, nothing that identifies the sender."""

    __tablename__ = "voices"
    __table_args__ = (Index("ix_voices_team_id_created_at", "team_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    relayed_at: Mapped[datetime | None]  # set once it is posted to the backbone channel
    lease_until: Mapped[datetime | None]  # a poster's claim on relaying it
    # Where it came from: "slack" (`/impact voice`, counts at once) or "web" (the public
    # form, SPEC §13: counts only once the backbone approves it).
    source: Mapped[str] = mapped_column(String(8), default="slack")
    # "approved" (counts as community voice), "pending" (awaiting the backbone) or
    # "discarded" (never counts).
    status: Mapped[str] = mapped_column(String(10), default="approved")
    # When it started to count (the digest's week): arrival for Slack, approval for the web.
    counted_at: Mapped[datetime | None]


class VoiceLimit(Tenant, Base):
    """One post through the public voice form, for its per-client rate limit: a salted
    hash of the client's address (the salt changes every hour and is never stored) and the
    time; rows are deleted once an hour old (bot/public/voice_form.py)."""

    __tablename__ = "voice_limits"
    __table_args__ = (Index("ix_voice_limits_team_id_client_hash", "team_id", "client_hash"),
                      Index("ix_voice_limits_created_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    client_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
