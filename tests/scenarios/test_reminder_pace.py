"""A reminder round at Slack's pace: within chat.postMessage's limits as the emulator
enforces them (per workspace and per channel), and each workspace on its own budget."""

from __future__ import annotations

import threading

from bot.emulator import Call
from bot.emulator.oauth import team_of_token
from bot.emulator.sandbox import Sandbox
from bot.reminders.tick import reminder_tick
from bot.runtime import scheduler
from storage.models import Member, Partner
from storage.tenancy import tenant
from tests.support.reminders import reminder_dms
from tests.support.workspaces import TEAM_A, TEAM_B, setup_both
from tests.support.world import MEMBERS

EXTRA = 35  # with the example's five members: 40 DMs, beyond Slack's workspace burst of 30
RETRY_AFTER = 5


def _posts(sandbox: Sandbox) -> list[Call]:
    return sandbox.emulator.calls_to("chat.postMessage")


def test_a_round_to_40_members_stays_within_slacks_post_message_limits(
        sandbox: Sandbox) -> None:
    emu = sandbox.emulator
    extra = [f"U0MEMBER{n:02d}" for n in range(EXTRA)]
    for user in extra:
        emu.add_user(user, real_name=f"Member {user}", tz="America/Chicago")
    with sandbox.store.session() as session:
        health = session.query(Partner).filter_by(key="county-health").one()
        session.add_all(Member(partner_id=health.id, user_id=user) for user in extra)
    emu.use_post_message_limits()

    scheduler.run_due_now(sandbox.services, only={"reminder-tick"})

    assert [c.status for c in _posts(sandbox) if c.status != 200] == []  # not one 429
    for user in (*MEMBERS, *extra):
        assert len(reminder_dms(sandbox, user)) == 1, user


def test_a_workspace_slack_holds_back_does_not_hold_back_another(multi: Sandbox) -> None:
    emu, services = multi.emulator, multi.services
    setup_both(multi)
    emu.use_post_message_limits()
    emu.fail_next("chat.postMessage", status=429, retry_after=RETRY_AFTER)

    def round_in(team: str) -> None:
        with tenant(team):
            reminder_tick(services)

    held = threading.Thread(target=round_in, args=(TEAM_A,))
    held.start()  # its first DM gets 429 with Retry-After: every sender of A pauses
    try:
        assert emu.wait_for(lambda e: any(c.status == 429 for c in e.calls), timeout=30)
        round_in(TEAM_B)  # meanwhile
        done_b = len(emu.calls)
    finally:
        held.join(timeout=60)

    def posts(calls: list[Call]) -> list[tuple[str | None, int]]:
        return [(team_of_token(emu, c.token or ""), c.status) for c in calls
                if c.method == "chat.postMessage"]

    during, after = posts(emu.calls[:done_b]), posts(emu.calls[done_b:])
    assert during[0] == (TEAM_A, 429)
    # B's round was over while A still waited out Slack's Retry-After (A's DMs already in
    # flight when the 429 came back may have gone); the DM Slack refused went after it.
    assert (TEAM_B, 200) in during
    assert (TEAM_A, 200) in after and (TEAM_B, 200) not in after
    assert (during + after).count((TEAM_A, 200)) == len(MEMBERS)
    for user in MEMBERS:
        assert len(reminder_dms(multi, user)) == 1, user
    assert len(reminder_dms(multi, "U0BLIB")) == 1
