"""Migration 0005: from a database per workspace (PostgreSQL schemas `ws_<team>`, SQLite
files `<stem>.ws_<team>.db`) to shared tables. Three workspaces' data, laid out the old way
by the old migrations, each lands in its own workspace with its relations intact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from storage.db import Store, make_engine, upgrade
from storage.models import Commitment, Member, Partner, ReminderDelivery, Report, Win
from storage.tenancy import schema_name, tenant
from tests.support.databases import empty_database_url

TEAMS = ["T0HEALTH", "T0SCHOOL", "T0PARKS"]
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_layout(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL; PostgreSQL: a scratch database of its own."""
    with empty_database_url(request.param, tmp_path, "m5") as url:
        yield url


def _old_tenant(url: str, team: str) -> sa.Engine:
    """What `Store.provision` did before 0005: a schema or a file at revision 0004."""
    main = make_engine(url)
    if main.dialect.name == "postgresql":
        upgrade(main, "0004", schema=schema_name(team))
        return main.execution_options(schema_translate_map={None: schema_name(team)})
    path = Path(main.url.database or "")
    main.dispose()
    engine = make_engine(f"sqlite:///{path.with_name(f'{path.stem}.{schema_name(team)}.db')}")
    upgrade(engine, "0004")
    return engine


def _fill(engine: sa.Engine, n: int) -> None:
    """The same keys in every workspace (what the old layout allowed), values that differ."""
    meta = sa.MetaData()
    schema = (engine.get_execution_options().get("schema_translate_map") or {}).get(None)
    tables = {name: sa.Table(name, meta, autoload_with=engine, schema=schema)
              for name in ("initiative", "partners", "measures", "members", "measure_partners",
                           "reports", "wins", "commitments", "reminder_deliveries",
                           "slack_users", "pauses")}
    t = tables
    with engine.begin() as c:
        c.execute(t["initiative"].insert().values(
            id=1, name=f"Initiative {n}", agenda="", timezone="UTC", admins=[], reminder_day=1,
            reminder_time="09:00", nudge_after_days=3, max_nudges=2, digest_weekday=4,
            digest_time="15:00", win_emoji=[], win_threshold=1, updated_at=NOW))
        # Ids as the old tenant numbered them: 1, 2, … in every workspace.
        for pid in (1, 2):
            c.execute(t["partners"].insert().values(id=pid, key=f"partner-{pid}",
                                                    name=f"Partner {pid} of {n}", position=pid,
                                                    active=True))
        c.execute(t["measures"].insert().values(
            id=1, key="visits", name=f"Visits {n}", unit="", direction="up",
            cadence="monthly", aggregate="sum", position=0, active=True))
        c.execute(t["members"].insert().values(id=1, partner_id=2, user_id="U0SAME"))
        c.execute(t["measure_partners"].insert().values(measure_id=1, partner_id=2))
        c.execute(t["reports"].insert().values(
            id=1, measure_id=1, partner_id=2, period="2026-10", value=float(n), note="",
            reported_by="U0SAME", reported_at=NOW, source="slash", is_current=True))
        c.execute(t["wins"].insert().values(
            id=1, source="command", author_id="U0SAME", partner_id=2, text=f"win {n}",
            reactors=[], status="posted", created_at=NOW, channel_id="C0GEN",
            message_ts="1.000"))
        c.execute(t["commitments"].insert().values(
            id=1, partner_id=2, resources=f"r{n}", data="", activities="",
            signed_agenda=True, signed_by="U0SAME", signed_at=NOW, is_current=True))
        c.execute(t["reminder_deliveries"].insert().values(
            id=1, dedupe_key="U0SAME:2026-10:0", user_id="U0SAME", nudge=0, items=[],
            created_at=NOW, attempts=0))
        c.execute(t["slack_users"].insert().values(user_id="U0SAME", tz=f"Zone/{n}",
                                                    is_bot=False, fetched_at=NOW))
        c.execute(t["pauses"].insert().values(user_id="U0SAME", until=NOW, reason="pause",
                                              created_at=NOW))


def test_three_workspaces_move_into_the_shared_tables_with_their_relations(
        old_layout: str) -> None:
    main = make_engine(old_layout)
    upgrade(main, "0004")
    _fill(main, 0)  # single-workspace data in the main database: the default tenant
    for n, team in enumerate(TEAMS, start=1):
        engine = _old_tenant(old_layout, team)
        _fill(engine, n)
        if engine.dialect.name == "sqlite":
            engine.dispose()
    main.dispose()

    store = Store(old_layout)
    store.upgrade()
    for n, team in [(0, None), *enumerate(TEAMS, start=1)]:
        with tenant(team), store.session() as session:
            assert sorted(session.scalars(select(Partner.name))) == [
                f"Partner 1 of {n}", f"Partner 2 of {n}"]
            member = session.scalars(select(Member)).one()
            assert (member.user_id, member.partner.name) == ("U0SAME", f"Partner 2 of {n}")
            report = session.scalars(select(Report)).one()
            assert report.value == float(n)
            assert session.get(Partner, report.partner_id).name == f"Partner 2 of {n}"  # type: ignore[union-attr]
            win = session.scalars(select(Win)).one()
            assert (win.text, session.get(Partner, win.partner_id).name) == (  # type: ignore[union-attr]
                f"win {n}", f"Partner 2 of {n}")
            commitment = session.scalars(select(Commitment)).one()
            assert commitment.resources == f"r{n}"
            assert session.get(Partner, commitment.partner_id).name == f"Partner 2 of {n}"  # type: ignore[union-attr]
            assert session.scalars(select(ReminderDelivery.dedupe_key)).all() == [
                "U0SAME:2026-10:0"]
            zone = session.execute(sa.text(
                "SELECT tz FROM slack_users WHERE team_id = :t"), {"t": team or ""}).scalar()
            assert zone == f"Zone/{n}"
    # New rows get fresh ids after the copied ones (PostgreSQL: sequences were moved on).
    with tenant(TEAMS[0]), store.session() as session:
        session.add(Partner(key="new", name="New"))
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM partners")).scalar() == 9
    store.dispose()


