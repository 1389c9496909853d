"""The initiative's data. Unique keys here are what make every side effect exactly-once."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base
from storage.kinds import (
    AggregateRule,
    Cadence,
    Direction,
    ParkedKind,
    PauseReason,
    ReportSource,
)
from storage.kinds import WinSource as WinSource  # importable from here too
from storage.kinds import WinStatus as WinStatus
from storage.tenancy import Tenant, current_scope

# --- the initiative as configured by the backbone (initiative.yml) ---------------------


class Initiative(Tenant, Base):
    """One initiative per workspace tenant. Row id 1."""

    __tablename__ = "initiative"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=current_scope,
                                         sort_order=-1)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    admins: Mapped[list[str]] = mapped_column(default=list)
    backbone_channel: Mapped[str | None] = mapped_column(String(32))
    wins_channel: Mapped[str | None] = mapped_column(String(32))
    reminder_day: Mapped[int] = mapped_column(default=1)
    reminder_time: Mapped[str] = mapped_column(String(5), default="09:00")
    nudge_after_days: Mapped[int] = mapped_column(default=3)
    max_nudges: Mapped[int] = mapped_column(default=2)
    digest_weekday: Mapped[int] = mapped_column(default=4)  # Monday = 0
    digest_time: Mapped[str] = mapped_column(String(5), default="15:00")
    win_emoji: Mapped[list[str]] = mapped_column(default=list)
    win_threshold: Mapped[int] = mapped_column(default=1)
    # SPEC §11: {"holidays": [ISO dates], "working_days": [0..6, Monday = 0]}; {} = every day.
    calendar: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]
    # `initiative.start` (SPEC §9): owed periods count only after it; default: first import.
    start: Mapped[date | None] = mapped_column(Date)
    # `initiative.fiscal_year_start` (SPEC §9): the month (1-12) annual periods start in.
    fiscal_year_start: Mapped[int] = mapped_column(default=1, server_default="1")
    # SHA-256 of the initiative.yml last imported (unchanged: a start skips the import).
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    # Changes (a new random value) whenever a report for a period before `start` is written:
    # the forecasts' history is read from those reports, and kept per value of this token
    # (bot/measures/forecast_history.py). A new initiative row gets a new one.
    history_token: Mapped[str] = mapped_column(String(32), default=lambda: uuid4().hex,
                                               server_default="")
    connect: Mapped[dict[str, Any] | None] = mapped_column()  # SPEC §12 pairing schedule
    # `initiative.public` (SPEC §13): the public scorecard and the web voice form.
    public_scorecard: Mapped[bool] = mapped_column(Boolean, default=False)
    public_voice: Mapped[bool] = mapped_column(Boolean, default=False)
    public_languages: Mapped[list[str]] = mapped_column(default=lambda: ["en"])
    # SPEC §10: [{key, name, groups}] and [{key, name, indicators}] as in initiative.yml.
    dimensions: Mapped[list[dict[str, Any]]] = mapped_column(default=list, server_default="[]")
    results: Mapped[list[dict[str, Any]]] = mapped_column(default=list, server_default="[]")


class Partner(Tenant, Base):
    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    holidays: Mapped[list[str]] = mapped_column(default=list)  # ISO dates (SPEC §11)

    members: Mapped[list[Member]] = relationship(back_populates="partner",
                                                 cascade="all, delete-orphan")


class Member(Tenant, Base):
    """A Slack user who reports for a partner. A person belongs to at most one partner."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"),
                                            index=True)
    user_id: Mapped[str] = mapped_column(String(32))

    partner: Mapped[Partner] = relationship(back_populates="members")


class Measure(Tenant, Base):
    __tablename__ = "measures"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32), default="")
    direction: Mapped[Direction] = mapped_column(String(4), default="up")
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    target_date: Mapped[date | None] = mapped_column(Date)
    cadence: Mapped[Cadence] = mapped_column(String(10), default="monthly")
    aggregate: Mapped[AggregateRule] = mapped_column(String(6), default="sum")
    # A rate (SPEC §9): reported as NUMERATOR/DENOMINATOR, shown as a percentage.
    rate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Results-Based Accountability (SPEC §10; bot/initiative/rba_file.py checks them).
    kind: Mapped[str] = mapped_column(String(12), default="performance",
                                      server_default="performance")  # or indicator
    quadrant: Mapped[str | None] = mapped_column(String(12))  # how-much|how-well|better-off
    result: Mapped[str | None] = mapped_column(String(64))  # a result key (initiative.results)
    headline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    source: Mapped[str] = mapped_column(Text, default="", server_default="")
    breakdowns: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    min_group: Mapped[int | None] = mapped_column()
    development: Mapped[bool] = mapped_column(Boolean, default=False,
                                              server_default=text("false"))
    forecast: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MeasurePartner(Tenant, Base):
    """Which partners report which measure."""

    __tablename__ = "measure_partners"
    __table_args__ = (Index("ix_measure_partners_team_id", "team_id"),)

    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"),
                                            primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"),
                                            primary_key=True)


# --- shared measurement ------------------------------------------------------------------
class Report(Tenant, Base):
    """A value a partner reported for a measure and period. Corrections add a row and mark
    the earlier one not current (never rewritten); a partial index keeps one current row."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("uq_reports_current", "team_id", "measure_id", "partner_id", "period", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        # Covering: the figures (digest, measures, Home, scorecard) read from the index
        # alone (migration 0020).
        Index("ix_reports_figures", "team_id", "measure_id", "period", "partner_id",
              "is_current", "reported_at", "value", "numerator", "denominator"),
        # The workspace's newest report (the scorecard's ETag) in one index look-up.
        Index("ix_reports_newest", "team_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)  # rates: value = 100 × num / den
    denominator: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[str] = mapped_column(String(32))
    reported_at: Mapped[datetime]
    source: Mapped[ReportSource] = mapped_column(String(10))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)


class ReportTotal(Tenant, Base):
    """The current reports of one measure and period, summed: kept beside `reports` in the
    same transaction as every write to them (bot/measures/totals.py), so the digest, the
    scorecard and the forecasts read a row per period instead of a row per partner."""

    __tablename__ = "report_totals"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=current_scope,
                                         sort_order=-1)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"),
                                            primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    reports: Mapped[int] = mapped_column(default=0)  # current reports (partners) summed
    total: Mapped[float] = mapped_column(Float, default=0.0)
    numerators: Mapped[float] = mapped_column(Float, default=0.0)
    denominators: Mapped[float] = mapped_column(Float, default=0.0)
    # The most recently reported current value (ties: the higher partner id): `latest`.
    latest_value: Mapped[float | None] = mapped_column(Float)


class Skip(Tenant, Base):
    """A partner said it will not report a measure for a period, with the reason."""

    __tablename__ = "skips"
    __table_args__ = (UniqueConstraint("team_id", "measure_id", "partner_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    skipped_by: Mapped[str] = mapped_column(String(32))
    skipped_at: Mapped[datetime]


class PendingReport(Tenant, Base):
    """A report the quality guard holds; the one press that sets resolved_at records it."""
    __tablename__ = "pending_reports"
    __table_args__ = (UniqueConstraint("team_id", "token"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    request: Mapped[dict[str, Any]] = mapped_column()  # the report as asked, period resolved
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    choice: Mapped[str | None] = mapped_column(String(16))  # typed | suggested | cancel
    report_id: Mapped[int | None] = mapped_column()


# --- people ------------------------------------------------------------------------------
class SlackUser(Tenant, Base):
    """What Slack told us of a person (time zone above all): users.info or user_change."""

    __tablename__ = "slack_users"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=current_scope,
                                         sort_order=-1)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tz: Mapped[str | None] = mapped_column(String(64))
    real_name: Mapped[str | None] = mapped_column(String(200))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime]  # last asked (a failed look-up too) or told (user_change)
    lookup_error: Mapped[str | None] = mapped_column(String(64))  # the last look-up's error


class HomeViewer(Tenant, Base):
    """Who opened the App Home: the only Homes refreshed after a change (home/refresh.py)."""

    __tablename__ = "home_viewers"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=current_scope,
                                         sort_order=-1)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str | None] = mapped_column(String(32))  # its bot token publishes
    opened_at: Mapped[datetime]
    stale_since: Mapped[datetime | None] = mapped_column(index=True)  # until refreshed


class Pause(Tenant, Base):
    """Reminders stop for this person until `until` (vacation, or a one-day snooze)."""

    __tablename__ = "pauses"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=current_scope,
                                         sort_order=-1)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    until: Mapped[datetime]
    reason: Mapped[PauseReason] = mapped_column(String(16), default="pause")
    created_at: Mapped[datetime]


# --- exactly-once side effects -------------------------------------------------------------


class ReminderDelivery(Tenant, Base):
    """One reminder or nudge DM to one person, claimed before it is sent: `dedupe_key` (user,
    periods, nudge number) is found taken by a second tick or scheduler; a claim whose lease
    expired without `sent_at` (send failed, process died) is retried."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (UniqueConstraint("team_id", "dedupe_key"),
                      Index("ix_reminder_deliveries_team_id_user_id", "team_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(32))
    nudge: Mapped[int] = mapped_column(default=0)  # 0 = first reminder, then 1..max_nudges
    items: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # [{measure, period}]
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(200))


class Win(Tenant, Base):
    """A success shared to the wins channel. (channel, ts) makes each message shareable once."""

    __tablename__ = "wins"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "message_ts"),
                      Index("ix_wins_team_id_posted_at", "team_id", "posted_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[WinSource] = mapped_column(String(10))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measures.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    permalink: Mapped[str | None] = mapped_column(String(500))
    reactors: Mapped[list[str]] = mapped_column(default=list)
    # Stored as the value, in a plain VARCHAR(10) (no database enum, no CHECK).
    status: Mapped[WinStatus] = mapped_column(
        Enum(WinStatus, native_enum=False, create_constraint=False, length=10,
             values_callable=lambda statuses: [s.value for s in statuses]),
        default=WinStatus.APPROVED)
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]
    posted_channel: Mapped[str | None] = mapped_column(String(32))
    posted_ts: Mapped[str | None] = mapped_column(String(32))


class SlackEvent(Tenant, Base):
    """Events API deliveries already handled (Slack retries; Bolt does not de-duplicate)."""

    __tablename__ = "slack_events"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=current_scope,
                                         sort_order=-1)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]


class Digest(Tenant, Base):
    """A weekly digest posted to the backbone channel: once per ISO week unless forced."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("team_id", "week", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(10))  # 2026-W47
    attempt: Mapped[int] = mapped_column(default=0)  # 0 = the scheduled one; --force adds more
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))


class ParkedDestination(Tenant, Base):
    """A channel or DM Slack refuses the bot for good; waits until `recheck_at` (bot/parking.py)."""

    __tablename__ = "parked_destinations"
    __table_args__ = (UniqueConstraint("team_id", "destination"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    destination: Mapped[str] = mapped_column(String(32))  # a channel id, or a user id (DM)
    kind: Mapped[ParkedKind] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(String(64))  # e.g. is_archived
    waiting: Mapped[str] = mapped_column(String(64))  # e.g. "the weekly digest"
    parked_at: Mapped[datetime]
    recheck_at: Mapped[datetime]
    told_at: Mapped[datetime | None]


# Common agenda, community voice and deferred events: storage/agenda_models.py; the
# Results-Based Accountability tables (group reports, stories): storage/rba_models.py.
from storage.agenda_models import Commitment, DeferredEvent  # noqa: E402, F401
from storage.calendar_models import (  # noqa: E402, F401  (the calendar, SPEC §11)
    Action,
    ActionDelivery,
    ActionUpdate,
    MeetingItem,
    MeetingPost,
)

# Re-exported: the global tables (storage/global_models.py), and asks, answers and intros
# (storage/knowledge_models.py, SPEC §12).
from storage.global_models import DueWork, SignedRequest, Workspace  # noqa: E402, F401
from storage.knowledge_models import Answer, ConnectOptOut, Intro, Question, QuestionDM  # noqa
from storage.rba_models import GroupReport, Story  # noqa: E402, F401

# Community voice and the public form's rate limit: storage/voice_models.py.
from storage.voice_models import Voice, VoiceLimit  # noqa: E402, F401
