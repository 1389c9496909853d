"""The weekly backbone digest, through the CLI, signed requests and the emulator."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.cli.main import main
from bot.digest.blocks import digest_message
from bot.digest.posting import build_digest, post_digest
from bot.emulator.blockkit import problems
from bot.emulator.render import render_blocks
from bot.emulator.sandbox import Sandbox
from bot.measures.forecast_history import forget_all
from storage.db import Store
from storage.models import (
    Digest,
    Measure,
    MeasurePartner,
    Partner,
    Report,
    Win,
)
from tests.support.digest import report_row, seed_week
from tests.support.processes import bot_env, point_cli_at
from tests.support.records import ids
from tests.support.world import ADMIN, BACKBONE, ROOT, import_example

# Friday 13 November 2026, 15:00 in Chicago (CST, UTC-6): the example's digest time.
DUE = datetime(2026, 11, 13, 21, 0, tzinfo=UTC)
WEEK = "2026-W46"
CHART_OUT = Path(os.environ.get("IMPACTBOT_CHART_OUT", "/tmp/impactbot-digest-chart.png"))


def digest_posts(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Top-level digest messages the bot posted to the backbone channel."""
    return [m for m in sandbox.emulator.bot_messages(BACKBONE)
            if not m.get("upload") and m.get("thread_ts") in (None, m["ts"])]


def digest_rows(store: Store) -> list[tuple[str, int, str | None]]:
    with store.session() as session:
        return list(session.execute(select(Digest.week, Digest.attempt, Digest.ts)
                                    .order_by(Digest.attempt)))


def run_cli(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    point_cli_at(sandbox, monkeypatch)
    return main(["digest", *args])


def text_of(message: dict[str, Any]) -> str:
    """Every text in a message's blocks, as Slack would receive it (mrkdwn), one a line."""
    lines = []
    for block in message.get("blocks") or []:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                lines.append(obj["text"])
    return "\n".join(lines)


# --- what the digest says ------------------------------------------------------------------


def test_digest_shows_every_measure_with_target_the_weeks_wins_and_who_has_not_reported(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_week(sandbox.store)

    assert run_cli(sandbox, monkeypatch, "--post", "--at", DUE.isoformat()) == 0

    (post,) = digest_posts(sandbox)
    shown = text_of(post)
    assert "Healthy Starts Lake County" in shown and WEEK in shown
    for name, target in (("First-trimester prenatal visits", "80%"),
                         ("Families enrolled in home visiting", "300 families"),
                         ("Low-birthweight births", "7.5%"),
                         ("Diapers distributed", "5,000 diapers")):
        assert name in shown
        assert f"target *{target}*" in shown
    # October prenatal average is County Health's 74 alone; home visits sum 210 vs 180.
    # Like for like: County Health's 74 against its own 70 (North Clinic has not reported).
    assert ("*74%* in Oct 2026 (1 of 2 partners) · ↑ better (+4 pts like for like: 1 of 2 "
            "partners in both periods)") in shown
    assert ("*210 families* in Oct 2026 (2 of 2 partners) · ↑ better (+20 families like for "
            "like: 2 of 2 partners in both periods)") in shown
    assert "*8.6%* in Q3 2026 (1 of 1 partner) · ↓ better (−0.4 pts" in shown  # falling is better
    assert "progress *50%*" in shown  # home visits: (210 - 120) / (300 - 120)
    assert "⏳ *North Clinic*: not reported First-trimester prenatal visits (Oct 2026" in shown
    # United Way skipped its diapers week and owes the example's rate measure (not reported).
    assert ("⏳ *United Way of Lake County*: not reported Postpartum check-ups within six weeks "
            "(Oct 2026, overdue since Sun 8 Nov) · skipped Diapers distributed (week 45 of 2026): "
            "_warehouse closed for inventory_") in shown
    assert "✅ *Lake County Health Dept*: reported all 3 measures" in shown
    assert ("<https://impact.slack.com/archives/C0GENERAL/p1000001|"
            "Opened a Saturday prenatal clinic!> — <@U0CCC> (North Clinic)") in shown
    assert "100th family enrolled" in shown
    assert "Last week's win" not in shown and "Awaiting consent" not in shown
    assert "Family Connects Home Visiting* signed the common agenda" in shown
    assert "3 anonymous messages this week" in shown
    assert "Engagement score:" in shown and "in the manner of Clear Impact's" in shown
    assert "Not reported yet: North Clinic, United Way of Lake County." in post["text"]
    assert digest_rows(sandbox.store) == [(WEEK, 0, post["ts"])]


def test_trend_is_judged_by_the_measures_direction(store: Store) -> None:

    import_example(store, DUE)
    seed_week(store)
    with store.session() as session:
        m = ids(session, Measure)
        p = ids(session, Partner)
        # A rise in low-birthweight births is worse, not better.
        report_row(session, m["low-birthweight"], p["county-health"], "2026-Q1", 8.0,
                datetime(2026, 4, 2, tzinfo=UTC))
    with store.session() as session:
        data = build_digest(session, DUE)
    assert data is not None
    by_key = {m.key: m for m in data.measures}
    births = by_key["low-birthweight"]
    assert births.values[-3:] == [8.0, 9.0, 8.6]
    assert (births.trend.word, births.trend.arrow) == ("better", "↓")
    assert by_key["prenatal-visits"].trend.word == "better"  # 69 (Sep average) → 74
    with store.session() as session:
        # A correction replaces County Health's October value; the old row stays in history.
        old = session.scalars(select(Report).where(Report.period == "2026-10",
                                                   Report.measure_id == m["prenatal-visits"])
                              ).one()
        old.is_current = False
        session.flush()
        report_row(session, m["prenatal-visits"], p["county-health"], "2026-10", 66,
                datetime(2026, 11, 12, tzinfo=UTC))
    with store.session() as session:
        data = build_digest(session, DUE)
    assert data is not None
    visits = {m.key: m for m in data.measures}["prenatal-visits"]
    assert (visits.current, visits.trend.word) == (66, "worse")


def test_engagement_counts_reports_on_time_and_fresh_data(store: Store) -> None:

    import_example(store, DUE)
    seed_week(store)
    with store.session() as session:
        data = build_digest(session, DUE)
    assert data is not None
    e = data.engagement
    # 6 partner-measure pairs; fresh = a value for one of the last 2 periods: all but
    # North Clinic's prenatal visits (Sep counts) → actually North Clinic reported Sep.
    # (United Way's postpartum check-ups, never reported: the seventh pair, not fresh.)
    assert e.assignments == 7
    assert e.fresh == 6
    # Closed periods by Nov 13 with reminder day 1 (due 7 days after the 1st / Monday):
    # monthly Sep, Aug, Jul ×4 pairs = 12 (all reported on the 3rd: on time);
    # quarterly Q2, Q1, Q4-2025 = 3 (Q2 on time; Q1 and Q4 never reported);
    # weekly W44 reported Oct 20 (before its due date), W43, W42 on time; W45 skipped →
    # excused but W45 is due Nov 9 + 7 = Nov 16, not closed yet.
    # United Way's postpartum check-ups: Sep, Aug, Jul owed and never reported (+3).
    assert (e.owed, e.on_time) == (21, 16)
    assert e.score == round(100 * (16 / 21 + 6 / 7) / 2)


# --- once per week, force, preview -------------------------------------------------------


def test_posting_twice_in_a_week_posts_once_and_force_posts_again(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed_week(sandbox.store)
    at = DUE.isoformat()

    assert run_cli(sandbox, monkeypatch, "--post", "--at", at) == 0
    assert run_cli(sandbox, monkeypatch, "--post", "--at", (DUE + timedelta(days=1)).isoformat()
                   ) == 0
    assert "already posted" in capsys.readouterr().out
    assert len(digest_posts(sandbox)) == 1

    assert run_cli(sandbox, monkeypatch, "--post", "--force", "--at", at) == 0
    assert "Posted the 2026-W46 digest" in capsys.readouterr().out
    assert len(digest_posts(sandbox)) == 2
    assert [(w, a) for w, a, _ in digest_rows(sandbox.store)] == [(WEEK, 0), (WEEK, 1)]


def test_force_without_post_is_refused_and_posts_nothing(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(sandbox, monkeypatch, "--force", "--at", DUE.isoformat()) == 2
    assert "--force goes with --post" in capsys.readouterr().err
    assert sandbox.emulator.calls_to("chat.postMessage") == []


def test_digest_before_any_initiative_says_to_import_one(
        bare_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(bare_sandbox, monkeypatch, "--post", "--at", DUE.isoformat()) == 2
    assert "run `impactbot import FILE` first" in capsys.readouterr().err
    assert bare_sandbox.emulator.calls_to("chat.postMessage") == []


def test_digest_without_a_backbone_channel_explains_and_posts_nothing(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from storage.models import Initiative

    with sandbox.store.session() as session:
        initiative = session.get(Initiative, ("", 1))
        assert initiative is not None
        initiative.backbone_channel = None

    assert run_cli(sandbox, monkeypatch, "--post", "--at", DUE.isoformat()) == 2
    assert "no backbone channel" in capsys.readouterr().err
    _tick(sandbox, DUE)
    assert sandbox.emulator.calls_to("chat.postMessage") == []
    assert digest_rows(sandbox.store) == []


def test_preview_prints_the_digest_and_posts_nothing(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed_week(sandbox.store)

    assert run_cli(sandbox, monkeypatch, "--preview", "--at", DUE.isoformat()) == 0

    out = capsys.readouterr().out
    assert "WEEKLY DIGEST: HEALTHY STARTS LAKE COUNTY" in out
    assert "First-trimester prenatal visits" in out and "North Clinic" in out
    assert "chart digest-2026-W46.png (4 measures)" in out
    assert "nothing was posted" in out
    assert sandbox.emulator.calls_to("chat.postMessage") == []
    assert sandbox.emulator.calls_to("files.getUploadURLExternal") == []
    assert digest_rows(sandbox.store) == []


def test_admin_previews_the_digest_only_to_themselves(sandbox: Sandbox) -> None:
    seed_week(sandbox.store)
    sandbox.clock.set(DUE)

    reply = sandbox.driver.command(ADMIN, "digest")
    sandbox.settle()

    assert reply.status == 200 and reply.elapsed < 3.0
    (post,) = sandbox.emulator.response_posts
    assert post.payload["response_type"] == "ephemeral"
    shown = render_blocks(post.payload["blocks"], post.payload["text"])
    assert "Diapers distributed" in shown and "North Clinic" in shown
    assert sandbox.emulator.calls_to("chat.postMessage") == []
    assert digest_rows(sandbox.store) == []


def test_partners_cannot_preview_the_digest(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "digest")
    sandbox.settle()

    (post,) = sandbox.emulator.response_posts
    assert "Only backbone admins" in post.payload["text"]
    assert "blocks" not in post.payload or "Weekly digest" not in str(post.payload["blocks"])


# --- the schedule ------------------------------------------------------------------------


def _tick(sandbox: Sandbox, at: datetime) -> None:
    from bot.runtime import scheduler

    sandbox.clock.set(at)
    scheduler.run_due_now(sandbox.services, only={"digest-tick"})


def test_scheduled_digest_waits_for_its_time_then_posts_once(sandbox: Sandbox) -> None:
    seed_week(sandbox.store)

    _tick(sandbox, DUE - timedelta(minutes=1))
    assert digest_posts(sandbox) == []

    _tick(sandbox, DUE)
    _tick(sandbox, DUE + timedelta(minutes=5))
    assert len(digest_posts(sandbox)) == 1


def test_digest_missed_during_downtime_is_posted_when_the_bot_returns_that_week(
        sandbox: Sandbox) -> None:
    seed_week(sandbox.store)

    # Down from Friday morning to Sunday evening (Chicago); back before the week ends.
    _tick(sandbox, datetime(2026, 11, 16, 1, 0, tzinfo=UTC))
    _tick(sandbox, datetime(2026, 11, 16, 1, 5, tzinfo=UTC))

    (post,) = digest_posts(sandbox)
    assert WEEK in text_of(post)
    # The next Monday is a new week, whose digest is not due until Friday.
    _tick(sandbox, datetime(2026, 11, 16, 7, 0, tzinfo=UTC))
    assert len(digest_posts(sandbox)) == 1


def test_week_missed_entirely_is_not_posted_the_week_after(sandbox: Sandbox) -> None:
    _tick(sandbox, datetime(2026, 11, 18, 15, 0, tzinfo=UTC))  # Wednesday of W47

    assert digest_posts(sandbox) == []
    assert digest_rows(sandbox.store) == []


def test_two_concurrent_posts_produce_one_digest(sandbox: Sandbox) -> None:
    seed_week(sandbox.store)
    sandbox.clock.set(DUE)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait()
            outcomes.append(post_digest(sandbox.services, DUE, when_due=True).status)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(outcomes).count("posted") == 1
    assert len(digest_posts(sandbox)) == 1
    assert len(digest_rows(sandbox.store)) == 1


@pytest.mark.slow
def test_two_cli_processes_posting_together_post_one_digest(sandbox: Sandbox) -> None:
    seed_week(sandbox.store)
    env = bot_env(sandbox)
    command = [sys.executable, "-m", "bot", "digest", "--post", "--at", DUE.isoformat()]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], results
    outs = " ".join(out for out, _ in results)
    assert outs.count("Posted the 2026-W46 digest") == 1
    assert len(digest_posts(sandbox)) == 1


# --- exactly-once across crashes and failures -------------------------------------------


def test_claim_left_by_a_crashed_poster_is_retried_after_its_lease(sandbox: Sandbox) -> None:
    from sqlalchemy import update

    from bot.runtime.clock import SystemClock

    seed_week(sandbox.store)
    alive_until = SystemClock().now() + timedelta(minutes=10)  # leases run on real time
    with sandbox.store.session() as session:
        session.add(Digest(week=WEEK, attempt=0, created_at=DUE, lease_until=alive_until))

    _tick(sandbox, DUE + timedelta(minutes=5))
    assert digest_posts(sandbox) == []  # someone holds the claim
    with sandbox.store.session() as session:  # ...and then dies: its lease runs out
        session.execute(update(Digest).values(lease_until=SystemClock().now()
                                              - timedelta(seconds=1)))

    _tick(sandbox, DUE + timedelta(minutes=15))
    (post,) = digest_posts(sandbox)
    assert digest_rows(sandbox.store) == [(WEEK, 0, post["ts"])]


def test_digest_posted_just_before_a_crash_is_recorded_not_repeated(sandbox: Sandbox) -> None:
    seed_week(sandbox.store)
    with sandbox.store.session() as session:
        session.add(Digest(week=WEEK, attempt=0, created_at=DUE, lease_until=DUE))
    emu = sandbox.emulator
    ts = emu.add_message(BACKBONE, user=emu.bot_user_id, bot_id=emu.bot_id, text="digest",
                         metadata={"event_type": "impactbot_digest",
                                   "event_payload": {"week": WEEK, "attempt": 0}})

    _tick(sandbox, DUE + timedelta(minutes=15))

    assert emu.calls_to("chat.postMessage") == []
    assert digest_rows(sandbox.store) == [(WEEK, 0, ts)]


def test_failed_post_is_retried_by_the_next_tick(sandbox: Sandbox) -> None:
    seed_week(sandbox.store)
    sandbox.emulator.fail_next("chat.postMessage", status=200, error="internal_error")

    _tick(sandbox, DUE)  # the tick logs the failure and gives its claim back
    assert digest_posts(sandbox) == []
    assert digest_rows(sandbox.store) == [(WEEK, 0, None)]

    _tick(sandbox, DUE + timedelta(minutes=5))
    (post,) = digest_posts(sandbox)
    assert digest_rows(sandbox.store) == [(WEEK, 0, post["ts"])]


# --- Block Kit, chart, size --------------------------------------------------------------


def test_digest_is_valid_block_kit_and_its_chart_is_uploaded_in_the_thread(
        sandbox: Sandbox) -> None:
    seed_week(sandbox.store)

    _tick(sandbox, DUE)

    (post,) = digest_posts(sandbox)
    assert post["text"] and 0 < len(post["blocks"]) <= 50
    assert problems(post["blocks"], kind="message", text=post["text"]) == []
    assert sandbox.emulator.invalid_payloads == []
    (chart,) = sandbox.emulator.uploaded_files
    assert chart.bytes.startswith(b"\x89PNG\r\n\x1a\n")
    assert (chart.channel_id, chart.thread_ts) == (BACKBONE, post["ts"])
    assert chart.filename == "digest-2026-W46.png"
    CHART_OUT.write_bytes(chart.bytes)


def test_wins_that_do_not_fit_go_in_the_thread_and_cannot_ping_the_channel(
        sandbox: Sandbox) -> None:
    with sandbox.store.session() as session:
        session.add_all([
            Win(source="command", author_id="U0AAA", text=f"<!channel> win {i:02d} " + "x" * 60,
                status="posted", created_at=DUE, posted_at=DUE - timedelta(hours=i),
                posted_channel="C0WINS", posted_ts=f"7.{i}")
            for i in range(60)])

    _tick(sandbox, DUE)

    (post,) = digest_posts(sandbox)
    shown = text_of(post)
    assert "*Wins of the week (60)*" in shown and "more wins in the thread" in shown
    thread = [m for m in sandbox.emulator.bot_messages(BACKBONE)
              if m.get("thread_ts") == post["ts"] and m["ts"] != post["ts"]
              and not m.get("upload")]
    in_thread = "\n".join(text_of(m) for m in thread)
    assert all(f"win {i:02d}" in in_thread for i in range(60))
    assert "<!channel>" not in shown + in_thread
    assert "@\u200bchannel win 00" in in_thread


def test_digest_is_posted_without_a_chart_when_matplotlib_is_missing(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_week(sandbox.store)
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail

    _tick(sandbox, DUE)

    assert len(digest_posts(sandbox)) == 1
    assert sandbox.emulator.uploaded_files == []


def _grow(store: Store, partners: int, measures: int, months: int) -> None:
    """A bigger initiative: more partners and measures, each with history and wins."""
    with store.session() as session:
        base = session.scalar(select(func.count(Partner.id))) or 0
        new_partners = [Partner(key=f"p{base + i}", name=f"Partner {base + i}",
                                position=100 + base + i) for i in range(partners)]
        new_measures = [Measure(key=f"m{base + i}", name=f"Measure number {base + i}",
                                unit="people", baseline=10, target=100, cadence="monthly",
                                aggregate="sum", position=100 + base + i)
                        for i in range(measures)]
        session.add_all([*new_partners, *new_measures])
        session.flush()
        for mi, measure in enumerate(new_measures):
            for pi, partner in enumerate(new_partners):
                if (mi + pi) % 2:
                    continue
                session.add(MeasurePartner(measure_id=measure.id, partner_id=partner.id))
                for k in range(months):
                    month = date(2026, 10, 1) - timedelta(days=30 * k)
                    report_row(session, measure.id, partner.id, f"{month:%Y-%m}", 10 + k,
                               datetime(2026, 11, 2, tzinfo=UTC))
        for i, partner in enumerate(new_partners):
            session.add(Win(source="command", author_id="U0AAA", partner_id=partner.id,
                            text=f"win {base + i}", status="posted", created_at=DUE,
                            posted_at=DUE - timedelta(days=1), posted_channel="C0WINS",
                            posted_ts=f"9.{base + i}"))


def test_large_initiative_posts_a_summary_and_the_rest_in_the_thread(
        sandbox: Sandbox) -> None:
    _grow(sandbox.store, partners=30, measures=60, months=3)

    _tick(sandbox, DUE)

    (post,) = digest_posts(sandbox)
    assert len(post["blocks"]) <= 50
    thread = [m for m in sandbox.emulator.bot_messages(BACKBONE)
              if m.get("thread_ts") == post["ts"] and m["ts"] != post["ts"]
              and not m.get("upload")]
    assert thread and all(len(m["blocks"]) <= 50 for m in thread)
    raw = " ".join(b["text"]["text"] for m in [post, *thread] for b in m["blocks"]
                   if isinstance(b.get("text"), dict))
    for n in range(4, 64):
        assert f"*Measure number {n}*" in raw
    assert "in detail, is in the thread" in text_of(post)
    assert "North Clinic" in text_of(post)  # the partners that have not reported
    assert sandbox.emulator.invalid_payloads == []


def test_building_the_digest_takes_a_fixed_number_of_statements(store: Store) -> None:

    import_example(store, DUE)
    seed_week(store)

    def count() -> int:
        statements: list[str] = []

        def hook(*args: Any) -> None:
            if not args[2].startswith(("BEGIN", "COMMIT")):  # SQLite's own transaction
                statements.append(args[2])

        forget_all()  # cold: the forecasts' history is read too
        event.listen(store.engine, "before_cursor_execute", hook)
        try:
            with store.session() as session:
                data = build_digest(session, DUE)
                assert data is not None
                digest_message(data)
        finally:
            event.remove(store.engine, "before_cursor_execute", hook)
        return len(statements)

    small = count()
    _grow(store, partners=20, measures=15, months=6)
    large = count()

    assert small == large
    assert large <= 15


# --- takeovers --------------------------------------------------------------------------


def test_takeover_that_cannot_check_for_an_earlier_post_waits_instead_of_guessing(
        sandbox: Sandbox) -> None:
    seed_week(sandbox.store)
    with sandbox.store.session() as session:  # a poster claimed it and died
        session.add(Digest(week=WEEK, attempt=0, created_at=DUE, lease_until=DUE))
    sandbox.emulator.fail_next("conversations.history", status=200, error="fatal_error")

    _tick(sandbox, DUE + timedelta(minutes=15))
    assert digest_posts(sandbox) == []  # unknown whether it went out: do not post
    _tick(sandbox, DUE + timedelta(minutes=20))

    (post,) = digest_posts(sandbox)
    assert digest_rows(sandbox.store) == [(WEEK, 0, post["ts"])]


def test_a_slack_5xx_is_one_warning_line_and_the_next_tick_posts(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    seed_week(sandbox.store)
    sandbox.emulator.fail_next("chat.postMessage", status=503, error="service_unavailable")
    caplog.set_level(logging.INFO)

    _tick(sandbox, DUE)
    _tick(sandbox, DUE + timedelta(minutes=5))

    assert len(digest_posts(sandbox)) == 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    (warning,) = [r for r in caplog.records if r.name == "bot.digest.posting"
                  and r.levelno == logging.WARNING]
    assert warning.exc_info is None
    assert warning.getMessage().endswith("; the next tick retries")
