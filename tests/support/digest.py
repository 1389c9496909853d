"""The week a digest is built from: months of reports, a skip, wins, a commitment, voice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from storage.db import Store
from storage.models import Commitment, Measure, Partner, Report, Skip, Voice, Win
from tests.support.records import ids


def report_row(session: Session, measure: int, partner: int, period: str, value: float,
               at: datetime, user: str = "U0AAA") -> None:
    """A report row by ids, at a given time (the seed needs many)."""
    session.add(Report(measure_id=measure, partner_id=partner, period=period, value=value,
                       reported_by=user, reported_at=at, source="slash"))


def seed_week(store: Store) -> None:
    """Six months of reports, a skip, wins, a commitment and community voice."""
    with store.session() as session:
        m = ids(session, Measure)
        p = ids(session, Partner)
        early = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
        for i, month in enumerate(["2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]):
            at = datetime(2026, 6 + i, 3, 15, 0, tzinfo=UTC)
            report_row(session, m["prenatal-visits"], p["county-health"], month, 62 + 2 * i, at)
            report_row(session, m["prenatal-visits"], p["clinic-north"], month, 60 + 2 * i, at)
            report_row(session, m["home-visits"], p["county-health"], month, 70 + 5 * i, at)
            report_row(session, m["home-visits"], p["family-connects"], month, 80 + 5 * i, at)
        # October: North Clinic has not reported prenatal visits.
        report_row(session, m["prenatal-visits"], p["county-health"], "2026-10", 74, early)
        report_row(session, m["home-visits"], p["county-health"], "2026-10", 100, early)
        report_row(session, m["home-visits"], p["family-connects"], "2026-10", 110, early)
        # Low-birthweight is a "down" measure: falling is better.
        report_row(session, m["low-birthweight"], p["county-health"], "2026-Q2", 9.0,
                datetime(2026, 7, 2, 15, tzinfo=UTC))
        report_row(session, m["low-birthweight"], p["county-health"], "2026-Q3", 8.6,
                datetime(2026, 10, 2, 15, tzinfo=UTC))
        for week, value in (("2026-W42", 300), ("2026-W43", 350), ("2026-W44", 420)):
            report_row(session, m["diaper-bank"], p["united-way"], week, value,
                    datetime(2026, 10, 20, tzinfo=UTC), user="U0EEE")
        session.add(Skip(measure_id=m["diaper-bank"], partner_id=p["united-way"],
                         period="2026-W45", reason="warehouse closed for inventory",
                         skipped_by="U0EEE", skipped_at=early))

        this_week = datetime(2026, 11, 11, 16, 0, tzinfo=UTC)
        session.add_all([
            Win(source="reaction", channel_id="C0GENERAL", message_ts="1.1", author_id="U0CCC",
                partner_id=p["clinic-north"], text="Opened a Saturday prenatal clinic!",
                permalink="https://impact.slack.com/archives/C0GENERAL/p1000001",
                status="posted", created_at=this_week, posted_at=this_week,
                posted_channel="C0WINS", posted_ts="2.2"),
            Win(source="command", author_id="U0DDD", partner_id=p["family-connects"],
                text="100th family enrolled", status="posted", created_at=this_week,
                posted_at=this_week + timedelta(hours=2), posted_channel="C0WINS",
                posted_ts="2.3"),
            Win(source="reaction", channel_id="C0GENERAL", message_ts="1.2", author_id="U0AAA",
                text="Last week's win", status="posted", created_at=early, posted_at=early,
                posted_channel="C0WINS", posted_ts="2.1"),
            Win(source="reaction", channel_id="G0PRIVATE", message_ts="1.3", author_id="U0BBB",
                text="Awaiting consent", status="pending", created_at=this_week),
        ])
        session.add(Commitment(partner_id=p["family-connects"], activities="Monthly home "
                               "visits for every enrolled family", resources="two nurses",
                               signed_agenda=True, signed_by="U0DDD", signed_at=this_week))
        session.add_all([Voice(text=f"voice {i}", created_at=this_week, counted_at=this_week)
                         for i in range(3)])
        session.add(Voice(text="old voice", created_at=early, counted_at=early))
