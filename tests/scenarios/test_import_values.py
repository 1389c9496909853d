"""SPEC §9 "History import" and "Export": `impactbot import-values FILE.csv [--dry-run]` loads
three years of history all or nothing, and `export` (with its filters) gives it back to the
digit. Run through the CLI on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli.main import main
from bot.measures.export import COLUMNS
from bot.measures.periods import Cadence, period_containing
from storage.db import Store
from storage.models import Report
from tests.support.world import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]

# The example initiative: measure -> (cadence, partners, value for the i-th period)
HISTORY = {
    "prenatal-visits": ("monthly", ["county-health", "clinic-north"],
                        lambda i, p: round(55 + (i * 7 + p * 13) % 40 + 0.25 * (i % 4), 2)),
    "home-visits": ("monthly", ["family-connects", "county-health"],
                    lambda i, p: float(100 + 17 * i + 5 * p)),
    "low-birthweight": ("quarterly", ["county-health"], lambda i, p: round(9.4 - 0.05 * i, 2)),
    "diaper-bank": ("weekly", ["united-way"], lambda i, p: float(200 + (i * 37) % 900)),
}
NOTES = ["", "from the EHR", 'said "about", roughly', "=SUM(A1) not a formula", "late, sorry"]


def _periods(cadence: Cadence, last: date, count: int) -> list[str]:
    period = period_containing(cadence, last)
    out = []
    for _ in range(count):
        out.append(period.key)
        period = period.prev()
    return out[::-1]


def history_csv(years: int = 3) -> str:
    """Three years of history up to the reporting periods of 2026-11-10, as an export."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    counts = {"monthly": 12 * years, "quarterly": 4 * years, "weekly": 52 * years}
    lasts = {"monthly": date(2026, 10, 1), "quarterly": date(2026, 7, 1),
             "weekly": date(2026, 11, 2)}
    n = 0
    for measure, (cadence, partners, value) in HISTORY.items():
        for i, period in enumerate(_periods(cadence, lasts[cadence],  # type: ignore[arg-type]
                                            counts[cadence])):
            for p, partner in enumerate(partners):
                v = value(i, p)
                at = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(hours=7 * n)
                note = NOTES[n % len(NOTES)]
                note = "'" + note if note.startswith("=") else note
                writer.writerow([measure, partner, period,
                                 str(int(v)) if v.is_integer() else repr(v), note,
                                 "U0AAA", at.strftime("%Y-%m-%dT%H:%M:%SZ"), "slash",
                                 "", "", "", ""])
                n += 1
    return out.getvalue()


def _export(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["export", *args]) == 0
    return capsys.readouterr().out


def _lines(text: str) -> list[str]:
    head, *rows = text.splitlines()
    return [head, *sorted(rows)]


def _count(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count(Report.id))) or 0)


@pytest.fixture
def initiative(cli_env: str, store: Store) -> Store:
    assert main(["import", str(EXAMPLE)]) == 0
    return store


def test_three_years_of_history_come_back_from_export_to_the_digit(
        initiative: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = history_csv()
    path = tmp_path / "history.csv"
    path.write_text(source)
    rows = len(source.splitlines()) - 1
    assert rows == 36 * 2 * 2 + 12 + 156  # 3 years: months, quarters and weeks

    capsys.readouterr()
    assert main(["import-values", str(path)]) == 0
    assert capsys.readouterr().out.strip() == (f"Imported history.csv: {rows} added, "
                                               "0 corrected, 0 unchanged.")

    assert _lines(_export(capsys)) == _lines(source)

    # The same file again changes nothing.
    assert main(["import-values", str(path)]) == 0
    assert capsys.readouterr().out.strip() == (f"Imported history.csv: 0 added, 0 corrected, "
                                               f"{rows} unchanged.")
    assert _count(initiative) == rows


@pytest.mark.parametrize(("line", "cell", "column", "why"), [
    (5, ("value", "abc"), "value", "is not a number"),
    (7, ("period", "2026-13"), "period", "has no month 13"),
    (3, ("partner_key", "united-way"), "partner_key", "does not report"),
    (6, ("measure_key", "nope"), "measure_key", "no measure `nope`"),
    (4, ("period", "2027-01"), "period", "has not ended yet"),
    (8, ("numerator", "3"), "numerator", "is not a rate measure"),
    (9, ("group", "Black"), "dimension", "has no breakdowns"),
])
def test_one_bad_row_changes_nothing_and_names_the_line_and_column(
        initiative: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str], line: int,
        cell: tuple[str, str], column: str, why: str) -> None:
    rows = list(csv.DictReader(io.StringIO(history_csv(1))))
    rows[line - 2][cell[0]] = cell[1]  # line 1 is the header
    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    capsys.readouterr()

    assert main(["import-values", str(path)]) == 2

    (message,) = capsys.readouterr().err.strip().splitlines()
    assert message.startswith(f"impactbot: bad.csv: line {line}, column {column}: ")
    assert why in message and "Nothing was imported." in message
    assert _count(initiative) == 0


def test_a_different_value_is_a_correction_with_source_import(
        initiative: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "values.csv"
    path.write_text("measure_key,partner_key,period,value\n"
                    "home-visits,family-connects,2026-09,140\n"
                    "home-visits,county-health,2026-09,60\n")
    assert main(["import-values", str(path)]) == 0
    path.write_text("period,partner_key,measure_key,value,note\n"  # any column order
                    "2026-09,family-connects,home-visits,145,recount\n"
                    "2026-09,county-health,home-visits,60,\n")
    capsys.readouterr()

    assert main(["import-values", "--dry-run", str(path)]) == 0
    assert "would have 0 added, 1 corrected, 1 unchanged; nothing was written" in \
        capsys.readouterr().out
    assert _count(initiative) == 2

    assert main(["import-values", str(path)]) == 0
    assert "0 added, 1 corrected, 1 unchanged" in capsys.readouterr().out
    with initiative.session() as session:
        history = session.execute(select(Report.value, Report.source, Report.is_current,
                                         Report.note).order_by(Report.id)).all()
    assert [tuple(r) for r in history] == [(140.0, "import", False, ""),
                                           (60.0, "import", True, ""),
                                           (145.0, "import", True, "recount")]


def test_export_filters_by_measure_partner_and_period(
        initiative: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "history.csv"
    path.write_text(history_csv(1))
    assert main(["import-values", str(path)]) == 0

    rows = list(csv.DictReader(io.StringIO(_export(
        capsys, "--measure", "home-visits", "--partner", "county-health",
        "--from", "2026-03", "--to", "2026-05"))))
    assert [(r["measure_key"], r["partner_key"], r["period"]) for r in rows] == [
        ("home-visits", "county-health", p) for p in ("2026-03", "2026-04", "2026-05")]

    # A quarter bound takes the weeks that start inside it: Mon Jul 6 (W28) to Mon Sep 28.
    weeks = list(csv.DictReader(io.StringIO(_export(capsys, "--measure", "diaper-bank",
                                                    "--from", "2026-Q3", "--to", "2026-Q3"))))
    assert [r["period"] for r in weeks] == [f"2026-W{w}" for w in range(28, 41)]

    capsys.readouterr()
    assert main(["export", "--measure", "nope"]) == 2
    assert "there is no measure `nope`" in capsys.readouterr().err
    assert main(["export", "--from", "2026-13"]) == 2


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_on_a_terminal_it_shows_progress_then_the_summary(
        initiative: Store, tmp_path: Path) -> None:
    # SPEC §9: "On a terminal it shows progress (rows done, rate, time left)".
    path = tmp_path / "history.csv"
    path.write_text(history_csv())
    controller, terminal = os.openpty()
    process = subprocess.Popen([sys.executable, "-m", "bot", "import-values", str(path)],
                               cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.PIPE, stderr=terminal, text=True)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    out, _ = process.communicate(timeout=120)

    assert process.returncode == 0
    progress = shown.decode()
    assert re.search(r"\r[\d,]+ of 312 rows checked · [\d,]+ rows/s · about [\d,]+ s left",
                     progress), progress
    assert "\r312 of 312 rows checked" in progress  # the last line: all of them
    assert out.strip() == "Imported history.csv: 312 added, 0 corrected, 0 unchanged."
