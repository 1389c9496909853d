"""`impactbot console --database URL` on a database earlier sessions used: each session's
reactions count, credited to the right people, and everyone has the initiative's time zone
(or the one `:tz` sets)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from storage.db import Store
from storage.models import Win
from tests.support.world import ROOT

SCHOOL = ROOT / "tests" / "fixtures" / "school-initiative.yml"  # America/New_York


def run_cli(tmp_path: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "PYTHONIOENCODING": "utf-8"}
    env.pop("LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "bot", "console", *args],
                          input="".join(line + "\n" for line in lines), capture_output=True,
                          text=True, encoding="utf-8", cwd=tmp_path, env=env, timeout=120)


def test_every_session_on_a_reused_database_counts_its_reactions(
        tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["import", str(SCHOOL)]) == 0

    for n in (1, 2, 3):
        result = run_cli(tmp_path, [f"Story time drew {n * 10} families", ":as u0blib",
                                    ":react tada"], "--database", database_url)
        assert result.returncode == 0, result.stderr
        assert f"A win from @u0badmin\n  >Story time drew {n * 10} families" in result.stdout

    store = Store(database_url)
    try:
        with store.session() as session:
            wins = [(w.author_id, w.reactors, w.status) for w in
                    session.scalars(select(Win).order_by(Win.id))]
    finally:
        store.dispose()
    assert [(a, json.loads(json.dumps(r)), s) for a, r, s in wins] == \
        [("U0BADMIN", ["U0BLIB"], "posted")] * 3


def test_people_have_the_initiatives_zone_and_tz_changes_one(
        tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["import", str(SCHOOL)]) == 0
    run_cli(tmp_path, [":who"], "--database", database_url)  # an earlier session

    result = run_cli(tmp_path, [":who", ":tz Europe/Berlin", ":time", ":tz Mars/Olympus",
                                ":who"], "--database", database_url)

    assert result.returncode == 0, result.stderr
    first_who, _, rest = result.stdout.partition(":tz Europe/Berlin")
    assert "America/Chicago" not in result.stdout
    assert first_who.count("America/New_York") == 3  # the clock, the admin, the librarian
    assert "Your time zone is now Europe/Berlin." in rest
    assert "(Europe/Berlin) for you" in rest
    assert "No time zone Mars/Olympus" in rest
    assert rest.count("Europe/Berlin") >= 3 and rest.count("America/New_York") == 1
