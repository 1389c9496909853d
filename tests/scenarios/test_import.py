"""`impactbot import`: a broken file changes nothing; a valid file applied twice is a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from bot.cli.main import main
from storage.db import Store
from storage.models import Base, Measure, Member, Partner
from tests.support.world import EXAMPLE


def _snapshot(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of ours, to prove an import changed nothing."""
    out = {}
    with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(text(f'SELECT * FROM "{table.name}" ORDER BY 1')).all()
            out[table.name] = [tuple(row) for row in rows]
    return out


def test_importing_the_example_twice_changes_nothing_the_second_time(
        cli_env: str, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(EXAMPLE)]) == 0
    first = _snapshot(store)
    assert main(["import", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out

    assert _snapshot(store) == first
    assert "Nothing to change" in out
    with store.session() as session:
        assert session.scalars(select(Partner.key).order_by(Partner.position)).all() == [
            "county-health", "clinic-north", "family-connects", "united-way"]
        assert len(session.scalars(select(Measure)).all()) == 6
        assert session.scalar(select(Member.partner_id).where(Member.user_id == "U0CCC"))


BROKEN = {
    "unknown partner reference": (
        "clinic-north]", "clinic-south]",
        "measures[0].partners[1]: unknown partner 'clinic-south'"),
    "bad time zone": (
        "timezone: America/Chicago", "timezone: America/Gotham",
        "initiative.timezone: expected an IANA time zone"),
    "duplicate partner key": (
        "key: clinic-north,", "key: county-health,",
        "partners[1].key: duplicate partner key 'county-health'"),
    "unknown key": (
        "    cadence: monthly                # weekly",
        "    colour: blue\n    cadence: monthly                # weekly",
        "measures[0].colour: unknown key"),
    "channel that is not a Slack id": (
        "wins: C0WINS}", "wins: '#wins'}",
        "initiative.channels.wins: expected a Slack channel id"),
    "duplicate YAML key": (
        "  timezone: America/Chicago", "  timezone: America/Chicago\n  timezone: UTC",
        "duplicate key 'timezone'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_initiative_file_exits_2_naming_the_key_and_writes_nothing(
        case: str, cli_env: str, store: Store, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(EXAMPLE)]) == 0
    before = _snapshot(store)
    old, new, expected = BROKEN[case]
    source = EXAMPLE.read_text()
    assert old in source
    broken = tmp_path / "initiative.yml"
    broken.write_text(source.replace(old, new, 1))
    capsys.readouterr()

    assert main(["import", str(broken)]) == 2

    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("impactbot: initiative.yml: ")
    assert expected in err
    assert "Traceback" not in err
    assert _snapshot(store) == before


def test_import_into_an_empty_database_creates_every_table(cli_env: str, store: Store) -> None:
    assert main(["import", str(EXAMPLE)]) == 0
    tables = set(inspect(store.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
