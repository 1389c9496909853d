"""Actions (SPEC §11) through signed requests: added, listed, updated and closed; the owner's
reminder DMs at 09:00 in their own zone, each once, through the due-work scheduler."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.actions.remind import run_action_reminders
from bot.actions.view import EVENT_TYPE
from bot.emulator.sandbox import Sandbox
from bot.runtime import due_work, scheduler
from storage.calendar_models import Action, ActionDelivery, ActionUpdate
from tests.support.rba import ephemeral_reply as command
from tests.support.world import ADMIN

JOB = "action-reminders"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def action_dms(sandbox: Sandbox, user: str) -> list[dict[str, Any]]:
    return [m for m in sandbox.emulator.messages_to_user(user)
            if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE]


def next_due(sandbox: Sandbox) -> datetime | None:
    with sandbox.store.engine.connect() as connection:
        table = due_work.TABLE
        return connection.execute(select(table.c.due_at).where(table.c.job == JOB)).scalar()


def run_scheduler_at(sandbox: Sandbox, instant: datetime) -> None:
    sandbox.clock.set(instant)
    scheduler.run_due_now(sandbox.services, only={JOB})


def snapshot(sandbox: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    with sandbox.store.session() as session:
        rows = [tuple(r) for r in session.execute(
            select(Action.id, Action.title, Action.owner_id, Action.due_date, Action.status,
                   Action.measure_id).order_by(Action.id))]
        return rows, int(session.scalar(select(func.count()).select_from(ActionUpdate)) or 0)


def test_owners_in_tokyo_and_los_angeles_are_reminded_at_nine_their_time_once_each(
        sandbox: Sandbox) -> None:
    tokyo = command(sandbox, "U0AAA", "action add Draft the referral MOU <@U0BBB> "
                                      "due 2026-11-20 for prenatal-visits")
    assert "Added action #" in tokyo["text"] and "<@U0BBB>" in tokyo["text"]
    command(sandbox, "U0CCC", "action add Book the community hall due 2026-11-20")
    with sandbox.store.session() as session:
        ids = {owner: number for number, owner in session.execute(
            select(Action.id, Action.owner_id))}
    run_scheduler_at(sandbox, sandbox.clock.now())  # zones looked up and cached

    # Each wake-up is the next 09:00 in one owner's zone; nothing arrives in between.
    expected = [
        (at("2026-11-17T00:00"), "U0BBB", "is due in 3 days"),   # 09:00 JST, 17 Nov
        (at("2026-11-17T17:00"), "U0CCC", "is due in 3 days"),   # 09:00 PST, 17 Nov
        (at("2026-11-20T00:00"), "U0BBB", "is due today"),
        (at("2026-11-20T17:00"), "U0CCC", "is due today"),
        # Overdue once, then weekly: each falls on a Saturday, and the example works Monday
        # to Friday, so each waits for Monday at 09:00 (SPEC §11).
        (at("2026-11-23T17:00"), "U0CCC", "still open"),
        (at("2026-11-30T17:00"), "U0CCC", "still open"),
        (at("2026-12-07T17:00"), "U0CCC", "still open"),
        (at("2026-12-14T17:00"), "U0CCC", "still open"),
    ]
    received = {"U0BBB": 0, "U0CCC": 0}
    for instant, owner, words in expected:
        assert next_due(sandbox) == instant
        run_scheduler_at(sandbox, instant)
        received[owner] += 1
        dms = action_dms(sandbox, owner)
        assert len(dms) == received[owner]
        assert words in dms[-1]["text"] and f"#{ids[owner]}" in dms[-1]["text"]
        # A second scheduler (or `impactbot tick`) at the same instant sends nothing.
        run_action_reminders(sandbox.services, sandbox.services.client(), instant)
        run_scheduler_at(sandbox, instant)
        assert len(action_dms(sandbox, "U0BBB")) == received["U0BBB"]
        assert len(action_dms(sandbox, "U0CCC")) == received["U0CCC"]
        if instant == at("2026-11-20T00:00"):  # Tokyo's owner presses "Mark done"
            sandbox.driver.block_action("U0BBB", "action_done", value=str(ids["U0BBB"]))
            sandbox.settle()
            assert next_due(sandbox) is not None and next_due(sandbox) < instant  # due now
            run_scheduler_at(sandbox, instant)

    assert next_due(sandbox) is None  # the overdue nudges are capped at 4; the other is done
    run_scheduler_at(sandbox, at("2027-01-31T00:00"))
    assert received == {"U0BBB": 2, "U0CCC": 6}
    assert len(action_dms(sandbox, "U0BBB")) == 2 and len(action_dms(sandbox, "U0CCC")) == 6
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(ActionDelivery)) == 8
        done = session.get(Action, ids["U0BBB"])
        assert done is not None and done.status == "done"


def test_bad_input_gets_one_ephemeral_reason_and_changes_nothing(sandbox: Sandbox) -> None:
    command(sandbox, "U0AAA", "action add Share the intake form <@U0BBB> due 2026-11-30")
    before = snapshot(sandbox)
    (number,) = {row[0] for row in before[0]}
    cases = {
        "action add Call the clinics <@U0OUTSIDER>": "not on a partner or the backbone team",
        "action add Call the clinics due 2026-11-01": "is in the past",
        "action add Call the clinics due 2026-02-30": "not a day in the calendar",
        "action add Call the clinics due next-ish": "could not read the due date",
        "action add Call the clinics for no-such-measure": "no measure 'no-such-measure'",
        f"action done {number}": "only they, their partner's members and the backbone team",
        f"action {number} I took it over": "only they, their partner's members",
        "action done 99999": "no action '99999'",
    }
    for text, reason in cases.items():
        answer = command(sandbox, "U0DDD", text)
        assert reason in answer["text"], (text, answer["text"])
        assert snapshot(sandbox) == before
    assert action_dms(sandbox, "U0BBB") == []


def test_the_owners_partner_and_admins_may_update_and_everyone_sees_the_log(
        sandbox: Sandbox) -> None:
    command(sandbox, "U0BBB", "action add Map the referral paths due 2026-12-01 "
                              "for home-visits")
    (number,) = {row[0] for row in snapshot(sandbox)[0]}
    assert "now doing" in command(sandbox, "U0AAA", f"action {number} Sent the draft to "
                                                    "the clinics")["text"]
    mine = command(sandbox, "U0BBB", "actions")
    assert "Sent the draft to the clinics" in str(mine["blocks"])
    assert "Map the referral paths" in str(command(sandbox, "U0OUTSIDER", "actions home-visits")
                                           ["blocks"])
    assert "is done" in command(sandbox, ADMIN, f"action done {number}")["text"]
    assert "none" in command(sandbox, "U0BBB", "actions all")["text"]
    with sandbox.store.session() as session:
        log = list(session.execute(select(ActionUpdate.user_id, ActionUpdate.status,
                                          ActionUpdate.text).order_by(ActionUpdate.id)))
    assert [tuple(r) for r in log] == [("U0AAA", "doing", "Sent the draft to the clinics"),
                                       (ADMIN, "done", "")]


def test_the_app_home_lists_mine_and_its_modal_adds_one(sandbox: Sandbox) -> None:
    sandbox.driver.app_home_opened("U0CCC")
    sandbox.settle()
    home = sandbox.emulator.home_views["U0CCC"]
    assert "Your actions" in str(home["blocks"])
    sandbox.driver.block_action("U0CCC", "action_open", view=home)
    sandbox.settle()
    modal = sandbox.driver.last_view("views.open")
    assert modal["callback_id"] == "action_add"

    bad = sandbox.driver.view_submission("U0CCC", modal, {
        "title": {"title": {"type": "plain_text_input", "value": "Walk-in clinic flyer"}},
        "due": {"due": {"type": "datepicker", "selected_date": "2026-02-30"}}})
    sandbox.settle()
    assert bad.json is not None and "not a day in the calendar" in bad.json["errors"]["due"]
    assert snapshot(sandbox)[0] == []

    sandbox.driver.view_submission("U0CCC", modal, {
        "title": {"title": {"type": "plain_text_input", "value": "Walk-in clinic flyer"}},
        "owner": {"owner": {"type": "users_select", "selected_user": "U0CCC"}},
        "due": {"due": {"type": "datepicker", "selected_date": "2026-11-24"}},
        "measure": {"measure": {"type": "static_select",
                                "selected_option": {"value": "prenatal-visits"}}}})
    sandbox.settle()
    (row,) = snapshot(sandbox)[0]
    assert row[1:5] == ("Walk-in clinic flyer", "U0CCC", datetime(2026, 11, 24).date(), "open")
    assert "Walk-in clinic flyer" in str(sandbox.emulator.home_views["U0CCC"]["blocks"])


def test_the_digest_lists_done_this_week_due_next_week_and_overdue(sandbox: Sandbox) -> None:
    command(sandbox, "U0AAA", "action add Print the clinic flyers due 2026-11-18")
    command(sandbox, "U0CCC", "action add Call the pediatricians due 2026-11-11")
    command(sandbox, "U0DDD", "action add Update the intake form")
    command(sandbox, "U0EEE", "action add Ask the county for data due 2026-12-20")
    rows = snapshot(sandbox)[0]
    done = next(r[0] for r in rows if r[2] == "U0DDD")
    command(sandbox, "U0DDD", f"action done {done}")
    sandbox.clock.set(at("2026-11-13T18:00"))  # Friday, in the week of 9 November

    preview = command(sandbox, ADMIN, "digest")
    shown = str(preview["blocks"])
    section = shown[shown.index("*Actions*"):]
    done_part, _, rest = section.partition("📅 Due next week (1)")
    due_part, _, late_part = rest.partition("⏰ Overdue (1)")
    assert "✅ Done this week (1)" in done_part and "Update the intake form" in done_part
    assert "Print the clinic flyers" in due_part and "Call the pediatricians" not in due_part
    assert "Call the pediatricians" in late_part.split("💬")[0]
    assert "Ask the county for data" not in section


def test_a_measures_page_lists_the_open_actions_toward_it(sandbox: Sandbox) -> None:
    command(sandbox, "U0AAA", "action add Draft the referral MOU due 2026-11-20 "
                              "for prenatal-visits")
    command(sandbox, "U0CCC", "action add Book the community hall due 2026-11-20")

    page = json.dumps(command(sandbox, "U0DDD", "measures prenatal-visits"))
    other = json.dumps(command(sandbox, "U0DDD", "measures home-visits"))

    assert "Actions toward this measure" in page and "Draft the referral MOU" in page
    assert "Book the community hall" not in page  # linked to no measure
    assert "No open actions toward this measure" in other
    assert "Draft the referral MOU" not in other
