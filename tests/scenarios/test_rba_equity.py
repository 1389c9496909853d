"""Issue 16 (SPEC §10), equity gaps and small-n suppression, through signed requests: each
group's figure and its gap to the best group in points for a rate, with its direction over
time; a group whose denominator is below `min_group` never shows its value anywhere (every
message, view, file, export and log line of the scenario is searched for it)."""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.emulator.sandbox import Sandbox
from tests.support.forms import report_form
from tests.support.processes import point_cli_at
from tests.support.rba import RATE_KEY, RATE_MEMBER, reply, text_of
from tests.support.world import ADMIN

DUE = datetime(2026, 11, 13, 21, 0, tzinfo=UTC)  # the digest's Friday
# Asian mothers: 7 of 13 (53.8%): 13 is below min_group 20, so this must never be shown.
SECRETS = ("53.8", "53.9", "7/13", "7 of 13")
HISTORY = """measure_key,partner_key,period,value,numerator,denominator,dimension,group
postpartum-checkups,united-way,2026-09,,120,200,,
postpartum-checkups,united-way,2026-09,,25,60,race-ethnicity,Black
postpartum-checkups,united-way,2026-09,,40,50,race-ethnicity,White
postpartum-checkups,united-way,2026-09,,27,45,race-ethnicity,Hispanic/Latino
postpartum-checkups,united-way,2026-09,,7,13,race-ethnicity,Asian
"""


def _report_october(sandbox: Sandbox) -> None:
    sandbox.driver.block_action(RATE_MEMBER, f"report_open:{RATE_KEY}")
    sandbox.settle()
    view = sandbox.driver.last_view()
    form = report_form(RATE_KEY, "131/200")
    for block, text in {"grp|race-ethnicity|0": "30/60", "grp|race-ethnicity|1": "27/45",
                        "grp|race-ethnicity|2": "40/50", "grp|race-ethnicity|3": "7/13",
                        "grp|zip|0": "33/47", "grp|zip|1": "20/24"}.items():
        form[block] = {block: {"type": "plain_text_input", "value": text}}
    answer = sandbox.driver.view_submission(RATE_MEMBER, view, form)
    sandbox.settle()
    assert not (answer.json or {}).get("response_action"), answer.json


@pytest.fixture
def reported(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Sandbox:
    point_cli_at(sandbox, monkeypatch)
    path = tmp_path / "history.csv"
    path.write_text(HISTORY)
    assert main(["import-values", str(path)]) == 0
    _report_october(sandbox)
    return sandbox


def test_each_group_shows_its_gap_in_points_and_its_direction(reported: Sandbox) -> None:
    page = reply(reported, "U0OUTSIDER", f"measures {RATE_KEY}")
    shown = text_of(page)

    # October: White 80% is the best; Black 50% is 30 pts behind (41.7% was 38.3 behind in
    # September: narrowing); Hispanic/Latino 60% is 20 pts behind (20 before: unchanged).
    assert "White 80% (the best group)" in shown
    assert "Black 50% (30 pts behind the best group, narrowing)" in shown
    assert "Hispanic/Latino 60% (20 pts behind the best group, unchanged)" in shown
    assert "Asian fewer than 20" in shown and "Other not reported" in shown
    # ZIP: 60064 has 24 mothers (83.3%), 60085 47 (70.2%): 13.1 pts behind.
    assert "60064 83.3% (the best group)" in shown
    assert "60085 70.2% (13.1 pts behind the best group)" in shown
    assert "groups of fewer than 20 are not shown" in shown


def test_a_suppressed_group_never_shows_its_value_anywhere(
        reported: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox = reported
    reply(sandbox, "U0OUTSIDER", "measures")
    reply(sandbox, "U0OUTSIDER", f"measures {RATE_KEY}")
    reply(sandbox, ADMIN, "digest")
    reply(sandbox, ADMIN, "export")
    sandbox.driver.app_home_opened(RATE_MEMBER)
    sandbox.driver.app_home_opened(ADMIN)
    sandbox.settle()
    capsys.readouterr()
    assert main(["digest", "--post", "--at", DUE.isoformat()]) == 0
    assert main(["export"]) == 0
    assert main(["export", "--format", "json", "--history"]) == 0
    cli = capsys.readouterr()

    produced = [text_of(c.params) + text_of(c.response) for c in sandbox.emulator.calls]
    produced += [text_of(p.payload) for p in sandbox.emulator.response_posts]
    produced += [f.bytes.decode("utf-8", "replace") + (f.initial_comment or "")
                 for f in sandbox.emulator.uploaded_files]
    produced += [cli.out, cli.err]
    produced += [record.getMessage() for record in caplog.records]
    everything = "\n".join(produced)

    # The scenario did show the groups (and the Asian group as "fewer than 20") …
    assert "Black 50%" in everything and "fewer than 20" in everything
    assert any(f.filename.endswith(".csv") for f in sandbox.emulator.uploaded_files)
    assert "Equity gaps" in everything  # the digest's line on the largest gap
    # … and never the suppressed group's figure, in any form.
    for secret in SECRETS:
        assert secret not in everything, secret
    exported = cli.out[cli.out.index("measure_key,"):].split("\n[")[0]
    rows = list(csv.DictReader(io.StringIO(exported)))
    asian = [r for r in rows if r["group"] == "Asian"]
    assert asian and all(r["value"] == r["numerator"] == r["denominator"] == "" for r in asian)


def test_the_chart_draws_the_groups_as_small_multiples_without_suppressed_ones(
        reported: Sandbox) -> None:
    from bot.digest.chart import render_chart
    from bot.digest.data import build_digest

    with reported.store.session() as session:
        data = build_digest(session, DUE)
    assert data is not None
    race, zips = data.rba.panels
    assert race.title == "Postpartum check-ups within six weeks by Race/ethnicity"
    assert [name for name, _ in race.shown] == ["Black", "Hispanic/Latino", "White"]
    assert race.suppressed == ("Asian",) and race.min_group == 20
    assert [name for name, _ in zips.shown] == ["60085", "60064"]
    png = render_chart(data)
    assert png is None or png.startswith(b"\x89PNG")  # None only without matplotlib


def test_export_totals_are_the_total_alone_never_the_groups_added_in(
        reported: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    # SPEC §10: "the total stays the measure's figure; groups never add up silently".
    capsys.readouterr()
    assert main(["export", "--totals", "--measure", RATE_KEY]) == 0

    rows = {r["period"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["2026-09"] == {"measure_key": RATE_KEY, "period": "2026-09", "value": "60",
                               "aggregate": "pooled", "partners": "1", "assigned": "1",
                               "numerator": "120", "denominator": "200"}
    assert (rows["2026-10"]["numerator"], rows["2026-10"]["denominator"]) == ("131", "200")
