"""Answer Slack first, call Slack after: every listener is split in two.

The app runs with `process_before_response=True`, so Bolt runs a listener's ack function in
the request thread and returns its answer as soon as that function returns; the work that
calls the Web API (which may be slow, or sleep out a `Retry-After`) runs afterwards as a
Bolt lazy listener in the background executor. An ack therefore never queues behind Web
API calls or another request's work (issue 14, finding 2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack


def just_ack(ack: Ack) -> None:
    ack()


def ack_first(listen: Callable[..., Any], work: Callable[..., Any],
              acknowledge: Callable[..., Any] = just_ack) -> None:
    """Register `work` to run after `acknowledge` has answered Slack.

    `listen` is Bolt's decorator for the request (`app.action("x")`); `acknowledge` may
    leave what `work` needs in the Bolt `context`, which both see."""
    listen(ack=acknowledge, lazy=[work])
