"""The tables that belong to no workspace (see tests/support/tenants.py for why each)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class Workspace(Base):
    """A Slack workspace the app is installed in; `tenant_team_id` is the workspace whose
    tenant holds its initiative: itself, or for a partner's workspace in a Slack Connect
    network, the initiative's home workspace."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_team_id: Mapped[str] = mapped_column(String(32), index=True)
    team_name: Mapped[str | None] = mapped_column(String(200))
    installed_at: Mapped[datetime]
    uninstalled_at: Mapped[datetime | None]


class SignedRequest(Base):
    """Signed requests already accepted, kept for Slack's 5-minute signature window, so an
    identical request replayed within it (by anyone who captured it) is not acted on again.
    Keyed by X-Slack-Request-Timestamp and X-Slack-Signature; global: the check happens
    before the workspace is known."""

    __tablename__ = "signed_requests"
    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    signature: Mapped[str] = mapped_column(String(80), primary_key=True)


class DueWork(Base):
    """When each workspace next needs each scheduled job (bot/runtime/due_work.py).

    Global: a tick asks once, across all workspaces, what is due now (the index on
    `due_at`), instead of visiting every workspace. A write to a table a job watches
    (storage/due.py) makes that job due at once (`due_at` = the epoch) and bumps `gen`;
    a scheduler claims a due row for `lease_until` (real time), runs the job in the row's
    workspace, and sets the job's next due time, unless `gen` moved meanwhile.
    """

    __tablename__ = "due_work"
    __table_args__ = (UniqueConstraint("team_id", "job"),
                      Index("ix_due_work_due_at", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))  # the tenant ('' = single workspace)
    job: Mapped[str] = mapped_column(String(40))  # a JobSpec id
    due_at: Mapped[datetime | None]  # None: nothing due until a write says otherwise
    gen: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_until: Mapped[datetime | None]
