"""Issue 15, findings 8 and 9 (SPEC §9): dates in initiative.yml quoted or not, an impossible
date a key-path error (exit 2); `export`, `remind` and `digest` against a database holding
no initiative exit 2 naming the database, never an empty export with status 0."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from storage.db import Store
from storage.models import Measure
from tests.support.world import EXAMPLE

DATE_LINE = "    target_date: 2027-12-31\n"


@pytest.mark.parametrize("written", ["2027-12-31", '"2027-12-31"', "'2027-12-31'"])
def test_a_date_quoted_or_not_is_the_same_date(written: str, cli_env: str, store: Store,
                                               tmp_path: Path) -> None:
    source = EXAMPLE.read_text()
    assert DATE_LINE in source
    path = tmp_path / "initiative.yml"
    path.write_text(source.replace(DATE_LINE, f"    target_date: {written}\n", 1))

    assert main(["import", str(path)]) == 0

    with store.session() as session:
        found = session.scalar(select(Measure.target_date).where(Measure.key ==
                                                                 "prenatal-visits"))
    assert found == date(2027, 12, 31)


@pytest.mark.parametrize("written", ["2027-13-31", '"2027-13-31"', "2027-02-30", "'2027-02-30'",
                                     "next year", "2027-12-31T10:00:00"])
def test_an_impossible_date_is_a_key_path_error_and_exit_2(
        written: str, cli_env: str, store: Store, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "initiative.yml"
    path.write_text(EXAMPLE.read_text().replace(DATE_LINE, f"    target_date: {written}\n", 1))

    assert main(["import", str(path)]) == 2

    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("impactbot: initiative.yml: measures[0].target_date: expected a "
                           "date like 2027-12-31")
    assert "ValueError" not in line
    with store.session() as session:
        assert session.scalars(select(Measure)).all() == []


@pytest.mark.parametrize("command", [["export"], ["export", "--format", "json"],
                                     ["remind", "--dry-run"], ["digest", "--preview"]])
def test_reading_commands_refuse_a_database_without_an_initiative(
        command: list[str], cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--at", "2026-11-13T21:00:00Z"] if command[0] != "export"
                else command) == 2

    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("impactbot: There is no initiative in the database ")
    shown = cli_env.split("@")[-1] if "@" in cli_env else cli_env
    assert shown in line


def test_export_from_another_directory_names_the_relative_sqlite_file(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    env = {"PATH": "", "DATABASE_URL": "sqlite:///impactbot.db"}

    def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=60)

    assert run(home, "import", str(EXAMPLE)).returncode == 0
    assert run(home, "export").returncode == 0

    result = run(elsewhere, "export")

    assert result.returncode == 2
    assert result.stdout == ""
    assert "sqlite:///impactbot.db" in result.stderr
    assert str(elsewhere / "impactbot.db") in result.stderr
