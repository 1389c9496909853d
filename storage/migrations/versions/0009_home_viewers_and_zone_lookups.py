"""who has opened the App Home (refreshed in the background after changes); the error of
a failed time-zone look-up (remembered, so it is not retried every tick)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Written alongside other work on issue 13: `down_revision` is "0008" for now and is to be
re-chained after whatever revisions land before it at merge.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_viewers",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=True),
        sa.Column("opened_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stale_since", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_home_viewers")),
    )
    op.create_index(op.f("ix_home_viewers_stale_since"), "home_viewers", ["stale_since"])
    with op.batch_alter_table("slack_users") as batch_op:
        batch_op.add_column(sa.Column("lookup_error", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slack_users") as batch_op:
        batch_op.drop_column("lookup_error")
    op.drop_index(op.f("ix_home_viewers_stale_since"), table_name="home_viewers")
    op.drop_table("home_viewers")
