"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import Store
from storage.models import Base

# slack_sdk's OAuth installation and state tables are created by our migrations too, but
# described by slack_sdk, not by our models.
OAUTH_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}


def _ours(difference: object) -> bool:
    text = repr(difference)
    return not any(name in text for name in OAUTH_TABLES) and "apscheduler_jobs" not in text


def test_migrated_database_matches_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert [d for d in differences if _ours(d)] == []
