"""Connecting participants and shared knowledge (SPEC §12): questions asked of the
initiative, the DMs that carry them, the answers in their threads, intros and opt-outs.

Unique keys make each side effect exactly-once: a question's DM to one person
(`question_dms`: question, user), an answer (its channel and ts), an intro of one pair in
one round (`intros`: round, user_a, user_b; user_a < user_b)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.tenancy import Tenant, current_scope


class Question(Tenant, Base):
    """`/impact ask TEXT [for KEY]`: posted once (`posted_ts`) with the asker."""

    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_team_id_posted_ts", "team_id", "posted_channel",
                            "posted_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asker_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measures.id",
                                                              ondelete="SET NULL"))
    created_at: Mapped[datetime]
    posted_channel: Mapped[str | None] = mapped_column(String(32))
    posted_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(500))


class QuestionDM(Tenant, Base):
    """One DM telling one member of a reporting partner about a question: claimed, sent."""

    __tablename__ = "question_dms"
    __table_args__ = (UniqueConstraint("team_id", "question_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class Answer(Tenant, Base):
    """A reply in a question's thread, kept as knowledge (`/impact learn`)."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("team_id", "channel", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class ConnectOptOut(Tenant, Base):
    """`/impact connect off`: never paired on the schedule (until `/impact connect on`)."""

    __tablename__ = "connect_optouts"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=current_scope,
                                         sort_order=-1)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime]


class Intro(Tenant, Base):
    """A group DM introducing two people, by `/impact connect` or a scheduled round; a
    week after it is sent, one check-back asks whether they met."""

    __tablename__ = "intros"
    __table_args__ = (UniqueConstraint("team_id", "round", "user_a", "user_b"),
                      Index("ix_intros_team_id_sent_at", "team_id", "sent_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round: Mapped[str] = mapped_column(String(40))  # 2026-12, 2026-W49, or manual:2026-11-10
    scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    user_a: Mapped[str] = mapped_column(String(32))
    user_b: Mapped[str] = mapped_column(String(32))
    why: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    checkback_lease: Mapped[datetime | None]
    checkback_sent_at: Mapped[datetime | None]
    met: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime | None]
    # Called off while it waited for a day off (one of them turned intros off or left):
    # never sent, and its round still counts as made.
    cancelled_at: Mapped[datetime | None]
