"""When a digest is due and which week it covers, in the initiative's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

DUE = datetime(2026, 11, 13, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(("instant", "tz", "week", "monday"), [
    # Sunday night in Chicago is already Monday in UTC: still the Chicago week.
    (datetime(2026, 11, 16, 5, 59, tzinfo=UTC), "America/Chicago", "2026-W46", date(2026, 11, 9)),
    (datetime(2026, 11, 16, 6, 0, tzinfo=UTC), "America/Chicago", "2026-W47", date(2026, 11, 16)),
    # Monday morning in Tokyo is still Sunday in UTC.
    (datetime(2026, 11, 15, 15, 0, tzinfo=UTC), "Asia/Tokyo", "2026-W47", date(2026, 11, 16)),
    # ISO week 53 and the turn of the year.
    (datetime(2027, 1, 1, 12, 0, tzinfo=UTC), "UTC", "2026-W53", date(2026, 12, 28)),
])
def test_digest_week_is_the_iso_week_in_the_initiatives_time_zone(
        instant: datetime, tz: str, week: str, monday: date) -> None:
    from zoneinfo import ZoneInfo

    from bot.digest.data import iso_week

    found = iso_week(instant, ZoneInfo(tz))
    assert (found.key, found.monday) == (week, monday)
    assert found.start <= instant < found.end
    assert found.end - found.start in (timedelta(days=7), timedelta(days=7, hours=1),
                                       timedelta(days=7, hours=-1))


def test_digest_is_due_at_its_local_weekday_and_time_across_daylight_saving() -> None:
    from bot.digest.data import digest_due
    from storage.models import Initiative

    initiative = Initiative(name="x", timezone="America/Chicago", digest_weekday=4,
                            digest_time="15:00")
    # 30 October 2026 is CDT (UTC-5); 13 November is CST (UTC-6).
    assert digest_due(initiative, datetime(2026, 10, 27, tzinfo=UTC)).astimezone(UTC) == \
        datetime(2026, 10, 30, 20, 0, tzinfo=UTC)
    assert digest_due(initiative, DUE).astimezone(UTC) == DUE
