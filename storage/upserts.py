"""Insert-or-update by primary key in one statement, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert(session: Session, model: Any, values: dict[str, Any],
           update: Collection[str]) -> None:
    """INSERT the row, or on a primary-key conflict UPDATE the `update` columns to the new
    values (`INSERT … ON CONFLICT … DO UPDATE`): no read first, and two writers racing on
    one key both succeed. The session stamps the row's workspace (storage/db.py)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values)
    keys = [column.name for column in model.__table__.primary_key.columns]
    session.execute(statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in update}))


def insert_new(session: Session, model: Any, values: dict[str, Any],
               key: Collection[str]) -> bool:
    """INSERT the row unless one with the same unique `key` exists (`ON CONFLICT DO
    NOTHING`); True when it was inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(insert(model).values(**values)
                             .on_conflict_do_nothing(index_elements=list(key)))
    return bool(getattr(result, "rowcount", 0) == 1)
