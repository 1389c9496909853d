"""Issue 15, finding 4 (SPEC §9 "A new initiative is not failing"): `initiative.start`
(default: the day of the first import); on the start day partners still owe the last
complete period, but it is not overdue until a week after the start; engagement counts only
what fell due after the start; the first scheduled digest is the first full week's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from storage.models import Initiative
from tests.support.rba import reply
from tests.support.world import (
    ADMIN,
    BACKBONE,
    EXAMPLE,
    NOW,
    import_example,
    import_without_start,
)


@pytest.fixture
def fresh(bare_sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    """The example initiative imported for the first time today (Tuesday 2026-11-10),
    without an explicit start."""
    import_without_start(bare_sandbox.store, tmp_path)
    return bare_sandbox


def _tick(sandbox: Sandbox, at: datetime) -> None:
    from bot.runtime import scheduler

    sandbox.clock.set(at)
    scheduler.run_due_now(sandbox.services, only={"digest-tick"})


def _digests(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [m for m in sandbox.emulator.bot_messages(BACKBONE)
            if not m.get("upload") and m.get("thread_ts") in (None, m["ts"])]


def test_the_start_defaults_to_the_day_of_the_first_import_and_stays(
        fresh: Sandbox, tmp_path: Path) -> None:
    with fresh.store.session() as session:
        assert session.scalar(select(Initiative.start)) == date(2026, 11, 10)
    # A later import (the file unchanged) keeps the day the initiative started.
    result = import_example(fresh.store, NOW + timedelta(days=30), tmp_path / "initiative.yml")
    assert not result.changed
    with fresh.store.session() as session:
        assert session.scalar(select(Initiative.start)) == date(2026, 11, 10)


def test_on_the_start_day_the_last_period_is_owed_but_not_overdue(fresh: Sandbox) -> None:
    text = reply(fresh, "U0AAA", "status")["text"]

    assert "prenatal-visits for 2026-10, due Tue 17 Nov" in text
    assert "overdue" not in text


def test_a_new_initiatives_digest_counts_nothing_from_before_it_existed(
        fresh: Sandbox) -> None:
    preview = reply(fresh, ADMIN, "digest")
    shown = str(preview["blocks"])

    assert "0/100" not in shown
    assert "owed reports on time" not in shown
    assert "nothing has fallen due yet since the initiative started (10 Nov 2026)" in shown


def test_no_catch_up_digest_before_the_first_full_week(fresh: Sandbox) -> None:
    # Friday 2026-11-13 15:00 Chicago is the digest time of the start week: not posted.
    _tick(fresh, datetime(2026, 11, 13, 21, 0, tzinfo=UTC))
    _tick(fresh, datetime(2026, 11, 15, 23, 0, tzinfo=UTC))
    assert _digests(fresh) == []

    # The first full week (Monday 2026-11-16): posted on its Friday, once.
    _tick(fresh, datetime(2026, 11, 20, 20, 59, tzinfo=UTC))
    assert _digests(fresh) == []
    _tick(fresh, datetime(2026, 11, 20, 21, 0, tzinfo=UTC))
    _tick(fresh, datetime(2026, 11, 20, 21, 5, tzinfo=UTC))
    assert len(_digests(fresh)) == 1


def test_an_explicit_start_is_read_quoted_or_not(bare_sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "initiative.yml"
    path.write_text(EXAMPLE.read_text().replace("start: 2026-01-01", 'start: "2026-03-02"'))
    import_example(bare_sandbox.store, path=path)

    with bare_sandbox.store.session() as session:
        assert session.scalar(select(Initiative.start)) == date(2026, 3, 2)
