"""initiative.yml is bounded: size, nesting, alias expansion and key shapes fail fast with
one line naming the file (exit 2); a start whose INITIATIVE_FILE is unchanged skips the
import."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.cli.main import main
from bot.initiative.strict_yaml import MAX_FILE_BYTES
from bot.runtime.server import prepare_database
from bot.runtime.settings import load_settings
from storage.db import Store
from storage.models import Initiative
from tests.support.world import EXAMPLE

LAUGHS = ("initiative:\n  name: x\n" + "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
          + "".join(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)))


@pytest.mark.parametrize(("content", "problem"), [
    (LAUGHS, "expands to more than 100000 values (through aliases)"),
    ("initiative:\n  name: x\nmeasures: " + "[" * 5000 + "]" * 5000 + "\n",
     "nested more than 32 levels deep"),
    ("initiative:\n  name: x\n? [a, b]\n: 1\n", "a key must be a name, not a list"),
    ("initiative:\n  name: x\n  ? {a: b}\n  : 1\n", "a key must be a name, not a mapping"),
    ("initiative:\n  name: x\n# " + "x" * MAX_FILE_BYTES + "\n", "bytes; at most 1048576"),
])
def test_hostile_files_fail_fast_in_one_line(
        cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        content: str, problem: str) -> None:
    hostile = tmp_path / "initiative.yml"
    hostile.write_text(content)
    started = time.monotonic()

    assert main(["import", str(hostile)]) == 2

    assert time.monotonic() - started < 5  # was 34–48 s and 2.2 GB for the aliases
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("impactbot: initiative.yml: ") and problem in err


def test_a_start_with_an_unchanged_file_skips_the_import(
        database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    mine = tmp_path / "initiative.yml"
    mine.write_bytes(EXAMPLE.read_bytes())
    settings = load_settings({"DATABASE_URL": database_url, "INITIATIVE_FILE": str(mine)},
                             dotenv=False)
    prepare_database(settings)
    store = Store(database_url)
    try:
        with store.session() as session:  # a mark the import would undo
            session.execute(update(Initiative).values(name="marked"))
        caplog.set_level(logging.INFO, logger="bot.runtime.server")

        prepare_database(settings)
        with store.session() as session:
            assert session.get_one(Initiative, ("", 1)).name == "marked"
        assert "initiative.yml: unchanged since its last import" in caplog.text

        mine.write_bytes(EXAMPLE.read_bytes() + b"\n# edited\n")
        prepare_database(settings)
        with store.session() as session:
            assert session.get_one(Initiative, ("", 1)).name != "marked"
    finally:
        store.dispose()
