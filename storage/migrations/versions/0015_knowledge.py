"""wins linked to measures; questions, their DMs and answers; intros and opt-outs; the
initiative's connect schedule (issue 18, SPEC §12)

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("wins") as batch_op:
        batch_op.add_column(sa.Column("measure_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_wins_measure_id_measures"), "measures",
                                    ["measure_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.add_column(sa.Column("connect", sa.JSON(), nullable=True))
    op.create_table(
        "questions",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("posted_channel", sa.String(length=32), nullable=True),
        sa.Column("posted_ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["measure_id"], ["measures.id"],
                                name=op.f("fk_questions_measure_id_measures"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    op.create_index("ix_questions_team_id_posted_ts", "questions",
                    ["team_id", "posted_channel", "posted_ts"])
    op.create_table(
        "question_dms",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("lease_until", UTC, nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"],
                                name=op.f("fk_question_dms_question_id_questions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_dms")),
        sa.UniqueConstraint("team_id", "question_id", "user_id",
                            name=op.f("uq_question_dms_team_id_question_id_user_id")),
    )
    op.create_table(
        "answers",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"],
                                name=op.f("fk_answers_question_id_questions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
        sa.UniqueConstraint("team_id", "channel", "ts",
                            name=op.f("uq_answers_team_id_channel_ts")),
    )
    op.create_index(op.f("ix_answers_question_id"), "answers", ["question_id"])
    op.create_table(
        "connect_optouts",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_connect_optouts")),
    )
    op.create_table(
        "intros",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round", sa.String(length=40), nullable=False),
        sa.Column("scheduled", sa.Boolean(), nullable=False),
        sa.Column("user_a", sa.String(length=32), nullable=False),
        sa.Column("user_b", sa.String(length=32), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("lease_until", UTC, nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("checkback_lease", UTC, nullable=True),
        sa.Column("checkback_sent_at", UTC, nullable=True),
        sa.Column("met", sa.Boolean(), nullable=True),
        sa.Column("answered_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intros")),
        sa.UniqueConstraint("team_id", "round", "user_a", "user_b",
                            name=op.f("uq_intros_team_id_round_user_a_user_b")),
    )
    op.create_index("ix_intros_team_id_sent_at", "intros", ["team_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_intros_team_id_sent_at", table_name="intros")
    op.drop_table("intros")
    op.drop_table("connect_optouts")
    op.drop_index(op.f("ix_answers_question_id"), table_name="answers")
    op.drop_table("answers")
    op.drop_table("question_dms")
    op.drop_index("ix_questions_team_id_posted_ts", table_name="questions")
    op.drop_table("questions")
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.drop_column("connect")
    with op.batch_alter_table("wins") as batch_op:
        batch_op.drop_constraint(op.f("fk_wins_measure_id_measures"), type_="foreignkey")
        batch_op.drop_column("measure_id")
