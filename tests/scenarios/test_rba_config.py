"""Issue 16 (SPEC §10), initiative.yml: dimensions, results and the measures' RBA keys are
checked with key-path errors like the rest and stored by the import; a development measure
(the data development agenda) is never owed nor reminded."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.emulator.sandbox import Sandbox
from storage.db import Store
from storage.models import Initiative, Measure, MeasurePartner
from tests.support.rba import DEV_KEY, RATE_KEY, reply
from tests.support.reminders import reminder_dms, tick
from tests.support.world import EXAMPLE, MEMBERS, NOW

BROKEN = {
    "unknown dimension": (
        "breakdowns: [race-ethnicity, zip]", "breakdowns: [race-ethnicity, zipcode]",
        "measures[4].breakdowns[1]: unknown dimension 'zipcode'"),
    "unknown quadrant": (
        "quadrant: how-well", "quadrant: how-good",
        "measures[4].quadrant: expected one of how-much, how-well, better-off"),
    "unknown kind": (
        "kind: indicator ", "kind: outcome ",
        "measures[2].kind: expected one of performance, indicator"),
    "unknown result": (
        "    result: healthy-births\n    headline: true",
        "    result: healthy-babies\n    headline: true",
        "measures[0].result: unknown result 'healthy-babies'"),
    "indicator that is a performance measure": (
        "indicators: [low-birthweight]", "indicators: [home-visits]",
        "results[0].indicators[0]: 'home-visits' is a performance measure"),
    "min_group that is not a number": (
        "min_group: 20 ", "min_group: twenty ",
        "measures[4].min_group: expected a whole number from 1 to 100000"),
    "headline that is not true or false": (
        "headline: true                  # headline", "headline: sometimes  # headline",
        "measures[0].headline: expected true or false"),
    "duplicate group": (
        'groups: ["60085", "60064"]', 'groups: ["60085", "60085"]',
        "dimensions[1].groups[1]: duplicate group '60085'"),
    "forecast of a percentage above 100": (
        "    source: Partner EHR extracts",
        "    source: Partner EHR extracts\n    forecast: {2027: 170}",
        "measures[4].forecast.2027: expected a percentage from 0 to 100"),
    "quadrant on an indicator": (
        "kind: indicator ", "quadrant: how-much\n    kind: indicator ",
        "measures[2].quadrant: quadrants are for performance measures"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_rba_key_exits_2_naming_its_path_and_writes_nothing(
        case: str, cli_env: str, store: Store, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    old, new, expected = BROKEN[case]
    source = EXAMPLE.read_text()
    assert old in source, old
    broken = tmp_path / "initiative.yml"
    broken.write_text(source.replace(old, new, 1))

    assert main(["import", str(broken)]) == 2

    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("impactbot: initiative.yml: ") and expected in err, err
    with store.session() as session:
        assert session.scalar(select(Initiative.id)) is None


def test_the_example_stores_its_results_dimensions_and_measure_kinds(sandbox: Sandbox) -> None:
    with sandbox.store.session() as session:
        initiative = session.scalars(select(Initiative)).one()
        measures = {m.key: m for m in session.scalars(select(Measure))}
        assigned = {m for (m,) in session.execute(
            select(Measure.key).join(MeasurePartner, MeasurePartner.measure_id == Measure.id))}
    assert [d["key"] for d in initiative.dimensions] == ["race-ethnicity", "zip"]
    assert initiative.dimensions[1]["groups"] == ["60085", "60064"]
    assert initiative.results == [{"key": "healthy-births",
                                   "name": "Every baby in Lake County is born healthy",
                                   "indicators": ["low-birthweight"]}]
    lbw, rate, dev = measures["low-birthweight"], measures[RATE_KEY], measures[DEV_KEY]
    assert (lbw.kind, lbw.result, lbw.headline) == ("indicator", "healthy-births", True)
    assert lbw.source == "County vital records, quarterly extract"
    assert (rate.kind, rate.quadrant, rate.breakdowns, rate.min_group, rate.rate) == (
        "performance", "how-well", ["race-ethnicity", "zip"], 20, True)
    assert dev.development and DEV_KEY not in assigned  # nobody reports it
    assert RATE_KEY in assigned


def test_a_development_measure_is_never_owed_reminded_or_reportable(sandbox: Sandbox) -> None:
    status = reply(sandbox, "U0EEE", "status")
    refused = reply(sandbox, "U0EEE", f"report {DEV_KEY} 12")
    tick(sandbox, NOW)

    assert RATE_KEY in str(status) and DEV_KEY not in str(status)
    assert "does not report" in refused["text"]
    for user in MEMBERS:
        for dm in reminder_dms(sandbox, user):
            assert DEV_KEY not in str(dm) and "postpartum depression" not in str(dm)
    assert any(RATE_KEY in str(dm) for dm in reminder_dms(sandbox, "U0EEE"))


def test_measures_the_page_the_digest_and_the_home_show_the_rba_example(
        sandbox: Sandbox) -> None:
    from tests.support.rba import text_of

    reply(sandbox, "U0EEE", f"report {RATE_KEY} 43/60")
    listing = reply(sandbox, "U0OUTSIDER", "measures")
    page = text_of(reply(sandbox, "U0OUTSIDER", f"measures {RATE_KEY}"))
    digest = text_of(reply(sandbox, "U0BACKBONE1", "digest"))
    sandbox.driver.app_home_opened("U0EEE")
    sandbox.settle()
    home = text_of(sandbox.emulator.home_views["U0EEE"])

    sections = [b["text"]["text"] for b in listing["blocks"] if b["type"] == "section"]
    order = [next(i for i, t in enumerate(sections) if needle in t) for needle in (
        "Result: Every baby in Lake County is born healthy", "*Indicators*",
        "`low-birthweight`", "How much did we do?", "How well did we do it?", f"`{RATE_KEY}`",
        "Is anyone better off?", "`prenatal-visits`", "Data development agenda")]
    assert order == sorted(order), sections  # result, indicators, quadrants, agenda last
    assert f"`{DEV_KEY}`" in sections[-1]
    assert "Race/ethnicity:_" in page and "ZIP code:_" in page and "Verdict:" in page
    assert "Performance measure · How well did we do it? · source: Partner EHR extracts" in page
    assert "*Headline measures*" in digest and "low-birthweight" not in digest.split(
        "Headline measures")[0]
    assert "Postpartum check-ups within six weeks" in home and "Data development agenda" in home
    assert "Postpartum check-ups within six weeks" in digest
