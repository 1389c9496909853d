"""The pieces under the fan-out: pacing, time zone cache, the emulator's fault hooks."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.emulator.sandbox import Sandbox
from bot.reminders.timezones import member_zones
from storage.models import SlackUser
from tests.support.world import NOW

CHICAGO = ZoneInfo("America/Chicago")


def test_time_zone_comes_from_slack_once_then_from_the_cache_until_a_day_old(
        sandbox: Sandbox) -> None:
    client, emu = sandbox.services.client(), sandbox.emulator

    first = member_zones(sandbox.store, client, ["U0BBB", "U0CCC"], NOW, CHICAGO)
    again = member_zones(sandbox.store, client, ["U0BBB"], NOW + timedelta(hours=23), CHICAGO)
    emu.add_user("U0BBB", real_name="Ben Health", tz="Europe/Berlin")  # Ben moved
    refreshed = member_zones(sandbox.store, client, ["U0BBB"], NOW + timedelta(days=1), CHICAGO)

    assert first == {"U0BBB": ZoneInfo("Asia/Tokyo"), "U0CCC": ZoneInfo("America/Los_Angeles")}
    assert again == {"U0BBB": ZoneInfo("Asia/Tokyo")}
    assert refreshed == {"U0BBB": ZoneInfo("Europe/Berlin")}
    assert len(emu.calls_to("users.info")) == 3
    with sandbox.store.session() as session:
        cached = session.get(SlackUser, ("", "U0BBB"))
        assert cached is not None and cached.tz == "Europe/Berlin"


def test_unknown_time_zone_falls_back_to_the_initiative_zone(sandbox: Sandbox) -> None:
    zones = member_zones(sandbox.store, sandbox.services.client(), ["U0NOBODY"], NOW, CHICAGO)

    assert zones == {"U0NOBODY": CHICAGO}


def test_scheduler_runs_the_reminder_tick_as_a_persistent_job(sandbox: Sandbox) -> None:
    from bot.runtime import scheduler

    sched = scheduler.build(sandbox.services, blocking=False)
    jobs = {j.id: j for j in sched.get_jobs()}
    scheduler.run_due_now(sandbox.services)

    # One persistent tick asks what is due in every workspace; global jobs have their own.
    assert sorted(jobs) == ["due-work", "forget-old-events"]
    job = jobs["due-work"]
    assert (job.func_ref, job.args) == ("bot.runtime.scheduler:run_job", ("due-work",))
    assert job.trigger.interval == timedelta(minutes=1)
    assert len(sandbox.emulator.calls_to("chat.postMessage")) == 5


