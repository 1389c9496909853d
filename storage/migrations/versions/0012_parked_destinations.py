"""parked destinations: channels and DMs Slack refuses the bot, with what waits for them

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parked_destinations",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=False),
        sa.Column("waiting", sa.String(length=64), nullable=False),
        sa.Column("parked_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recheck_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("told_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parked_destinations")),
        sa.UniqueConstraint("team_id", "destination",
                            name=op.f("uq_parked_destinations_team_id_destination")),
    )


def downgrade() -> None:
    op.drop_table("parked_destinations")
