"""deferred events: reactions to handle again once Slack answers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deferred_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deferred_events")),
    )
    op.create_index(op.f("ix_deferred_events_next_attempt_at"), "deferred_events",
                    ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_deferred_events_next_attempt_at"), table_name="deferred_events")
    op.drop_table("deferred_events")
