"""Issue 16 (SPEC §10), disaggregated reports: the report modal has a field per group of the
measure's breakdowns (a rate's groups as numerator/denominator), checked like the total;
`import-values` reads `dimension`,`group` rows; each group is stored with the same history
and provenance as a total, and the export writes it back."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.emulator.sandbox import Sandbox
from storage.models import GroupReport, Report
from tests.support.forms import report_form
from tests.support.processes import point_cli_at
from tests.support.rba import RATE_KEY, RATE_MEMBER

RACE = ["Black", "Hispanic/Latino", "White", "Asian", "Other"]


def _open_modal(sandbox: Sandbox) -> dict[str, Any]:
    sandbox.driver.block_action(RATE_MEMBER, f"report_open:{RATE_KEY}")
    sandbox.settle()
    return sandbox.driver.last_view()


def _groups_form(value: str, groups: dict[str, str]) -> dict[str, Any]:
    form = report_form(RATE_KEY, value)
    for block, text in groups.items():
        form[block] = {block: {"type": "plain_text_input", "value": text}}
    return form


def _stored(sandbox: Sandbox) -> list[tuple[Any, ...]]:
    with sandbox.store.session() as session:
        return [tuple(r) for r in session.execute(
            select(GroupReport.dimension, GroupReport.group_name, GroupReport.numerator,
                   GroupReport.denominator, GroupReport.source, GroupReport.reported_by,
                   GroupReport.is_current).order_by(GroupReport.id))]


def test_the_modal_has_a_field_per_group_and_stores_each_with_its_history(
        sandbox: Sandbox) -> None:
    view = _open_modal(sandbox)
    labels = [b["label"]["text"] for b in view["blocks"]
              if str(b.get("block_id", "")).startswith("grp|")]
    assert labels == [f"Race/ethnicity: {g}" for g in RACE] + [
        "ZIP code: 60085", "ZIP code: 60064"]

    bad = sandbox.driver.view_submission(RATE_MEMBER, view, _groups_form(
        "43/60", {"grp|race-ethnicity|0": "12/30", "grp|zip|1": "40/30"}))
    sandbox.settle()
    assert bad.json["response_action"] == "errors"
    assert "60064" in bad.json["errors"]["grp|zip|1"]
    assert "numerator is larger than the denominator" in bad.json["errors"]["grp|zip|1"]
    assert _stored(sandbox) == []
    with sandbox.store.session() as session:
        assert session.scalar(select(Report.id)) is None  # nothing at all was recorded

    good = sandbox.driver.view_submission(RATE_MEMBER, view, _groups_form(
        "43/60", {"grp|race-ethnicity|0": "12/30", "grp|race-ethnicity|2": "25/28",
                  "grp|zip|0": "30/41"}))
    sandbox.settle()
    assert not (good.json or {}).get("response_action")
    assert _stored(sandbox) == [
        ("race-ethnicity", "Black", 12, 30, "modal", RATE_MEMBER, True),
        ("race-ethnicity", "White", 25, 28, "modal", RATE_MEMBER, True),
        ("zip", "60085", 30, 41, "modal", RATE_MEMBER, True)]

    # A correction of one group: the new figure counts, the old one stays in the history.
    again = sandbox.driver.view_submission(RATE_MEMBER, _open_modal(sandbox), _groups_form(
        "43/60", {"grp|race-ethnicity|0": "14/30"}))
    sandbox.settle()
    assert not (again.json or {}).get("response_action")
    rows = _stored(sandbox)
    assert ("race-ethnicity", "Black", 12, 30, "modal", RATE_MEMBER, False) in rows
    assert rows[-1] == ("race-ethnicity", "Black", 14, 30, "modal", RATE_MEMBER, True)


CSV = """measure_key,partner_key,period,value,numerator,denominator,dimension,group
postpartum-checkups,united-way,2026-09,,43,60,,
postpartum-checkups,united-way,2026-09,,20,25,race-ethnicity,black
postpartum-checkups,united-way,2026-09,,7,13,race-ethnicity,Asian
postpartum-checkups,united-way,2026-09,,33,47,zip,60085
"""


def test_import_values_reads_group_rows_and_the_export_writes_them_back(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    point_cli_at(sandbox, monkeypatch)
    path = tmp_path / "groups.csv"
    path.write_text(CSV)
    assert main(["import-values", str(path)]) == 0
    assert "4 added, 0 corrected, 0 unchanged" in capsys.readouterr().out
    assert _stored(sandbox) == [
        ("race-ethnicity", "Black", 20, 25, "import", "import", True),
        ("race-ethnicity", "Asian", 7, 13, "import", "import", True),
        ("zip", "60085", 33, 47, "import", "import", True)]

    assert main(["export", "--measure", RATE_KEY]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    groups = {(r["dimension"], r["group"]): r for r in rows if r["dimension"]}
    assert (groups[("race-ethnicity", "Black")]["numerator"],
            groups[("race-ethnicity", "Black")]["denominator"]) == ("20", "25")
    # Asian: 13 mothers, below min_group 20: the export gives no figure for the group.
    asian = groups[("race-ethnicity", "Asian")]
    assert (asian["value"], asian["numerator"], asian["denominator"]) == ("", "", "")
    assert asian["note"] == "fewer than 20 (suppressed)"

    # Unknown groups and dimensions are refused with the line and column; nothing changes.
    path.write_text(CSV.replace("zip,60085", "zip,60099"))
    assert main(["import-values", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 5, column group" in err and "no group `60099`" in err
    path.write_text(CSV.replace("home", "x").replace("zip,60085", "age,60085"))
    assert main(["import-values", str(path)]) == 2
    assert "line 5, column dimension" in capsys.readouterr().err
    assert len(_stored(sandbox)) == 3
