"""Helpers shared by the reliability and security suites: what the database holds, what
was logged, and what a person was told."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select

from bot.emulator.sandbox import Sandbox
from storage.models import Base

# Tables the app writes as a side effect of merely being asked something (bookkeeping, not
# data): the event de-duplication log, the Slack user cache, who has opened their App Home.
BOOKKEEPING = {"slack_events", "slack_users", "signed_requests", "home_viewers"}


def table_counts(sandbox: Sandbox, *, ignore: set[str] = BOOKKEEPING) -> dict[str, int]:
    """Row count of every domain table: a snapshot to prove nothing was written."""
    counts: dict[str, int] = {}
    with sandbox.store.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in ignore:
                continue
            counts[table.name] = session.scalar(select(func.count()).select_from(table)) or 0
    return counts


def told(sandbox: Sandbox) -> list[str]:
    """Every text the app sent back to a person: response_url posts, ephemerals, DMs."""
    texts = [str(p.payload.get("text") or "") for p in sandbox.emulator.response_posts]
    texts += [str(m.get("text") or "") for m in sandbox.emulator.ephemeral_messages]
    return texts


def errors_logged(records: list[logging.LogRecord]) -> list[str]:
    """Log records at ERROR or above: an unhandled exception in a listener shows up here."""
    return [f"{r.name}: {r.getMessage()}" for r in records if r.levelno >= logging.ERROR]


def all_posted_text(sandbox: Sandbox) -> list[str]:
    """Text and block text of every message the bot posted anywhere (channels and DMs)."""
    out: list[str] = []
    for call in sandbox.emulator.calls_to("chat.postMessage") + \
            sandbox.emulator.calls_to("chat.postEphemeral") + \
            sandbox.emulator.calls_to("chat.update"):
        out.append(flatten(call.params))
    for post in sandbox.emulator.response_posts:
        out.append(flatten(post.payload))
    return out


def flatten(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(flatten(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(flatten(v) for v in value)
    return str(value)
