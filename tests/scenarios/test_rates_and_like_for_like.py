"""Issue 15, findings 3, 5 and 6 (SPEC §9 "Rates" and "Like for like"): a rate measure is
reported as NUMERATOR/DENOMINATOR and pooled (a hospital with 900 births weighs more than a
clinic with 12) everywhere; a change is computed over the partners that reported in both
periods, in points for percentages, and every figure says its coverage. Signed requests in,
what Slack received and what the database holds out."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.emulator.sandbox import Sandbox
from bot.measures.export import COLUMNS
from storage.models import Measure, Report
from tests.support.processes import point_cli_at
from tests.support.world import ADMIN, EXAMPLE, import_example

RATE = """
  - key: breastfeeding
    name: Breastfeeding at discharge
    rate: true
    direction: up
    baseline: 50
    target: 70
    cadence: monthly
    partners: [county-health, clinic-north]
"""


@pytest.fixture
def rated(sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    path = tmp_path / "initiative.yml"
    path.write_text(EXAMPLE.read_text() + RATE)
    import_example(sandbox.store, path=path)
    return sandbox


def _reply(sandbox: Sandbox, user: str, text: str) -> dict[str, Any]:
    before = len(sandbox.emulator.response_posts)
    sandbox.driver.command(user, text)
    sandbox.settle()
    posts = sandbox.emulator.response_posts[before:]
    assert len(posts) == 1, posts
    payload: dict[str, Any] = posts[0].payload
    return payload


def _all_text(payload: dict[str, Any]) -> str:
    return "\n".join([payload.get("text", ""), str(payload.get("blocks", ""))])


def _section(payload: dict[str, Any], key: str) -> str:
    (text,) = [b["text"]["text"] for b in payload["blocks"]
               if b["type"] == "section" and f"`{key}`" in b["text"]["text"]]
    return str(text)


def test_a_rate_is_reported_as_a_fraction_and_both_parts_are_stored(rated: Sandbox) -> None:
    reply = _reply(rated, "U0AAA", "report breastfeeding 43/60 from the ward log")
    _reply(rated, "U0CCC", "report breastfeeding 9 / 12")

    with rated.store.session() as session:
        rows = session.execute(select(Report.value, Report.numerator, Report.denominator,
                                      Report.note).order_by(Report.id)).all()
        rule = session.scalar(select(Measure.aggregate).where(Measure.key == "breastfeeding"))
    assert [tuple(r) for r in rows] == [(pytest.approx(100 * 43 / 60), 43.0, 60.0,
                                         "from the ward log"), (75.0, 9.0, 12.0, "")]
    assert rule == "pooled"  # the default for rates
    assert "Recorded 71.7% (43/60)" in reply["text"]


@pytest.mark.parametrize(("line", "reason"), [
    ("breastfeeding 72", "report it as numerator/denominator, like 43/60"),
    ("breastfeeding 13/12", "the numerator is larger than the denominator"),
    ("breastfeeding 5/0", "a denominator of 0"),
    ("breastfeeding 5/-3", "negative"),
    ("prenatal-visits 43/60", "is not a rate measure: give one number"),
])
def test_a_bad_rate_is_refused_and_nothing_is_stored(rated: Sandbox, line: str,
                                                     reason: str) -> None:
    reply = _reply(rated, "U0AAA", f"report {line}")

    assert reason in reply["text"]
    with rated.store.session() as session:
        assert session.scalars(select(Report)).all() == []


def test_pooled_weighs_partners_by_their_size_everywhere(rated: Sandbox) -> None:
    # The hospital: 450 of 900 births (50%); the clinic: 12 of 12 (100%).
    # Pooled: 462 / 912 = 50.7%; an unweighted average would say 75%.
    _reply(rated, "U0AAA", "report breastfeeding 450/900")
    _reply(rated, "U0CCC", "report breastfeeding 12/12")

    measures = _section(_reply(rated, "U0EEE", "measures"), "breastfeeding")
    assert "*50.7%* for 2026-10 (pooled, 2 of 2 partners)" in measures
    assert "75%" not in measures

    digest = _all_text(_reply(rated, ADMIN, "digest"))
    assert "*50.7%* in Oct 2026 (2 of 2 partners)" in digest

    rated.driver.app_home_opened("U0AAA")
    rated.settle()
    home = str(rated.emulator.home_views["U0AAA"]["blocks"])
    assert "50.7%" in home and "75%" not in home

    _reply(rated, ADMIN, "export")
    lines = rated.emulator.uploaded_files[-1].bytes.decode().splitlines()
    assert lines[0].split(",") == list(COLUMNS)
    assert lines[0].endswith(",numerator,denominator,dimension,group")
    rates = sorted(line.split(",")[-4:-2] for line in lines[1:]
                   if line.startswith("breastfeeding,"))
    assert rates == [["12", "12"], ["450", "900"]]


def test_export_totals_show_the_pooled_figure_and_its_coverage(
        rated: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _reply(rated, "U0AAA", "report breastfeeding 450/900")
    _reply(rated, "U0CCC", "report breastfeeding 12/12")
    point_cli_at(rated, monkeypatch)
    capsys.readouterr()

    assert main(["export", "--totals", "--measure", "breastfeeding"]) == 0

    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row == {"measure_key": "breastfeeding", "period": "2026-10",
                   "value": repr(100 * 462 / 912), "aggregate": "pooled", "partners": "2",
                   "assigned": "2", "numerator": "462", "denominator": "912"}


def test_a_change_is_like_for_like_when_a_partner_starts_reporting(sandbox: Sandbox) -> None:
    # September: only County Health (50%). October: County Health worsens 1.5 points and
    # North Clinic reports for the first time (60%). The average rises from 50 to 54.25,
    # but the like-for-like change is -1.5 points, over the one partner in both months.
    _reply(sandbox, "U0AAA", "report prenatal-visits 50 for sept")
    _reply(sandbox, "U0AAA", "report prenatal-visits 48.5")
    _reply(sandbox, "U0CCC", "report prenatal-visits 60")

    measures = _section(_reply(sandbox, "U0EEE", "measures"), "prenatal-visits")
    assert "*54.2%* for 2026-10 (avg, 2 of 2 partners)" in measures or \
        "*54.3%* for 2026-10 (avg, 2 of 2 partners)" in measures
    assert ("↓ −1.5 pts on the period before, worse (like for like: 1 of 2 partners "
            "reported in both)") in measures
    assert "+4" not in measures

    digest = _all_text(_reply(sandbox, ADMIN, "digest"))
    assert "(2 of 2 partners) · ↓ worse (−1.5 pts like for like: 1 of 2 partners in both " \
           "periods)" in digest
    assert "+4.2" not in digest and "+4.3" not in digest


def test_a_percentage_change_is_in_points_in_the_digest_as_in_measures(
        sandbox: Sandbox) -> None:
    _reply(sandbox, "U0AAA", "report prenatal-visits 60 for sept")
    _reply(sandbox, "U0AAA", "report prenatal-visits 69")

    measures = _section(_reply(sandbox, "U0EEE", "measures"), "prenatal-visits")
    digest = _all_text(_reply(sandbox, ADMIN, "digest"))

    assert "+9 pts" in measures
    assert "+9 pts" in digest
    assert "+9%" not in digest
