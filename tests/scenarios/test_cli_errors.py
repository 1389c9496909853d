"""The CLI says what went wrong, in one line, and exits as a tool should: a closed pipe is
the reader's choice (exit 0), a bad `--url` is a usage error (exit 2), a database error
names what happened, and `export --out` never leaves half a file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.cli.main import describe_database_error
from bot.measures.export import write_atomically
from tests.support.world import EXAMPLE


def _cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
         stdout: int | None = None) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": "", "DATABASE_URL": f"sqlite:///{tmp_path}/impact.db", **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=environment,
                          stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def test_digest_preview_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    assert _cli(tmp_path, "import", str(EXAMPLE)).returncode == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head` that has already read all it wanted
    try:
        result = _cli(tmp_path, "digest", "--preview", "--at", "2026-11-13T21:00:00Z",
                      stdout=write_end)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("url", ["notaurl", "http://impact.example.org", "https://",
                                 "ftp://impact.example.org"])
def test_manifest_refuses_a_url_slack_cannot_call(tmp_path: Path, url: str) -> None:
    result = _cli(tmp_path, "manifest", "--url", url)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "impactbot: --url must be the bot's public https address, like "
        f"https://impact.example.org (got {url!r})"]
    assert result.stdout == ""


def test_manifest_takes_an_https_url(tmp_path: Path) -> None:
    result = _cli(tmp_path, "manifest", "--url", "https://impact.example.org")
    assert result.returncode == 0
    assert "https://impact.example.org/slack/events" in result.stdout


def test_a_locked_database_is_named_as_such(tmp_path: Path) -> None:
    assert _cli(tmp_path, "import", str(EXAMPLE)).returncode == 0
    holder = sqlite3.connect(tmp_path / "impact.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a write
    try:
        result = _cli(tmp_path, "export")  # waits out SQLite's busy timeout (10 s)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("impactbot: the database is locked by another process; try again "
                           "when it is done"), line


def test_a_missing_postgresql_database_is_named_as_such(tmp_path: Path, database_url: str
                                                        ) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL names its databases")
    base = database_url.rsplit("/", 1)[0]
    result = _cli(tmp_path, "export", env={"DATABASE_URL": f"{base}/no_such_database_p14"})
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("impactbot: the database named in DATABASE_URL does not exist"), line


class _Orig(Exception):
    pass


@pytest.mark.parametrize(("message", "meaning"), [
    ("database is locked", "the database is locked by another process"),
    ('password authentication failed for user "bot"', "the database refused the user name"),
    ('relation "measures" does not exist', "the database has no tables for this version"),
    ("no such table: measures", "the database has no tables for this version"),
    ('database "impact" does not exist', "the database named in DATABASE_URL does not exist"),
    ("connection refused", "the database is unreachable: connection refused"),
])
def test_database_errors_say_what_happened(message: str, meaning: str) -> None:
    for kind in (OperationalError, ProgrammingError):
        assert describe_database_error(kind("SELECT 1", {}, _Orig(message))).startswith(meaning)


def test_export_out_replaces_the_file_whole_or_not_at_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "exports" / "reports.csv"
    write_atomically(out, "old\n")
    out.chmod(0o640)
    write_atomically(out, "new\n")
    assert out.read_text() == "new\n" and out.stat().st_mode & 0o777 == 0o640

    def fail(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        write_atomically(out, "half")
    assert out.read_text() == "new\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["reports.csv"]
