"""The App Home, as partner members, non-members and admins see it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.agenda.commitments import CommitmentInput, record_commitment
from bot.emulator import view_problems
from bot.emulator.sandbox import Sandbox
from handlers.home import publish_home
from storage.models import Measure, MeasurePartner, Partner, Skip, Win
from tests.support.records import add_report
from tests.support.world import ADMIN, NOW


def open_home(sandbox: Sandbox, user: str) -> dict[str, Any]:
    reply = sandbox.driver.app_home_opened(user)
    sandbox.settle()
    assert reply.status == 200
    home = sandbox.emulator.home_views[user]
    assert view_problems(home) == []
    assert len(home["blocks"]) <= 100
    return home


def action_ids(view: dict[str, Any]) -> list[str]:
    out = []
    for block in view["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if "action_id" in element:
                out.append(element["action_id"])
    return out


def shown(view: dict[str, Any]) -> str:
    return str(view["blocks"])


def partner_id(sandbox: Sandbox, key: str) -> int:
    with sandbox.store.session() as session:
        found = session.scalar(select(Partner.id).where(Partner.key == key))
        assert found is not None
        return found


def measure_id(sandbox: Sandbox, key: str) -> int:
    with sandbox.store.session() as session:
        found = session.scalar(select(Measure.id).where(Measure.key == key))
        assert found is not None
        return found


def test_partner_member_sees_what_the_partner_owes_with_report_buttons(sandbox: Sandbox) -> None:
    add_report(sandbox.store, "county-health", "home-visits", "2026-10", NOW, 40)

    home = open_home(sandbox, "U0AAA")

    ids = action_ids(home)
    # Lake County Health owes October's prenatal visits and Q3's low-birthweight…
    assert "report_open:prenatal-visits" in ids
    assert "report_open:low-birthweight" in ids
    # …but has reported home visits, and does not report the diaper bank at all.
    assert "report_open:home-visits" not in ids
    assert "report_open:diaper-bank" not in ids
    text = shown(home)
    assert "Lake County Health Dept" in text
    assert "First-trimester prenatal visits* for 2026-10 — *overdue* since Sun 8 Nov" in text
    assert "Low-birthweight births* for 2026-Q3 — *overdue* since Thu 8 Oct" in text
    assert "✓ reported: Families enrolled in home visiting (2026-10)" in text
    assert "commit_open" in ids
    assert "Reporting completeness" not in text
    assert "not on a partner" not in text


def test_report_button_carries_the_measure_for_the_report_modal(sandbox: Sandbox) -> None:
    home = open_home(sandbox, "U0CCC")

    (button,) = [b["accessory"] for b in home["blocks"]
                 if (b.get("accessory") or {}).get("action_id", "").startswith("report_open")]
    assert button == {**button, "action_id": "report_open:prenatal-visits",
                      "value": "prenatal-visits"}


def test_partner_that_reported_everything_is_all_caught_up(sandbox: Sandbox) -> None:
    add_report(sandbox.store, "clinic-north", "prenatal-visits", "2026-10", NOW, 70)

    home = open_home(sandbox, "U0CCC")

    assert not [a for a in action_ids(home) if a.startswith("report_open")]
    assert "All caught up" in shown(home)


def test_home_shows_measure_progress_recent_wins_and_the_agenda(sandbox: Sandbox) -> None:
    add_report(sandbox.store, "county-health", "prenatal-visits", "2026-09", NOW, 60)
    add_report(sandbox.store, "county-health", "prenatal-visits", "2026-10", NOW, 68)
    add_report(sandbox.store, "clinic-north", "prenatal-visits", "2026-10", NOW, 72)
    with sandbox.store.session() as session:
        session.add(Win(source="command", author_id="U0DDD", text="100th family enrolled!",
                        status="posted", created_at=NOW, posted_at=NOW,
                        permalink="https://impact.slack.com/archives/C0WINS/p1"))
        session.add(Win(source="reaction", author_id="U0CCC", text="still awaiting consent",
                        status="pending", created_at=NOW))

    home = open_home(sandbox, "U0DDD")

    text = shown(home)
    # avg of 68 and 72 = 70: (70 - 61) / (80 - 61) of the way from baseline to target.
    assert ("First-trimester prenatal visits*: 70% (2026-10, 2 of 2 partners) · target 80% · "
            "47% of the way") in text
    # The change is county-health's alone (60 → 68): it says so.
    assert "↑ better (like for like: 1 of 2 partners)" in text
    assert "Families enrolled in home visiting*: no reports yet" in text
    assert "100th family enrolled!" in text and "<@U0DDD>" in text
    assert "still awaiting consent" not in text
    assert "Every child in Lake County is born healthy" in text
    assert "0 of 4 partners have committed" in text


def test_commit_button_disappears_once_the_partner_has_committed(sandbox: Sandbox) -> None:
    with sandbox.store.session() as session:
        record_commitment(session, partner_id(sandbox, "county-health"),
                          CommitmentInput("staff", "", "", True), "U0BBB", NOW)

    home = open_home(sandbox, "U0AAA")

    assert "commit_open" not in action_ids(home)
    assert "Lake County Health Dept committed on 10 Nov 2026" in shown(home)
    assert "1 of 4 partners have committed" in shown(home)


def test_non_member_sees_how_to_join_and_no_buttons(sandbox: Sandbox) -> None:
    home = open_home(sandbox, "U0OUTSIDER")

    text = shown(home)
    assert "You are not on a partner yet" in text
    assert "<@U0BACKBONE1>" in text and "initiative.yml" in text
    assert action_ids(home) == []
    assert "Reporting completeness" not in text
    assert "Measure progress" in text  # everyone may follow the initiative


def test_admin_sees_the_reporting_completeness_panel(sandbox: Sandbox) -> None:
    add_report(sandbox.store, "clinic-north", "prenatal-visits", "2026-10", NOW, 70)
    add_report(sandbox.store, "county-health", "home-visits", "2026-10", NOW, 40)
    with sandbox.store.session() as session:
        session.add(Skip(measure_id=measure_id(sandbox, "low-birthweight"),
                         partner_id=partner_id(sandbox, "county-health"), period="2026-Q3",
                         reason="data late", skipped_by="U0AAA", skipped_at=NOW))

    home = open_home(sandbox, ADMIN)

    text = shown(home)
    # (United Way owes diapers and the example's postpartum check-ups.)
    assert "Reporting completeness* (admins) — 3 of 7 reports in" in text
    assert "✅ North Clinic: 1/1 reported" in text
    assert "⏳ Lake County Health Dept: 1/3 reported, 1 skipped" in text
    assert "⏳ Family Connects Home Visiting: 0/1 reported" in text
    assert "You are not on a partner yet" in text  # the admin reports for no partner
    assert not [a for a in action_ids(home) if a.startswith("report_open")]


def test_home_is_not_published_for_the_messages_tab(sandbox: Sandbox) -> None:
    sandbox.driver.event({"type": "app_home_opened", "user": "U0AAA", "channel": "D0AAA",
                          "tab": "messages"})
    sandbox.settle()

    assert sandbox.emulator.calls_to("views.publish") == []


def test_publish_home_refreshes_the_view_after_a_change(sandbox: Sandbox) -> None:
    open_home(sandbox, "U0CCC")
    add_report(sandbox.store, "clinic-north", "prenatal-visits", "2026-10", NOW, 70)

    assert publish_home(sandbox.services, sandbox.services.client(), "U0CCC")

    assert "All caught up" in shown(sandbox.emulator.home_views["U0CCC"])


def test_home_without_an_initiative_says_so(bare_sandbox: Sandbox) -> None:
    home = open_home(bare_sandbox, "U0AAA")

    assert "No initiative is set up" in shown(home)


def test_a_large_initiative_still_fits_in_one_home_view(sandbox: Sandbox) -> None:
    health = partner_id(sandbox, "county-health")
    with sandbox.store.session() as session:
        for n in range(60):
            measure = Measure(key=f"extra-{n}", name=f"Extra measure number {n} " + "x" * 80,
                              unit="", cadence="weekly", aggregate="sum", position=100 + n,
                              baseline=0, target=10)
            session.add(measure)
            session.flush()
            session.add(MeasurePartner(measure_id=measure.id, partner_id=health))
        for n in range(30):
            session.add(Partner(key=f"extra-partner-{n}", name=f"Extra partner {n}",
                                position=100 + n))

    for user in ("U0AAA", ADMIN):
        home = open_home(sandbox, user)
        assert len(home["blocks"]) <= 100


def test_home_follows_the_clock_into_the_next_period(sandbox: Sandbox) -> None:
    add_report(sandbox.store, "clinic-north", "prenatal-visits", "2026-10", NOW, 70)
    sandbox.clock.advance(timedelta(days=25))  # 5 December: November is now owed

    home = open_home(sandbox, "U0CCC")

    assert "report_open:prenatal-visits" in action_ids(home)
    assert "for 2026-11 — due Tue 8 Dec" in shown(home)


def test_reporting_refreshes_the_partners_opened_home_tabs(sandbox: Sandbox) -> None:
    open_home(sandbox, "U0AAA")
    open_home(sandbox, "U0BBB")
    sandbox.emulator.clear_calls()

    sandbox.driver.command("U0AAA", "report prenatal-visits 72")
    sandbox.settle()

    published = {call.params["user_id"]: call.params["view"]
                 for call in sandbox.emulator.calls_to("views.publish")}
    assert set(published) == {"U0AAA", "U0BBB"}  # the reporter and their partner colleague
    for view in (published["U0AAA"], published["U0BBB"]):
        actions = json.dumps(view)
        assert "report_open:home-visits" in actions  # still owed
        assert "report_open:prenatal-visits" not in actions  # just reported
