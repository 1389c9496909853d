"""one set of tables for every workspace: a team_id column instead of a schema/file each

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Every tenant-scoped table gets `team_id` ('' = the default tenant of single-workspace
mode, which is what rows already in the main database belong to) and its unique keys start
with it. Then the rows of each workspace's old tenant (PostgreSQL: every `ws_<team>`
schema; SQLite: every `<stem>.ws_<team><suffix>` file beside the main database) are copied
in with that workspace's team id. Integer ids are shifted by the shared table's current
maximum (per table, per workspace) and the foreign keys that point at them with them;
PostgreSQL sequences are set past the new maximum. The old schemas and files are left in
place, unused (docs/deploy.md: drop them once the upgrade is checked).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# In copy order: parents before children. (table, {fk column: referenced table})
TABLES: list[tuple[str, dict[str, str]]] = [
    ("initiative", {}),
    ("partners", {}),
    ("measures", {}),
    ("members", {"partner_id": "partners"}),
    ("measure_partners", {"measure_id": "measures", "partner_id": "partners"}),
    ("reports", {"measure_id": "measures", "partner_id": "partners"}),
    ("skips", {"measure_id": "measures", "partner_id": "partners"}),
    ("slack_users", {}),
    ("pauses", {}),
    ("reminder_deliveries", {}),
    ("wins", {"partner_id": "partners"}),
    ("slack_events", {}),
    ("digests", {}),
    ("commitments", {"partner_id": "partners"}),
    ("voices", {}),
    ("deferred_events", {}),
]
# Tables whose `id` is a surrogate integer key shared by all workspaces from now on.
SERIAL = ["partners", "measures", "members", "reports", "skips", "reminder_deliveries",
          "wins", "digests", "commitments", "voices", "deferred_events"]
# Tables whose primary key gains team_id: (old columns).
NATURAL_KEYS = {"initiative": ["id"], "slack_users": ["user_id"], "pauses": ["user_id"],
                "slack_events": ["event_id"]}
# (table, old unique constraint, new unique constraint, columns)
UNIQUES = [
    ("partners", "uq_partners_key", "uq_partners_team_id_key", ["key"]),
    ("members", "uq_members_user_id", "uq_members_team_id_user_id", ["user_id"]),
    ("measures", "uq_measures_key", "uq_measures_team_id_key", ["key"]),
    ("skips", "uq_skips_measure_id_partner_id_period",
     "uq_skips_team_id_measure_id_partner_id_period", ["measure_id", "partner_id", "period"]),
    ("reminder_deliveries", "uq_reminder_deliveries_dedupe_key",
     "uq_reminder_deliveries_team_id_dedupe_key", ["dedupe_key"]),
    ("wins", "uq_wins_channel_id_message_ts", "uq_wins_team_id_channel_id_message_ts",
     ["channel_id", "message_ts"]),
    ("digests", "uq_digests_week_attempt", "uq_digests_team_id_week_attempt",
     ["week", "attempt"]),
]
# (table, old index, new index, columns, partial on is_current)
INDEXES = [
    ("reports", "uq_reports_current", "uq_reports_current",
     ["measure_id", "partner_id", "period"], True),
    ("reports", "ix_reports_measure_period", "ix_reports_measure_period",
     ["measure_id", "period"], False),
    ("reminder_deliveries", "ix_reminder_deliveries_user_id",
     "ix_reminder_deliveries_team_id_user_id", ["user_id"], False),
    ("wins", "ix_wins_posted_at", "ix_wins_team_id_posted_at", ["posted_at"], False),
    ("commitments", "uq_commitments_current", "uq_commitments_current", ["partner_id"], True),
    ("commitments", "ix_commitments_signed_at", "ix_commitments_team_id_signed_at",
     ["signed_at"], False),
    ("voices", "ix_voices_created_at", "ix_voices_team_id_created_at", ["created_at"], False),
    ("deferred_events", "ix_deferred_events_next_attempt_at",
     "ix_deferred_events_team_id_next_attempt_at", ["next_attempt_at"], False),
]


def upgrade() -> None:
    for table, _ in TABLES:
        _add_team_id(table)
    op.create_index("ix_measure_partners_team_id", "measure_partners", ["team_id"])
    bind = op.get_bind()
    for team_id, rows_of in _old_tenants(bind):
        _copy_tenant(bind, team_id, rows_of)
    if bind.dialect.name == "postgresql":
        for table in SERIAL:
            bind.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))


def _add_team_id(table: str) -> None:
    uniques = [u for u in UNIQUES if u[0] == table]
    indexes = [i for i in INDEXES if i[0] == table]
    for _, old, _, _, _ in indexes:
        op.drop_index(old, table_name=table)
    with op.batch_alter_table(table, recreate="auto") as batch:
        batch.add_column(sa.Column("team_id", sa.String(32), nullable=False, server_default=""))
        for _, old, new, columns in uniques:
            batch.drop_constraint(old, type_="unique")
            batch.create_unique_constraint(new, ["team_id", *columns])
        if table in NATURAL_KEYS:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", ["team_id", *NATURAL_KEYS[table]])
    with op.batch_alter_table(table) as batch:
        batch.alter_column("team_id", existing_type=sa.String(32), server_default=None)
    for _, _, new, columns, partial in indexes:
        where: dict[str, Any] = ({"sqlite_where": sa.text("is_current"),
                                  "postgresql_where": sa.text("is_current")} if partial else {})
        op.create_index(new, table, ["team_id", *columns], unique=new.startswith("uq_"),
                        **where)


# --- the old tenants ----------------------------------------------------------------------

RowsOf = Any  # copy(table, team_id, {column: id shift}): one old tenant's rows, copied in


def _old_tenants(bind: sa.Connection) -> Iterator[tuple[str, RowsOf]]:
    """(team id, a copier of that tenant's rows by table) for every old tenant."""
    if bind.dialect.name == "postgresql":
        schemas = bind.execute(sa.text(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ws\\_%' ORDER BY 1")
        ).scalars().all()
        for schema in schemas:
            yield schema[3:].upper(), _postgres_reader(bind, schema)
        return
    database = bind.engine.url.database or ""
    if database in ("", ":memory:"):
        return
    main = Path(database)
    for path in sorted(main.parent.glob(f"{main.stem}.ws_*{main.suffix}")):
        team = path.name[len(main.stem) + len(".ws_"):-len(main.suffix) or None]
        yield team.upper(), _sqlite_reader(path)


def _postgres_reader(bind: sa.Connection, schema: str) -> RowsOf:
    """Copies in SQL (INSERT … SELECT), so every value keeps its type."""
    def copy(table: str, team_id: str, shifts: dict[str, int]) -> None:
        exists = bind.execute(sa.text("SELECT to_regclass(:name)"),
                              {"name": f'"{schema}".{table}'}).scalar()
        if exists is None:
            return
        old = set(bind.execute(sa.text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = :schema AND table_name = :table"),
            {"schema": schema, "table": table}).scalars())
        columns = [c for c in _columns(bind, table) if c in old]
        picked = [f'"{c}" + {shifts[c]}' if c in shifts else f'"{c}"' for c in columns]
        names = ", ".join(f'"{c}"' for c in columns)
        bind.execute(sa.text(
            f'INSERT INTO {table} ({names}, team_id) '
            f'SELECT {", ".join(picked)}, :team FROM "{schema}".{table}'), {"team": team_id})
    return copy


def _sqlite_reader(path: Path) -> RowsOf:
    """Reads the old file on a connection of its own (ATTACH cannot run inside the
    migration's transaction) and inserts the stored values as they are."""
    def copy(table: str, team_id: str, shifts: dict[str, int]) -> None:
        bind = op.get_bind()
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = source.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                   "AND name = ?", (table,)).fetchone()
            if found is None:
                return
            cursor = source.execute(f'SELECT * FROM "{table}"')
            old = [c[0] for c in cursor.description]
            rows = cursor.fetchall()
        finally:
            source.close()
        if not rows:
            return
        columns = [c for c in _columns(bind, table) if c in old]
        target = sa.table(table, *[sa.column(c) for c in [*columns, "team_id"]])
        copied = []
        for row in rows:
            values = dict(zip(old, row, strict=True))
            record = {c: values[c] + shifts[c] if c in shifts and values[c] is not None
                      else values[c] for c in columns}
            record["team_id"] = team_id
            copied.append(record)
        bind.execute(target.insert(), copied)
    return copy


def _columns(bind: sa.Connection, table: str) -> list[str]:
    return [c["name"] for c in sa.inspect(bind).get_columns(table) if c["name"] != "team_id"]


def _copy_tenant(bind: sa.Connection, team_id: str, copy: RowsOf) -> None:
    offsets = {table: int(bind.execute(sa.text(f"SELECT coalesce(max(id), 0) FROM {table}"))
                          .scalar() or 0) for table in SERIAL}
    for table, foreign in TABLES:
        shifts = {column: offsets[referenced] for column, referenced in foreign.items()}
        if table in SERIAL:
            shifts["id"] = offsets[table]
        copy(table, team_id, shifts)
