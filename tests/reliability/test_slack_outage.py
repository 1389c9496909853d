"""Slack answers 5xx for a sustained stretch: reports are still saved, and everything the
bot owed Slack (reminders, wins, voice, commitment announcements, the digest) goes out
exactly once after Slack comes back. Nothing is lost, nothing is doubled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from bot.runtime import scheduler
from storage.models import Commitment, Report, Voice, Win
from tests.reliability.conftest import injected, survived
from tests.support.adversary import errors_logged, told
from tests.support.forms import commit_form
from tests.support.reminders import reminder_dms, tick
from tests.support.world import MEMBERS, NOW

pytestmark = pytest.mark.usefixtures("fast_retries")

WRITE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "views.publish",
                 "views.open", "files.getUploadURLExternal", "files.completeUploadExternal",
                 "conversations.history", "conversations.replies", "conversations.info",
                 "conversations.open", "chat.getPermalink", "users.info")


def slack_down(sandbox: Sandbox) -> None:
    for method in WRITE_METHODS:
        sandbox.emulator.set_failure_rate(method, 1.0, status=503)


def slack_up(sandbox: Sandbox) -> None:
    for method in WRITE_METHODS:
        sandbox.emulator.set_failure_rate(method, 0)


def test_reports_made_while_slack_is_down_are_saved_and_confirmed(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    driver = sandbox.driver
    driver.command("U0AAA", "report")
    for viewer in ("U0AAA", "U0CCC"):  # their Homes are refreshed after reports
        driver.app_home_opened(viewer)
    sandbox.settle()
    form = driver.last_view()
    slack_down(sandbox)

    driver.command("U0CCC", "report prenatal-visits 70")
    modal = driver.view_submission("U0AAA", form, {
        "measure": {"measure": {"type": "static_select",
                                "selected_option": {"value": "prenatal-visits"}}},
        "value": {"value": {"type": "plain_text_input", "value": "71"}}})
    sandbox.settle()
    down = injected(sandbox)
    slack_up(sandbox)
    driver.command("U0AAA", "status")
    sandbox.settle()
    stale_home = str(sandbox.emulator.home_views["U0CCC"])
    scheduler.run_due_now(sandbox.services, only={"home-refresh"})  # Slack is back

    assert modal.status == 200 and not modal.json  # the form closed: the report is in
    # U0CCC's Home, out of date through the outage, is brought up to date once Slack is back.
    assert "report_open:prenatal-visits" in stale_home
    assert "report_open:prenatal-visits" not in str(sandbox.emulator.home_views["U0CCC"])
    with sandbox.store.session() as session:
        saved = sorted(session.execute(select(Report.reported_by, Report.value)).all())
    assert saved == [("U0AAA", 71.0), ("U0CCC", 70.0)]
    answers = told(sandbox)
    assert any(a.startswith("Recorded 70%") for a in answers)  # via the response URL
    # The modal's confirmation DM could not be sent; the report shows in the status.
    assert "still owes 2 reports" in answers[-1] and "prenatal-visits" not in answers[-1]
    assert down["Slack 5xx"] >= 4
    assert errors_logged(caplog.records) == []
    survived(down)


def test_reminders_held_back_by_an_outage_go_out_once_when_slack_returns(
        sandbox: Sandbox) -> None:
    slack_down(sandbox)

    first = tick(sandbox, NOW)
    second = tick(sandbox, NOW + timedelta(minutes=5))
    down = injected(sandbox)
    slack_up(sandbox)
    after = tick(sandbox, NOW + timedelta(minutes=10))
    again = tick(sandbox, NOW + timedelta(minutes=15))

    assert first.sent == second.sent == 0
    assert after.sent == 5 and again.sent == 0
    for user in MEMBERS:
        assert len(reminder_dms(sandbox, user)) == 1, user
    assert down["Slack 5xx"] >= 10
    survived(down)


def test_wins_voice_commitments_and_the_digest_held_back_by_an_outage_go_out_once(
        sandbox: Sandbox) -> None:
    emu, driver = sandbox.emulator, sandbox.driver
    driver.command("U0AAA", "commit")
    sandbox.settle()
    form = driver.last_view()
    celebrated = emu.add_message("C0GENERAL", user="U0CCC", text="We hired two nurses!")
    # The outage starts with posting; by the time the win is to be posted, all is down.
    emu.set_failure_rate("chat.postMessage", 1.0, status=503)
    emu.set_failure_rate("chat.getPermalink", 1.0, status=503)
    driver.reaction("U0DDD", "C0GENERAL", celebrated)
    sandbox.settle()
    slack_down(sandbox)

    driver.command("U0EEE", "voice Evening hours would help parents")
    commit = driver.view_submission("U0AAA", form, commit_form(resources="A nurse"))
    sandbox.settle()
    sandbox.clock.set(NOW + timedelta(days=3, hours=1))  # Friday after the digest time
    scheduler.run_due_now(sandbox.services, only={"digest-tick", "wins", "backbone-relay"})
    sandbox.clock.advance(timedelta(minutes=5))
    scheduler.run_due_now(sandbox.services, only={"digest-tick", "wins", "backbone-relay"})
    down = injected(sandbox)
    typed = driver.command("U0BBB", "win Forty families enrolled")  # kept: Slack may have it
    sandbox.settle()

    assert commit.json and commit.json["response_action"] == "update"
    assert emu.bot_messages("C0WINS") == [] and emu.bot_messages("C0BACKBONE") == []
    assert typed.status == 200 and "no need to send it again" in told(sandbox)[-1]
    with sandbox.store.session() as session:
        assert session.scalars(select(Voice.relayed_at)).all() == [None]
        assert session.scalars(select(Commitment.announced_at)).all() == [None]
        assert [w.status for w in session.scalars(select(Win))] == ["approved", "approved"]

    slack_up(sandbox)
    for _ in range(2):  # two ticks after the outage: the second finds nothing left to do
        sandbox.clock.advance(timedelta(minutes=5))
        scheduler.run_due_now(sandbox.services, only={"digest-tick", "wins", "backbone-relay"})

    wins = emu.bot_messages("C0WINS")
    backbone = [m for m in emu.bot_messages("C0BACKBONE") if m.get("thread_ts") in
                (None, m["ts"]) and not m.get("upload")]
    assert sorted(m["text"][:22] for m in wins) == ["A win from <@U0BBB> (L",
                                                    "A win from <@U0CCC> (N"]
    kinds = sorted("voice" if "Community voice" in m["text"] else
                   "commitment" if "committed to" in m["text"] else
                   "digest" if (m.get("metadata") or {}).get("event_type") else m["text"][:30]
                   for m in backbone)
    assert kinds == ["commitment", "digest", "voice"]
    with sandbox.store.session() as session:
        assert None not in session.scalars(select(Voice.relayed_at)).all()
        assert None not in session.scalars(select(Commitment.announced_at)).all()
        assert [w.status for w in session.scalars(select(Win))] == ["posted", "posted"]
    assert down["Slack 5xx"] >= 10
    survived(down)
