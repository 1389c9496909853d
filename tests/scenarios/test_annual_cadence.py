"""Issue 15 (SPEC §9 "Annual cadence"): `cadence: annual` with `initiative.fiscal_year_start`.

tests/fixtures/annual-initiative.yml starts its years in July: FY2027 = 1 Jul 2026 – 30 Jun
2027. On NOW (10 Nov 2026 in Chicago) the reporting period of an annual measure is FY2026
(Jul 2025 – Jun 2026). Everything goes through signed requests into the sandbox, ticks
of the reminder job, or the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.cli.main import main
from bot.emulator.render import render_blocks
from bot.emulator.sandbox import Sandbox
from storage.models import Measure, Partner, Report
from tests.support.processes import point_cli_at
from tests.support.rba import ephemeral_reply as _reply
from tests.support.reminders import reminder_dms, tick
from tests.support.world import ADMIN, FIXTURES, NOW, import_example

ANNUAL = FIXTURES / "annual-initiative.yml"
FY2026 = "FY2026 (Jul 2025–Jun 2026)"


@pytest.fixture
def annual(bare_sandbox: Sandbox) -> Iterator[Sandbox]:
    import_example(bare_sandbox.store, path=ANNUAL)
    yield bare_sandbox


def _text(payload: dict[str, Any]) -> str:
    return render_blocks(payload.get("blocks") or [], str(payload.get("text", "")))


def _stored(sandbox: Sandbox) -> list[tuple[str, str, str, float]]:
    with sandbox.store.session() as session:
        rows = session.execute(
            select(Measure.key, Partner.key, Report.period, Report.value)
            .join(Measure, Measure.id == Report.measure_id)
            .join(Partner, Partner.id == Report.partner_id)
            .where(Report.is_current.is_(True)).order_by(Report.id)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _count(sandbox: Sandbox) -> int:
    with sandbox.store.session() as session:
        return int(session.scalar(select(func.count(Report.id))) or 0)


# --- reporting a year ------------------------------------------------------------------------


@pytest.mark.parametrize(("phrase", "period"), [
    ("", "FY2026"),
    (" for FY2026", "FY2026"),
    (" for FY26", "FY2026"),
    (" for fy 2026", "FY2026"),
    (" for last year", "FY2026"),
    (" for FY2025", "FY2025"),
    (" for the previous year", "FY2026"),
])
def test_a_year_is_filed_under_the_fiscal_year_the_person_means(
        annual: Sandbox, phrase: str, period: str) -> None:
    text = str(_reply(annual, "U0CCC", f"report kindergarten-ready 120{phrase}")["text"])

    assert _stored(annual) == [("kindergarten-ready", "clinic-north", period, 120.0)]
    assert f"filed under period {period} (" in text
    assert "Jul 20" in text and "–Jun 20" in text  # the months in words


@pytest.mark.parametrize(("line", "reason"), [
    ("kindergarten-ready 120 for FY2027", "FY2027 (Jul 2026–Jun 2027) is still running"),
    ("kindergarten-ready 120 for this year", "is still running"),
    ("kindergarten-ready 120 for FY2030", "is in the future"),
    ("kindergarten-ready 120 for 2026", "this initiative's years are fiscal years starting "
                                        f"in July, so say {FY2026} or FY2027"),
    ("kindergarten-ready 120 for September 2026", "is a month, but this measure is reported "
                                                  "annually: write its period like FY2027"),
    ("kindergarten-ready 120 for last month", "is a month, but this measure is reported "
                                              "annually"),
    ("kindergarten-ready 120 for Q3 2026", "is a quarter, but this measure is reported "
                                           "annually"),
    ("kindergarten-ready 120 for week 38", "is a week, but this measure is reported annually"),
    ("kindergarten-ready 120 for 2026-09", "'2026-09' is not an annual period; write it "
                                           "like FY2027"),
    ("kindergarten-ready 120 for FY2020", "more than 2 years back"),
    ("kindergarten-ready 120 for FY1066", "the year must be between 1900 and 2999"),
    ("home-visits 12 for FY2026", "is a fiscal year, but this measure is reported monthly"),
    ("home-visits 12 for last year", "is a year, but this measure is reported monthly"),
])
def test_a_period_that_does_not_fit_an_annual_measure_is_refused_and_nothing_is_stored(
        annual: Sandbox, line: str, reason: str) -> None:
    user = "U0AAA" if line.startswith("home") else "U0CCC"
    text = str(_reply(annual, user, f"report {line}")["text"])

    assert reason in text, text
    assert "Recorded" not in text
    assert _count(annual) == 0


def test_calendar_years_take_a_bare_year_and_name_periods_by_it(bare_sandbox: Sandbox,
                                                                tmp_path: Path) -> None:
    calendar = tmp_path / "calendar.yml"
    calendar.write_text(ANNUAL.read_text().replace("  fiscal_year_start: 7", ""))
    import_example(bare_sandbox.store, path=calendar)

    for phrase in ("", " for 2025", " for FY2025", " for FY25", " for last year"):
        text = str(_reply(bare_sandbox, "U0CCC",
                          f"report kindergarten-ready 120{phrase}")["text"])
        assert "filed under period 2025 (Jan–Dec 2025)" in text
    refused = str(_reply(bare_sandbox, "U0CCC", "report kindergarten-ready 1 for 2026")["text"])
    assert "2026 (Jan–Dec 2026) is still running" in refused
    assert {r[2] for r in _stored(bare_sandbox)} == {"2025"}


# --- what shows the years --------------------------------------------------------------------


def _two_years(sandbox: Sandbox) -> None:
    for user, line in (("U0AAA", "kindergarten-ready 310 for FY2025"),
                       ("U0CCC", "kindergarten-ready 90 for FY2025"),
                       ("U0AAA", "kindergarten-ready 330 for FY2026"),
                       ("U0CCC", "kindergarten-ready 120 for FY2026")):
        assert "Recorded" in str(_reply(sandbox, user, f"report {line}")["text"])


def test_measures_status_and_home_show_the_fiscal_year(annual: Sandbox) -> None:
    _two_years(annual)

    shown = _text(_reply(annual, ADMIN, "measures"))
    assert f"*450 children* for {FY2026}" in shown
    assert "+50 children on the period before" in shown  # like for like, year over year
    assert f"2 of 2 partners reported for {FY2026}" in shown

    status = _text(_reply(annual, "U0AAA", "status"))
    assert "home-visits" in status and "kindergarten-ready" not in status.split("Done")[0]

    annual.driver.app_home_opened("U0CCC")
    annual.settle()
    home = render_blocks(annual.emulator.home_views["U0CCC"]["blocks"], "")
    assert "450 children (FY2026, 2 of 2 partners)" in home


def test_the_digest_shows_each_year_in_words_and_the_change_on_the_year_before(
        annual: Sandbox) -> None:
    _two_years(annual)
    annual.clock.set(datetime(2026, 11, 13, 21, 0, tzinfo=UTC))

    shown = _text(_reply(annual, ADMIN, "digest"))

    assert "Children assessed ready for kindergarten" in shown
    assert f"*450 children* in {FY2026}" in shown
    assert "last 2 years" in shown
    assert "+50" in shown


def test_an_annual_measure_is_owed_once_a_year_and_reminded_once_for_the_year_just_ended(
        annual: Sandbox) -> None:
    tick(annual, NOW)
    tick(annual, NOW)  # the same tick again sends nothing

    (first,) = reminder_dms(annual, "U0CCC")
    assert "kindergarten-ready" in str(first["blocks"]) and "FY2026" in first["text"]

    _reply(annual, "U0CCC", "report kindergarten-ready 120")
    # Month after month nothing more is owed for the year (the monthly measure of the
    # other partner keeps its own rounds).
    for month in (12, 1, 2, 3, 4, 5, 6):
        year = 2026 if month == 12 else 2027
        tick(annual, datetime(year, month, 2, 18, 0, tzinfo=UTC))
    tick(annual, datetime(2027, 7, 1, 15, 59, tzinfo=UTC))  # 08:59 in Los Angeles
    assert len(reminder_dms(annual, "U0CCC")) == 1
    assert len(reminder_dms(annual, "U0AAA")) > 1

    tick(annual, datetime(2027, 7, 1, 16, 1, tzinfo=UTC))  # 09:01 on 1 July: FY2027 ended
    dms = reminder_dms(annual, "U0CCC")
    assert len(dms) == 2
    assert "FY2027" in dms[1]["text"] and "FY2026" not in dms[1]["text"]


# --- export, history import, the public scorecard ---------------------------------------------


def test_export_and_import_values_take_annual_keys(
        annual: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    point_cli_at(annual, monkeypatch)
    history = tmp_path / "history.csv"
    history.write_text("measure_key,partner_key,period,value\n"
                       "kindergarten-ready,county-health,FY2023,250\n"
                       "kindergarten-ready,county-health,FY2024,280\n"
                       "kindergarten-ready,clinic-north,FY2024,70\n")
    assert main(["import-values", str(history)]) == 0
    _two_years(annual)
    assert main(["import-values", str(history)]) == 0
    capsys.readouterr()

    assert main(["export", "--measure", "kindergarten-ready", "--from", "FY2024",
                 "--to", "FY2025"]) == 0
    rows = [line.split(",")[:4] for line in capsys.readouterr().out.splitlines()[1:]]
    assert sorted(rows) == sorted([
        ["kindergarten-ready", "county-health", "FY2024", "280"],
        ["kindergarten-ready", "clinic-north", "FY2024", "70"],
        ["kindergarten-ready", "county-health", "FY2025", "310"],
        ["kindergarten-ready", "clinic-north", "FY2025", "90"]])

    assert main(["export", "--from", "2025"]) == 2
    assert ("--from: this initiative's years are fiscal years starting in July: write FY2025 "
            "(ending in 2025) or FY2026 (starting in 2025)") in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("measure_key,partner_key,period,value\n"
                   "kindergarten-ready,county-health,2024,280\n")
    before = _count(annual)
    assert main(["import-values", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "period" in err and "FY2024" in err
    assert _count(annual) == before


def test_the_public_scorecard_names_the_fiscal_years(annual: Sandbox, tmp_path: Path) -> None:
    from tests.support.public import fetch, go_public

    go_public(annual, tmp_path, source=ANNUAL)
    _two_years(annual)

    page = fetch(annual, "/scorecard")
    assert page.status == 200
    assert "FY2026 (Jul 2025–Jun 2026)" in page.text  # as every English screen writes it
    assert "FY2025 (Jul 2024–Jun 2025)" in page.text
    spanish = fetch(annual, "/scorecard?lang=es")
    assert "FY2026 (jul 2025 – jun 2026)" in spanish.text


# --- initiative.yml ----------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("fiscal_year_start: 7", "fiscal_year_start: 13",
     "initiative.fiscal_year_start: expected a whole number from 1 to 12 (got 13)"),
    ("fiscal_year_start: 7", "fiscal_year_start: July",
     "initiative.fiscal_year_start: expected a whole number from 1 to 12 (got 'July')"),
    ("fiscal_year_start: 7", "fiscal_year_start: 0",
     "initiative.fiscal_year_start: expected a whole number from 1 to 12 (got 0)"),
    ("cadence: annual", "cadence: yearly",
     "measures[0].cadence: expected one of weekly, monthly, quarterly, annual (got 'yearly')"),
])
def test_a_bad_fiscal_year_start_or_cadence_exits_2_naming_the_key(
        cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str,
        expected: str) -> None:
    broken = tmp_path / "initiative.yml"
    broken.write_text(ANNUAL.read_text().replace(old, new, 1))

    assert main(["import", str(broken)]) == 2

    err = capsys.readouterr().err.strip()
    assert err == f"impactbot: initiative.yml: {expected}"


def test_the_fiscal_year_start_is_kept_and_cannot_move_under_recorded_years(
        annual: Sandbox, tmp_path: Path) -> None:
    from bot.initiative.checker import InitiativeFileError
    from storage.models import Initiative

    with annual.store.session() as session:
        assert session.scalar(select(Initiative.fiscal_year_start)) == 7
    assert not import_example(annual.store, path=ANNUAL).changed  # the same file: no change

    moved = tmp_path / "initiative.yml"
    moved.write_text(ANNUAL.read_text().replace("fiscal_year_start: 7", "fiscal_year_start: 4"))
    assert import_example(annual.store, path=moved).changes == [
        "initiative: fiscal_year_start"]  # nothing recorded yet: free to move
    import_example(annual.store, path=ANNUAL)
    _reply(annual, "U0CCC", "report kindergarten-ready 120")

    with pytest.raises(InitiativeFileError) as refused:
        import_example(annual.store, path=moved)
    assert str(refused.value).startswith(
        "initiative.yml: initiative.fiscal_year_start: annual values are already recorded "
        "for years starting in month 7; keep fiscal_year_start: 7")
    with annual.store.session() as session:
        assert session.scalar(select(Initiative.fiscal_year_start)) == 7


def test_the_verdict_of_an_annual_measure_is_fitted_on_the_years_before_the_start(
        annual: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    point_cli_at(annual, monkeypatch)
    history = tmp_path / "history.csv"
    history.write_text("measure_key,partner_key,period,value\n" + "".join(
        f"kindergarten-ready,county-health,FY{year},{value}\n"
        for year, value in ((2022, 300), (2023, 320), (2024, 340), (2025, 360))))
    assert main(["import-values", str(history)]) == 0
    # The line is fitted on the years that *ended* by the start (bot/measures/forecast.py):
    # FY2022 … FY2025. FY2026, which began in July 2025 (start: 1 Jan 2026), is partly the
    # initiative's own work: it is judged against the line, not part of it.
    for user, line in (("U0AAA", "kindergarten-ready 379"), ("U0CCC", "kindergarten-ready 71")):
        _reply(annual, user, f"report {line}")

    shown = _text(_reply(annual, ADMIN, "measures kindergarten-ready"))

    # 300, 320, 340, 360 a year apart: 380 at FY2026 (its own 450 would have lifted the
    # line to 422).
    assert "Verdict: *▲ beating the baseline* (forecast 380.0, from history)" in shown
    assert "*450 children* for FY2026 (Jul 2025–Jun 2026)" in shown
