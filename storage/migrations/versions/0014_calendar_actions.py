"""the initiative's calendar (SPEC §11): actions, their status log and reminder claims;
holidays and working days on the initiative and partners; meeting agenda items and step claims

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.add_column(sa.Column("calendar", sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
    with op.batch_alter_table("partners") as batch_op:
        batch_op.add_column(sa.Column("holidays", sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
    op.create_table(
        "actions",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("meeting_key", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        _when("created_at", False), _when("updated_at", False), _when("done_at", True),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], ondelete="SET NULL",
                                name=op.f("fk_actions_partner_id_partners")),
        sa.ForeignKeyConstraint(["measure_id"], ["measures.id"], ondelete="SET NULL",
                                name=op.f("fk_actions_measure_id_measures")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
    )
    op.create_index("ix_actions_team_id_owner_id", "actions", ["team_id", "owner_id"])
    op.create_index("ix_actions_team_id_status", "actions", ["team_id", "status"])
    op.create_table(
        "action_updates",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=True),
        _when("created_at", False),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], ondelete="CASCADE",
                                name=op.f("fk_action_updates_action_id_actions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_updates")),
    )
    op.create_index("ix_action_updates_team_id_action_id", "action_updates",
                    ["team_id", "action_id"])
    op.create_table(
        "action_deliveries",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        _when("created_at", False), _when("lease_until", True), _when("sent_at", True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], ondelete="CASCADE",
                                name=op.f("fk_action_deliveries_action_id_actions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_deliveries")),
        sa.UniqueConstraint("team_id", "dedupe_key",
                            name=op.f("uq_action_deliveries_team_id_dedupe_key")),
    )
    op.create_table(
        "meeting_items",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_key", sa.String(length=64), nullable=False),
        sa.Column("occurs_on", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _when("created_at", False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_items")),
    )
    op.create_index("ix_meeting_items_team_id_meeting_key", "meeting_items",
                    ["team_id", "meeting_key", "occurs_on"])
    op.create_table(
        "meeting_posts",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        _when("created_at", False), _when("lease_until", True), _when("sent_at", True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_posts")),
        sa.UniqueConstraint("team_id", "dedupe_key",
                            name=op.f("uq_meeting_posts_team_id_dedupe_key")),
    )


def downgrade() -> None:
    op.drop_table("meeting_posts")
    op.drop_table("meeting_items")
    op.drop_table("action_deliveries")
    op.drop_table("action_updates")
    op.drop_table("actions")
    with op.batch_alter_table("partners") as batch_op:
        batch_op.drop_column("holidays")
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.drop_column("calendar")
