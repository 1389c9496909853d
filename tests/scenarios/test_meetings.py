"""A monthly meeting cycle (SPEC §11) over clock moves, through signed requests and the
due-work scheduler: agenda requests, items from two partners, the agenda post with what
needs attention and a valid .ics (parsed back), notes with decisions and actions, one DM
per owner; holidays move (or cancel) a meeting as the file says."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from bot.meetings.cycle import run_meetings
from bot.meetings.steps import EVENT_TYPE
from bot.runtime import scheduler
from bot.runtime.errors import UserError
from storage.calendar_models import Action
from storage.models import Initiative
from tests.scenarios.test_due_work import due_rows
from tests.support.world import ADMIN, BACKBONE, EXAMPLE, MEMBERS, import_example

JOB = "meetings"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run_until(sandbox: Sandbox, end: datetime) -> list[datetime]:
    woke = []
    scheduler.run_due_now(sandbox.services, only={JOB})
    while (following := due_rows(sandbox, JOB)[""]) is not None and following <= end:
        woke.append(following)
        sandbox.clock.set(following)
        scheduler.run_due_now(sandbox.services, only={JOB})
    sandbox.clock.set(end)
    return woke


def meeting_dms(sandbox: Sandbox, user: str) -> list[dict[str, Any]]:
    return [m for m in sandbox.emulator.messages_to_user(user)
            if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE]


def channel_posts(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [m for m in sandbox.emulator.bot_messages(BACKBONE)
            if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE]


def command(sandbox: Sandbox, user: str, text: str) -> dict[str, Any]:
    before = len(sandbox.emulator.response_posts)
    sandbox.driver.command(user, text)
    sandbox.settle()
    (post,) = sandbox.emulator.response_posts[before:]
    payload: dict[str, Any] = post.payload
    return payload


def test_a_monthly_steering_committee_from_agenda_request_to_follow_up(
        sandbox: Sandbox) -> None:
    # The example's steering committee meets on the first Thursday: 3 December, 10:00 in
    # Chicago. Agenda requests go out three days ahead (Monday 30 November) at 09:00 in
    # each member's own zone; the agenda the day before at 09:00 in Chicago.
    woke = run_until(sandbox, at("2026-11-30T23:59"))
    assert at("2026-11-30T00:00") in woke and at("2026-11-30T15:00") in woke  # Tokyo, Chicago
    for user in (*MEMBERS, ADMIN):
        (request,) = meeting_dms(sandbox, user)
        assert "Steering committee" in request["text"] and "/impact meeting add" in request["text"]
    assert channel_posts(sandbox) == []

    command(sandbox, "U0AAA", "meeting add Referral backlog at the county clinics")
    command(sandbox, "U0CCC", "meeting add Saturday walk-in hours")
    command(sandbox, "U0CCC", "action add Book the community hall due 2026-12-01")
    command(sandbox, "U0AAA", "report prenatal-visits 50")  # below the baseline of 61
    shown = str(command(sandbox, "U0OUTSIDER", "meeting")["blocks"])
    assert "Thu 3 Dec at 10:00 (America/Chicago)" in shown
    assert "Referral backlog" in shown and "Saturday walk-in hours" in shown

    run_until(sandbox, at("2026-12-02T16:00"))
    (agenda,) = channel_posts(sandbox)
    text = str(agenda["blocks"])
    assert "1. Referral backlog at the county clinics (<@U0AAA>)" in text
    assert "2. Saturday walk-in hours (<@U0CCC>)" in text
    needs = text[text.index("Needs attention"):]
    assert "First-trimester prenatal visits* is below its baseline" in needs
    assert "Overdue: *#" in needs and "Book the community hall" in needs
    assert "is behind on reporting" in needs
    (upload,) = sandbox.emulator.uploaded_files
    assert upload.filename == "steering-2026-12-03.ics" and upload.channel_id == BACKBONE
    calendar = Calendar.from_ical(upload.bytes)
    (event,) = calendar.walk("VEVENT")
    chicago = ZoneInfo("America/Chicago")
    assert event.decoded("dtstart") == datetime(2026, 12, 3, 10, 0, tzinfo=chicago)
    assert event.decoded("dtend") == datetime(2026, 12, 3, 11, 30, tzinfo=chicago)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["America/Chicago"]
    assert "Referral backlog" in str(event["description"])

    posted = len(sandbox.emulator.calls_to("chat.postMessage"))
    run_meetings(sandbox.services, sandbox.services.client(), sandbox.clock.now())  # again
    assert len(sandbox.emulator.calls_to("chat.postMessage")) == posted

    sandbox.clock.set(at("2026-12-03T18:00"))  # noon in Chicago, after the meeting
    sandbox.driver.command(ADMIN, "meeting notes")
    sandbox.settle()
    modal = sandbox.driver.last_view("views.open")
    assert modal["callback_id"] == "meeting_notes"
    values: dict[str, Any] = {
        "notes": {"notes": {"type": "plain_text_input", "value": "Good turnout."}},
        "decisions": {"decisions": {"type": "plain_text_input",
                                    "value": "Open a Saturday clinic\nShare one intake form"}}}
    for n, (title, owner, due) in enumerate([
            ("Draft the Saturday rota", "U0CCC", "2026-12-10"),
            ("Send the intake form to partners", "U0AAA", "2026-12-08"),
            ("Ask the county for the referral data", "U0AAA", None)], 1):
        values[f"action_{n}"] = {f"action_{n}": {"type": "plain_text_input", "value": title}}
        values[f"owner_{n}"] = {f"owner_{n}": {"type": "users_select", "selected_user": owner}}
        if due:
            values[f"due_{n}"] = {f"due_{n}": {"type": "datepicker", "selected_date": due}}
    sandbox.driver.view_submission(ADMIN, modal, values)
    sandbox.settle()

    with sandbox.store.session() as session:
        made = [(a.title, a.owner_id, a.due_date, a.source) for a in session.scalars(
            select(Action).where(Action.meeting_key == "steering").order_by(Action.id))]
    assert made == [("Draft the Saturday rota", "U0CCC", date(2026, 12, 10), "meeting"),
                    ("Send the intake form to partners", "U0AAA", date(2026, 12, 8), "meeting"),
                    ("Ask the county for the referral data", "U0AAA", None, "meeting")]
    (notes,) = [p for p in channel_posts(sandbox) if "Notes" in p["text"]]
    assert "Open a Saturday clinic" in str(notes["blocks"]) and "2 decision(s)" in notes["text"]
    followups = {u: [m for m in meeting_dms(sandbox, u) if "your action" in str(m["blocks"])]
                 for u in ("U0AAA", "U0CCC")}
    assert len(followups["U0AAA"]) == 1 and len(followups["U0CCC"]) == 1
    assert "Send the intake form" in str(followups["U0AAA"][0]["blocks"])
    assert "Ask the county" in str(followups["U0AAA"][0]["blocks"])
    assert "Draft the Saturday rota" in str(followups["U0CCC"][0]["blocks"])


def test_a_meeting_on_a_holiday_moves_or_is_cancelled_as_the_file_says(
        sandbox: Sandbox, tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "holidays: [2026-12-25, 2027-01-01]", "holidays: [2026-12-03, 2027-01-07]")
    variant = tmp_path / "initiative.yml"
    variant.write_text(text, encoding="utf-8")
    import_example(sandbox.store, path=variant)
    shown = str(command(sandbox, "U0AAA", "meeting")["blocks"])
    assert "Fri 4 Dec at 10:00 (America/Chicago)" in shown and "moved from Thu 3 Dec" in shown

    variant.write_text(text.replace("on_holiday: move", "on_holiday: cancel"), encoding="utf-8")
    import_example(sandbox.store, path=variant)
    run_until(sandbox, at("2026-12-03T00:00"))
    (cancelled,) = channel_posts(sandbox)
    assert "Steering committee on Thu 3 Dec is cancelled" in cancelled["text"]
    assert all(meeting_dms(sandbox, user) == [] for user in MEMBERS)  # nobody asked


DATA_GROUP = """  - key: data-group
    name: Data working group
    channel: C0BACKBONE
    schedule: {every: week, weekday: wednesday, time: "14:00", duration_minutes: 60}
    agenda_days_before: 2
    partners: [clinic-north, family-connects]
"""


def test_a_meeting_of_some_partners_asks_and_takes_items_from_its_own_members_only(
        bare_sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "initiative.yml"
    path.write_text(EXAMPLE.read_text().replace("measures:\n", DATA_GROUP + "measures:\n", 1))
    import_example(bare_sandbox.store, path=path)

    run_until(bare_sandbox, at("2026-11-30T23:59"))

    def asked(user: str) -> set[str]:
        return {"data" if "Data working group" in m["text"] else "steering"
                for m in meeting_dms(bare_sandbox, user)}

    # clinic-north (U0CCC), family-connects (U0DDD) and the backbone: both meetings;
    # county-health (U0AAA, U0BBB) and united-way (U0EEE): the steering committee only.
    for user in ("U0CCC", "U0DDD", ADMIN):
        assert asked(user) == {"data", "steering"}, user
    for user in ("U0AAA", "U0BBB", "U0EEE"):
        assert asked(user) == {"steering"}, user

    # Each request names its meeting, so an item reaches the meeting it was asked for.
    (steering_request,) = [m for m in meeting_dms(bare_sandbox, ADMIN)
                           if "Steering committee" in m["text"]]
    assert "`/impact meeting add steering: TEXT`" in steering_request["text"]
    assert "Steering committee on Thu 3 Dec" in command(
        bare_sandbox, ADMIN, "meeting add steering: Budget for 2027")["text"]
    # Without a key, the item goes to the caller's next meeting: the working group meets
    # first (Wed 2 Dec) for its partners; county-health is only in the steering committee.
    assert "Data working group on Wed 2 Dec" in command(
        bare_sandbox, "U0CCC", "meeting add Data-sharing agreement")["text"]
    assert "Steering committee on Thu 3 Dec" in command(
        bare_sandbox, "U0AAA", "meeting add Referral backlog")["text"]
    refused = command(bare_sandbox, "U0AAA", "meeting add data-group: Our numbers")["text"]
    assert "You are not in the data-group meeting" in refused
    assert "Data working group" in command(bare_sandbox, "U0DDD", "meeting")["text"]
    steering = command(bare_sandbox, "U0AAA", "meeting")
    assert "Steering committee" in steering["text"]
    shown = str(steering["blocks"])
    assert "Referral backlog" in shown and "Budget for 2027" in shown
    assert "Data-sharing agreement" not in shown and "Our numbers" not in shown

    # Each agenda names, among the partners behind on reporting, its own partners only:
    # county-health is behind, and in the steering committee alone.
    run_until(bare_sandbox, at("2026-12-02T16:00"))
    agendas = {name: str(p["blocks"]) for p in channel_posts(bare_sandbox)
               for name in ("Data working group", "Steering committee")
               if name in p["text"] and "Needs attention" in str(p["blocks"])}
    assert "*Lake County Health Dept* is behind on reporting" in agendas["Steering committee"]
    assert "Lake County Health Dept" not in agendas["Data working group"]

    # After both: notes for the one just held, or for the one named; members and admins only.
    bare_sandbox.clock.set(at("2026-12-03T18:00"))
    for text, held in (("meeting notes", "steering:2026-12-03"),
                       ("meeting notes data-group", "data-group:2026-12-02")):
        bare_sandbox.driver.command(ADMIN, text)
        bare_sandbox.settle()
        assert bare_sandbox.driver.last_view("views.open")["private_metadata"] == held
    data_notes = bare_sandbox.driver.last_view("views.open")
    assert "You are not in the data-group meeting" in command(
        bare_sandbox, "U0AAA", "meeting notes data-group")["text"]
    assert "There is no meeting 'budget'" in command(
        bare_sandbox, ADMIN, "meeting notes budget")["text"]
    refused = bare_sandbox.driver.view_submission("U0AAA", data_notes, {
        "notes": {"notes": {"type": "plain_text_input", "value": "Not mine to write."}}})
    assert refused.json == {"response_action": "errors", "errors": {
        "notes": "only this meeting's partners and the backbone team record its notes."}}


def test_a_meeting_naming_an_unknown_partner_is_refused_with_its_path(
        bare_sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "initiative.yml"
    path.write_text(EXAMPLE.read_text().replace(
        "measures:\n", DATA_GROUP.replace("clinic-north,", "clinic-south,") + "measures:\n",
        1))
    with pytest.raises(UserError, match=r"meetings\[1\]\.partners\[0\]: unknown partner "
                                        r"'clinic-south'"):
        import_example(bare_sandbox.store, path=path)
    with bare_sandbox.store.session() as session:
        assert session.scalars(select(Initiative)).all() == []
