"""the public face (SPEC §13): initiative.public, voice sources and approval, voice limits

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("initiative") as batch:
        batch.add_column(sa.Column("public_scorecard", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("public_voice", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("public_languages", sa.JSON(), nullable=False,
                                   server_default='["en"]'))
    with op.batch_alter_table("voices") as batch:
        batch.add_column(sa.Column("source", sa.String(length=8), nullable=False,
                                   server_default="slack"))
        batch.add_column(sa.Column("status", sa.String(length=10), nullable=False,
                                   server_default="approved"))
        batch.add_column(sa.Column("counted_at", storage.types.UTCDateTime(timezone=True),
                                   nullable=True))
    # Every voice so far came through Slack: it counted from the moment it arrived.
    op.execute("UPDATE voices SET counted_at = created_at")
    op.create_table(
        "voice_limits",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_limits")),
    )
    op.create_index("ix_voice_limits_team_id_client_hash", "voice_limits",
                    ["team_id", "client_hash"])
    op.create_index("ix_voice_limits_created_at", "voice_limits", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_voice_limits_created_at", table_name="voice_limits")
    op.drop_index("ix_voice_limits_team_id_client_hash", table_name="voice_limits")
    op.drop_table("voice_limits")
    with op.batch_alter_table("voices") as batch:
        batch.drop_column("counted_at")
        batch.drop_column("status")
        batch.drop_column("source")
    with op.batch_alter_table("initiative") as batch:
        batch.drop_column("public_languages")
        batch.drop_column("public_voice")
        batch.drop_column("public_scorecard")
