"""The tenant-scoped models, and the tables that are global on purpose."""

from __future__ import annotations

from typing import Any

from storage.models import Base
from storage.tenancy import Tenant

# Tables in the models' metadata that belong to no workspace, and why.
GLOBAL_TABLES = {
    "workspaces": "the registry that maps each installed workspace to its tenant: read "
                  "before any tenant is known (bot/tenancy/oauth.py)",
    "due_work": "when each workspace next needs each scheduled job: asked once across all "
                "workspaces by the scheduler's tick (bot/runtime/due_work.py)",
    "signed_requests": "signatures already accepted within Slack's signature window: checked "
                       "before the request's workspace is known (bot/runtime/web.py)",
}


def tenant_models() -> list[Any]:
    """Every mapped class whose rows belong to one workspace."""
    return sorted((m.class_ for m in Base.registry.mappers if issubclass(m.class_, Tenant)),
                  key=lambda cls: cls.__tablename__)
