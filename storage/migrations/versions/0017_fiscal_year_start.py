"""annual cadence (SPEC §9): the month the initiative's years start in

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.add_column(sa.Column("fiscal_year_start", sa.Integer(), nullable=False,
                                      server_default=sa.text("1")))


def downgrade() -> None:
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.drop_column("fiscal_year_start")
