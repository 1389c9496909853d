"""Every table is either scoped to one workspace, and then no session of another workspace
can read, change, delete or write into its rows, or global on purpose (with the reason)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import delete, func, insert, select, update

from storage.calendar_models import Action
from storage.db import Store
from storage.models import Base, Measure, Partner, Question
from storage.tenancy import tenant
from storage.types import UTCDateTime
from tests.support.tenants import GLOBAL_TABLES, tenant_models

TEAM_A, TEAM_B = "T0ALPHA", "T0BRAVO"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MODELS = tenant_models()


def test_every_table_is_tenant_scoped_or_global_for_a_stated_reason() -> None:
    scoped = {model.__tablename__ for model in MODELS}
    for name in Base.metadata.tables:
        assert (name in scoped) != (name in GLOBAL_TABLES), name
    assert len(scoped) >= 16


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__tablename__)
def test_every_unique_key_of_a_tenant_table_starts_with_the_workspace(model: Any) -> None:
    table = model.__table__
    assert table.c.team_id.nullable is False
    keys = [list(c.columns.keys()) for c in table.constraints
            if isinstance(c, sa.UniqueConstraint)]
    keys += [[c.name for c in index.columns] for index in table.indexes if index.unique]
    for key in keys:
        assert key[0] == "team_id", (table.name, key)
    primary = [c for c in table.primary_key.columns]
    # A primary key is either the workspace and a name, or surrogate integer ids.
    assert ("team_id" in [c.name for c in primary]
            or all(isinstance(c.type, sa.Integer) for c in primary)), table.name


def _value(column: sa.Column[Any], n: int, parents: dict[str, int]) -> Any:
    for fk in column.foreign_keys:
        return parents[fk.column.table.name]
    if isinstance(column.type, UTCDateTime):
        return NOW
    if isinstance(column.type, sa.JSON):
        return []
    if isinstance(column.type, sa.Enum):
        return column.type.enums[0]
    python = column.type.python_type
    if python is bool:
        return False  # is_current false: no partial unique index in the way
    if python in (int, float):
        return python(n)
    if python is date:
        return date(2026, 11, 2)
    return str(n)


def _values(model: Any, n: int, parents: dict[str, int]) -> dict[str, Any]:
    """Every column of a row of `model` but its generated id, foreign keys to `parents`."""
    return {c.key: _value(c, n, parents) for c in model.__table__.columns
            if c.key != "team_id" and not ((c.primary_key and c.autoincrement is True)
                                           or (c is model.__table__.c.get("id")
                                           and c.autoincrement == "auto"
                                           and len(model.__table__.primary_key.columns) == 1))}


def _parents(store: Store, n: int) -> dict[str, int]:
    with store.session() as session:
        partner = Partner(key=f"p{n}", name="P")
        measure = Measure(key=f"m{n}", name="M")
        question = Question(asker_id="U0ASKER", text="What works?", created_at=NOW)
        session.add_all([partner, measure, question])
        session.flush()
        action = Action(title="A", owner_id="U0AAA", created_by="U0AAA", created_at=NOW,
                        updated_at=NOW)
        session.add(action)
        session.flush()
        return {"partners": partner.id, "measures": measure.id, "questions": question.id,
                "actions": action.id}


def _count(store: Store, model: Any) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _raw_team_ids(store: Store, model: Any) -> list[str]:
    with store.engine.connect() as connection:
        return sorted(connection.execute(select(model.__table__.c.team_id)).scalars())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__tablename__)
def test_no_session_of_another_workspace_reads_changes_or_deletes_a_row(
        store: Store, model: Any) -> None:
    with tenant(TEAM_A):
        row = _values(model, 1, _parents(store, 1))
        with store.session() as session:
            created = model(**row)
            session.add(created)
            session.flush()
            identity = sa.inspect(created).identity
    table = model.__table__
    mutable = next((c for c in table.columns
                    if not c.primary_key and not c.foreign_keys and c.key != "team_id"),
                   table.c.team_id)

    with tenant(TEAM_B), store.session() as session:
        assert session.scalars(select(model)).all() == []
        assert session.get(model, identity) is None
        changed = session.execute(update(model).values({mutable.key: _value(mutable, 7, {})}))
        gone = session.execute(delete(model))
        assert (changed.rowcount, gone.rowcount) == (0, 0)  # type: ignore[attr-defined]

    # A session of B that names A as the row's workspace still writes into B.
    with tenant(TEAM_B):
        with store.session() as session:
            session.add(model(**{**_values(model, 2, _parents(store, 2)), "team_id": TEAM_A}))
        with store.session() as session:
            session.execute(insert(model).values(
                **{**_values(model, 3, _parents(store, 3)), "team_id": TEAM_A}))

    extra = int(model in (Partner, Measure, Question, Action))  # _parents makes one of each
    teams = _raw_team_ids(store, model)
    assert (teams.count(TEAM_A), teams.count(TEAM_B)) == (1 + extra, 2 + 2 * extra), teams
    with tenant(TEAM_A), store.session() as session:
        assert session.get(model, identity) is not None
        if mutable is not table.c.team_id:
            assert getattr(session.get(model, identity), mutable.key) == row[mutable.key]
