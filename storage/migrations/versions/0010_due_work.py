"""due_work: when each workspace next needs each scheduled job

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

Every workspace that has an initiative gets its jobs due at once: the first tick after the
upgrade runs each of them and sets its real next due time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JOBS = ("backbone-relay", "digest-tick", "home-refresh", "reminder-tick", "wins")


def upgrade() -> None:
    due_work = op.create_table(
        "due_work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("gen", sa.BigInteger(), nullable=False),
        sa.Column("lease_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_work")),
        sa.UniqueConstraint("team_id", "job", name=op.f("uq_due_work_team_id_job")),
    )
    op.create_index("ix_due_work_due_at", "due_work", ["due_at"])
    bind = op.get_bind()
    teams = [row[0] for row in bind.execute(sa.text("SELECT DISTINCT team_id FROM initiative"))]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    if teams:
        op.bulk_insert(due_work, [{"team_id": team, "job": job, "due_at": epoch, "gen": 0}
                                  for team in teams for job in JOBS])


def downgrade() -> None:
    op.drop_index("ix_due_work_due_at", table_name="due_work")
    op.drop_table("due_work")
