"""`impactbot console`: the real app against the emulator, driven by typed (piped) lines."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import Ack
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.console import commands as cc
from bot.console.session import Console
from bot.emulator import render_view
from bot.emulator.sandbox import Sandbox
from bot.rendering.help import SUBCOMMANDS
from bot.runtime import scheduler
from bot.runtime.services import Services
from storage.db import Store
from storage.models import Report, SlackEvent
from tests.support.console import MODAL
from tests.support.world import NOW, ROOT


def run_cli(tmp_path: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "TMPDIR": str(scratch),
           "PYTHONIOENCODING": "utf-8"}
    env.pop("LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "bot", "console", *args],
                          input="".join(line + "\n" for line in lines), capture_output=True,
                          text=True, encoding="utf-8", cwd=tmp_path, env=env, timeout=120)


def test_piped_demo_session_reads_like_a_transcript(tmp_path: Path) -> None:
    result = run_cli(tmp_path, [":help", "/impact help", "Our clinic enrolled 40 families!",
                                ":as ben", ":react tada", ":advance 1d", ":quit", "never read"],
                     "--demo")

    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in out + result.stderr
    assert "no Slack account" in out and ":help" in out.splitlines()[0]
    # Each piped line is echoed after its prompt, so the output reads like a session.
    assert "ana@#general> :help" in out
    assert "ana@#general> /impact help" in out
    for name in cc.COMMANDS:
        assert f":{name}" in out
    # The slash command reached the real app, which answered only to the person who asked.
    assert "Impact Bot (only you):" in out
    for usage, _who, _what in SUBCOMMANDS:
        assert f"/impact {usage}" in out
    assert "✓ posted in #general" in out
    assert "ben@#general> :react tada" in out
    assert "You reacted :tada: to @ana's message “Our clinic enrolled 40 families!”." in out
    assert "Clock moved forward 1d" in out
    # Ben's reaction shared Ana's message, with credit, in the wins channel.
    assert "Impact Bot in #wins:\n  :tada: A win from @ana (Lake County Health Dept)" in out
    assert "never read" not in out  # :quit stopped reading


def test_without_demo_there_is_one_user_and_a_hint_to_import(tmp_path: Path) -> None:
    result = run_cli(tmp_path, [":who", "/impact help"])  # no :quit: EOF ends the session

    assert result.returncode == 0, result.stderr
    assert "There is no initiative yet" in result.stdout
    assert "impactbot import FILE" in result.stdout
    assert "you@#general> :who" in result.stdout
    assert "not in the initiative" in result.stdout
    assert "Impact Bot (only you):" in result.stdout
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary database went with it


def test_database_option_keeps_the_data_and_brings_its_people(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    first = run_cli(tmp_path, [":quit"], "--demo", "--database", url)
    again = run_cli(tmp_path, [":who"], "--database", url)

    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert (tmp_path / "kept.db").exists()
    assert "“Healthy Starts Lake County” is loaded from the database" in again.stdout
    assert "u0backbone1@#general> :who" in again.stdout  # the first admin
    assert "partner: North Clinic" in again.stdout


def test_reports_made_in_the_console_are_recorded_as_console(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    result = run_cli(tmp_path, ["/impact report prenatal-visits 72 from the console"],
                     "--demo", "--database", url)

    assert result.returncode == 0, result.stderr
    assert "72%" in result.stdout
    store = Store(url)
    with store.session() as session:
        (row,) = session.execute(select(Report.value, Report.source, Report.note)).all()
    store.dispose()
    assert tuple(row) == (72.0, "console", "from the console")


def test_a_bad_database_url_is_one_readable_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, [":quit"], "--database", "mysql://db/impact")

    assert result.returncode == 2
    assert result.stderr == "impactbot: --database must be sqlite or postgresql, not 'mysql'\n"
    assert result.stdout == ""


def test_demo_runs_on_postgresql_too(tmp_path: Path, postgres_url: str) -> None:
    result = run_cli(tmp_path, ["/impact help", ":who"], "--demo", "--database", postgres_url)

    assert result.returncode == 0, result.stderr
    assert "Impact Bot (only you):" in result.stdout
    assert "partner: North Clinic" in result.stdout
    assert f"Data: {postgres_url}" in result.stdout


# --------------------------------------------------------------------------- in process


class Session:
    """A console on the test sandbox, typed into line by line."""

    def __init__(self, sandbox: Sandbox, user: str = "U0AAA") -> None:
        self.out = io.StringIO()
        self.console = Console(sandbox, self.out, user, "C0GENERAL")

    def type(self, *lines: str) -> str:
        start = len(self.out.getvalue())
        for line in lines:
            self.out.write(self.console.prompt() + line + "\n")
            assert self.console.handle(line)
        return self.out.getvalue()[start:]


@pytest.fixture
def form_flow(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A scheduled job that posts a message with a button opening a modal, and its listeners."""
    posted: list[str] = []

    def post_form_once(services: Services) -> None:
        if posted or services.clock.now() < NOW + timedelta(minutes=30):
            return
        posted.append("yes")
        services.client().chat_postMessage(channel="C0GENERAL", text="Time to report", blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Time to report*"}},
            {"type": "actions", "elements": [
                {"type": "button", "action_id": "console_test_open", "value": "v1",
                 "text": {"type": "plain_text", "text": "Open form"}}]}])

    monkeypatch.setattr(scheduler, "JOBS", (scheduler.JobSpec("console-test", post_form_once),))

    @sandbox.app.action("console_test_open")
    def open_form(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @sandbox.app.view("console_test_modal")
    def save_form(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                  client: WebClient) -> None:
        values = view["state"]["values"]
        amount = values["amount"]["amount_input"]["value"] or ""
        if not amount.isdigit():
            ack(response_action="errors", errors={"amount": "Type a whole number, e.g. 40."})
            return
        ack()
        site = values["site"]["site_select"]["selected_option"]["value"]
        note = values["note"]["note_input"]["value"]
        client.chat_postMessage(channel=body["user"]["id"],
                                text=f"Saved {amount} at {site}: {note}")

    return sandbox


def test_advance_runs_due_work_and_shows_when_it_happened(form_flow: Sandbox) -> None:
    out = Session(form_flow).type(":advance 1h")

    # 21:30 UTC, in Ana's Chicago time
    assert "── Tue 10 Nov 2026 at 15:30 (America/Chicago) ──" in out
    assert "Impact Bot in #general:\n  Time to report\n  [ Open form ]" in out
    assert "(:click 1 = Open form)" in out
    assert form_flow.clock.now() == NOW + timedelta(hours=1)
    assert "Clock moved forward 1h: Tue 10 Nov 2026 at 22:00 (UTC)" in out


def test_click_opens_the_modal_and_submit_shows_inline_errors_then_saves(
        form_flow: Sandbox) -> None:
    session = Session(form_flow)
    session.type(":advance 1h")

    assert session.type(":click 0", ":click 2", ":click one").count(
        "Give a button number from 1 to 1.") == 3
    opened = session.type(":click 1")
    rejected = session.type(":submit amount=lots site=north")
    saved = session.type(':submit amount=40 site=South note="two new sites"')

    assert "You pressed [ Open form ]." in opened
    assert "Impact Bot opened a modal:" in opened and "│ Families served │" in opened
    assert "(:submit amount=… site=north|south note=…?" in opened
    assert "✗ amount: Type a whole number, e.g. 40." in rejected
    assert "✓ submitted (the modal closed)" in saved
    assert "Impact Bot (DM to you):\n  Saved 40 at south: two new sites" in saved
    dm = form_flow.emulator.messages_to_user("U0AAA")
    assert [m["text"] for m in dm] == ["Saved 40 at south: two new sites"]
    assert "No modal is open" in session.type(":submit amount=1")


def test_submit_names_the_fields_when_one_is_unknown(form_flow: Sandbox) -> None:
    session = Session(form_flow)
    session.type(":advance 1h", ":click 1")

    out = session.type(":submit colour=blue", ":submit site=west")

    assert "This modal has no field 'colour'. Its fields: amount, site, note." in out
    assert "site: 'west' is not one of: north, south" in out
    assert not form_flow.emulator.messages_to_user("U0AAA")


@pytest.fixture
def received(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Every request body the app received (a middleware sees them before any listener)."""
    bodies: list[dict[str, Any]] = []

    @sandbox.app.use
    def record(body: dict[str, Any], next: Any) -> Any:
        bodies.append(body)
        return next()

    return bodies


def run_at_next_tick(monkeypatch: pytest.MonkeyPatch, work: Any) -> None:
    """Make `work` the only scheduled job, run once at the first tick."""
    done: list[bool] = []

    def tick(services: Services) -> None:
        if not done:
            done.append(True)
            work(services.client())

    monkeypatch.setattr(scheduler, "JOBS", (scheduler.JobSpec("t", tick),))


def _button_dm(client: WebClient, user: str) -> None:
    client.chat_postMessage(channel=user, text=f"Reminder for {user}", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": f"Reminder for {user}"},
         "accessory": {"type": "button", "action_id": "console_test_ok", "value": user,
                       "text": {"type": "plain_text", "text": "Got it"}}}])


def test_only_the_person_a_dm_went_to_can_press_its_buttons(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        received: list[dict[str, Any]]) -> None:
    run_at_next_tick(monkeypatch, lambda client: (_button_dm(client, "U0AAA"),
                                                  _button_dm(client, "U0BBB")))
    session = Session(sandbox)

    shown = session.type(":advance 5m")
    as_ana = session.type(":click 1")
    as_ben = session.type(":as ben", ":click 1")

    assert "Impact Bot (DM to you):\n  Reminder for U0AAA    [ Got it ]" in shown
    assert "Impact Bot (DM to @ben):\n  Reminder for U0BBB    [ Got it ]" in shown
    assert "(@ben, :click 1 = Got it)" in shown
    assert "You pressed [ Got it ]." in as_ana and "You pressed [ Got it ]." in as_ben
    pressed = [(b["user"]["id"], b["actions"][0]["value"], b["container"]["channel_id"])
               for b in received if b.get("type") == "block_actions"]
    assert pressed == [("U0AAA", "U0AAA", "D0AAA"), ("U0BBB", "U0BBB", "D0BBB")]


def test_home_tab_updates_are_one_line(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    home = {"type": "home", "blocks": [{"type": "section",
                                        "text": {"type": "mrkdwn", "text": "Hello"}}]}
    run_at_next_tick(monkeypatch, lambda client: [
        client.views_publish(user_id=user, view=home) for user in ("U0AAA", "U0BBB", "U0AAA")])

    out = Session(sandbox).type(":advance 5m")

    assert "  (Impact Bot updated the Home tab of you, @ben: :home to see yours)\n" in out
    assert "Hello" not in out


def test_mentions_read_as_names(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    run_at_next_tick(monkeypatch, lambda client: client.chat_postMessage(
        channel="C0GENERAL", text="<@U0BBB> shared a win in <#C0WINS> (<@U0NOBODY>)"))

    out = Session(sandbox).type(":advance 5m")

    assert "Impact Bot in #general:\n  @ben shared a win in #wins (@U0NOBODY)" in out


def test_typed_text_is_stored_the_way_slack_stores_it(sandbox: Sandbox) -> None:
    out = Session(sandbox).type("@ben & @Cy: 5 > 3 in #wins, @here, @nobody #nowhere")

    (message,) = sandbox.emulator.messages("C0GENERAL")
    assert message["text"] == ("<@U0BBB> &amp; <@U0CCC>: 5 &gt; 3 in <#C0WINS|wins>, <!here>, "
                               "@nobody #nowhere")
    assert "✓ posted in #general" in out


def test_a_shared_file_is_previewed(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "".join(f"row {n}\n" for n in range(1, 9))
    run_at_next_tick(monkeypatch, lambda client: client.files_upload_v2(
        channel="C0BACKBONE", content="measure,value\n" + rows, filename="reports.csv",
        title="reports.csv"))

    out = Session(sandbox).type(":advance 5m")

    assert "Impact Bot shared a file in #backbone: reports.csv" in out
    assert "  measure,value\n  row 1\n  row 2\n  row 3\n  row 4\n  … 4 more line(s)" in out


def test_a_modal_belongs_to_whoever_opened_it(form_flow: Sandbox) -> None:
    session = Session(form_flow)
    session.type(":advance 1h", ":click 1")

    assert session.console.prompt() == "ana@#general [Families served]> "
    out = session.type(":as ben", ":submit amount=3 site=north")
    assert "No modal is open" in out
    assert session.console.prompt() == "ben@#general> "
    assert "✓ submitted" in session.type(":as ana", ":submit amount=3 site=north")


def test_plain_text_is_posted_as_you_and_a_reaction_reaches_the_app(
        sandbox: Sandbox, received: list[dict[str, Any]]) -> None:
    session = Session(sandbox)

    out = session.type("We opened a second clinic", ":react trophy")

    (message,) = sandbox.emulator.messages("C0GENERAL")
    assert (message["user"], message["text"]) == ("U0AAA", "We opened a second clinic")
    assert "You reacted :trophy: to @ana's message “We opened a second clinic”." in out
    (body,) = received
    assert body["event"]["type"] == "reaction_added"
    assert (body["event"]["user"], body["event"]["reaction"]) == ("U0AAA", "trophy")
    assert body["event"]["item"] == {"type": "message", "channel": "C0GENERAL",
                                     "ts": message["ts"]}
    with sandbox.store.session() as db:
        assert db.scalar(select(func.count()).select_from(SlackEvent)) == 1


def test_share_sends_the_message_shortcut_for_the_last_message(
        sandbox: Sandbox, received: list[dict[str, Any]]) -> None:
    session = Session(sandbox, user="U0CCC")

    out = session.type("Walk-in hours doubled", "and a second one", ":share")

    older, last = sandbox.emulator.messages("C0GENERAL")
    assert "You chose “Share as a win” on @cy's message “and a second one”." in out
    (body,) = received
    assert (body["type"], body["callback_id"]) == ("message_action", "share_as_win")
    assert (body["message_ts"], body["user"]["id"]) == (last["ts"], "U0CCC")
    assert "No such message in #general" in session.type(f":share {older['ts']}9")


def test_react_with_nothing_to_react_to_says_so(sandbox: Sandbox) -> None:
    out = Session(sandbox).type(":react tada")

    assert "No such message in #general: type a message first." in out
    with sandbox.store.session() as db:
        assert db.scalar(select(func.count()).select_from(SlackEvent)) == 0


def test_as_and_in_change_who_and_where_you_are(sandbox: Sandbox) -> None:
    session = Session(sandbox)

    out = session.type(":as Bea", ":in #wins", ":as nobody", ":in #nowhere", "/impact help")

    assert "You are now @bea (Bea Backbone, America/Chicago)." in out
    assert "You are in #wins." in out and "No channel #wins" not in out
    assert "bea@#wins> :as nobody" in out
    assert "No one called nobody. Try: bea, ana, ben, cy, dee, eve, otto." in out
    assert "No channel #nowhere. Try: #backbone, #wins, #general, #partners-private." in out
    (command,) = [p for p in sandbox.emulator.response_posts]
    assert command.payload["response_type"] == "ephemeral"
    assert session.console.prompt() == "bea@#wins> "


def test_home_renders_the_published_view(sandbox: Sandbox) -> None:
    sandbox.services.client().views_publish(user_id="U0AAA", view={
        "type": "home", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Welcome home"},
             "accessory": {"type": "button", "action_id": "console_test_home",
                           "text": {"type": "plain_text", "text": "Refresh"}}}]})

    session = Session(sandbox)
    out = session.type(":home")

    # Whatever the app publishes on app_home_opened is what the console shows.
    home = sandbox.emulator.home_views["U0AAA"]
    assert "Impact Bot · your Home tab:" in out
    for line in session.console.tidy(render_view(session.console.named(home))).splitlines():
        assert f"  {line}\n" in out


def test_who_time_and_unknown_commands(sandbox: Sandbox) -> None:
    out = Session(sandbox).type(":who", ":time", ":frobnicate", ":advance soon", "help")

    assert "@ana" in out and "partner: Lake County Health Dept  ← you" in out
    assert "backbone admin" in out and "not in the initiative" in out
    assert ("Tue 10 Nov 2026 at 21:00 (UTC), Tue 10 Nov 2026 at 15:00 (America/Chicago) "
            "for you") in out
    assert "There is no console command :frobnicate." in out
    assert "'soon' is not a duration" in out
    assert ":advance DURATION" in out  # bare `help` shows the console's help


def test_advance_runs_the_meeting_cycle_and_saves_the_invitation(sandbox: Sandbox) -> None:
    # The example's steering committee meets on Thursday 3 December: the agenda requests
    # go out on the 30th, the agenda with its .ics on the 2nd.
    out = Session(sandbox).type(":advance 22d")

    assert "Steering committee" in out and "/impact meeting add" in out
    assert "Needs attention" in out
    saved = next(line.split("saved to ", 1)[1].split(" (open")[0]
                 for line in out.splitlines() if "steering-2026-12-03.ics" in line
                 and "saved to" in line)
    assert Path(saved).read_bytes().startswith(b"BEGIN:VCALENDAR")
