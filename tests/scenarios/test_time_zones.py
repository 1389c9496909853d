"""Members' time zones: from Slack at most once a day per person (a failure counts), or
from Slack's `user_change` event, cached in the database; the reminder tick reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from bot.emulator.sandbox import Sandbox
from bot.reminders.timezones import member_zones
from storage.models import Measure, MeasurePartner, Member, Partner, SlackUser
from tests.support.reminders import reminder_dms, set_reminders, tick
from tests.support.world import PEOPLE

OTHERS = {user: tz for user, (_, tz) in PEOPLE.items() if user != "U0CCC"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# November's reminders are due on 2 December at 09:00 local time. Between 19:00Z on the
# 1st (09:00 at UTC+14) and 21:00Z on the 2nd (09:00 at UTC-12) whether one is due depends
# on the member's zone, so the tick needs every zone then.
DAY_2 = at("2026-12-02T03:00")  # 12:00 in Tokyo, 21:00 on the 1st in Chicago


def users_info_calls(sandbox: Sandbox) -> list[str]:
    return [str(call.params["user"]) for call in sandbox.emulator.calls_to("users.info")]


def cache(sandbox: Sandbox, zones: dict[str, str], fetched_at: datetime) -> None:
    with sandbox.store.session() as session:
        session.execute(insert(SlackUser), [
            {"user_id": user, "tz": tz, "is_bot": False, "fetched_at": fetched_at}
            for user, tz in zones.items()])


def cached(sandbox: Sandbox, user: str) -> SlackUser:
    with sandbox.store.session() as session:
        row = session.scalar(select(SlackUser).where(SlackUser.user_id == user))
        assert row is not None
        return row


def add_members(sandbox: Sandbox, count: int, per_partner: int = 100) -> list[str]:
    """`count` members on partners of `per_partner`, all owing one monthly measure:
    written straight into the database (an import of that size takes minutes)."""
    users = [f"U1{n:07d}" for n in range(count)]
    with sandbox.store.session() as session:
        measure = Measure(key="served", name="Families served", unit="families",
                          cadence="monthly", aggregate="sum", position=99)
        partners = [Partner(key=f"bulk-{n:04d}", name=f"Bulk partner {n}", position=100 + n)
                    for n in range(0, count, per_partner)]
        session.add_all([measure, *partners])
        session.flush()
        session.execute(insert(MeasurePartner), [
            {"measure_id": measure.id, "partner_id": p.id} for p in partners])
        session.execute(insert(Member), [
            {"partner_id": partners[n // per_partner].id, "user_id": user}
            for n, user in enumerate(users)])
    return users


def test_a_tick_for_10000_members_asks_slack_nothing_while_the_cached_zones_are_fresh(
        sandbox: Sandbox) -> None:
    set_reminders(sandbox.store, reminder_day=2)
    members = add_members(sandbox, 10_000)
    fresh = DAY_2 - timedelta(hours=20)
    cache(sandbox, {user: "America/Chicago" for user in members}, fresh)
    cache(sandbox, {user: tz for user, (_, tz) in PEOPLE.items()}, fresh)

    first = tick(sandbox, DAY_2)
    asked_first = users_info_calls(sandbox)
    with sandbox.store.session() as session:  # one member's answer turns a day old
        session.execute(update(SlackUser).where(SlackUser.user_id == members[7])
                        .values(fetched_at=DAY_2 - timedelta(days=1, minutes=1)))
    tick(sandbox, DAY_2 + timedelta(minutes=5))

    assert asked_first == []
    # Every one of them was in question (09:00 had passed somewhere on Earth), and in
    # Chicago it had not: none was due.
    assert "U0BBB" in [dm.user_id for dm in first.planned]  # in Tokyo it had
    assert set(members).isdisjoint(dm.user_id for dm in first.planned)
    assert users_info_calls(sandbox) == [members[7]]  # the zones were consulted: one was old


def test_a_user_change_event_updates_the_zone_the_next_reminder_uses(sandbox: Sandbox) -> None:
    set_reminders(sandbox.store, reminder_day=2)
    cache(sandbox, {"U0CCC": "America/Los_Angeles"}, at("2026-12-01T12:00"))

    tick(sandbox, at("2026-12-02T01:00"))  # 17:00 on the 1st in Los Angeles: not yet
    before = reminder_dms(sandbox, "U0CCC")
    reply = sandbox.driver.user_change("U0CCC", tz="Asia/Tokyo")  # Cy moved to Tokyo
    sandbox.settle()
    tick(sandbox, at("2026-12-02T01:05"))  # 10:05 on the 2nd in Tokyo

    assert reply.status == 200 and before == []
    (dm,) = reminder_dms(sandbox, "U0CCC")
    assert "2026-11" in dm["text"]
    row = cached(sandbox, "U0CCC")
    assert (row.tz, row.lookup_error) == ("Asia/Tokyo", None)
    assert "U0CCC" not in users_info_calls(sandbox)  # the event said it; Slack was not asked


def test_a_user_change_event_for_someone_not_yet_cached_adds_them(sandbox: Sandbox) -> None:
    sandbox.driver.user_change("U0DDD", tz="America/Halifax", real_name="Dee Family-Smith")
    sandbox.driver.event({"type": "user_change", "user": {"name": "no id"}})
    sandbox.settle()

    row = cached(sandbox, "U0DDD")
    assert (row.tz, row.real_name) == ("America/Halifax", "Dee Family-Smith")
    with sandbox.store.session() as session:
        assert session.scalars(select(SlackUser.user_id)).all() == ["U0DDD"]


def test_a_stale_zone_is_fetched_once_and_not_again_the_same_day(sandbox: Sandbox) -> None:
    set_reminders(sandbox.store, reminder_day=2)
    cache(sandbox, OTHERS, at("2026-12-02T00:00"))
    cache(sandbox, {"U0CCC": "America/Los_Angeles"}, at("2026-11-29T12:00"))  # days old

    asked = []
    for when in ("2026-12-01T19:05", "2026-12-01T21:00", "2026-12-02T08:00",
                 "2026-12-02T16:55", "2026-12-02T19:10"):
        tick(sandbox, at(when))
        asked.append(users_info_calls(sandbox).count("U0CCC"))

    # Asked at 19:05 on the 1st, then not until that answer was a day old.
    assert asked == [1, 1, 1, 1, 2]
    assert len(users_info_calls(sandbox)) == 2
    assert cached(sandbox, "U0CCC").fetched_at == at("2026-12-02T19:10")
    (dm,) = reminder_dms(sandbox, "U0CCC")  # at 11:10 in Los Angeles, not before 09:00
    assert "2026-11" in dm["text"]


def test_a_failed_look_up_is_remembered_and_not_retried_the_same_day(sandbox: Sandbox) -> None:
    set_reminders(sandbox.store, reminder_day=2)
    cache(sandbox, OTHERS, at("2026-12-02T00:00"))
    sandbox.emulator.fail_next("users.info", status=200, error="user_not_found")

    for when in ("2026-12-01T19:05", "2026-12-01T19:10", "2026-12-02T14:00"):
        tick(sandbox, at(when))
    failed = cached(sandbox, "U0CCC")
    same_day = users_info_calls(sandbox)
    a_day_later = member_zones(sandbox.store, sandbox.services.client(), ["U0CCC"],
                               at("2026-12-02T19:10"), ZoneInfo("America/Chicago"))

    assert same_day == ["U0CCC"]
    assert (failed.tz, failed.lookup_error) == (None, "user_not_found")
    assert failed.fetched_at == at("2026-12-01T19:05")
    assert a_day_later == {"U0CCC": ZoneInfo("America/Los_Angeles")}
    assert users_info_calls(sandbox) == ["U0CCC", "U0CCC"]
    assert cached(sandbox, "U0CCC").lookup_error is None
