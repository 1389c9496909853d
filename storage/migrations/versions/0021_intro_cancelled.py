"""intros called off while they waited (SPEC §11, §12); APScheduler's job table retired

An intro held for a day off is called off if one of the pair turns intros off or leaves
meanwhile: the row stays (its round was made) with `cancelled_at`. The schedulers keep
their APScheduler jobs in memory now (a job store shared by several schedulers is not
supported), so the `apscheduler_jobs` table they used to share is dropped.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("intros") as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", storage.types.UTCDateTime(timezone=True),
                                      nullable=True))
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def downgrade() -> None:
    with op.batch_alter_table("intros") as batch_op:
        batch_op.drop_column("cancelled_at")
