"""Workers remember each workspace's tenant for a minute instead of asking on every request."""

from __future__ import annotations

from sqlalchemy import update

from bot.tenancy.oauth import TenantCache, register_workspace
from storage.db import Store
from storage.models import Workspace
from tests.support.world import NOW


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _remap(store: Store, team_id: str, tenant: str) -> None:
    with store.global_session() as session:
        session.execute(update(Workspace).where(Workspace.team_id == team_id)
                        .values(tenant_team_id=tenant))


def test_a_remembered_tenant_is_served_until_it_expires(store: Store) -> None:
    register_workspace(store, "T0HOME", "Home", NOW)
    register_workspace(store, "T0PARTNER", "Partner", NOW)
    ticks = Ticks()
    cache = TenantCache(store, ttl=60, monotonic=ticks)
    assert cache.get("T0PARTNER") == "T0PARTNER"

    _remap(store, "T0PARTNER", "T0HOME")  # a Slack Connect partner joins the home tenant
    ticks.now += 59
    assert cache.get("T0PARTNER") == "T0PARTNER"
    ticks.now += 2
    assert cache.get("T0PARTNER") == "T0HOME"


def test_a_workspace_that_just_installed_is_served_at_once(store: Store) -> None:
    cache = TenantCache(store, ttl=60, monotonic=Ticks())
    assert cache.get("T0NEW") is None
    assert cache.get(None) is None

    register_workspace(store, "T0NEW", "New", NOW)

    assert cache.get("T0NEW") == "T0NEW"


def test_forgetting_a_workspace_reads_the_registry_again(store: Store) -> None:
    register_workspace(store, "T0GONE", "Gone", NOW)
    cache = TenantCache(store, ttl=60, monotonic=Ticks())
    assert cache.get("T0GONE") == "T0GONE"
    with store.global_session() as session:
        session.execute(update(Workspace).where(Workspace.team_id == "T0GONE")
                        .values(uninstalled_at=NOW))

    cache.forget("T0GONE")

    assert cache.get("T0GONE") is None
