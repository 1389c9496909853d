"""Partner scoping: a member reports, commits and skips only for their own partner, whatever
they type or tamper with; `as PARTNER` is for backbone admins."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from storage.models import Commitment, Partner, Report, Skip
from tests.support.adversary import table_counts, told
from tests.support.forms import report_form
from tests.support.world import ADMIN


def _reports(sandbox: Sandbox) -> list[tuple[str, str, float]]:
    with sandbox.store.session() as session:
        rows = session.execute(select(Partner.key, Report.reported_by, Report.value)
                               .join(Partner, Partner.id == Report.partner_id)
                               .order_by(Report.id)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_member_cannot_report_for_another_partner_with_as(sandbox: Sandbox) -> None:
    before = table_counts(sandbox)

    sandbox.driver.command("U0AAA", "report prenatal-visits 72 as clinic-north")
    sandbox.settle()

    (answer,) = told(sandbox)
    assert "Only backbone admins can report on another partner's behalf" in answer
    assert "you report for Lake County Health Dept" in answer
    assert table_counts(sandbox) == before


def test_a_member_naming_their_own_partner_reports_for_it(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "report prenatal-visits 72 as county-health")
    sandbox.settle()

    assert _reports(sandbox) == [("county-health", "U0AAA", 72.0)]


def test_an_admin_reports_on_a_partners_behalf_and_is_recorded_as_the_reporter(
        sandbox: Sandbox) -> None:
    sandbox.driver.command(ADMIN, "report prenatal-visits 64 as clinic-north")
    sandbox.settle()

    assert _reports(sandbox) == [("clinic-north", ADMIN, 64.0)]
    assert "Reported on behalf of North Clinic" in told(sandbox)[0]


def test_a_partner_field_smuggled_into_a_members_report_modal_is_refused(
        sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "report")
    sandbox.settle()
    view = sandbox.driver.last_view()
    assert "partner" not in {b.get("block_id") for b in view["blocks"]}
    before = table_counts(sandbox)

    reply = sandbox.driver.view_submission(
        "U0AAA", view, report_form("prenatal-visits", "72", partner="clinic-north"))
    sandbox.settle()

    assert reply.json is not None and reply.json["response_action"] == "errors"
    assert "Only backbone admins" in " ".join(reply.json["errors"].values())
    assert table_counts(sandbox) == before


def test_private_metadata_naming_another_partner_changes_nothing_about_who_is_reported_for(
        sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "report")
    sandbox.settle()
    view = sandbox.driver.last_view()
    view["private_metadata"] = json.dumps({"channel": "C0GENERAL", "partner": "clinic-north",
                                           "user": "U0CCC"})

    sandbox.driver.view_submission("U0AAA", view, report_form("prenatal-visits", "72"))
    sandbox.settle()

    assert _reports(sandbox) == [("county-health", "U0AAA", 72.0)]


def test_a_modal_opened_by_one_member_and_submitted_by_another_reports_for_the_submitter(
        sandbox: Sandbox) -> None:
    # The modal a Lake County member saw, replayed by North Clinic's member: the partner is
    # decided from who submits, never from the form.
    sandbox.driver.command("U0AAA", "report")
    sandbox.settle()
    view = sandbox.driver.last_view()

    sandbox.driver.view_submission("U0CCC", view, report_form("prenatal-visits", "55"))
    sandbox.driver.view_submission("U0OUTSIDER", view, report_form("prenatal-visits", "1"))
    sandbox.settle()

    assert _reports(sandbox) == [("clinic-north", "U0CCC", 55.0)]


def test_a_commit_form_tampered_to_name_another_partner_is_refused(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "commit")
    sandbox.settle()
    view = sandbox.driver.last_view()
    with sandbox.store.session() as session:
        other = session.scalar(select(Partner.id).where(Partner.key == "clinic-north"))
    view["private_metadata"] = str(other)
    values = {"resources": {"resources": {"type": "plain_text_input", "value": "A nurse"}},
              "sign": {"sign": {"type": "checkboxes", "selected_options": [
                  {"text": {"type": "mrkdwn", "text": "*We sign*"}, "value": "signed"}]}}}

    reply = sandbox.driver.view_submission("U0AAA", view, values)
    outsider = sandbox.driver.view_submission("U0OUTSIDER", view, values)
    sandbox.settle()

    assert reply.json is not None and reply.json["response_action"] == "errors"
    assert outsider.json is not None and outsider.json["response_action"] == "errors"
    assert "not on a partner" in outsider.json["errors"]["sign"]
    with sandbox.store.session() as session:
        assert session.scalars(select(Commitment)).all() == []
    assert sandbox.emulator.calls_to("chat.postMessage") == []


def test_a_skip_form_tampered_to_a_measure_the_partner_does_not_report_is_refused(
        sandbox: Sandbox) -> None:
    # North Clinic reports prenatal-visits only; its member edits the form's metadata.
    view = {"id": "V0SKIP", "type": "modal", "callback_id": "reminder_skip",
            "private_metadata": json.dumps({"measure": "diaper-bank", "period": "2026-W45"}),
            "blocks": []}
    values = {"skip_reason": {"reason": {"type": "plain_text_input", "value": "No data"}}}

    reply = sandbox.driver.view_submission("U0CCC", view, values)
    outsider = sandbox.driver.view_submission("U0OUTSIDER", view, values)
    sandbox.settle()

    assert reply.json is not None and "does not report `diaper-bank`" in \
        reply.json["errors"]["skip_reason"]
    assert outsider.json is not None and "Only partner members" in \
        outsider.json["errors"]["skip_reason"]
    with sandbox.store.session() as session:
        assert session.scalars(select(Skip)).all() == []
