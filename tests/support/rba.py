"""Helpers the Results-Based Accountability scenarios share (issue 16, SPEC §10)."""

from __future__ import annotations

import json
from typing import Any

from bot.emulator.sandbox import Sandbox

RATE_KEY = "postpartum-checkups"  # the example's rate measure, by race/ethnicity and ZIP
DEV_KEY = "maternal-depression"  # the example's data development agenda
RATE_MEMBER = "U0EEE"  # United Way reports it


def reply(sandbox: Sandbox, user: str, text: str) -> dict[str, Any]:
    """The one ephemeral answer to `/impact TEXT` from `user`."""
    before = len(sandbox.emulator.response_posts)
    sandbox.driver.command(user, text)
    sandbox.settle()
    posts = sandbox.emulator.response_posts[before:]
    assert len(posts) == 1, posts
    payload: dict[str, Any] = posts[0].payload
    return payload


def ephemeral_reply(sandbox: Sandbox, user: str, text: str) -> dict[str, Any]:
    """`reply`, checking also that Slack's request was answered 200 and the answer was for
    `user` alone."""
    before = len(sandbox.emulator.response_posts)
    answer = sandbox.driver.command(user, text)
    sandbox.settle()
    assert answer.status == 200
    posts = sandbox.emulator.response_posts[before:]
    assert len(posts) == 1, posts
    payload: dict[str, Any] = posts[0].payload
    assert payload["response_type"] == "ephemeral"
    return payload


def text_of(payload: Any) -> str:
    """Everything a message or view says (its fallback text and every block), as JSON."""
    return json.dumps(payload, ensure_ascii=False)
