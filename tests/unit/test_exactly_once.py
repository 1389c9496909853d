"""The claim-and-lease rules of bot/exactly_once.py, on an in-memory SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from bot.exactly_once import (
    WINDOW_MARGIN,
    Ledger,
    find_marked,
    marker,
    post_marked,
    take_lease,
)
from storage.models import Base, Digest

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)
DIGESTS = Ledger(Digest, Digest.id, Digest.lease_until, Digest.posted_at.is_(None),
                 key=("team_id", "week", "attempt"))
WEEK = Digest.week == "2026-W45"


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://", poolclass=StaticPool,
                           connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine, tables=[Digest.__table__])  # type: ignore[list-item]
    with Session(engine) as session:
        yield session
    engine.dispose()


def claim(session: Session, now: datetime = NOW) -> int | None:
    """Insert the key with a lease, or take it over: the pattern every caller follows."""
    row_id = DIGESTS.insert(session, {"week": "2026-W45", "attempt": 0, "created_at": now,
                                      "lease_until": now + LEASE})
    if row_id is not None:
        return row_id
    return DIGESTS.take_over(session, WEEK, now=now, length=LEASE)


def lease_of(session: Session) -> datetime | None:
    return session.query(Digest.lease_until).filter(WEEK).scalar()


# --- the lease rule ------------------------------------------------------------------------------


def test_a_free_row_is_leased_and_a_live_lease_is_respected() -> None:
    assert take_lease(None, NOW, LEASE) is not None
    assert take_lease(NOW + timedelta(seconds=1), NOW, LEASE) is None


def test_a_lease_that_ran_out_is_taken_over_and_says_so() -> None:
    taken = take_lease(NOW, NOW, LEASE)  # runs out at `now` exactly: free
    assert taken is not None and taken.taken_over and taken.until == NOW + LEASE
    released = take_lease(None, NOW, LEASE)
    assert released is not None and not released.taken_over


# --- claiming a unique key -----------------------------------------------------------------------


def test_the_first_claim_inserts_and_a_second_is_refused_while_the_lease_lives(
        session: Session) -> None:
    first = claim(session)

    assert first is not None
    assert claim(session, NOW + LEASE - timedelta(seconds=1)) is None
    assert session.query(Digest).count() == 1  # the key is unique: no second row


def test_an_expired_claim_is_taken_over_with_a_new_lease(session: Session) -> None:
    first = claim(session)
    later = NOW + LEASE

    assert claim(session, later) == first
    assert lease_of(session) == later + LEASE


def test_a_recorded_claim_is_never_taken_again(session: Session) -> None:
    row_id = claim(session)

    assert DIGESTS.record(session, Digest.id == row_id, {"posted_at": NOW, "ts": "1.0"})

    assert lease_of(session) is None
    assert claim(session, NOW + 10 * LEASE) is None
    assert not DIGESTS.record(session, Digest.id == row_id, {"posted_at": NOW})  # once only


def test_a_released_claim_is_free_at_once_or_from_its_retry_time(session: Session) -> None:
    row_id = claim(session)
    DIGESTS.release(session, Digest.id == row_id, retry_at=None)
    assert claim(session, NOW) == row_id

    retry_at = NOW + timedelta(minutes=1)
    DIGESTS.release(session, Digest.id == row_id, retry_at=retry_at)
    assert claim(session, NOW + timedelta(seconds=59)) is None
    assert claim(session, retry_at) == row_id


def test_renewing_extends_only_an_open_claim(session: Session) -> None:
    row_id = claim(session)

    assert DIGESTS.renew(session, Digest.id == row_id, NOW + 2 * LEASE)
    assert lease_of(session) == NOW + 2 * LEASE
    DIGESTS.record(session, Digest.id == row_id, {"posted_at": NOW})
    assert not DIGESTS.renew(session, Digest.id == row_id, NOW + 3 * LEASE)


def test_claiming_an_existing_row_by_id(session: Session) -> None:
    row_id = claim(session)
    assert row_id is not None

    assert DIGESTS.claim_row(session, row_id, now=NOW, length=LEASE) is None  # held
    taken = DIGESTS.claim_row(session, row_id, now=NOW + LEASE, length=LEASE)
    assert taken is not None and taken.taken_over
    DIGESTS.record(session, Digest.id == row_id, {"posted_at": NOW})
    assert DIGESTS.claim_row(session, row_id, now=NOW + 9 * LEASE, length=LEASE) is None
    assert DIGESTS.claim_row(session, row_id + 1, now=NOW, length=LEASE) is None  # no row


# --- looking at Slack before acting again ---------------------------------------------------------


class FakeSlack:
    def __init__(self, history: list[dict[str, Any]] | None = None) -> None:
        self.history = history or []
        self.posts: list[dict[str, Any]] = []
        self.reads = 0
        self.asked: list[dict[str, Any]] = []

    def conversations_history(self, **kwargs: Any) -> dict[str, Any]:
        self.reads += 1
        self.asked.append(kwargs)
        return {"messages": self.history}

    def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
        self.posts.append(kwargs)
        return {"channel": kwargs["channel"], "ts": "2.000000"}


def test_a_takeover_finds_the_earlier_post_and_does_not_post_again() -> None:
    slack = FakeSlack([{"ts": "1.000000", "metadata": marker("impact_win", {"win_id": 7})}])

    posted = post_marked(slack, "C0WINS", "impact_win", {"win_id": 7},  # type: ignore[arg-type]
                         {"text": "win"}, look=True, since=NOW)

    assert (posted.ts, posted.found, slack.posts) == ("1.000000", True, [])


def test_a_takeover_that_finds_nothing_posts_with_the_key_in_the_metadata() -> None:
    slack = FakeSlack([{"ts": "1.000000", "metadata": marker("impact_win", {"win_id": 8})}])

    posted = post_marked(slack, "C0WINS", "impact_win", {"win_id": 7},  # type: ignore[arg-type]
                         {"text": "win"}, look=True, since=NOW)

    assert (posted.ts, posted.found) == ("2.000000", False)
    (post,) = slack.posts
    assert post["metadata"] == {"event_type": "impact_win", "event_payload": {"win_id": 7}}


def test_a_fresh_claim_posts_without_reading_the_channel() -> None:
    slack = FakeSlack()

    post_marked(slack, "C0WINS", "impact_win", {"win_id": 7},  # type: ignore[arg-type]
                {"text": "win"}, look=False, since=NOW)

    assert (slack.reads, len(slack.posts)) == (0, 1)
    assert find_marked(slack, "C0WINS", "impact_win", {"win_id": 7},  # type: ignore[arg-type]
                       since=NOW) is None


def test_a_takeover_reads_the_channel_from_the_earlier_claims_start_less_a_margin() -> None:
    lease = take_lease(NOW + LEASE, NOW + LEASE + timedelta(minutes=1), LEASE)
    assert lease is not None and lease.taken_over and lease.since == NOW
    slack = FakeSlack()

    find_marked(slack, "C0WINS", "impact_win", {"win_id": 7},  # type: ignore[arg-type]
                since=lease.since)

    (asked,) = slack.asked
    assert asked["oldest"] == f"{(NOW - WINDOW_MARGIN).timestamp():.6f}"
    fresh = take_lease(None, NOW, LEASE)
    assert fresh is not None and fresh.since is None
