"""CLI basics: manifest, db upgrade, usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.world import ROOT


def test_db_upgrade_creates_and_is_idempotent(tmp_path: Path) -> None:
    env = {"PATH": "", "DATABASE_URL": f"sqlite:///{tmp_path}/impact.db"}
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "Database is up to date."


def test_bad_usage_exits_2_with_a_readable_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "frobnicate"], cwd=tmp_path,
                            env={"PATH": ""}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_database_url_exits_2_naming_it(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=tmp_path,
                            env={"PATH": "", "DATABASE_URL": "oracle://x"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "impactbot: DATABASE_URL must be sqlite or postgresql, not 'oracle'"]


def test_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"], cwd=tmp_path, capture_output=True,
        text=True, timeout=60,
        env={"PATH": "", "DATABASE_URL": "postgresql+psycopg://bot:hunter2@127.0.0.1:1/impact"})
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("impactbot: the database is unreachable: ")
    assert "hunter2" not in line


@pytest.mark.parametrize("command", [["digest", "--post"], ["remind"]])
def test_posting_without_a_bot_token_exits_2_naming_it(command: list[str],
                                                      tmp_path: Path) -> None:
    env = {"PATH": "", "DATABASE_URL": f"sqlite:///{tmp_path}/impact.db"}
    example = ROOT / "examples" / "initiative.yml"
    subprocess.run([sys.executable, "-m", "bot", "import", str(example)], cwd=tmp_path,
                   env=env, capture_output=True, check=True, timeout=60)
    result = subprocess.run([sys.executable, "-m", "bot", *command, "--at",
                             "2026-11-13T21:00:00Z"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("impactbot: SLACK_BOT_TOKEN is not set")
