"""The public scorecard with Results-Based Accountability (SPEC §10, §13): headline
measures with their verdicts, equity gaps with small groups shown as "fewer than N", the
latest story behind the curve; a suppressed group's figure is in no public response."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main
from bot.emulator.sandbox import Sandbox
from tests.support.forms import report_form
from tests.support.processes import point_cli_at
from tests.support.public import fetch, go_public
from tests.support.rba import RATE_KEY, RATE_MEMBER, reply

HISTORY = """measure_key,partner_key,period,value,numerator,denominator,dimension,group
postpartum-checkups,united-way,2026-09,,120,200,,
postpartum-checkups,united-way,2026-09,,25,60,race-ethnicity,Black
postpartum-checkups,united-way,2026-09,,40,50,race-ethnicity,White
postpartum-checkups,united-way,2026-09,,27,45,race-ethnicity,Hispanic/Latino
postpartum-checkups,united-way,2026-09,,7,13,race-ethnicity,Asian
"""
# The Asian group's October figure (7 of 13: below min_group 20), in every form it could take.
SECRETS = ("53.8", "53,8", "53.9", "53,9", "7/13", "7 of 13", "7 de 13")
STORY = "Evening clinic hours helped new mothers come back"


def _report_october(sandbox: Sandbox) -> None:
    sandbox.driver.block_action(RATE_MEMBER, f"report_open:{RATE_KEY}")
    sandbox.settle()
    form = report_form(RATE_KEY, "131/200")
    for block, text in {"grp|race-ethnicity|0": "30/60", "grp|race-ethnicity|1": "27/45",
                        "grp|race-ethnicity|2": "40/50", "grp|race-ethnicity|3": "7/13",
                        "grp|zip|0": "33/47", "grp|zip|1": "20/24"}.items():
        form[block] = {block: {"type": "plain_text_input", "value": text}}
    answer = sandbox.driver.view_submission(RATE_MEMBER, sandbox.driver.last_view(), form)
    sandbox.settle()
    assert not (answer.json or {}).get("response_action"), answer.json


@pytest.fixture
def public(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Sandbox:
    go_public(sandbox, tmp_path)
    point_cli_at(sandbox, monkeypatch)
    history = tmp_path / "history.csv"
    history.write_text(HISTORY)
    assert main(["import-values", str(history)]) == 0
    _report_october(sandbox)
    reply(sandbox, RATE_MEMBER, f"story {RATE_KEY} {STORY}")
    return sandbox


def test_the_measure_page_shows_groups_the_small_one_suppressed_and_the_story(
        public: Sandbox) -> None:
    page = fetch(public, f"/scorecard/{RATE_KEY}")
    html = page.body.decode()

    assert page.status == 200
    assert "Black" in html and "White" in html  # the groups large enough to show
    assert "fewer than 20" in html  # the Asian group, suppressed
    assert STORY in html
    spanish = fetch(public, f"/scorecard/{RATE_KEY}?lang=es").body.decode()
    assert "menos de 20" in spanish and STORY in spanish


def test_headline_measures_carry_their_verdict_on_the_scorecard(public: Sandbox) -> None:
    html = fetch(public, "/scorecard").body.decode()

    assert 'class="verdict verdict-' in html
    assert any(label in html for label in ("Beating the baseline", "On the baseline",
                                           "Below the baseline", "Not enough data"))


def test_no_public_response_holds_the_suppressed_groups_figure(public: Sandbox) -> None:
    paths = ["/scorecard", f"/scorecard/{RATE_KEY}", f"/scorecard/{RATE_KEY}/embed",
             "/scorecard.csv", "/scorecard.json"]
    bodies = [fetch(public, path + suffix).body.decode()
              for path in paths for suffix in ("", "?lang=es")]
    everything = "\n".join(bodies)

    assert "fewer than 20" in everything or "suppressed" in everything
    for secret in SECRETS:
        assert secret not in everything, secret


def test_the_scorecard_names_the_results_with_their_indicators(public: Sandbox) -> None:
    # SPEC §13: "the agenda, results with their indicators, headline measures first".
    html = fetch(public, "/scorecard").body.decode()
    results = html[html.index('id="results-h"'):html.index("</section>",
                                                          html.index('id="results-h"'))]

    assert "Every baby in Lake County is born healthy" in results
    assert ">Low-birthweight births</a> (Not enough data)" in results
    assert "/scorecard/low-birthweight" in results
    assert html.index('id="results-h"') < html.index("Shared measures")
    spanish = fetch(public, "/scorecard?lang=es").body.decode()
    assert "Los resultados que buscamos" in spanish and "Se mide con:" in spanish
