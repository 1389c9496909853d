"""leases on relaying community voice and announcing commitments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Until now `relayed_at` / `announced_at` were set when a poster claimed the post, so a
process killed between claiming and posting lost it. They now mean "posted"; the claim is
a lease, and a claim whose lease ran out is taken over after a look at the channel.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("voices", "commitments"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("lease_until",
                                          storage.types.UTCDateTime(timezone=True),
                                          nullable=True))


def downgrade() -> None:
    for table in ("voices", "commitments"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("lease_until")
