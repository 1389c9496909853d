"""`impactbot export`: the CSV/JSON the backbone takes away, consistent with Slack."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.emulator.sandbox import Sandbox
from bot.measures.export import COLUMNS
from bot.measures.progress import (
    PartnerValue,
    aggregate,
    format_percent,
    format_value,
    like_for_like,
    progress_fraction,
)
from bot.measures.view import format_delta
from tests.support.processes import point_cli_at
from tests.support.world import ADMIN

RULES = {"prenatal-visits": ("avg", "%"), "home-visits": ("sum", "families"),
         "low-birthweight": ("latest", "%"), "diaper-bank": ("sum", "diapers"),
         "postpartum-checkups": ("pooled", "%")}

TARGETS = {"prenatal-visits": (61, 80), "home-visits": (120, 300),
           "low-birthweight": (9.1, 7.5), "diaper-bank": (0, 5000),
           "postpartum-checkups": (55, 75)}


def _report(sandbox: Sandbox, user: str, text: str) -> None:
    sandbox.driver.command(user, f"report {text}")
    sandbox.settle()


def _export(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            *args: str) -> str:
    point_cli_at(sandbox, monkeypatch)
    capsys.readouterr()
    assert main(["export", *args]) == 0
    return capsys.readouterr().out


def _seed(sandbox: Sandbox) -> None:
    _report(sandbox, "U0AAA", "prenatal-visits 66.4 for 2026-09")
    _report(sandbox, "U0CCC", "prenatal-visits 70.25 for 2026-09")
    _report(sandbox, "U0AAA", "prenatal-visits 72")
    _report(sandbox, "U0CCC", "prenatal-visits 73.3")
    _report(sandbox, "U0CCC", "prenatal-visits 71.9 corrected")  # a correction
    _report(sandbox, "U0DDD", "home-visits 1,250 for 2026-09")
    _report(sandbox, "U0DDD", "home-visits 1 310")
    _report(sandbox, "U0BBB", "home-visits 42")
    _report(sandbox, "U0AAA", "low-birthweight 8.9 for 2026-Q2")
    _report(sandbox, "U0BBB", "low-birthweight 8.6")
    _report(sandbox, "U0EEE", "diaper-bank 700 for 2026-W44")
    _report(sandbox, ADMIN, "diaper-bank 640 as united-way")
    _report(sandbox, "U0EEE", "postpartum-checkups 43/60 for 2026-09")
    _report(sandbox, "U0EEE", "postpartum-checkups 52/70")


def _rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def _values_from_export(rows: list[dict[str, str]], measure: str,
                        period: str) -> list[PartnerValue]:
    partners = sorted({r["partner_key"] for r in rows})
    return [PartnerValue(partners.index(r["partner_key"]), float(r["value"]),
                         datetime.fromisoformat(r["reported_at"]),
                         float(r["numerator"]) if r["numerator"] else None,
                         float(r["denominator"]) if r["denominator"] else None)
            for r in rows if r["measure_key"] == measure and r["period"] == period]


def _aggregate_from_export(rows: list[dict[str, str]], measure: str, period: str) -> float | None:
    rule, _ = RULES[measure]
    return aggregate(_values_from_export(rows, measure, period), rule)


def _previous(period: str) -> str:
    from bot.measures.periods import parse_period

    cadence = ("weekly" if "-W" in period else "quarterly" if "-Q" in period else "monthly")
    return parse_period(cadence, period).prev().key  # type: ignore[arg-type]


def test_export_reproduces_exactly_the_numbers_measures_shows(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _seed(sandbox)
    sandbox.driver.command("U0OUTSIDER", "measures")
    sandbox.settle()
    shown = {}
    progress_shown = {}
    for block in sandbox.emulator.response_posts[-1].payload["blocks"]:
        if block["type"] != "section":
            continue
        text = block["text"]["text"]
        key = re.search(r"`([a-z-]+)`", text)
        if key is None or key.group(1) not in RULES:
            continue  # headings, and the data development agenda (no data by definition)
        value = re.search(r"\*([^*]+)\* for (\S+)", text)
        delta = re.search(r"[↑↓→] ([+−±][^ ]+(?: pts| \w+)?) on the period before", text)
        progress = re.search(r"· (-?\d+%) of the way", text)
        assert key and value, text
        shown[key.group(1)] = (value.group(1), value.group(2), delta.group(1) if delta else None)
        progress_shown[key.group(1)] = progress.group(1) if progress else None

    rows = _rows(_export(sandbox, monkeypatch, capsys))

    assert set(shown) == set(RULES)
    for measure, (value_text, period, delta_text) in shown.items():
        _, unit = RULES[measure]
        current = _aggregate_from_export(rows, measure, period)
        assert format_value(current, unit) == value_text, measure
        baseline, target = TARGETS[measure]
        assert format_percent(progress_fraction(current, baseline, target)) == \
            (progress_shown[measure] or "—"), measure
        # The change is like for like: over the partners that reported in both periods.
        change = like_for_like(_values_from_export(rows, measure, period),
                               _values_from_export(rows, measure, _previous(period)),
                               RULES[measure][0])
        if change.delta is None:
            assert delta_text is None
        else:
            assert format_delta(change.delta, unit) == delta_text, measure
    assert shown["prenatal-visits"][:2] == ("72.0%", "2026-10")  # avg of 72 and 71.9
    assert shown["home-visits"][:2] == ("1,352 families", "2026-10")
    assert progress_shown["prenatal-visits"] == "58%"
    assert progress_shown["low-birthweight"] == "31%"  # down is better: 9.1 → 8.6 of 7.5


def test_export_holds_current_values_and_history_adds_superseded_ones(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _report(sandbox, "U0CCC", "prenatal-visits 73.3")
    _report(sandbox, "U0CCC", "prenatal-visits 71.9 corrected")

    current = _rows(_export(sandbox, monkeypatch, capsys))
    history = _rows(_export(sandbox, monkeypatch, capsys, "--history"))

    assert [(r["partner_key"], r["period"], r["value"], r["note"]) for r in current] == [
        ("clinic-north", "2026-10", "71.9", "corrected")]
    assert [(r["value"], r["note"], r["reported_by"], r["source"]) for r in history] == [
        ("73.3", "", "U0CCC", "slash"), ("71.9", "corrected", "U0CCC", "slash")]
    assert history[0]["reported_at"] == "2026-11-10T21:00:00Z"


def test_export_as_json_to_a_file(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _report(sandbox, "U0DDD", "home-visits 1 250 spring drive")
    out = tmp_path / "exports" / "reports.json"

    assert _export(sandbox, monkeypatch, capsys, "--format", "json", "--out", str(out)) == ""

    (item,) = json.loads(out.read_text(encoding="utf-8"))
    assert item == {"measure_key": "home-visits", "partner_key": "family-connects",
                    "period": "2026-10", "value": 1250.0, "note": "spring drive",
                    "reported_by": "U0DDD", "reported_at": "2026-11-10T21:00:00Z",
                    "source": "slash", "current": True, "numerator": None,
                    "denominator": None}


def test_export_of_an_empty_store_is_just_the_header(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _export(sandbox, monkeypatch, capsys) == ",".join(COLUMNS) + "\n"


def test_a_note_that_looks_like_a_formula_cannot_run_in_a_spreadsheet(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _report(sandbox, "U0DDD", 'home-visits 12 =HYPERLINK("http://x","y")')

    (row,) = _rows(_export(sandbox, monkeypatch, capsys))

    assert row["note"] == '\'=HYPERLINK("http://x","y")'
