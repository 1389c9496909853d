"""Issue 16 (SPEC §10), the baseline as a forecast: each verdict, against a forecast fitted
to the history before `initiative.start` (loaded with import-values) and against an
override in initiative.yml, shown by `/impact measures`, the measure's page, the Home and
the digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main
from bot.emulator.sandbox import Sandbox
from tests.support.processes import point_cli_at
from tests.support.rba import reply, text_of
from tests.support.world import ADMIN, EXAMPLE, import_example

# 2025: +0.5 pts a month from 60, so the line forecasts about 70.5 for October 2026.
HISTORY = "measure_key,partner_key,period,value\n" + "".join(
    f"prenatal-visits,county-health,2025-{m:02d},{60 + 0.5 * (m - 1)}\n" for m in range(1, 13))


def _load(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, october: float
          ) -> None:
    point_cli_at(sandbox, monkeypatch)
    path = tmp_path / "history.csv"
    path.write_text(HISTORY + f"prenatal-visits,county-health,2026-10,{october}\n")
    assert main(["import-values", str(path)]) == 0


@pytest.mark.parametrize(("october", "word"), [
    (75, "beating the baseline"), (70.8, "on the baseline"), (66, "below the baseline")])
def test_a_verdict_against_the_forecast_from_history(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, october: float,
        word: str) -> None:
    _load(sandbox, monkeypatch, tmp_path, october)

    page = text_of(reply(sandbox, "U0OUTSIDER", "measures prenatal-visits"))
    listing = text_of(reply(sandbox, "U0OUTSIDER", "measures"))
    digest = text_of(reply(sandbox, ADMIN, "digest"))
    sandbox.driver.app_home_opened("U0AAA")
    sandbox.settle()
    home = text_of(sandbox.emulator.home_views["U0AAA"])

    assert f"Verdict: *▲ {word}*" in page or f"*{word}" in page or word in page
    assert "forecast 70.5%, from history" in page
    for shown in (listing, digest, home):
        assert word in shown
    # Headline measures lead the digest with their verdicts.
    assert "*Headline measures*\\n• *First-trimester prenatal visits*: " in digest
    # A measure with no history before the start has no forecast.
    assert "not enough data" in listing


@pytest.mark.parametrize(("override", "word"), [
    ("{2026: 10.0}", "beating the baseline"), ("{2026-Q3: 8.9}", "on the baseline"),
    ("{2026: 7.0}", "below the baseline")])
def test_a_verdict_against_an_override(bare_sandbox: Sandbox, tmp_path: Path, override: str,
                                       word: str) -> None:
    path = tmp_path / "initiative.yml"
    path.write_text(EXAMPLE.read_text().replace(
        "    source: County vital records, quarterly extract",
        f"    source: County vital records, quarterly extract\n    forecast: {override}"))
    import_example(bare_sandbox.store, path=path)
    reply(bare_sandbox, "U0AAA", "report low-birthweight 8.6 for 2026-Q3")

    page = text_of(reply(bare_sandbox, "U0OUTSIDER", "measures low-birthweight"))

    assert word in page and "set in initiative.yml" in page  # falling is better here


def test_corrected_history_moves_the_forecast_at_once(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The history before the start is kept in memory between pages (it is the past); a
    # correction of it must still show on the very next page.
    _load(sandbox, monkeypatch, tmp_path, 75)
    first = text_of(reply(sandbox, "U0OUTSIDER", "measures prenatal-visits"))
    corrected = tmp_path / "corrected.csv"
    corrected.write_text("measure_key,partner_key,period,value\n" + "".join(
        f"prenatal-visits,county-health,2025-{m:02d},{70 + 0.5 * (m - 1)}\n"
        for m in range(1, 13)))
    assert main(["import-values", str(corrected)]) == 0

    again = text_of(reply(sandbox, "U0OUTSIDER", "measures prenatal-visits"))

    assert "forecast 70.5%, from history" in first and "beating the baseline" in first
    assert "forecast 80.5%, from history" in again and "below the baseline" in again


def test_the_period_the_start_falls_in_is_judged_not_fitted(
        bare_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A start in mid-October: October 2026 is partly the initiative's own work, so the
    line it is judged against is fitted on the whole months before it (2025) alone; were
    October in the fit, its own 75 would lift the line it is measured against."""
    path = tmp_path / "initiative.yml"
    path.write_text(EXAMPLE.read_text().replace("  start: 2026-01-01", "  start: 2026-10-15"))
    import_example(bare_sandbox.store, path=path)
    _load(bare_sandbox, monkeypatch, tmp_path, 75)

    page = text_of(reply(bare_sandbox, "U0OUTSIDER", "measures prenatal-visits"))

    assert "forecast 70.5%, from history" in page and "beating the baseline" in page


def test_every_measure_carries_its_verdict_in_the_digest_not_only_headline_ones(
        bare_sandbox: Sandbox, tmp_path: Path) -> None:
    # SPEC §10: "Each measure gets a verdict, shown everywhere it is" (home-visits is no
    # headline measure).
    path = tmp_path / "initiative.yml"
    path.write_text(EXAMPLE.read_text().replace(
        "    partners: [family-connects, county-health]\n",
        "    partners: [family-connects, county-health]\n    forecast: {2026: 150}\n", 1))
    import_example(bare_sandbox.store, path=path)
    reply(bare_sandbox, "U0DDD", "report home-visits 170")

    digest = text_of(reply(bare_sandbox, ADMIN, "digest"))

    section = digest[digest.index('"*Families enrolled in home visiting*\\n'):]
    assert "Verdict: *▲ beating the baseline*" in section[:section.index('"}}')]
    assert "Verdict: *○ not enough data*" in digest  # the others, with no forecast
