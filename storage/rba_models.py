"""Results-Based Accountability (SPEC §10): reports per group, and the story behind the curve.

Both keep history the way `reports` does: a new row supersedes the current one (marked
not current, never rewritten) and a partial unique index keeps one current row per key.
Re-exported by storage/models.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.kinds import ReportSource
from storage.tenancy import Tenant


class GroupReport(Tenant, Base):
    """A partner's figure for one group of one dimension (race/ethnicity: Black) of a
    measure and period, with the same history and provenance as a total (`reports`)."""

    __tablename__ = "group_reports"
    __table_args__ = (
        Index("uq_group_reports_current", "team_id", "measure_id", "partner_id", "period",
              "dimension", "group_name", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        Index("ix_group_reports_measure_period", "team_id", "measure_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    dimension: Mapped[str] = mapped_column(String(64))
    group_name: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    reported_by: Mapped[str] = mapped_column(String(32))
    reported_at: Mapped[datetime]
    source: Mapped[ReportSource] = mapped_column(String(10))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)


class Story(Tenant, Base):
    """The story behind the curve: one current per partner, measure and period; a second
    supersedes the first, which stays in the history."""

    __tablename__ = "stories"
    __table_args__ = (
        Index("uq_stories_current", "team_id", "measure_id", "partner_id", "period",
              unique=True, sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        Index("ix_stories_measure", "team_id", "measure_id", "written_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    helping: Mapped[str] = mapped_column(Text, default="")  # or the short story, typed
    hurting: Mapped[str] = mapped_column(Text, default="")
    partners_role: Mapped[str] = mapped_column(Text, default="")
    what_works: Mapped[str] = mapped_column(Text, default="")
    proposal: Mapped[str] = mapped_column(Text, default="")
    written_by: Mapped[str] = mapped_column(String(32))
    written_at: Mapped[datetime]
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
