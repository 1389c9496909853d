"""Several schedulers share the due work (SPEC §8): two `impactbot scheduler` processes and
one `impactbot remind`, started together on one PostgreSQL, send a reminder round across
many workspaces: every member gets exactly one DM and both schedulers sent a share; with
one scheduler SIGKILLed mid-round and started again, still 0 duplicates and 0 lost.

(bench/tenants.py runs the same at 1,000 workspaces × 20 members.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.emulator import SlackEmulator
from storage.db import Store
from tests.support.databases import truncate_postgres
from tests.support.many_workspaces import member_id, provision, token_of
from tests.support.scheduler_round import run_round

WORKSPACES, MEMBERS = 40, 5


@pytest.fixture
def world(postgres_url: str) -> Iterator[tuple[Store, SlackEmulator, set[tuple[str, str]]]]:
    truncate_postgres(postgres_url)
    store = Store(postgres_url)
    with SlackEmulator() as emu:
        emu.set_latency(0.2)  # Slack's own pace, so that a round lasts long enough to share
        # A reminder round: the reminder job due now in every workspace (the others fall
        # due at their own times; here they would only make the schedulers' batches mixed).
        teams = provision(store, WORKSPACES, MEMBERS, datetime.now(UTC), emulator=emu,
                          jobs=("reminder-tick",))
        everyone = {(token_of(team), member_id(n, m))
                    for n, team in enumerate(teams) for m in range(MEMBERS)}
        yield store, emu, everyone
    store.dispose()


def test_two_schedulers_and_remind_send_each_member_one_dm(
        world: tuple[Store, SlackEmulator, set[tuple[str, str]]], tmp_path: Path) -> None:
    store, emu, everyone = world
    result = run_round(store, emu, len(everyone), tmp_path)

    assert set(result.dms) == everyone  # 0 lost
    assert result.duplicates == 0
    assert result.shares["scheduler A"] > 0 and result.shares["scheduler B"] > 0, result.shares
    assert sum(result.shares.values()) == len(everyone)


def test_a_scheduler_killed_mid_round_loses_and_repeats_nothing(
        world: tuple[Store, SlackEmulator, set[tuple[str, str]]], tmp_path: Path) -> None:
    store, emu, everyone = world
    result = run_round(store, emu, len(everyone), tmp_path, kill_after=len(everyone) // 4)

    assert set(result.dms) == everyone
    assert result.duplicates == 0

