"""Intros (SPEC §12): `/impact connect [KEY]` opens one group DM with a member of another
partner on the same measure; scheduled rounds pair members across partners (shared
measures first, no pair of the last round again, nobody who opted out); each pair is asked
once, a week later, whether they met, and the answers reach the digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.emulator.render import render_blocks
from bot.emulator.sandbox import Sandbox
from bot.runtime import scheduler
from storage.models import Intro
from tests.scenarios.test_due_work import due_rows
from tests.support.wins import post_text
from tests.support.world import ADMIN, EXAMPLE, import_example

DECEMBER = datetime(2026, 12, 1, 16, 1, tzinfo=UTC)  # first Tuesday, 10:01 in Chicago
JANUARY = datetime(2027, 1, 5, 16, 1, tzinfo=UTC)


def _schedule(sandbox: Sandbox, tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace(
        "  wins: {emoji: [tada, trophy], threshold: 1}\n",
        "  wins: {emoji: [tada, trophy], threshold: 1}\n"
        "  connect: {every: month, week: 1, weekday: tuesday}\n")
    (tmp_path / "initiative.yml").write_text(text)
    import_example(sandbox.store, path=tmp_path / "initiative.yml")


def _intros(sandbox: Sandbox, round_key: str | None = None) -> set[frozenset[str]]:
    with sandbox.store.session() as session:
        query = select(Intro.user_a, Intro.user_b)
        if round_key:
            query = query.where(Intro.round == round_key)
        return {frozenset(pair) for pair in session.execute(query)}


def _run(sandbox: Sandbox, at: datetime) -> None:
    sandbox.clock.set(at)
    scheduler.run_due_now(sandbox.services, only={"connect"})


def _group_dms(sandbox: Sandbox) -> dict[str, list[dict[str, object]]]:
    emu = sandbox.emulator
    return {cid: emu.bot_messages(cid) for cid, ch in emu.channels.items() if ch.is_mpim}


def _reply(sandbox: Sandbox) -> str:
    return str(sandbox.emulator.response_posts[-1].payload["text"])


def test_connect_by_measure_opens_one_group_dm_with_a_member_of_the_other_partner(
        sandbox: Sandbox) -> None:
    reply = sandbox.driver.command("U0AAA", "connect prenatal-visits")
    sandbox.settle()

    assert reply.status == 200 and reply.elapsed < 3.0
    (opened,) = sandbox.emulator.calls_to("conversations.open")
    assert opened.params["users"] == "U0AAA,U0CCC"
    ((channel, (intro,)),) = _group_dms(sandbox).items()
    assert sandbox.emulator.channels[channel].members >= {"U0AAA", "U0CCC"}
    shown = post_text(intro)
    assert "<@U0AAA>, meet <@U0CCC>" in shown
    assert "North Clinic" in shown and "First-trimester prenatal visits" in shown
    assert "I introduced you to <@U0CCC>" in _reply(sandbox)

    sandbox.driver.command("U0AAA", "connect prenatal-visits")  # the same day again
    sandbox.settle()
    assert len(sandbox.emulator.calls_to("conversations.open")) == 1
    assert "introduced to <@U0CCC> today already" in _reply(sandbox)


def test_people_who_turned_intros_off_are_never_paired(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0CCC", "connect off")
    sandbox.settle()
    assert "Scheduled intros are off" in _reply(sandbox)

    sandbox.driver.command("U0AAA", "connect prenatal-visits")
    sandbox.driver.command("U0OUTSIDER", "connect")
    sandbox.driver.command("U0AAA", "connect nonsense")
    sandbox.settle()

    assert sandbox.emulator.calls_to("conversations.open") == []
    told = [str(p.payload["text"]) for p in sandbox.emulator.response_posts]
    assert any("Nobody from another partner works on" in t for t in told)
    assert any("not a member of any partner" in t for t in told)
    assert any("There is no measure `nonsense`" in t for t in told)


def test_a_scheduled_month_pairs_across_partners_without_last_months_pairs(
        sandbox: Sandbox, tmp_path: Path) -> None:
    _schedule(sandbox, tmp_path)
    sandbox.driver.command("U0EEE", "connect off")
    sandbox.settle()

    _run(sandbox, DECEMBER - timedelta(minutes=2))
    assert _intros(sandbox) == set()  # not before its time
    _run(sandbox, DECEMBER)
    _run(sandbox, DECEMBER + timedelta(minutes=5))  # again: nothing more

    december = _intros(sandbox, "2026-12")
    # Shared measures first: prenatal (Health, Clinic), home visits (Health, Family).
    assert december == {frozenset({"U0AAA", "U0CCC"}), frozenset({"U0BBB", "U0DDD"})}
    assert len(_group_dms(sandbox)) == 2
    assert len(sandbox.emulator.calls_to("conversations.open")) == 2

    _run(sandbox, JANUARY)
    january = _intros(sandbox, "2027-01")
    assert january == {frozenset({"U0AAA", "U0DDD"}), frozenset({"U0BBB", "U0CCC"})}
    assert not any("U0EEE" in pair for pair in december | january)


def test_the_check_back_arrives_a_week_later_once_and_answers_reach_the_digest(
        sandbox: Sandbox, tmp_path: Path) -> None:
    _schedule(sandbox, tmp_path)
    _run(sandbox, DECEMBER)
    _run(sandbox, DECEMBER + timedelta(days=6, hours=23))
    assert all(len(msgs) == 1 for msgs in _group_dms(sandbox).values())

    _run(sandbox, DECEMBER + timedelta(days=7))
    _run(sandbox, DECEMBER + timedelta(days=7, hours=1))

    dms = _group_dms(sandbox)
    assert len(dms) == 2 and all(len(msgs) == 2 for msgs in dms.values())
    channel = next(cid for cid in dms if "U0CCC" in sandbox.emulator.channels[cid].members)
    checkback = dms[channel][1]
    assert "Did you get to meet?" in post_text(checkback)

    sandbox.driver.block_action("U0CCC", "connect_met_yes", message=checkback,
                                channel=channel)
    sandbox.driver.block_action("U0DDD", "connect_met_yes", message=checkback,
                                channel=channel)  # not one of this pair
    sandbox.settle()
    with sandbox.store.session() as session:
        answered = {(i.user_a, i.user_b): i.met for i in session.scalars(select(Intro))}
    assert answered[("U0AAA", "U0CCC")] is True
    assert sum(v is not None for v in answered.values()) == 1

    sandbox.clock.set(DECEMBER + timedelta(days=10))  # Friday of that week
    sandbox.driver.command(ADMIN, "digest")
    sandbox.settle()
    post = sandbox.emulator.response_posts[-1].payload
    assert "1 of 1 check-back answers say they met" in render_blocks(post["blocks"],
                                                                       post["text"])


def test_an_intro_and_its_check_back_wait_for_a_working_day_of_both(
        sandbox: Sandbox, tmp_path: Path) -> None:
    # SPEC §11: no intro reaches a person on a holiday or non-working day in their zone;
    # it arrives once, on their next working day. North Clinic is off on Tuesday 1 December
    # (the round); the whole initiative on Tuesday 8 December (the check-backs' day).
    text = EXAMPLE.read_text().replace(
        "  wins: {emoji: [tada, trophy], threshold: 1}\n",
        "  wins: {emoji: [tada, trophy], threshold: 1}\n"
        "  connect: {every: month, week: 1, weekday: tuesday}\n").replace(
        "members: [U0CCC]}", "members: [U0CCC], holidays: [2026-12-01]}").replace(
        "holidays: [2026-12-25,", "holidays: [2026-12-08, 2026-12-25,")
    (tmp_path / "initiative.yml").write_text(text)
    import_example(sandbox.store, path=tmp_path / "initiative.yml")

    def sent() -> set[frozenset[str]]:
        return {frozenset(sandbox.emulator.channels[cid].members) - {sandbox.emulator.bot_user_id}
                for cid in _group_dms(sandbox)}

    _run(sandbox, DECEMBER)
    assert _intros(sandbox, "2026-12") == {frozenset({"U0AAA", "U0CCC"}),
                                           frozenset({"U0BBB", "U0DDD"})}
    assert sent() == {frozenset({"U0BBB", "U0DDD"})}  # Cy's intro waits for Wednesday
    assert due_rows(sandbox, "connect")[""] == DECEMBER + timedelta(days=1)
    _run(sandbox, DECEMBER + timedelta(days=1))
    assert sent() == {frozenset({"U0AAA", "U0CCC"}), frozenset({"U0BBB", "U0DDD"})}

    _run(sandbox, DECEMBER + timedelta(days=7))  # a week after the first: a holiday
    assert all(len(msgs) == 1 for msgs in _group_dms(sandbox).values())
    _run(sandbox, DECEMBER + timedelta(days=8))  # Wednesday: both check-backs, once each
    _run(sandbox, DECEMBER + timedelta(days=8, hours=1))
    dms = _group_dms(sandbox)
    assert all(len(msgs) == 2 and "Did you get to meet?" in post_text(msgs[1])
               for msgs in dms.values())


def test_working_on_the_same_action_is_reason_enough_for_an_intro(sandbox: Sandbox) -> None:
    # SPEC §12: "a member of another partner that reports the same measure (or works on the
    # same action)". United Way shares no measure with anyone in the example.
    sandbox.driver.command("U0EEE", "connect")
    sandbox.settle()
    assert "Nobody from another partner works on your measures or actions" in _reply(sandbox)

    sandbox.driver.command("U0EEE", "action add Diaper drive at the home visits <@U0DDD>")
    sandbox.settle()
    sandbox.driver.command("U0EEE", "connect")
    sandbox.settle()

    (opened,) = sandbox.emulator.calls_to("conversations.open")
    assert opened.params["users"] == "U0DDD,U0EEE"
    ((_, (intro,)),) = _group_dms(sandbox).items()
    assert "You both work on the action “#1 Diaper drive at the home visits”" in post_text(intro)


def _with_days_off(sandbox: Sandbox, tmp_path: Path, health: str, clinic: str) -> None:
    text = EXAMPLE.read_text().replace(
        "  wins: {emoji: [tada, trophy], threshold: 1}\n",
        "  wins: {emoji: [tada, trophy], threshold: 1}\n"
        "  connect: {every: month, week: 1, weekday: tuesday}\n").replace(
        "members: [U0CCC]}", f"members: [U0CCC], holidays: [{clinic}]}}").replace(
        "members: [U0AAA, U0BBB]}", f"members: [U0AAA, U0BBB], holidays: [{health}]}}")
    (tmp_path / "initiative.yml").write_text(text)
    import_example(sandbox.store, path=tmp_path / "initiative.yml")


def _pair_sent(sandbox: Sandbox, pair: set[str]) -> bool:
    return any(pair <= sandbox.emulator.channels[cid].members for cid in _group_dms(sandbox))


def test_alternating_days_off_hold_an_intro_until_a_day_both_work(
        sandbox: Sandbox, tmp_path: Path) -> None:
    # Cy (North Clinic) is off Tuesday 1 December, Ana (County Health) Wednesday the 2nd:
    # their intro goes out on Thursday the 3rd, never on either one's day off.
    _with_days_off(sandbox, tmp_path, health="2026-12-02", clinic="2026-12-01")
    _run(sandbox, DECEMBER)
    assert frozenset({"U0AAA", "U0CCC"}) in _intros(sandbox, "2026-12")
    _run(sandbox, DECEMBER + timedelta(days=1))
    assert not _pair_sent(sandbox, {"U0AAA", "U0CCC"})
    _run(sandbox, DECEMBER + timedelta(days=2))
    assert _pair_sent(sandbox, {"U0AAA", "U0CCC"})


def test_a_held_intro_is_dropped_when_one_of_them_turns_intros_off(
        sandbox: Sandbox, tmp_path: Path) -> None:
    _with_days_off(sandbox, tmp_path, health="2026-11-30", clinic="2026-12-01")
    _run(sandbox, DECEMBER)
    sandbox.driver.command("U0AAA", "connect off")  # while it waits for Cy's Wednesday
    sandbox.settle()
    _run(sandbox, DECEMBER + timedelta(days=1))

    assert not _pair_sent(sandbox, {"U0AAA", "U0CCC"})
    with sandbox.store.session() as session:  # called off; its round still counts as made
        (called_off,) = session.scalars(select(Intro).where(Intro.user_a == "U0AAA",
                                                            Intro.user_b == "U0CCC"))
        assert called_off.cancelled_at is not None and called_off.sent_at is None
    _run(sandbox, DECEMBER + timedelta(days=2))  # the round is not made again
    assert _intros(sandbox, "2026-12") == {frozenset({"U0AAA", "U0CCC"}),
                                           frozenset({"U0BBB", "U0DDD"})}


def test_asking_for_an_intro_to_someone_off_today_holds_it_for_their_working_day(
        sandbox: Sandbox, tmp_path: Path) -> None:
    _with_days_off(sandbox, tmp_path, health="2026-11-30", clinic="2026-12-01")
    sandbox.clock.set(DECEMBER)
    sandbox.driver.command("U0AAA", "connect prenatal-visits")  # only Cy shares it
    sandbox.settle()

    assert ("<@U0CCC> is off today, so I will introduce you to <@U0CCC> on Wed 2 Dec"
            in _reply(sandbox))
    assert sandbox.emulator.calls_to("conversations.open") == []
    sandbox.driver.command("U0AAA", "connect prenatal-visits")  # again, while it waits
    sandbox.settle()
    assert "Your intro to <@U0CCC> is already set for Wed 2 Dec" in _reply(sandbox)
    _run(sandbox, DECEMBER + timedelta(days=1))  # also December's round, due since Tuesday
    assert _pair_sent(sandbox, {"U0AAA", "U0CCC"})
    # Once: the round does not pair them again so soon after the intro they asked for.
    assert [c.params["users"] for c in sandbox.emulator.calls_to("conversations.open")
            ].count("U0AAA,U0CCC") == 1
    assert frozenset({"U0AAA", "U0CCC"}) not in _intros(sandbox, "2026-12")
