"""Processes starting together on an empty database: each migrates and imports
initiative.yml at the same moment. The lock makes them
take turns; none fails, and the data is there once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.initiative.importer import import_file
from bot.runtime import scheduler
from bot.runtime.clock import ManualClock
from bot.runtime.services import Services
from bot.runtime.settings import Settings
from storage.db import Store
from storage.models import Partner
from tests.support.databases import empty_database_url
from tests.support.world import EXAMPLE, NOW

STARTERS = 6


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database_url(request.param, tmp_path, "prov") as url:
        yield url


def test_processes_starting_together_provision_one_at_a_time(empty_database: str) -> None:
    barrier = threading.Barrier(STARTERS)
    failures: list[BaseException] = []
    stores: list[Store] = []

    def start() -> None:
        store = Store(empty_database)  # each "process" with its own engine
        stores.append(store)
        try:
            barrier.wait()
            store.upgrade()
            built: Any = scheduler.build(Services(Settings(bot_token="xoxb-test"), store,
                                                  ManualClock(NOW)), blocking=False)
            built.start(paused=True)
            built.shutdown(wait=False)
            import_file(store, EXAMPLE, NOW)
        except BaseException as exc:  # collected and reported below
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(STARTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    with stores[0].session() as session:
        keys = session.scalars(select(Partner.key)).all()
        assert len(keys) == len(set(keys)) > 0
        assert session.scalar(select(func.count()).select_from(Partner)) == len(keys)
    for store in stores:
        store.dispose()
