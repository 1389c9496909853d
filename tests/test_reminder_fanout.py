"""The pieces under the fan-out: pacing, time zone cache, the emulator's fault hooks."""

from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator
from bot.emulator.sandbox import Sandbox
from bot.reminders.fanout import Pacer
from bot.reminders.timezones import member_zones
from storage.models import SlackUser
from tests.conftest import NOW

CHICAGO = ZoneInfo("America/Chicago")


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _turns(pacer: Pacer, clock: FakeTime, count: int) -> list[float]:
    out = []
    for _ in range(count):
        pacer.wait_turn()
        out.append(round(clock.now - 100.0, 3))
    return out


def test_pacer_spaces_sends_at_the_rate_after_an_initial_burst() -> None:
    clock = FakeTime()
    pacer = Pacer(2.0, burst=3, monotonic=clock.monotonic, sleep=clock.sleep)

    assert _turns(pacer, clock, 6) == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]


def test_pacer_stops_every_sender_for_retry_after_and_reuses_a_failed_slot() -> None:
    clock = FakeTime()
    pacer = Pacer(2.0, monotonic=clock.monotonic, sleep=clock.sleep)
    assert _turns(pacer, clock, 2) == [0.0, 0.5]

    pacer.hold_off(3.0)  # 429 at 0.5 with Retry-After 3
    assert _turns(pacer, clock, 2) == [3.5, 4.0]
    pacer.refund()  # Slack failed the 4.0 send with a 5xx: its slot is given back
    assert _turns(pacer, clock, 2) == [4.0, 4.5]


def test_time_zone_comes_from_slack_once_then_from_the_cache_until_stale(
        sandbox: Sandbox) -> None:
    client, emu = sandbox.services.client(), sandbox.emulator

    first = member_zones(sandbox.store, client, ["U0BBB", "U0CCC"], NOW, CHICAGO)
    again = member_zones(sandbox.store, client, ["U0BBB"], NOW + timedelta(days=6), CHICAGO)
    emu.add_user("U0BBB", real_name="Ben Health", tz="Europe/Berlin")  # Ben moved
    refreshed = member_zones(sandbox.store, client, ["U0BBB"], NOW + timedelta(days=7), CHICAGO)

    assert first == {"U0BBB": ZoneInfo("Asia/Tokyo"), "U0CCC": ZoneInfo("America/Los_Angeles")}
    assert again == {"U0BBB": ZoneInfo("Asia/Tokyo")}
    assert refreshed == {"U0BBB": ZoneInfo("Europe/Berlin")}
    assert len(emu.calls_to("users.info")) == 3
    with sandbox.store.session() as session:
        cached = session.get(SlackUser, "U0BBB")
        assert cached is not None and cached.tz == "Europe/Berlin"


def test_unknown_time_zone_falls_back_to_the_initiative_zone(sandbox: Sandbox) -> None:
    zones = member_zones(sandbox.store, sandbox.services.client(), ["U0NOBODY"], NOW, CHICAGO)

    assert zones == {"U0NOBODY": CHICAGO}


def test_emulator_hold_completes_the_nth_call_and_drops_the_ones_after_it() -> None:
    with SlackEmulator() as emu:
        emu.add_user("U1")
        client = WebClient(token=emu.bot_token, base_url=emu.api_url, timeout=10)
        hold = emu.hold("chat.postMessage", nth=2)
        client.chat_postMessage(channel="U1", text="one")
        answers: list[str] = []

        def post(text: str) -> None:
            try:
                client.chat_postMessage(channel="U1", text=text)
                answers.append("ok")
            except SlackApiError as exc:
                answers.append(str(exc.response.status_code))

        second = threading.Thread(target=post, args=("two",))
        second.start()
        assert hold.reached.wait(10)
        third = threading.Thread(target=post, args=("three",))
        third.start()
        hold.release()
        second.join(10)
        third.join(10)

        assert [m["text"] for m in emu.messages_to_user("U1")] == ["one", "two"]
        assert sorted(answers) == ["503", "ok"]


def test_emulator_429_burst_refuses_calls_with_retry_after() -> None:
    with SlackEmulator() as emu:
        emu.add_user("U1")
        client = WebClient(token=emu.bot_token, base_url=emu.api_url, timeout=10)
        emu.rate_limit_burst("chat.postMessage", 30)
        try:
            client.chat_postMessage(channel="U1", text="hi")
            raise AssertionError("expected a 429")
        except SlackApiError as exc:
            assert exc.response.status_code == 429
            assert int(exc.response.headers["Retry-After"]) in (29, 30)
        assert emu.messages_to_user("U1") == []


def test_scheduler_runs_the_reminder_tick_as_a_persistent_job(sandbox: Sandbox) -> None:
    from bot.runtime import scheduler

    sched = scheduler.build(sandbox.services, blocking=False)
    job = next(j for j in sched.get_jobs() if j.id == "reminder-tick")
    scheduler.run_due_now(sandbox.services)

    assert (job.func_ref, job.args) == ("bot.runtime.scheduler:run_job", ("reminder-tick",))
    assert job.trigger.interval == timedelta(minutes=5)
    assert len(sandbox.emulator.calls_to("chat.postMessage")) == 5


def test_long_cli_runs_print_progress_with_time_left() -> None:
    import io

    from bot.reminders.tick import _ProgressLine

    stream = io.StringIO()
    line = _ProgressLine(stream)
    line(10, 2000)  # too soon for a line
    line.started -= 40.0
    line.last -= 10.0
    line(1000, 2000)

    assert stream.getvalue().startswith("reminders: 1000/2000 (50%), 40s, about 40s left")
