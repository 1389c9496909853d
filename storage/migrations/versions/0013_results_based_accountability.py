"""Results-Based Accountability (issue 16, SPEC §10): dimensions and results on the
initiative; kind, quadrant, result, headline, source, breakdowns, min_group, development
and forecast on measures; reports per group and the story behind the curve

Revision ID: 0013
Revises: 0016
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0013"
down_revision = "0016"
branch_labels = None
depends_on = None


def _keyed(name: str, *columns: sa.Column[Any]) -> None:
    op.create_table(
        name,
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        *columns,
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["measure_id"], ["measures.id"],
                                name=op.f(f"fk_{name}_measure_id_measures"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"],
                                name=op.f(f"fk_{name}_partner_id_partners"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    _keyed("group_reports",
           sa.Column("dimension", sa.String(length=64), nullable=False),
           sa.Column("group_name", sa.String(length=40), nullable=False),
           sa.Column("value", sa.Float(), nullable=False),
           sa.Column("numerator", sa.Float(), nullable=True),
           sa.Column("denominator", sa.Float(), nullable=True),
           sa.Column("reported_by", sa.String(length=32), nullable=False),
           sa.Column("reported_at", storage.types.UTCDateTime(timezone=True), nullable=False),
           sa.Column("source", sa.String(length=10), nullable=False))
    op.create_index("ix_group_reports_measure_period", "group_reports",
                    ["team_id", "measure_id", "period"])
    op.create_index("uq_group_reports_current", "group_reports",
                    ["team_id", "measure_id", "partner_id", "period", "dimension", "group_name"],
                    unique=True, sqlite_where=sa.text("is_current"),
                    postgresql_where=sa.text("is_current"))
    _keyed("stories",
           *(sa.Column(c, sa.Text(), nullable=False)
             for c in ("helping", "hurting", "partners_role", "what_works", "proposal")),
           sa.Column("written_by", sa.String(length=32), nullable=False),
           sa.Column("written_at", storage.types.UTCDateTime(timezone=True), nullable=False))
    op.create_index("ix_stories_measure", "stories", ["team_id", "measure_id", "written_at"])
    op.create_index("uq_stories_current", "stories",
                    ["team_id", "measure_id", "partner_id", "period"], unique=True,
                    sqlite_where=sa.text("is_current"), postgresql_where=sa.text("is_current"))
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.add_column(sa.Column("dimensions", sa.JSON(), nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("results", sa.JSON(), nullable=False,
                                      server_default="[]"))
    with op.batch_alter_table("measures") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=12), nullable=False,
                                      server_default="performance"))
        batch_op.add_column(sa.Column("quadrant", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("result", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("headline", sa.Boolean(), nullable=False,
                                      server_default=sa.text("false")))
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("breakdowns", sa.JSON(), nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("min_group", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("development", sa.Boolean(), nullable=False,
                                      server_default=sa.text("false")))
        batch_op.add_column(sa.Column("forecast", sa.JSON(), nullable=False,
                                      server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("measures") as batch_op:
        for column in ("forecast", "development", "min_group", "breakdowns", "source",
                       "headline", "result", "quadrant", "kind"):
            batch_op.drop_column(column)
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.drop_column("results")
        batch_op.drop_column("dimensions")
    op.drop_index("uq_stories_current", table_name="stories")
    op.drop_index("ix_stories_measure", table_name="stories")
    op.drop_table("stories")
    op.drop_index("uq_group_reports_current", table_name="group_reports")
    op.drop_index("ix_group_reports_measure_period", table_name="group_reports")
    op.drop_table("group_reports")
