"""Migration 0017 (annual cadence, SPEC §9): `initiative.fiscal_year_start` is added with 1
(calendar years) for an initiative that already exists, and taken away again on downgrade,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from storage.db import alembic_config, make_engine, upgrade
from tests.support.databases import empty_database_url

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database_url(request.param, tmp_path, "m17") as found:
        yield found


def _columns(engine: sa.Engine) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns("initiative")}


def test_0017_adds_fiscal_year_start_as_calendar_years_and_takes_it_away(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine, "0014")
        assert "fiscal_year_start" not in _columns(engine)
        initiative = sa.Table("initiative", sa.MetaData(), autoload_with=engine)
        with engine.begin() as c:
            c.execute(initiative.insert().values(
                team_id="T0HEALTH", id=1, name="Healthy Starts", agenda="", timezone="UTC",
                admins=[], reminder_day=1, reminder_time="09:00", nudge_after_days=3,
                max_nudges=2, digest_weekday=4, digest_time="15:00", win_emoji=[],
                win_threshold=1, updated_at=NOW))

        upgrade(engine, "0017")
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT fiscal_year_start FROM initiative")).scalar() == 1
            c.execute(sa.text("UPDATE initiative SET fiscal_year_start = 7"))
            c.commit()

        command.downgrade(alembic_config(engine), "0014")
        assert "fiscal_year_start" not in _columns(engine)
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT name FROM initiative")).scalar() == "Healthy Starts"

        upgrade(engine)  # and up again to the head
        assert "fiscal_year_start" in _columns(engine)
    finally:
        engine.dispose()
