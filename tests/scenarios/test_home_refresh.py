"""After a report, opened App Home tabs are refreshed in the background: only those of
people who opened theirs, once however many reports came in, never before the reporter
is told, and with a request path whose cost does not grow with the partner's size."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert, select

from bot.emulator.sandbox import Sandbox
from bot.runtime import scheduler
from storage.models import HomeViewer, Member, Partner
from tests.support.world import NOW

HEALTH = ("U0AAA", "U0BBB")  # Lake County Health's members


def open_homes(sandbox: Sandbox, *users: str) -> None:
    for user in users:
        assert sandbox.driver.app_home_opened(user).status == 200
    sandbox.settle()
    sandbox.emulator.clear_calls()


def published(sandbox: Sandbox) -> list[str]:
    return [call.params["user_id"] for call in sandbox.emulator.calls_to("views.publish")]


def confirmations(sandbox: Sandbox) -> list[str]:
    return [str(p.payload.get("text") or "") for p in sandbox.emulator.response_posts]


def listeners_done(sandbox: Sandbox) -> None:
    """Every listener Bolt ran after the acks has finished (the background work has not:
    the sandbox's worker waits for `settle()`)."""
    sandbox.executor.wait_idle()


@contextmanager
def counting_statements(sandbox: Sandbox) -> Iterator[list[str]]:
    seen: list[str] = []
    lock = threading.Lock()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        with lock:
            seen.append(statement)

    event.listen(sandbox.store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(sandbox.store.engine, "before_cursor_execute", count)


def test_a_report_refreshes_only_the_opened_homes_after_the_reporter_is_told(
        sandbox: Sandbox) -> None:
    open_homes(sandbox, "U0AAA", "U0CCC")  # U0BBB, also of Lake County Health, never did

    sandbox.driver.command("U0BBB", "report prenatal-visits 72")
    listeners_done(sandbox)
    told, early = confirmations(sandbox), published(sandbox)
    sandbox.settle()

    assert len(told) == 1 and told[0].startswith("Recorded 72%")
    assert early == []  # nothing was published on the threads that confirmed the report
    assert published(sandbox) == ["U0AAA"]  # not U0BBB (never opened), not U0CCC (other partner)
    view = json.dumps(sandbox.emulator.home_views["U0AAA"])
    assert "report_open:home-visits" in view and "report_open:prenatal-visits" not in view
    with sandbox.store.session() as session:
        assert session.scalars(select(HomeViewer.stale_since)).all() == [None, None]


def test_several_reports_in_quick_succession_publish_each_open_home_once(
        sandbox: Sandbox) -> None:
    open_homes(sandbox, *HEALTH)

    for report in ("prenatal-visits 70", "home-visits 140", "prenatal-visits 71"):
        assert sandbox.driver.command("U0AAA", f"report {report}").status == 200
    sandbox.settle()

    assert len(confirmations(sandbox)) == 3
    assert sorted(published(sandbox)) == sorted(HEALTH)
    for user in HEALTH:  # the one refresh shows all three
        view = json.dumps(sandbox.emulator.home_views[user])
        assert "report_open:prenatal-visits" not in view
        assert "report_open:home-visits" not in view


def test_a_200_member_partner_report_costs_the_request_path_what_a_2_member_one_does(
        sandbox: Sandbox) -> None:
    open_homes(sandbox, *HEALTH)
    sandbox.driver.command("U0AAA", "report low-birthweight 8.2")  # warms every cache
    sandbox.settle()

    def report(text: str) -> tuple[int, list[str]]:
        sandbox.emulator.clear_calls()
        with counting_statements(sandbox) as statements:
            sandbox.driver.command("U0AAA", f"report {text}")
            listeners_done(sandbox)
            told = confirmations(sandbox)
        assert len(told) == 1 and told[0].startswith("Recorded"), told
        assert published(sandbox) == []  # none before, nor on the confirming threads
        return len(statements), told

    small, _ = report("prenatal-visits 70")
    sandbox.settle()
    extra = [f"U0M{n:05d}" for n in range(198)]
    viewers = extra[:10]
    with sandbox.store.session() as session:
        health = session.scalar(select(Partner.id).where(Partner.key == "county-health"))
        session.execute(insert(Member), [{"partner_id": health, "user_id": u} for u in extra])
    for user in viewers:
        sandbox.emulator.add_user(user, real_name=f"Member {user}")
    open_homes(sandbox, *viewers)

    large, _ = report("home-visits 150")
    sandbox.settle()

    assert small == large, (small, large)
    assert small <= 25
    assert sorted(published(sandbox)) == sorted([*HEALTH, *viewers])  # each once, no one else


def test_the_scheduled_tick_refreshes_what_no_background_worker_did(sandbox: Sandbox) -> None:
    from bot.home.refresh import mark_partner_stale

    open_homes(sandbox, *HEALTH)
    # A report whose process stopped before its background refresh ran: only the marks.
    mark_partner_stale(sandbox.store, "county-health", "U0AAA", NOW)

    scheduler.run_due_now(sandbox.services, only={"home-refresh"})
    scheduler.run_due_now(sandbox.services, only={"home-refresh"})

    assert sorted(published(sandbox)) == sorted(HEALTH)


def test_a_home_slack_could_not_take_is_refreshed_by_the_next_tick(sandbox: Sandbox) -> None:
    open_homes(sandbox, "U0AAA")
    sandbox.emulator.fail_next("views.publish", status=200, error="service_unavailable")

    sandbox.driver.command("U0AAA", "report prenatal-visits 72")
    sandbox.settle()
    with sandbox.store.session() as session:
        still_stale = session.scalar(select(HomeViewer.stale_since))
    scheduler.run_due_now(sandbox.services, only={"home-refresh"})

    assert still_stale is not None
    assert published(sandbox) == ["U0AAA", "U0AAA"]  # refused once, then taken
    assert "report_open:prenatal-visits" not in json.dumps(sandbox.emulator.home_views["U0AAA"])


def test_opening_the_messages_tab_does_not_make_anyone_a_home_viewer(sandbox: Sandbox) -> None:
    sandbox.driver.event({"type": "app_home_opened", "user": "U0AAA", "channel": "D0AAA",
                          "tab": "messages"})
    sandbox.driver.command("U0AAA", "report prenatal-visits 72")
    sandbox.settle()

    assert published(sandbox) == []
    with sandbox.store.session() as session:
        assert session.scalars(select(HomeViewer.user_id)).all() == []
