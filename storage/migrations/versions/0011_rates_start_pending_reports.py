"""rate measures (numerator and denominator on reports), the initiative's start date, and
reports held by the data-quality guard until confirmed (issue 15, SPEC §9)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("measures") as batch_op:
        batch_op.add_column(sa.Column("rate", sa.Boolean(), nullable=False,
                                      server_default=sa.text("false")))
    with op.batch_alter_table("reports") as batch_op:
        batch_op.add_column(sa.Column("numerator", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("denominator", sa.Float(), nullable=True))
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.add_column(sa.Column("start", sa.Date(), nullable=True))
    op.create_table(
        "pending_reports",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("choice", sa.String(length=16), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_reports")),
        sa.UniqueConstraint("team_id", "token", name=op.f("uq_pending_reports_team_id_token")),
    )


def downgrade() -> None:
    op.drop_table("pending_reports")
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.drop_column("start")
    with op.batch_alter_table("reports") as batch_op:
        batch_op.drop_column("denominator")
        batch_op.drop_column("numerator")
    with op.batch_alter_table("measures") as batch_op:
        batch_op.drop_column("rate")
