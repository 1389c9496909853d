"""The reminder plan, directly: who is due which DM at an instant, from plain facts.

No database and no Slack: each test builds a member's obligations, the DMs already sent and
any pause, and asks `plan()` what goes out now. The example initiative's rules apply
(America/Chicago, reminder on day 1 of the collection period at 09:00, a nudge every 3 days,
at most 2 nudges). In 2026 daylight saving ends in Chicago on Sunday 1 November at 02:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.measures.obligations import Obligation
from bot.measures.periods import Cadence, due_date, parse_period
from bot.reminders.plan import Facts, MemberFacts, PlannedDM, Sent, plan, round_key
from storage.models import Initiative, Pause

CHICAGO = "America/Chicago"
TOKYO = "Asia/Tokyo"
BERLIN = "Europe/Berlin"
LOS_ANGELES = "America/Los_Angeles"


def utc(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def initiative(**rules: object) -> Initiative:
    values: dict[str, object] = {"name": "Healthy Starts", "timezone": CHICAGO,
                                 "reminder_day": 1, "reminder_time": "09:00",
                                 "nudge_after_days": 3, "max_nudges": 2}
    values.update(rules)
    return Initiative(**values)


def owes(period: str, measure: str = "prenatal-visits", cadence: Cadence = "monthly",
         status: str = "owed") -> Obligation:
    found = parse_period(cadence, period)
    return Obligation(partner_id=1, partner_key="county-health", measure_id=1,
                      measure_key=measure, measure_name=measure.replace("-", " ").capitalize(),
                      unit="", period=found, due=due_date(found, 1), status=status)


def member(user: str = "U0AAA", *obligations: Obligation,
           sent: dict[str, list[Sent]] | None = None, pause: Pause | None = None) -> MemberFacts:
    return MemberFacts(user, "Lake County Health Dept", list(obligations or [owes("2026-10")]),
                       sent or {}, pause)


def already_sent(user: str, periods: list[str], *times: datetime) -> dict[str, list[Sent]]:
    """The reminder (at times[0]) and the nudges after it, in the round of `periods`."""
    return {round_key(user, periods): [Sent(n, t) for n, t in enumerate(times)]}


class Zones:
    """Slack's answer to "which time zone is this person in", and who was asked."""

    def __init__(self, zones: dict[str, str]) -> None:
        self.zones = {user: ZoneInfo(name) for user, name in zones.items()}
        self.asked: list[str] = []

    def __call__(self, users: list[str]) -> dict[str, ZoneInfo]:
        self.asked += users
        return {u: self.zones[u] for u in users if u in self.zones}


def due_at(now: datetime, *members: MemberFacts, zones: dict[str, str] | None = None,
           rules: Initiative | None = None) -> dict[str, PlannedDM]:
    """The DMs due at `now`, by person (every member in Chicago unless told otherwise)."""
    lookup = Zones(zones or {m.user_id: CHICAGO for m in members})
    due, _ = plan(Facts(rules or initiative(), list(members)), now, lookup)
    assert len({dm.user_id for dm in due}) == len(due), "one DM per person at most"
    return {dm.user_id: dm for dm in due}


def nudge_due(now: datetime, one: MemberFacts, rules: Initiative | None = None) -> int | None:
    """The number of the DM due to this one member at `now` (0 = reminder), or None."""
    dm = due_at(now, one, rules=rules).get(one.user_id)
    return None if dm is None else dm.nudge


# --- the first reminder: after the reminder time, in the member's own zone -----------------


def test_the_reminder_waits_for_nine_in_each_members_own_time_zone() -> None:
    zones = {"U0BBB": TOKYO, "U0DDD": BERLIN, "U0AAA": CHICAGO, "U0CCC": LOS_ANGELES}
    everyone = [member(user) for user in zones]

    def reminded(now: datetime) -> set[str]:
        return set(due_at(now, *everyone, zones=zones))

    # 1 November 00:30 UTC: 09:30 in Tokyo, 01:30 in Berlin, still 31 October in Chicago.
    assert reminded(utc(11, 1, 0, 30)) == {"U0BBB"}
    # 08:00 UTC: 09:00 in Berlin (CET since 25 October).
    assert reminded(utc(11, 1, 8, 0)) == {"U0BBB", "U0DDD"}
    # Chicago has just left daylight saving: 09:00 CST is 15:00 UTC, not 14:00.
    assert reminded(utc(11, 1, 14, 30)) == {"U0BBB", "U0DDD"}
    assert reminded(utc(11, 1, 15, 0)) == {"U0BBB", "U0DDD", "U0AAA"}
    # Los Angeles is two hours behind Chicago: not reminded at Chicago's nine.
    assert reminded(utc(11, 1, 16, 59)) == {"U0BBB", "U0DDD", "U0AAA"}
    assert reminded(utc(11, 1, 17, 0)) == set(zones)


def test_before_the_reminder_day_nobody_is_reminded_whatever_their_zone() -> None:
    tokyo, chicago = member("U0BBB"), member("U0AAA")

    assert due_at(utc(10, 31, 14, 0), tokyo, chicago,
                  zones={"U0BBB": TOKYO, "U0AAA": CHICAGO}) == {}


def test_a_person_slack_has_no_zone_for_is_reminded_at_the_initiatives_time() -> None:
    unknown = member("U0NOBODY")
    lookup = Zones({})
    facts = Facts(initiative(), [unknown])

    assert plan(facts, utc(11, 1, 14, 59), lookup)[0] == []
    (dm,), _ = plan(facts, utc(11, 1, 15, 0), lookup)
    assert dm.user_id == "U0NOBODY"


def test_slack_is_asked_only_about_people_whose_zone_changes_the_answer() -> None:
    lookup = Zones({"U0AAA": CHICAGO, "U0BBB": TOKYO})
    facts = Facts(initiative(), [member("U0AAA"), member("U0BBB")])

    # Days after the reminder time everywhere on Earth: due whatever the zone.
    due, _ = plan(facts, utc(11, 3, 12, 0), lookup)
    assert {dm.user_id for dm in due} == {"U0AAA", "U0BBB"}
    assert lookup.asked == []
    # On the day itself it depends on where each person is.
    plan(facts, utc(11, 1, 3, 0), lookup)
    assert sorted(lookup.asked) == ["U0AAA", "U0BBB"]


# --- what the reminder lists ---------------------------------------------------------------


def test_one_dm_lists_only_what_is_still_owed_with_its_period_and_due_date() -> None:
    ana = member("U0AAA",
                 owes("2026-10", "prenatal-visits"),
                 owes("2026-10", "home-visits", status="reported"),
                 owes("2026-Q3", "low-birthweight", cadence="quarterly"),
                 owes("2026-10", "diaper-bank", status="skipped"))

    dm = due_at(utc(11, 2, 15, 0), ana)["U0AAA"]

    assert dm.nudge == 0
    assert dm.partner_name == "Lake County Health Dept"
    assert [(i.measure_key, i.period, i.due.isoformat()) for i in dm.items] == [
        ("prenatal-visits", "2026-10", "2026-11-08"),
        ("low-birthweight", "2026-Q3", "2026-10-08")]
    assert dm.item_dicts() == [{"measure": "prenatal-visits", "period": "2026-10"},
                               {"measure": "low-birthweight", "period": "2026-Q3"}]


def test_a_partner_that_owes_nothing_gets_no_reminder() -> None:
    done = member("U0CCC", owes("2026-10", status="reported"),
                  owes("2026-10", "home-visits", status="skipped"))

    assert due_at(utc(11, 5), done) == {}


def test_what_is_owed_for_a_period_not_yet_due_is_not_listed() -> None:
    # Just after midnight on Monday 2 November in Chicago, week 44 is the weekly measure's
    # reporting period, but its reminder is at 09:00; October's was due yesterday.
    ana = member("U0AAA", owes("2026-10"), owes("2026-W44", "diaper-bank", cadence="weekly"))

    dm = due_at(utc(11, 2, 7, 0), ana)["U0AAA"]

    assert [i.measure_key for i in dm.items] == ["prenatal-visits"]


def test_the_dedupe_key_names_the_person_the_round_and_the_dm_number() -> None:
    ana = member("U0AAA", owes("2026-10"), owes("2026-Q3", "low-birthweight", "quarterly"))

    first = due_at(utc(11, 2), ana)["U0AAA"]
    again = due_at(utc(11, 2, 6, 0), ana)["U0AAA"]

    assert first.key == again.key == "U0AAA|2026-10+2026-Q3|0"


# --- nudges: every nudge_after_days, at most max_nudges ------------------------------------


def test_no_nudge_before_nudge_after_days_then_one_at_the_same_local_time() -> None:
    reminded = utc(11, 1, 15, 0)
    ana = member(sent=already_sent("U0AAA", ["2026-10"], reminded))

    assert nudge_due(reminded, ana) is None  # the reminder is not sent twice
    assert nudge_due(utc(11, 4, 14, 59), ana) is None
    assert nudge_due(utc(11, 4, 15, 0), ana) == 1
    assert due_at(utc(11, 4, 15, 0), ana)["U0AAA"].key == "U0AAA|2026-10|1"


def test_nudges_stop_at_max_nudges() -> None:
    times = [utc(11, 1, 15), utc(11, 4, 15), utc(11, 7, 15)]

    one = member(sent=already_sent("U0AAA", ["2026-10"], *times[:2]))
    assert nudge_due(utc(11, 7, 15), one) == 2
    both = member(sent=already_sent("U0AAA", ["2026-10"], *times))
    assert nudge_due(utc(11, 10, 15), both) is None
    assert nudge_due(utc(11, 29, 15), both) is None


@pytest.mark.parametrize(("max_nudges", "nudge_after_days", "expected"), [
    (0, 3, [None, None]),
    (1, 3, [1, None]),
    (3, 1, [1, 2]),
])
def test_the_initiatives_nudge_rules_are_followed(max_nudges: int, nudge_after_days: int,
                                                   expected: list[int | None]) -> None:
    rules = initiative(max_nudges=max_nudges, nudge_after_days=nudge_after_days)
    reminded = utc(11, 1, 15)
    after_reminder = member(sent=already_sent("U0AAA", ["2026-10"], reminded))
    every = timedelta(days=nudge_after_days)
    after_first_nudge = member(sent=already_sent("U0AAA", ["2026-10"], reminded,
                                                 reminded + every))

    got = [nudge_due(reminded + every, after_reminder, rules=rules),
           nudge_due(reminded + 2 * every, after_first_nudge, rules=rules)]
    assert got == expected


def test_a_nudge_keeps_the_local_time_across_the_end_of_daylight_saving() -> None:
    # Q3's reminder on 30 October at 09:00 CDT (14:00 UTC); three days later it is CST.
    rules = initiative(reminder_day=30)
    reminded = utc(10, 30, 14, 0)
    ana = member("U0AAA", owes("2026-Q3", "low-birthweight", "quarterly"),
                 sent=already_sent("U0AAA", ["2026-Q3"], reminded))

    assert nudge_due(reminded, member("U0AAA", owes("2026-Q3", "low-birthweight",
                                                    "quarterly")), rules=rules) == 0
    assert nudge_due(utc(11, 2, 14, 30), ana, rules=rules) is None  # 08:30 CST
    assert nudge_due(utc(11, 2, 15, 0), ana, rules=rules) == 1  # 09:00 CST


def test_a_late_reminder_pushes_its_nudge_back_by_nudge_after_days() -> None:
    # The bot was down: the reminder went out on the 3rd instead of the 1st.
    late = utc(11, 3, 20, 0)
    ana = member(sent=already_sent("U0AAA", ["2026-10"], late))

    assert nudge_due(utc(11, 4, 15, 0), ana) is None
    assert nudge_due(utc(11, 6, 19, 59), ana) is None
    assert nudge_due(utc(11, 6, 20, 0), ana) == 1


def test_reporting_everything_stops_the_nudges() -> None:
    reported = member("U0AAA", owes("2026-10", status="reported"),
                      sent=already_sent("U0AAA", ["2026-10"], utc(11, 1, 15)))

    assert nudge_due(utc(11, 4, 15), reported) is None


# --- rounds: a new period starts again, a rollover does not --------------------------------


def test_a_new_period_coming_due_starts_a_new_round_with_a_reminder() -> None:
    october = already_sent("U0AAA", ["2026-10"], utc(11, 1, 15), utc(11, 4, 15), utc(11, 7, 15))
    ana = member("U0AAA", owes("2026-11"), sent=october)

    dm = due_at(utc(12, 1, 15, 0), ana)["U0AAA"]

    assert (dm.nudge, dm.key) == (0, "U0AAA|2026-11|0")
    assert nudge_due(utc(12, 1, 14, 59), ana) is None  # 08:59 in Chicago


def test_a_period_rolling_over_at_midnight_continues_the_round_instead_of_restarting() -> None:
    # The round covered October and Q3, nudges all sent. At midnight on 1 December October
    # gives way to November (whose reminder is at 09:00) while Q3 is still owed.
    sent = already_sent("U0AAA", ["2026-10", "2026-Q3"],
                        utc(11, 1, 15), utc(11, 4, 15), utc(11, 7, 15))
    ana = member("U0AAA", owes("2026-11"), owes("2026-Q3", "low-birthweight", "quarterly"),
                 sent=sent)

    assert nudge_due(utc(12, 1, 6, 30), ana) is None  # 00:30 in Chicago: no extra reminder
    assert nudge_due(utc(12, 1, 15, 0), ana) == 0  # 09:00: November's round begins


def test_a_continued_round_carries_on_with_its_next_nudge() -> None:
    sent = already_sent("U0AAA", ["2026-10", "2026-Q3"], utc(11, 27, 15))
    ana = member("U0AAA", owes("2026-11"), owes("2026-Q3", "low-birthweight", "quarterly"),
                 sent=sent)

    dm = due_at(utc(12, 1, 14, 0), ana)["U0AAA"]  # 08:00: November not yet due

    assert (dm.nudge, dm.key) == (1, "U0AAA|2026-10+2026-Q3|1")
    assert [i.period for i in dm.items] == ["2026-Q3"]


# --- pauses and snoozes --------------------------------------------------------------------


def pause(until: datetime, reason: str = "pause", created: datetime | None = None) -> Pause:
    return Pause(user_id="U0AAA", until=until, reason=reason,
                 created_at=created or until - timedelta(days=1))


def test_a_paused_member_gets_nothing_and_is_reported_as_paused() -> None:
    away = member("U0AAA", pause=pause(utc(11, 20)))
    lookup = Zones({"U0AAA": CHICAGO})

    due, paused = plan(Facts(initiative(), [away, member("U0CCC")]), utc(11, 2), lookup)

    assert [dm.user_id for dm in due] == ["U0CCC"]
    assert paused == ["U0AAA"]
    assert "U0AAA" not in lookup.asked


def test_a_paused_member_is_reminded_once_the_pause_ends() -> None:
    away = member("U0AAA", pause=pause(utc(11, 20)))

    assert nudge_due(utc(11, 19, 23, 59), away) is None
    assert nudge_due(utc(11, 20), away) == 0


def test_a_pause_naive_from_sqlite_is_read_as_utc() -> None:
    away = member("U0AAA", pause=pause(datetime(2026, 11, 20)))

    assert nudge_due(utc(11, 19, 23), away) is None
    assert nudge_due(utc(11, 20, 1), away) == 0


def test_a_snooze_holds_the_next_dm_until_it_ends_even_before_the_nudge_is_due() -> None:
    reminded = utc(11, 1, 15)
    snoozed = member(sent=already_sent("U0AAA", ["2026-10"], reminded),
                     pause=pause(utc(11, 2, 16), "snooze", created=utc(11, 1, 16)))

    assert nudge_due(utc(11, 2, 15, 59), snoozed) is None
    assert nudge_due(utc(11, 2, 16), snoozed) == 1  # the nudge was not due until the 4th


def test_a_snooze_asked_for_after_the_last_nudge_still_brings_one_more_dm() -> None:
    times = [utc(11, 1, 15), utc(11, 4, 15), utc(11, 7, 15)]
    snoozed = member(sent=already_sent("U0AAA", ["2026-10"], *times),
                     pause=pause(utc(11, 8, 16), "snooze", created=utc(11, 7, 16)))

    assert nudge_due(utc(11, 8, 16), snoozed) == 3


def test_a_snooze_from_before_the_last_dm_does_not_lift_the_nudge_limit() -> None:
    times = [utc(11, 1, 15), utc(11, 4, 15), utc(11, 7, 15)]
    stale = member(sent=already_sent("U0AAA", ["2026-10"], *times),
                   pause=pause(utc(11, 3, 16), "snooze", created=utc(11, 2, 16)))

    assert nudge_due(utc(11, 9, 16), stale) is None


def test_a_pause_that_ended_does_not_count_as_a_snooze() -> None:
    times = [utc(11, 1, 15), utc(11, 4, 15), utc(11, 7, 15)]
    back = member(sent=already_sent("U0AAA", ["2026-10"], *times),
                  pause=pause(utc(11, 8, 16), "pause", created=utc(11, 7, 16)))

    assert nudge_due(utc(11, 9, 16), back) is None
