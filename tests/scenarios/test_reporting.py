"""Reporting shared measures through Slack: `/impact report`, the modal, measures, status,
export. Every test drives signed requests into the app and checks what Slack received and
what the database holds."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from storage.models import Measure, Partner, Report
from tests.support.forms import report_form
from tests.support.world import ADMIN


def _reply(sandbox: Sandbox, user: str, text: str) -> dict[str, Any]:
    """Send `/impact text` as `user`; the one ephemeral answer it got."""
    before = len(sandbox.emulator.response_posts)
    sandbox.driver.command(user, text)
    sandbox.settle()
    posts = sandbox.emulator.response_posts[before:]
    assert len(posts) == 1, posts
    payload = posts[0].payload
    assert payload["response_type"] == "ephemeral"
    return payload


def _reports(sandbox: Sandbox) -> list[tuple[str, str, str, float, str, str, str, bool]]:
    with sandbox.store.session() as session:
        rows = session.execute(
            select(Measure.key, Partner.key, Report.period, Report.value, Report.note,
                   Report.reported_by, Report.source, Report.is_current)
            .join(Measure, Measure.id == Report.measure_id)
            .join(Partner, Partner.id == Report.partner_id)
            .order_by(Report.id)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


# --- /impact report KEY VALUE ---------------------------------------------------------------


def test_report_is_stored_for_the_callers_partner_and_last_complete_period(
        sandbox: Sandbox) -> None:
    reply = _reply(sandbox, "U0AAA", "report prenatal-visits 72 strong month")

    assert _reports(sandbox) == [("prenatal-visits", "county-health", "2026-10", 72.0,
                                  "strong month", "U0AAA", "slash", True)]
    text = reply["text"]
    assert "Recorded 72%" in text
    assert "First-trimester prenatal visits" in text
    assert "Lake County Health Dept" in text
    assert "period 2026-10" in text
    assert "No value was reported for the previous period (2026-09)" in text


def test_confirmation_shows_the_previous_periods_value(sandbox: Sandbox) -> None:
    _reply(sandbox, "U0BBB", "report home-visits 140 for 2026-09")
    reply = _reply(sandbox, "U0AAA", "report home-visits 1,250")

    assert "Recorded 1,250 families" in reply["text"]
    assert "Previous period (2026-09): 140 families" in reply["text"]


def test_quarterly_and_weekly_measures_use_their_own_last_complete_period(
        sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report low-birthweight 8.7")
    _reply(sandbox, "U0EEE", "report diaper-bank 1 250")

    assert [(r[0], r[2], r[3]) for r in _reports(sandbox)] == [
        ("low-birthweight", "2026-Q3", 8.7), ("diaper-bank", "2026-W45", 1250.0)]


def test_a_second_report_is_a_correction_that_keeps_the_history(sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report prenatal-visits 72")
    reply = _reply(sandbox, "U0BBB", "report prenatal-visits 74 typo fixed")

    assert _reports(sandbox) == [
        ("prenatal-visits", "county-health", "2026-10", 72.0, "", "U0AAA", "slash", False),
        ("prenatal-visits", "county-health", "2026-10", 74.0, "typo fixed", "U0BBB", "slash",
         True),
    ]
    assert "Recorded 74%" in reply["text"]
    assert "This corrects 72%, reported by <@U0AAA> <!date^" in reply["text"]
    assert "via slash; that value stays in the history" in reply["text"]


def test_backfilling_an_earlier_period_is_accepted(sandbox: Sandbox) -> None:
    reply = _reply(sandbox, "U0AAA", "report prenatal-visits 69 late, sorry for 2026-08")

    assert _reports(sandbox) == [("prenatal-visits", "county-health", "2026-08", 69.0,
                                  "late, sorry", "U0AAA", "slash", True)]
    assert "period 2026-08" in reply["text"]


@pytest.mark.parametrize(("period", "reason"), [
    ("2026-11", "2026-11 (Nov 2026) is still running"),
    ("2027-01", "2027-01 (Jan 2027) is in the future"),
    ("2026-Q4", "'2026-Q4' is not a monthly period; write it like 2026-09"),
])
def test_a_running_future_or_malformed_period_is_refused(sandbox: Sandbox, period: str,
                                                         reason: str) -> None:
    reply = _reply(sandbox, "U0AAA", f"report prenatal-visits 72 for {period}")

    assert reason in reply["text"]
    assert _reports(sandbox) == []


@pytest.mark.parametrize(("measure", "value", "reason"), [
    ("prenatal-visits", "NaN", "`NaN` is not a number (NaN)"),
    ("home-visits", "inf", "`inf` is infinite"),
    ("home-visits", "-infinity", "is infinite"),
    ("home-visits", "1000000000000", "far too large"),
    ("home-visits", "-5", "`-5` is negative, and this measure (counted in families) cannot"),
    ("prenatal-visits", "101%", "`101%` is outside 0–100%"),
    ("prenatal-visits", "-3", "`-3` is outside 0–100%"),
    ("home-visits", "72%", "`72%` is a percentage, but this measure is counted in families"),
    ("home-visits", "lots", "`lots` is not a number"),
    ("home-visits", "1,25", "`1,25` is ambiguous"),
])
def test_each_bad_value_is_refused_with_its_reason_and_nothing_is_stored(
        sandbox: Sandbox, measure: str, value: str, reason: str) -> None:
    user = "U0DDD" if measure == "home-visits" else "U0AAA"
    reply = _reply(sandbox, user, f"report {measure} {value}")

    assert reason in reply["text"]
    assert _reports(sandbox) == []


def test_an_unknown_measure_is_refused_and_named(sandbox: Sandbox) -> None:
    reply = _reply(sandbox, "U0AAA", "report prenatal-visit 72")

    assert "There is no measure `prenatal-visit`" in reply["text"]
    assert "`prenatal-visits`" in reply["text"]
    assert _reports(sandbox) == []


def test_a_measure_the_partner_does_not_report_is_refused(sandbox: Sandbox) -> None:
    reply = _reply(sandbox, "U0CCC", "report home-visits 12")

    assert "North Clinic does not report `home-visits`" in reply["text"]
    assert "It reports: `prenatal-visits`" in reply["text"]
    assert _reports(sandbox) == []


def test_a_non_member_is_refused(sandbox: Sandbox) -> None:
    reply = _reply(sandbox, "U0OUTSIDER", "report prenatal-visits 72")

    assert "not a member of any partner" in reply["text"]
    assert _reports(sandbox) == []


def test_an_admin_reports_on_a_partners_behalf(sandbox: Sandbox) -> None:
    reply = _reply(sandbox, ADMIN, "report diaper-bank 1 250 as united-way")

    assert _reports(sandbox) == [("diaper-bank", "united-way", "2026-W45", 1250.0, "",
                                  ADMIN, "slash", True)]
    assert "Reported on behalf of United Way of Lake County" in reply["text"]


def test_an_admin_without_a_partner_must_say_which(sandbox: Sandbox) -> None:
    reply = _reply(sandbox, ADMIN, "report diaper-bank 40")

    assert "add `as PARTNER-KEY`" in reply["text"]
    assert _reports(sandbox) == []


def test_a_member_cannot_report_as_another_partner(sandbox: Sandbox) -> None:
    reply = _reply(sandbox, "U0AAA", "report prenatal-visits 72 as clinic-north")

    assert "Only backbone admins can report on another partner's behalf" in reply["text"]
    assert _reports(sandbox) == []


def test_a_report_without_a_value_says_what_is_missing(sandbox: Sandbox) -> None:
    reply = _reply(sandbox, "U0AAA", "report prenatal-visits")

    assert "Give a value for `prenatal-visits`" in reply["text"]
    assert _reports(sandbox) == []


# --- the modal ----------------------------------------------------------------------------


def test_report_modal_round_trip_shows_inline_errors_then_records_and_confirms(
        sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "report")
    sandbox.settle()
    view = sandbox.driver.last_view()
    measure_block = next(b for b in view["blocks"] if b.get("block_id") == "measure")
    owed_group, done_group = measure_block["element"]["option_groups"][0], None
    assert owed_group["label"]["text"] == "Still owed"
    assert [o["value"] for o in owed_group["options"]] == [
        "prenatal-visits", "home-visits", "low-birthweight"]
    assert done_group is None and len(measure_block["element"]["option_groups"]) == 1
    assert measure_block["element"]["initial_option"]["value"] == "prenatal-visits"

    bad = sandbox.driver.view_submission("U0AAA", view, report_form("prenatal-visits", "140%"))
    sandbox.settle()
    assert bad.json == {"response_action": "errors",
                        "errors": {"value": "140% is outside 0–100%; a percentage cannot be "
                                            "more than 100."}}
    assert _reports(sandbox) == []

    good = sandbox.driver.view_submission(
        "U0AAA", view, report_form("prenatal-visits", "71.5", note="from the EHR"))
    sandbox.settle()
    assert good.status == 200 and not (good.json or {}).get("response_action")
    assert _reports(sandbox) == [("prenatal-visits", "county-health", "2026-10", 71.5,
                                  "from the EHR", "U0AAA", "modal", True)]
    (dm,) = sandbox.emulator.messages_to_user("U0AAA")
    assert "Recorded 71.5% for First-trimester prenatal visits" in dm["text"]
    assert "period 2026-10" in dm["text"]


def test_modal_period_errors_show_on_the_period_field(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "report")
    sandbox.settle()
    view = sandbox.driver.last_view()

    reply = sandbox.driver.view_submission(
        "U0AAA", view, report_form("prenatal-visits", "70", period="2026-12"))
    sandbox.settle()

    assert reply.json is not None and reply.json["response_action"] == "errors"
    assert "2026-12 (Dec 2026) is in the future" in reply.json["errors"]["period"]
    assert _reports(sandbox) == []


def test_modal_lists_what_is_owed_before_what_is_already_reported(sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report prenatal-visits 72")
    sandbox.driver.command("U0BBB", "report")
    sandbox.settle()

    view = sandbox.driver.last_view()
    groups = next(b for b in view["blocks"] if b.get("block_id") == "measure")[
        "element"]["option_groups"]
    assert [(g["label"]["text"], [o["value"] for o in g["options"]]) for g in groups] == [
        ("Still owed", ["home-visits", "low-birthweight"]),
        ("Reported or skipped", ["prenatal-visits"]),
    ]


def test_non_member_asking_for_the_modal_is_told_why_and_no_modal_opens(
        sandbox: Sandbox) -> None:
    reply = _reply(sandbox, "U0OUTSIDER", "report")

    assert "not a member of any partner" in reply["text"]
    assert sandbox.emulator.calls_to("views.open") == []


def test_report_button_opens_the_modal_on_that_measure(sandbox: Sandbox) -> None:
    status = _reply(sandbox, "U0AAA", "status")
    message = {"ts": "1.0", "blocks": status["blocks"]}

    sandbox.driver.block_action("U0AAA", "report_open:home-visits", message=message,
                                channel="C0GENERAL")
    sandbox.settle()

    view = sandbox.driver.last_view()
    measure = next(b for b in view["blocks"] if b.get("block_id") == "measure")
    period = next(b for b in view["blocks"] if b.get("block_id") == "period")
    assert measure["element"]["initial_option"]["value"] == "home-visits"
    assert period["element"]["initial_value"] == "2026-10"


def test_admin_modal_asks_for_the_partner_and_records_on_its_behalf(sandbox: Sandbox) -> None:
    sandbox.driver.command(ADMIN, "report")
    sandbox.settle()
    view = sandbox.driver.last_view()
    values = report_form("home-visits", "210")
    values["partner"] = {"partner": {"type": "static_select",
                                     "selected_option": {"text": {"type": "plain_text",
                                                                  "text": "Family Connects"},
                                                         "value": "family-connects"}}}

    sandbox.driver.view_submission(ADMIN, view, values)
    sandbox.settle()

    assert _reports(sandbox) == [("home-visits", "family-connects", "2026-10", 210.0, "",
                                  ADMIN, "modal", True)]


# --- measures, status, export -----------------------------------------------------------


def test_measures_show_value_target_progress_trend_and_who_reported(sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report prenatal-visits 66 for 2026-09")
    _reply(sandbox, "U0CCC", "report prenatal-visits 70 for 2026-09")
    _reply(sandbox, "U0AAA", "report prenatal-visits 72")
    _reply(sandbox, "U0CCC", "report prenatal-visits 71")

    reply = _reply(sandbox, "U0EEE", "measures")
    (visits,) = [b["text"]["text"] for b in reply["blocks"]
                 if b["type"] == "section" and "prenatal-visits" in b["text"]["text"]]
    assert "*71.5%* for 2026-10 (avg, 2 of 2 partners)" in visits
    assert "target 80% by 31 Dec 2027" in visits
    assert "55% of the way from baseline 61%" in visits
    assert ("↑ +3.5 pts on the period before, better (like for like: 2 of 2 partners "
            "reported in both)") in visits
    assert "2 of 2 partners reported for 2026-10" in visits


def test_status_lists_what_the_partner_owes_with_periods_and_due_dates(
        sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report home-visits 40")
    reply = _reply(sandbox, "U0BBB", "status")

    assert "Lake County Health Dept still owes 2 reports" in reply["text"]
    assert "prenatal-visits for 2026-10, overdue since Sun 8 Nov" in reply["text"]
    assert "low-birthweight for 2026-Q3, overdue since Thu 8 Oct" in reply["text"]
    assert "home-visits" not in reply["text"].split("\n", 1)[1]


def test_a_non_admin_asking_for_export_is_refused(sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report prenatal-visits 72")
    reply = _reply(sandbox, "U0AAA", "export")

    assert "Only backbone admins can use `/impact export`" in reply["text"]
    assert sandbox.emulator.uploaded_files == []


def test_admin_export_sends_the_csv_as_a_file_in_a_dm(sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report prenatal-visits 72, from \"the EHR\"")
    reply = _reply(sandbox, ADMIN, "export")

    (upload,) = sandbox.emulator.uploaded_files
    assert upload.channel_id == sandbox.emulator.dm_channel_for(ADMIN)
    assert upload.filename == "impact-export-2026-11-10.csv"
    lines = upload.bytes.decode().splitlines()
    assert lines[0] == ("measure_key,partner_key,period,value,note,reported_by,reported_at,"
                        "source,numerator,denominator,dimension,group")
    assert lines[1] == ('prenatal-visits,county-health,2026-10,72,"from ""the EHR""",U0AAA,'
                        '2026-11-10T21:00:00Z,slash,,,,')
    assert "Sent the export (1 rows" in reply["text"]


def test_measures_name_the_period_of_an_older_value_and_who_has_not_reported(
        sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report prenatal-visits 66 for 2026-09")

    reply = _reply(sandbox, "U0AAA", "measures")
    (visits,) = [b["text"]["text"] for b in reply["blocks"]
                 if b["type"] == "section" and "prenatal-visits" in b["text"]["text"]]
    assert "*66%* for 2026-09 — latest reported (avg, 1 of 2 partners)" in visits
    assert "0 of 2 partners reported for 2026-10 (waiting on `county-health`, " \
           "`clinic-north`)" in visits
    (birthweight,) = [b["text"]["text"] for b in reply["blocks"]
                      if b["type"] == "section" and "low-birthweight" in b["text"]["text"]]
    assert "No value yet" in birthweight


def test_a_report_button_pressed_by_a_non_member_in_app_home_explains_by_dm(
        sandbox: Sandbox) -> None:
    home = {"id": "V0HOME", "type": "home", "blocks": []}

    sandbox.driver.block_action("U0OUTSIDER", "report_open", view=home)
    sandbox.settle()

    assert sandbox.emulator.calls_to("views.open") == []
    (dm,) = sandbox.emulator.messages_to_user("U0OUTSIDER")
    assert "not a member of any partner" in dm["text"]


def test_admin_export_can_include_the_history(sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report prenatal-visits 72")
    _reply(sandbox, "U0AAA", "report prenatal-visits 73")

    _reply(sandbox, ADMIN, "export history")

    (upload,) = sandbox.emulator.uploaded_files
    assert [line.split(",")[3] for line in upload.bytes.decode().splitlines()[1:]] == [
        "72", "73"]
    (shared,) = sandbox.emulator.messages(sandbox.emulator.dm_channel_for(ADMIN))
    assert shared["files"][0]["name"] == "impact-export-2026-11-10.csv"


def test_reports_made_in_the_offline_console_are_recorded_as_console(sandbox: Sandbox) -> None:
    sandbox.services.surface = "console"  # type: ignore[attr-defined]

    _reply(sandbox, "U0AAA", "report prenatal-visits 72")

    assert [r[6] for r in _reports(sandbox)] == ["console"]


def test_notes_keep_what_was_typed_and_cannot_ping_the_channel(sandbox: Sandbox) -> None:
    # What the person typed; the driver sends it with &, < and > as entities, as Slack does.
    reply = _reply(sandbox, "U0AAA", "report prenatal-visits 72 Q&A <!here> done")

    assert [r[4] for r in _reports(sandbox)] == ["Q&A <!here> done"]
    (note,) = [b["elements"][0]["text"] for b in reply["blocks"] if b["type"] == "context"]
    assert note == "Note: Q&amp;A @\u200bhere done"
    assert "<!here>" not in str(reply)


@pytest.mark.parametrize(("user", "line", "period"), [
    ("U0EEE", "diaper-bank 300 for 2026-W38", "2026-W38"),
    ("U0AAA", "low-birthweight 8.8 for 2026-q2", "2026-Q2"),
    ("U0DDD", "home-visits 90 for 2025-12", "2025-12"),
])
def test_backfills_work_for_every_cadence(sandbox: Sandbox, user: str, line: str,
                                          period: str) -> None:
    reply = _reply(sandbox, user, f"report {line}")

    assert [r[2] for r in _reports(sandbox)] == [period]
    assert f"period *{period}*" in reply["blocks"][0]["text"]["text"]


def test_an_admin_naming_an_unknown_partner_is_told_the_partners(sandbox: Sandbox) -> None:
    reply = _reply(sandbox, ADMIN, "report home-visits 12 as nobody")

    assert "There is no partner `nobody`" in reply["text"]
    assert "`family-connects`" in reply["text"]
    assert _reports(sandbox) == []


def test_as_followed_by_something_that_is_no_partner_stays_in_a_members_note(
        sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report prenatal-visits 72 as expected")

    assert [(r[1], r[4]) for r in _reports(sandbox)] == [("county-health", "as expected")]


def test_modal_confirmation_falls_back_to_an_ephemeral_where_it_was_opened(
        sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "report", channel="C0GENERAL")
    sandbox.settle()
    view = sandbox.driver.last_view()
    sandbox.emulator.fail_next("chat.postMessage", status=200, error="cannot_dm_user")

    sandbox.driver.view_submission("U0AAA", view, report_form("prenatal-visits", "70"))
    sandbox.settle()

    assert [r[3] for r in _reports(sandbox)] == [70.0]
    (call,) = [c for c in sandbox.emulator.calls_to("chat.postEphemeral") if c.response["ok"]]
    assert call.params["channel"] == "C0GENERAL" and call.params["user"] == "U0AAA"
    assert "Recorded 70%" in call.params["text"]


def test_the_unit_typed_after_the_value_is_not_kept_as_a_note(sandbox: Sandbox) -> None:
    _reply(sandbox, "U0DDD", "report home-visits 1 250 families, up from 1,100")

    ((value, note),) = [(r[3], r[4]) for r in _reports(sandbox)]
    assert (value, note) == (1250.0, "up from 1,100")
