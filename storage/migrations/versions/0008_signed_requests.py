"""signed requests seen within Slack's signature window (replay refusal); the digest of
the initiative file last imported

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-29

Written alongside other work on issue 14: `down_revision` is "0004" for now and is to be
re-chained after whatever revisions land before it at merge.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signed_requests",
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("timestamp", "signature", name=op.f("pk_signed_requests")),
    )
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.add_column(sa.Column("file_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.drop_column("file_sha256")
    op.drop_table("signed_requests")
