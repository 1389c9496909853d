"""Intros' pure rules: `initiative.connect` as written in initiative.yml, when rounds fall,
and who is paired with whom."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.connect.rules import Person, pair, rounds_around
from bot.initiative.file import InitiativeFileError, parse_initiative
from tests.support.world import EXAMPLE

CHICAGO = ZoneInfo("America/Chicago")


def _with_connect(line: str) -> str:
    return EXAMPLE.read_text().replace("  timezone: America/Chicago",
                                       f"  connect: {line}\n  timezone: America/Chicago", 1)


def test_connect_is_read_with_its_defaults_and_bad_values_name_their_key() -> None:
    spec = parse_initiative(_with_connect("{every: month}"))
    assert spec.connect == {"every": "month", "week": 1, "weekday": 1, "time": "10:00"}
    assert parse_initiative(EXAMPLE.read_text()).connect is None

    for bad, path in (("{every: daily}", "initiative.connect.every"),
                      ("{every: month, week: 5}", "initiative.connect.week"),
                      ("{week: 1}", "initiative.connect"),
                      ("{every: week, weekday: someday}", "initiative.connect.weekday"),
                      ("{every: week, colour: red}", "initiative.connect")):
        with pytest.raises(InitiativeFileError) as raised:
            parse_initiative(_with_connect(bad))
        assert path in str(raised.value), bad


def test_a_monthly_round_falls_on_the_chosen_weekday_of_the_chosen_week() -> None:
    config = {"every": "month", "week": 2, "weekday": 3, "time": "09:30"}
    current, following = rounds_around(config, CHICAGO, datetime(2026, 11, 20, tzinfo=UTC))
    assert (current.key, current.at) == ("2026-11", datetime(2026, 11, 12, 9, 30,
                                                              tzinfo=CHICAGO))
    assert (following.key, following.at) == ("2026-12", datetime(2026, 12, 10, 9, 30,
                                                                  tzinfo=CHICAGO))
    weekly = {"every": "week", "week": 1, "weekday": 0, "time": "08:00"}
    current, following = rounds_around(weekly, CHICAGO, datetime(2026, 12, 31, tzinfo=UTC))
    assert (current.key, following.key) == ("2026-W53", "2027-W01")


def test_pairs_share_measures_first_never_repeat_the_last_round_nor_a_partner() -> None:
    ana, ben = Person("A", 1, frozenset({10, 11})), Person("B", 1, frozenset({10}))
    cy, dee = Person("C", 2, frozenset({10})), Person("D", 3, frozenset({11}))
    eve = Person("E", 4, frozenset())

    def pairs(made: list[tuple[Person, Person, frozenset[int]]]) -> list[str]:
        return [a.user_id + b.user_id for a, b, _ in made]

    first = pair([ana, ben, cy, dee, eve], set())
    assert pairs(first) == ["AC", "BD"]  # a shared measure first; Ben then with Dee
    assert [shared for _, _, shared in first] == [frozenset({10}), frozenset()]
    again = pair([ana, ben, cy, dee, eve], {frozenset("AC"), frozenset("BD")})
    assert pairs(again) == ["AD", "BC"]  # Ana and Ben never together: one partner
